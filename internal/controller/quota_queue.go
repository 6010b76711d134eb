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
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// Seats are served first come, first served: while a shop's seats are all
// used, new SubAccounts wait (SeatsExhausted); when seats come free, the
// oldest waiting ones (by creationTimestamp, then name) take them and only
// they are woken, so the others keep waiting without a reconcile storm.

// waitingForQuota reports whether sa waits for a free seat of its Shop.
func waitingForQuota(sa *shopv1alpha1.SubAccount) bool {
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

// seats is what the seat decisions read from the cache: the seats used now
// and the SubAccounts waiting for one, oldest first.
type accountQuota struct {
	used, total int32
	queue       []*shopv1alpha1.SubAccount
}

// free is the number of seats nobody holds.
func (s accountQuota) free() int32 { return s.total - s.used }

// shopAccountQuota counts a Shop's seats from the cache. The Shop's status counts
// are written in batches and lag behind a wave of creates, so the
// SubAccounts holding an account are counted here, live, and only the
// accounts no SubAccount holds (status.seats.unmanaged) come from the
// Shop's last look at the platform. The larger of that and the Shop's own
// count is taken: a lagging status never lets more SubAccounts in than
// either view allows. ok is false when the Shop has no seat limit.
func shopAccountQuota(ctx context.Context, c client.Reader, shop *shopv1alpha1.Shop) (s accountQuota, ok bool, err error) {
	st := shop.Status.Seats
	if st == nil {
		return s, false, nil
	}
	// The cache's own objects (byIndex): every SubAccount reconcile of a
	// shop with a seat quota asks, and a shop with 1,000 pending creates
	// would otherwise copy 1,000 objects each time.
	subs, err := byIndex[*shopv1alpha1.SubAccount](ctx, c, &shopv1alpha1.SubAccountList{}, shop.Namespace, indexSubAccountShop, shop.Name)
	if err != nil {
		return s, false, fmt.Errorf("listing SubAccounts of the shop: %w", err)
	}
	holding, queue := quotaHolders(subs)
	s.queue = queue
	slices.SortFunc(s.queue, olderFirst)
	s.used, s.total = max(st.Used, st.Unmanaged+holding), st.Total
	return s, true, nil
}

// quotaHolders counts a Shop's SubAccounts that hold a platform account and
// returns those waiting for a seat, in list order.
func quotaHolders(subs []*shopv1alpha1.SubAccount) (holding int32, waiting []*shopv1alpha1.SubAccount) {
	for _, sa := range subs {
		switch {
		case sa.Status.AccountID != "":
			holding++
		case waitingForQuota(sa):
			waiting = append(waiting, sa)
		}
	}
	return holding, waiting
}

// checkAccountQuota lets sa create its account when a seat is free for it: fewer
// waiting SubAccounts older than sa than free seats. Otherwise it waits,
// its place in the queue shown.
func (r *SubAccountReconciler) checkAccountQuota(ctx context.Context, sa *shopv1alpha1.SubAccount, shop *shopv1alpha1.Shop) error {
	s, limited, err := shopAccountQuota(ctx, r.Client, shop)
	if err != nil || !limited || s.total <= 0 {
		return err
	}
	free := s.free()
	ahead := int32(0)
	for _, w := range s.queue {
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
			"Shop %q uses all %d of its sub-account seats%s; %s",
			shop.Name, s.total, queued, moreSeats(shop, ahead+1-free))
	}
	return stalled(shopv1alpha1.ReasonSeatsExhausted,
		"Shop %q has %d free seats, promised to the %d SubAccounts created earlier that wait for one (oldest first); %s",
		shop.Name, free, ahead, moreSeats(shop, ahead+1-free))
}

// wakeForAccountQuota maps a Shop whose seat counts changed to the SubAccounts
// that may now take a seat: the oldest waiting ones, as many as seats are
// free; none while every seat is used.
func wakeForAccountQuota(ctx context.Context, c client.Reader, shop *shopv1alpha1.Shop) ([]reconcile.Request, error) {
	s, limited, err := shopAccountQuota(ctx, c, shop)
	if err != nil || !limited {
		return nil, err
	}
	n := len(s.queue)
	if s.total > 0 {
		n = min(n, int(max(s.free(), 0)))
	}
	reqs := make([]reconcile.Request, 0, n)
	for _, w := range s.queue[:n] {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(w)})
	}
	return reqs, nil
}

// A Shop's seat count takes the seats of the accounts no SubAccount holds
// from its last ShopInfo: the platform's count less the SubAccounts the
// cache then showed holding an account (unmanaged). An account created
// before that call whose status.accountID the cache did not show yet was
// counted twice: as nobody's then, and as its SubAccount's once the status
// arrived, so the shop's last free seat looked taken and the next
// SubAccount was Stalled (SeatsExhausted) until the next check, up to a
// drift interval later. The SubAccount controller therefore notes each
// account it creates, with when the call began and ended
// (accountCreated), and the Shop's count subtracts those created before
// its ShopInfo began that the cache does not show held yet
// (createdNotHeld); one whose creation overlapped the ShopInfo call may or
// may not be in the platform's count, so the Shop asks again at its next
// reconcile (shopCheck.recount), which the account's status.accountID
// arriving brings about.
//
// An adopted account is the other way round: it was on the platform, and
// nobody's, at the last ShopInfo, so the count took it as unmanaged; once
// the cache shows its SubAccount holding it, the count would take it
// again. The SubAccount controller notes the adoption too
// (accountAdopted), and the Shop's credentials step asks ShopInfo again
// as soon as the cache shows the adopted account held (recountDue).
//
// An account left on the platform by an offboarding (deletionPolicy
// Retain, Disable, or a platform that can do neither) still takes its
// seat, but the last ShopInfo counted it as its SubAccount's: once the
// SubAccount is gone from the cache, the count would miss it, and a
// SubAccount waiting for a seat would be let through to a platform that
// refuses it. The SubAccount controller notes what it leaves
// (accountLeft), and the credentials step asks ShopInfo again as soon as
// the cache shows the SubAccount gone (recountDue); that count takes the
// account as nobody's.

