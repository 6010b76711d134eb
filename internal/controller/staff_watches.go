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

// What wakes a Staff reconcile.

import (
	"context"
	"fmt"
	"maps"
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// SetupWithManager registers the controller: Staff, their SubAccounts
// (spec and status: the rows come from them), and the Shops and Roles
// their selectors pick.
func (r *StaffReconciler) SetupWithManager(mgr ctrl.Manager) error {
	// A Shop or Role arriving, leaving or relabelled may change what any
	// Staff of the namespace picks; a namespace has few Staff next to its
	// SubAccounts, and this costs no write when nothing changed.
	everyStaff := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		return requestsIn(ctx, r.Client, &shopv1alpha1.StaffList{}, o.GetNamespace())
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&shopv1alpha1.Staff{}, builder.WithPredicates(ownChangeMatters)).
		Watches(&shopv1alpha1.Staff{}, r.skeleton.writes.pruner()).
		Owns(&shopv1alpha1.SubAccount{}, builder.WithPredicates(staffRowInputChanged)).
		Watches(&shopv1alpha1.SubAccount{}, handler.EnqueueRequestsFromMapFunc(clashGone), builder.WithPredicates(deletedOnly)).
		Watches(&shopv1alpha1.Shop{}, everyStaff, builder.WithPredicates(pickedByLabels)).
		Watches(&shopv1alpha1.Role{}, everyStaff, builder.WithPredicates(pickedByLabels)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles,
			NewQueue: fairQueueFactory(classifyFromCache(mgr.GetCache(), staffKind, r.urgency))}).
		Named("staff").
		Complete(r)
}

// staffRowInputChanged passes the changes of an owned SubAccount that the
// Staff acts on or shows: its spec (a hand edit to put back), labels,
// deletion, and the status its row is read from. A SubAccount writes its
// status several times while it works (conditions moving through
// Reconciling, drift checks, activity); 400 offboarded accounts would
// otherwise wake their Staff for each write, and the Staff rewrite its
// status, while other people's offboardings wait.
var staffRowInputChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld.(*shopv1alpha1.SubAccount), e.ObjectNew.(*shopv1alpha1.SubAccount)
		return o.Generation != n.Generation || !maps.Equal(o.Labels, n.Labels) ||
			!o.DeletionTimestamp.Equal(n.DeletionTimestamp) || staffRowInput(o) != staffRowInput(n)
	},
}

// rowInput is what staffRow reads from a SubAccount's status.
type rowInput struct {
	observedGeneration, readyGeneration int64
	ready                               metav1.ConditionStatus
	reason, message, login, seat        string
	verification, verifiedReason        string
	verificationExpires                 int64 // Unix seconds
}

func staffRowInput(sa *shopv1alpha1.SubAccount) rowInput {
	in := rowInput{observedGeneration: sa.Status.ObservedGeneration, login: sa.Status.LoginName}
	if c := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionReady); c != nil {
		in.readyGeneration, in.ready, in.reason, in.message = c.ObservedGeneration, c.Status, c.Reason, c.Message
	}
	if c := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionVerified); c != nil {
		in.verifiedReason = c.Reason
	}
	if sa.Status.Chat {
		in.seat = fmt.Sprintf("%d", sa.Status.ChatSeatCapacity)
		if sa.Status.Presence != nil {
			in.seat += " " + string(sa.Status.Presence.Current)
		}
	}
	if v := sa.Status.Verification; v != nil {
		in.verification = fmt.Sprintf("%t %s", v.Verified, v.Phone)
		if v.ExpiresAt != nil {
			in.verificationExpires = v.ExpiresAt.Unix()
		}
	}
	return in
}

// pickedByLabels passes what can change a Staff's selection: an object
// arriving or leaving (or starting to), or its labels changing.
var pickedByLabels = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return !maps.Equal(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels()) ||
			e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
	},
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// clashGone wakes the Staff whose name a deleted SubAccount of someone
// else's held ("<staff>-<shop>"), so it makes its own at once.
func clashGone(_ context.Context, o client.Object) []reconcile.Request {
	sa := o.(*shopv1alpha1.SubAccount)
	staff, ok := strings.CutSuffix(sa.Name, "-"+sa.Spec.ShopRef.Name)
	if !ok || staff == "" || metav1.GetControllerOf(sa) != nil {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: sa.Namespace, Name: staff}}}
}

// deletedOnly passes deletions only.
var deletedOnly = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	UpdateFunc:  func(event.UpdateEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// requestsIn turns every object of list in namespace into a request.
func requestsIn(ctx context.Context, c client.Client, list *shopv1alpha1.StaffList, namespace string) []reconcile.Request {
	if err := c.List(ctx, list, client.InNamespace(namespace), readOnlyList); err != nil {
		// A manager stopping cancels ctx while events are still handed
		// out: the cache then refuses every list, and nothing is lost by
		// not saying so for each event.
		if ctx.Err() == nil {
			ctrl.LoggerFrom(ctx).Error(err, "listing Staff", "namespace", namespace)
		}
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}
