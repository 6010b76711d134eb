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
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
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

	// checks remembers, per Shop, the last ShopInfo call: the seats are
	// then recounted from the cache without calling the platform.
	checks sync.Map // client.ObjectKey → shopCheck
	// createdDepartments remembers the departments this process created
	// ("<shop UID>/<department ID>"), so a reconcile reading a stale status
	// from the cache still knows them as the operator's.
	createdDepartments sync.Map

	// rejected remembers, per Shop, credentials the platform refused, so
	// that they are not tried again before credentialsRetry unless they
	// change (see checkCredentials).
	rejectedMu sync.Mutex
	rejected   map[types.NamespacedName]rejection
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
}

// +kubebuilder:rbac:groups=shop.subaccount.io,resources=shops,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=shops/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=shops/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one Shop to its desired state.
func (r *ShopReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	shop := &shopv1alpha1.Shop{}
	if err := r.Get(ctx, req.NamespacedName, shop); err != nil {
		if apierrors.IsNotFound(err) {
			r.checks.Delete(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := shop.DeepCopy()
	defer func() {
		if err := patchStatus(ctx, r.Client, before, shop); err != nil {
			retErr = kerrors.NewAggregate([]error{retErr, err})
		}
	}()

	if !shop.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, shop)
	}
	if err := ensureFinalizer(ctx, r.Client, shop, shopFinalizer); err != nil {
		return ctrl.Result{}, err
	}
	next, err := r.reconcile(ctx, shop)
	if err == nil {
		shop.Status.ObservedGeneration = shop.Generation
	}
	msg := "connected"
	if s := shop.Status.Seats; s != nil {
		msg = fmt.Sprintf("connected; %d of %d seats used", s.Used, s.Total)
		if s.Waiting > 0 {
			msg += fmt.Sprintf("; %d SubAccounts wait for a free seat (the oldest is served first)", s.Waiting)
		}
	}
	return summarize(shop, err, msg, soonest(r.untilDriftCheck(shop), next))
}

// reconcile runs the steps; it returns when departments or contacts need
// another look, if they do.
func (r *ShopReconciler) reconcile(ctx context.Context, shop *shopv1alpha1.Shop) (time.Duration, error) {
	checked, err := r.reconcileCore(ctx, shop)
	if err != nil {
		return 0, err
	}
	return r.ensureDepartmentsAndContacts(ctx, shop, checked)
}

// reconcileCore checks the credentials and counts the seats; checked says
// whether it asked the platform.
func (r *ShopReconciler) reconcileCore(ctx context.Context, shop *shopv1alpha1.Shop) (checked bool, err error) {
	key := client.ObjectKeyFromObject(shop)
	if _, err := catalogFor(shop); err != nil {
		return checked, err
	}
	secret, err := r.protectCredentials(ctx, shop)
	if err != nil {
		r.checks.Delete(key)
		markStep(shop, shopv1alpha1.ConditionCredentialsValid, err, "")
		return checked, err
	}
	managed := &shopv1alpha1.SubAccountList{}
	if err := r.List(ctx, managed, client.InNamespace(shop.Namespace), client.MatchingFields{indexSubAccountShop: shop.Name}, readOnlyList); err != nil {
		return checked, fmt.Errorf("listing SubAccounts of the shop: %w", err)
	}
	holding, waiting := quotaHolders(managed.Items)

	requested := shop.Annotations[shopv1alpha1.AnnotationRequestedAt]
	driftDue := r.untilDriftCheck(shop) == 0 || requested != shop.Status.LastHandledRequestedAt
	// The platform is asked only when something may have changed there or
	// in what we ask with: a new generation, a changed credentials Secret,
	// a failed last check, a restart, or a drift check being due. A
	// SubAccount arriving or leaving is counted from the cache.
	last, known := r.checks.Load(key)
	check, _ := last.(shopCheck)
	var pc platform.Client
	if !known || driftDue || check.generation != shop.Generation || check.secretVersion != secret.ResourceVersion ||
		!apimeta.IsStatusConditionTrue(shop.Status.Conditions, shopv1alpha1.ConditionCredentialsValid) {
		r.checks.Delete(key)
		var fingerprint string
		pc, fingerprint, err = r.Connector.connect(ctx, shop)
		if err != nil {
			markStep(shop, shopv1alpha1.ConditionCredentialsValid, err, "")
			return checked, err
		}
		info, err := r.checkCredentials(ctx, shop, pc, fingerprint)
		if err != nil {
			markStep(shop, shopv1alpha1.ConditionCredentialsValid, err, "")
			return checked, err
		}
		markStep(shop, shopv1alpha1.ConditionCredentialsValid, nil, "the platform accepted the credentials")
		check = shopCheck{generation: shop.Generation, secretVersion: secret.ResourceVersion,
			quota: info.SeatsTotal, unmanaged: max(info.SeatsUsed-holding, 0)}
		r.checks.Store(key, check)
		checked = true
	}

	total := check.quota
	if s := shop.Spec.Seats; s != nil {
		total = s.Included + s.Purchased
	}
	shop.Status.Seats = &shopv1alpha1.SeatStatus{Used: check.unmanaged + holding, Total: total, Managed: int32(len(managed.Items)),
		Unmanaged: check.unmanaged, Waiting: int32(len(waiting))}

	if !driftDue {
		return checked, nil
	}
	if err := r.checkDrift(ctx, shop, pc); err != nil {
		return checked, err
	}
	now := metav1.NewTime(r.now())
	shop.Status.LastSyncTime = &now
	shop.Status.LastHandledRequestedAt = requested
	return checked, nil
}

// credentialsRetry is how long credentials the platform refused are not
// tried again, unless they change.
const credentialsRetry = stallRetry

// rejection is credentials the platform refused: their fingerprint, when,
// and the outcome.
type rejection struct {
	fingerprint string
	at          time.Time
	err         *outcome
}

// checkCredentials calls ShopInfo, unless the same credentials were refused
// less than credentialsRetry ago: then it answers that refusal again
// without a call, so that the Shop's dependants coming and going, or its
// Secret's unrelated changes, cannot hammer the platform with credentials
// it already refused. Changed credentials are checked at once.
func (r *ShopReconciler) checkCredentials(ctx context.Context, shop *shopv1alpha1.Shop, pc platform.Client, fingerprint string) (platform.ShopInfo, error) {
	key := client.ObjectKeyFromObject(shop)
	r.rejectedMu.Lock()
	prev, ok := r.rejected[key]
	r.rejectedMu.Unlock()
	if ok && prev.fingerprint == fingerprint {
		if left := prev.at.Add(credentialsRetry).Sub(r.now()); left > 0 {
			o := *prev.err
			o.requeueAfter = left
			return platform.ShopInfo{}, &o
		}
	}
	info, err := pc.ShopInfo(ctx)
	r.rejectedMu.Lock()
	defer r.rejectedMu.Unlock()
	if err == nil {
		delete(r.rejected, key)
		return info, nil
	}
	out := platformOutcome("checking the shop's credentials", err)
	if o, isOutcome := out.(*outcome); isOutcome && o.reason == shopv1alpha1.ReasonCredentialsRejected {
		if r.rejected == nil {
			r.rejected = map[types.NamespacedName]rejection{}
		}
		r.rejected[key] = rejection{fingerprint: fingerprint, at: r.now(), err: o}
	}
	return platform.ShopInfo{}, out
}

// untilDriftCheck is how long until the shop's next drift check is due.
// lastSyncTime records the last one, so a restart does not check early.
func (r *ShopReconciler) untilDriftCheck(shop *shopv1alpha1.Shop) time.Duration {
	interval := shop.DriftCheckIntervalOrDefault()
	last := shop.Status.LastSyncTime
	if last == nil {
		return 0
	}
	// A requeue may fire a little early; within a second counts as due.
	if left := last.Add(interval).Sub(r.now()); left > time.Second {
		return left
	}
	return 0
}

// protectCredentials puts a finalizer on the Shop's credentials Secret so it
// outlives the Shop's dependants, and returns the Secret.
func (r *ShopReconciler) protectCredentials(ctx context.Context, shop *shopv1alpha1.Shop) (*corev1.Secret, error) {
	secret, err := r.Connector.secret(ctx, shop.Namespace, shop.Spec.CredentialsSecretRef.Name)
	if apierrors.IsNotFound(err) {
		return nil, stalled(shopv1alpha1.ReasonSecretNotFound, "credentials Secret %q not found in namespace %q",
			shop.Spec.CredentialsSecretRef.Name, shop.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("reading credentials Secret: %w", err)
	}
	if !secret.DeletionTimestamp.IsZero() {
		return secret, nil // being deleted: the finalizer we may hold is released with the Shop
	}
	return secret, ensureFinalizer(ctx, r.Client, secret, credentialsFinalizer)
}

func (r *ShopReconciler) reconcileDelete(ctx context.Context, shop *shopv1alpha1.Shop) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(shop, shopFinalizer) {
		return ctrl.Result{}, nil
	}
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
		if len(names) > 5 {
			names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
		}
		markDeleting(shop, waiting(shopv1alpha1.ReasonInUse,
			"waiting for %d dependants to clean up their platform objects first: %s", n, strings.Join(names, ", ")))
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	if err := r.releaseCredentials(ctx, shop); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, shop, shopFinalizer)
}

