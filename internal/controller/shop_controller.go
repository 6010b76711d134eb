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
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

const (
	// shopFinalizer keeps a Shop until its Roles and SubAccounts are gone, so
	// they can still reach the platform to clean up.
	shopFinalizer = "shop.subaccount.io/shop"
	// credentialsFinalizer keeps a Shop's API credentials Secret while the
	// Shop exists: without it, deleting a namespace would delete the Secret
	// first and orphan every platform account.
	credentialsFinalizer = "shop.subaccount.io/shop-credentials"
)

// ShopReconciler checks a Shop's credentials against its platform, reports
// its seats, and holds it until its dependants are gone.
type ShopReconciler struct {
	client.Client
	Connector *Connector
	Recorder  events.EventRecorder
	Drift     *DriftTracker
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxConcurrentReconciles is how many Shops are reconciled at once
	// (1 when zero).
	MaxConcurrentReconciles int
	// BatchDelay is how long a Shop waits after a dependant arrives or
	// leaves before recounting its seats, so a burst costs one reconcile.
	BatchDelay time.Duration

	// memos holds a shopMemo per Shop.
	memos    sync.Map // client.ObjectKey → *shopMemo
	skeleton skeleton[*shopv1alpha1.Shop]
}

// shopMemo is what the Shop controller remembers about one Shop between
// reconciles, in memory only: it is forgotten when the Shop is gone, and
// belongs to one Shop (UID), so a Shop made again under the same name
// starts afresh. controller-runtime never reconciles one Shop twice at
// once, so it needs no lock.
type shopMemo struct {
	uid types.UID
	// check is what the last credentials check found; nil asks the
	// platform again.
	check *shopCheck
	// rejected is credentials the platform refused, so that they are not
	// tried again before credentialsRetry unless they change (see
	// checkCredentials).
	rejected *rejection
	// createdDepartments holds the IDs of the departments this process
	// created, so they stay the operator's (and are deleted once dropped
	// from the spec) even when the status write that recorded them failed.
	createdDepartments map[string]bool
	// activity is where the reading of the shop's activity feed stands.
	activity activityMemo
	// openPlatform is what the last check of the shop's open-platform app
	// found; nil asks the platform again.
	openPlatform *openPlatformCheck
	// releasedFormerFor is the credentials Secret the Shop named when the
	// Secrets it named before were last let go (releaseFormerCredentials).
	releasedFormerFor string
}

// memo returns the Shop's memo, a new one for a Shop not seen before.
func (r *ShopReconciler) memo(shop *shopv1alpha1.Shop) *shopMemo {
	key := client.ObjectKeyFromObject(shop)
	if m, ok := r.memos.Load(key); ok && m.(*shopMemo).uid == shop.UID {
		return m.(*shopMemo)
	}
	m := &shopMemo{uid: shop.UID, createdDepartments: map[string]bool{}}
	r.memos.Store(key, m)
	return m
}

// shopCheck is what the last credentials check of a Shop found.
type shopCheck struct {
	// generation and secretVersion are the Shop's generation and its
	// credentials Secret's resourceVersion at the check: a change of either
	// checks again.
	generation    int64
	secretVersion string
	// quota is the platform's seat quota.
	quota int32
	// unmanaged is how many accounts on the platform no SubAccount of the
	// Shop held: seats used = unmanaged + SubAccounts with an account.
	unmanaged int32
	// service is whether the shop's sub-account service is on ("" when the
	// platform does not say); ledger how its quota is made up, when known.
	service platform.ServiceState
	ledger  *platform.SeatLedger
	// recount: an account was created while ShopInfo ran, so unmanaged
	// may count it as nobody's; the next reconcile asks again.
	recount bool
}

// +kubebuilder:rbac:groups=shop.subaccount.io,resources=shops,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=shops/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=shops/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// shopKind describes Shops to the reconcile skeleton.
var shopKind = kindInfo[*shopv1alpha1.Shop]{
	name:               "Shop",
	finalizer:          shopFinalizer,
	newObject:          func() *shopv1alpha1.Shop { return &shopv1alpha1.Shop{} },
	observedGeneration: func(s *shopv1alpha1.Shop) *int64 { return &s.Status.ObservedGeneration },
}