// creation is when the call that created an account began and ended: the
// account appeared on the platform in between. adopted marks an account
// that was there already and has just been adopted (at began); left one
// that an offboarding has just left on the platform.
type creation struct {
	began, ended time.Time
	adopted      bool
	left         bool
}

// accountCreated notes that sa created its account on the platform by a
// call that began at began and has just ended at ended.
func (d *DriftTracker) accountCreated(sa *shopv1alpha1.SubAccount, began, ended time.Time) {
	d.note(sa, creation{began: began, ended: ended})
}

// accountAdopted notes that sa adopted an account that was on the
// platform already, at at.
func (d *DriftTracker) accountAdopted(sa *shopv1alpha1.SubAccount, at time.Time) {
	d.note(sa, creation{began: at, ended: at, adopted: true})
}

// accountLeft notes that sa's offboarding left its account, which sa
// held, on the platform, at at.
func (d *DriftTracker) accountLeft(sa *shopv1alpha1.SubAccount, at time.Time) {
	d.note(sa, creation{began: at, ended: at, left: true})
}

func (d *DriftTracker) note(sa *shopv1alpha1.SubAccount, c creation) {
	if d == nil {
		return
	}
	shop := client.ObjectKey{Namespace: sa.Namespace, Name: sa.Spec.ShopRef.Name}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.created == nil {
		d.created = map[client.ObjectKey]map[types.UID]creation{}
	}
	byUID := d.created[shop]
	if byUID == nil {
		byUID = map[types.UID]creation{}
		d.created[shop] = byUID
	}
	byUID[sa.UID] = c
}

// awaitsRecount says whether an adoption or an account left is noted for
// shop: only then is recountDue worth a look at the shop's SubAccounts.
func (d *DriftTracker) awaitsRecount(shop client.ObjectKey) bool {
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.created[shop] {
		if c.adopted || c.left {
			return true
		}
	}
	return false
}

// recountDue says whether subs, the shop's SubAccounts in the cache, show
// an account noted as adopted held now, or a SubAccount whose account was
// left gone: the count from the last ShopInfo took the first as nobody's
// and the second as its SubAccount's, so ShopInfo is to be asked again
// (createdNotHeld then forgets them).
func (d *DriftTracker) recountDue(shop client.ObjectKey, subs []*shopv1alpha1.SubAccount) bool {
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	byUID := d.created[shop]
	present := make(map[types.UID]bool, len(subs))
	for _, sa := range subs {
		if c, noted := byUID[sa.UID]; noted && c.adopted && sa.Status.AccountID != "" {
			return true
		}
		present[sa.UID] = true
	}
	for uid, c := range byUID {
		if c.left && !present[uid] {
			return true
		}
	}
	return false
}

// createdNotHeld looks at the accounts noted for shop (accountCreated)
// that subs, the shop's SubAccounts in the cache, do not show held yet,
// against a ShopInfo call that began at from and ended at to: before is
// how many were created before it began (the platform counted them),
// overlapped whether any creation overlapped it (the platform may or may
// not have counted it). The accounts subs show held, or whose SubAccount
// is gone, are forgotten, and those left on the platform once a ShopInfo
// has counted them without their SubAccount. With from and to zero it
// only forgets.
func (d *DriftTracker) createdNotHeld(shop client.ObjectKey, subs []*shopv1alpha1.SubAccount, from, to time.Time) (before int32, overlapped bool) {
	if d == nil {
		return 0, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	byUID := d.created[shop]
	if len(byUID) == 0 {
		return 0, false
	}
	notHeld := make(map[types.UID]bool, len(byUID))
	present := make(map[types.UID]bool, len(byUID))
	for _, sa := range subs {
		if _, noted := byUID[sa.UID]; noted {
			present[sa.UID] = true
			notHeld[sa.UID] = sa.Status.AccountID == ""
		}
	}
	for uid, c := range byUID {
		switch {
		case c.left:
			// Forgotten once a ShopInfo counted it as nobody's: asked
			// after its SubAccount was gone from the cache.
			if !present[uid] && !from.IsZero() {
				delete(byUID, uid)
			}
		case !notHeld[uid]:
			delete(byUID, uid)
		case from.IsZero():
		case c.ended.Before(from):
			before++
		case !c.began.After(to):
			overlapped = true
		}
	}
	if len(byUID) == 0 {
		delete(d.created, shop)
	}
	return before, overlapped
}

// forgetCreated drops what is noted for a Shop that is gone.
func (d *DriftTracker) forgetCreated(shop client.ObjectKey) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.created, shop)
}