// releaseCredentials removes the credentials finalizer unless another live
// Shop uses the same Secret.
func (r *ShopReconciler) releaseCredentials(ctx context.Context, shop *shopv1alpha1.Shop) error {
	name := shop.Spec.CredentialsSecretRef.Name
	users := &shopv1alpha1.ShopList{}
	if err := r.List(ctx, users, client.InNamespace(shop.Namespace), client.MatchingFields{indexShopSecret: name}); err != nil {
		return fmt.Errorf("listing Shops using Secret %q: %w", name, err)
	}
	for i := range users.Items {
		if users.Items[i].UID != shop.UID && users.Items[i].DeletionTimestamp.IsZero() {
			return nil
		}
	}
	secret, err := r.Connector.secret(ctx, shop.Namespace, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading credentials Secret: %w", err)
	}
	return removeFinalizer(ctx, r.Client, secret, credentialsFinalizer)
}

func (r *ShopReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the controller: Shops, their credentials
// Secrets, and their dependants' arrivals and departures.
func (r *ShopReconciler) SetupWithManager(mgr ctrl.Manager) error {
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
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return requestsFor(ctx, r.Client, &shopv1alpha1.ShopList{}, o.GetNamespace(), indexShopSecret, o.GetName())
		})).
		Watches(&shopv1alpha1.SubAccount{}, delayedRequests(r.BatchDelay, dependantToShop), builder.WithPredicates(dependantArrivedOrLeft)).
		Watches(&shopv1alpha1.Role{}, delayedRequests(r.BatchDelay, dependantToShop), builder.WithPredicates(dependantArrivedOrLeft)).
		Watches(&shopv1alpha1.SubAccount{}, delayedRequests(r.BatchDelay, dependantToShop), builder.WithPredicates(departmentMembershipChanged)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(contactSecretOwner)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		WithLogConstructor(shopLogger(mgr.GetLogger(), mgr.GetCache(), "shop", "Shop", shopNameItself)).
		Named("shop").
		Complete(r)
}