// Reconcile brings one Shop to its desired state.
func (r *ShopReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.skeleton.run(ctx, req, shopKind, r)
}

func (*ShopReconciler) readyMessage(shop *shopv1alpha1.Shop) string { return shopReadyMessage(shop) }

func (r *ShopReconciler) forget(key client.ObjectKey) {
	r.memos.Delete(key)
	r.Drift.forgetCreated(key)
}

// reconcile runs the Shop's steps (shopSteps) over one scope, then sets
// the conditions from what they found. It returns when to look again: when
// a step asks, and when the next drift check is due.
func (r *ShopReconciler) reconcile(ctx context.Context, shop *shopv1alpha1.Shop) (time.Duration, error) {
	s, err := r.newShopScope(shop)
	if err != nil {
		return 0, err
	}
	next, _, err := runSteps(ctx, s, r.shopSteps())
	s.setConditions()
	return soonest(r.untilDriftCheck(shop), next), err
}

// reconcileDelete waits until no Role or SubAccount refers to the Shop,
// then releases the credentials Secret.
func (r *ShopReconciler) reconcileDelete(ctx context.Context, shop *shopv1alpha1.Shop) (ctrl.Result, error) {
	roles := &shopv1alpha1.RoleList{}
	subs := &shopv1alpha1.SubAccountList{}
	if err := r.List(ctx, roles, client.InNamespace(shop.Namespace), client.MatchingFields{indexRoleShop: shop.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing Roles of the shop: %w", err)
	}
	if err := r.List(ctx, subs, client.InNamespace(shop.Namespace), client.MatchingFields{indexSubAccountShop: shop.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing SubAccounts of the shop: %w", err)
	}
	if n := len(roles.Items) + len(subs.Items); n > 0 {
		var names []string
		for i := range subs.Items {
			names = append(names, "SubAccount/"+subs.Items[i].Name)
		}
		for i := range roles.Items {
			names = append(names, "Role/"+roles.Items[i].Name)
		}
		markDeleting(shop, waiting(shopv1alpha1.ReasonInUse,
			"waiting for %d dependants to clean up their platform objects first: %s", n, firstNames(names, 5)))
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	if err := r.releaseCredentials(ctx, shop); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, shop, shopFinalizer)
}

func (r *ShopReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the controller: Shops, their credentials
// and open-platform app Secrets, and their dependants' arrivals and departures.
func (r *ShopReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.Client = withCachedIndexes(r.Client, mgr)
	dependantToShop := func(_ context.Context, o client.Object) []reconcile.Request {
		var shop string
		switch d := o.(type) {
		case *shopv1alpha1.SubAccount:
			shop = d.Spec.ShopRef.Name
		case *shopv1alpha1.Role:
			shop = d.Spec.ShopRef.Name
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: shop}}}
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&shopv1alpha1.Shop{}, builder.WithPredicates(ownChangeMatters)).
		Watches(&shopv1alpha1.Shop{}, r.skeleton.writes.pruner()).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return append(requestsFor(ctx, r.Client, &shopv1alpha1.ShopList{}, o.GetNamespace(), indexShopSecret, o.GetName()),
				requestsFor(ctx, r.Client, &shopv1alpha1.ShopList{}, o.GetNamespace(), indexShopAppSecret, o.GetName())...)
		})).
		Watches(&shopv1alpha1.SubAccount{}, delayedRequests(r.BatchDelay, dependantToShop), builder.WithPredicates(dependantArrivedOrLeft)).
		Watches(&shopv1alpha1.Role{}, delayedRequests(r.BatchDelay, dependantToShop), builder.WithPredicates(dependantArrivedOrLeft)).
		Watches(&shopv1alpha1.SubAccount{}, delayedRequests(r.BatchDelay, dependantToShop), builder.WithPredicates(departmentMembershipChanged)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(contactSecretOwner), builder.WithPredicates(isCodeSecret)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		WithLogConstructor(shopLogger(mgr.GetLogger(), mgr.GetCache(), "shop", "Shop", shopNameItself)).
		Named("shop").
		Complete(r)
}
