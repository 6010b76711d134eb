/*
Copyright 2026 The subaccount-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// Seats are served first come, first served: while a shop's seats are all
// used, new SubAccounts wait (SeatsExhausted); when seats come free, the
// oldest waiting ones (by creationTimestamp, then name) take them and only
// they are woken, so the others keep waiting without a reconcile storm.

// waitingForSeat reports whether sa waits for a free seat of its Shop.
func waitingForSeat(sa *shopv1alpha1.SubAccount) bool {
	if sa.Status.AccountID != "" || !sa.DeletionTimestamp.IsZero() {
		return false
	}
	c := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionReady)
	return c != nil && c.Reason == shopv1alpha1.ReasonSeatsExhausted
}

// olderFirst orders SubAccounts by creationTimestamp, then name.
func olderFirst(a, b *shopv1alpha1.SubAccount) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// seatQueue returns the SubAccounts of a Shop that wait for a seat, oldest
// first.
func seatQueue(ctx context.Context, c client.Reader, namespace, shop string) ([]*shopv1alpha1.SubAccount, error) {
	subs := &shopv1alpha1.SubAccountList{}
	// Read only, so not deep-copied (readOnlyList): every SubAccount
	// reconcile of a shop with a seat quota asks, and a shop with 1,000
	// pending creates would otherwise copy 1,000 objects each time.
	if err := c.List(ctx, subs, client.InNamespace(namespace), client.MatchingFields{indexSubAccountShop: shop}, readOnlyList); err != nil {
		return nil, fmt.Errorf("listing SubAccounts of the shop: %w", err)
	}
	var out []*shopv1alpha1.SubAccount
	for i := range subs.Items {
		if waitingForSeat(&subs.Items[i]) {
			out = append(out, &subs.Items[i])
		}
	}
	slices.SortFunc(out, olderFirst)
	return out, nil
}

// checkSeat lets sa create its account when a seat is free for it: fewer
// waiting SubAccounts older than sa than free seats. Otherwise it waits,
// its place in the queue shown.
func (r *SubAccountReconciler) checkSeat(ctx context.Context, sa *shopv1alpha1.SubAccount, shop *shopv1alpha1.Shop) error {
	s := shop.Status.Seats
	if s == nil || s.Total <= 0 {
		return nil
	}
	free := s.Total - s.Used
	queue, err := seatQueue(ctx, r.Client, sa.Namespace, shop.Name)
	if err != nil {
		return err
	}
	ahead := int32(0)
	for _, w := range queue {
		if w.Name != sa.Name && olderFirst(w, sa) < 0 {
			ahead++
		}
	}
	if ahead < free {
		return nil
	}
	if free <= 0 {
		queued := ""
		if ahead > 0 {
			queued = fmt.Sprintf("; %d SubAccounts created earlier wait before this one (the oldest is served first)", ahead)
		}
		return stalled(shopv1alpha1.ReasonSeatsExhausted,
			"Shop %q uses all %d of its sub-account seats%s; free a seat or raise spec.seats.purchased on the Shop",
			shop.Name, s.Total, queued)
	}
	return stalled(shopv1alpha1.ReasonSeatsExhausted,
		"Shop %q has %d free seats, promised to the %d SubAccounts created earlier that wait for one (oldest first); free a seat or raise spec.seats.purchased on the Shop",
		shop.Name, free, ahead)
}

// wakeForSeats maps a Shop whose seat counts changed to the SubAccounts
// that may now take a seat: the oldest waiting ones, as many as seats are
// free; none while every seat is used.
func wakeForSeats(ctx context.Context, c client.Reader, shop *shopv1alpha1.Shop) ([]reconcile.Request, error) {
	s := shop.Status.Seats
	if s == nil {
		return nil, nil
	}
	queue, err := seatQueue(ctx, c, shop.Namespace, shop.Name)
	if err != nil {
		return nil, err
	}
	n := len(queue)
	if s.Total > 0 {
		n = min(n, int(max(s.Total-s.Used, 0)))
	}
	reqs := make([]reconcile.Request, 0, n)
	for _, w := range queue[:n] {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(w)})
	}
	return reqs, nil
}
