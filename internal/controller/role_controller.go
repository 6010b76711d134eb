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
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// roleFinalizer keeps a Role until its platform role is removed.
const roleFinalizer = "shop.subaccount.io/role"

// RoleReconciler creates, updates and deletes a Role's platform role.
type RoleReconciler struct {
	client.Client
	Connector *Connector
	Recorder  events.EventRecorder
	Drift     *DriftTracker
	// MaxConcurrentReconciles is how many Roles are reconciled at once
	// (1 when zero).
	MaxConcurrentReconciles int
	// BatchDelay is how long a Role waits after a SubAccount starts or
	// stops using it before recounting its members.
	BatchDelay time.Duration

	skeleton skeleton[*shopv1alpha1.Role]
}

// +kubebuilder:rbac:groups=shop.subaccount.io,resources=roles,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=roles/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=roles/finalizers,verbs=update

// roleKind describes Roles to the reconcile skeleton.
var roleKind = kindInfo[*shopv1alpha1.Role]{
	name:               "Role",
	finalizer:          roleFinalizer,
	newObject:          func() *shopv1alpha1.Role { return &shopv1alpha1.Role{} },
	observedGeneration: func(r *shopv1alpha1.Role) *int64 { return &r.Status.ObservedGeneration },
	urgency:            roleUrgency,
}

// Reconcile brings one Role to its desired state.
func (r *RoleReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.skeleton.run(ctx, req, roleKind, r)
}

func (r *RoleReconciler) readyMessage(role *shopv1alpha1.Role) string {
	return fmt.Sprintf("role %s grants %d permissions", role.Status.RoleID, len(role.Status.EffectivePermissions))
}

func (*RoleReconciler) forget(client.ObjectKey) {}

// users lists the names of the SubAccounts that use the Role.
func (r *RoleReconciler) users(ctx context.Context, role *shopv1alpha1.Role) ([]string, error) {
	subs, err := byIndex[*shopv1alpha1.SubAccount](ctx, r.Client, &shopv1alpha1.SubAccountList{}, role.Namespace, indexSubAccountRoles, role.Name)
	if err != nil {
		return nil, fmt.Errorf("listing SubAccounts using the Role: %w", err)
	}
	var names []string
	for _, sa := range subs {
		if sa.Spec.ShopRef.Name == role.Spec.ShopRef.Name {
			names = append(names, sa.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// roleScope is what one Role reconcile knows; its steps fill it in, in
// order.
type roleScope struct {
	role *shopv1alpha1.Role
	shop *shopv1alpha1.Shop
	cat  *catalog.Catalog
	// desired is the platform role the spec asks for, hash its hash.
	desired platform.RoleSpec
	hash    string
	// drifted says a drift the shop's check found is to be corrected;
	// gone, that the check found the platform role gone.
	drifted, gone bool
}

func (s *roleScope) object() conditioned { return s.role }

// inSync says the platform role is as desired: nothing to write.
func (s *roleScope) inSync() bool {
	// Under driftPolicy Report an out-of-band change is left alone, but a
	// change of the Role's spec (a new hash) is still applied.
	return s.role.Status.RoleID != "" && s.role.Status.AppliedHash == s.hash && !s.drifted
}

// reconcile runs the Role's steps in order.
func (r *RoleReconciler) reconcile(ctx context.Context, role *shopv1alpha1.Role) (time.Duration, error) {
	next, _, err := runSteps(ctx, &roleScope{role: role}, []step[*roleScope]{
		{name: "members", run: plain(r.countMembers)},
		{name: "shop", run: plain(r.loadShop)},
		{name: "permissions", run: plain(desireRole), condition: shopv1alpha1.ConditionPermissionsValid,
			ok: fixed[*roleScope]("all permissions are known and allowed")},
		{name: "drift", run: plain(r.takeDrift)},
		{name: "suspended", run: plain(roleSuspended)},
		{name: "platformRole", run: plain(r.ensurePlatformRole), condition: shopv1alpha1.ConditionSynced,
			ok: fixed[*roleScope]("the platform role matches")},
	})
	return next, err
}

// countMembers records how many SubAccounts use the Role.
func (r *RoleReconciler) countMembers(ctx context.Context, s *roleScope) error {
	_, err := r.countUsers(ctx, s.role)
	return err
}

// countUsers lists the SubAccounts using the Role and records how many.
func (r *RoleReconciler) countUsers(ctx context.Context, role *shopv1alpha1.Role) ([]string, error) {
	users, err := r.users(ctx, role)
	if err != nil {
		return nil, err
	}
	role.Status.SubAccounts = int32(len(users))
	return users, nil
}

// loadShop reads the Role's Shop and its platform's catalog.
func (r *RoleReconciler) loadShop(ctx context.Context, s *roleScope) error {
	shop, err := r.Connector.shopOf(ctx, s.role.Namespace, s.role.Spec.ShopRef.Name)
	if err != nil {
		return err
	}
	s.shop = shop
	s.cat, err = catalogFor(shop)
	return err
}

// desireRole translates the spec into the platform role and checks its
// permissions against the catalog.
func desireRole(_ context.Context, s *roleScope) error {
	desired, err := desiredRole(s.role, s.cat)
	if err != nil {
		return err
	}
	s.desired, s.hash = desired, roleHash(desired)
	s.role.Status.EffectivePermissions = desired.Permissions
	return nil
}

// takeDrift takes what the shop's last drift check found about the Role
// and settles it under the Shop's drift policy (drift.go).
func (r *RoleReconciler) takeDrift(_ context.Context, s *roleScope) error {
	finding, found := r.Drift.takeFinding(s.role)
	if !found {
		return nil
	}
	unsettable := ""
	if finding.reportOnly && finding.observedRole != nil {
		// The platform's API reads the role but cannot update it: a
		// difference is reported, never written, whatever the policy.
		unsettable = strings.Join(roleChanges(finding.observedRole.RoleSpec, s.desired, finding.rolePermissions, s.cat), "; ")
		finding.state = false
	}
	s.drifted = finding.settle(s.role, driftPolicy("", s.shop), r.Recorder, "platform role "+s.role.Status.RoleID,
		func() string { return roleDriftChanges(finding, s.desired) }, unsettable)
	s.gone = s.drifted && finding.observedRole == nil
	return nil
}

// roleSuspended stops a Role that has something to write while its Shop is
// suspended.
func roleSuspended(_ context.Context, s *roleScope) error {
	if !s.inSync() && s.shop.Spec.Suspend {
		return waiting(shopv1alpha1.ReasonSuspended, "Shop %q is suspended; the role is not written to the platform", s.shop.Name)
	}
	return nil
}

// ensurePlatformRole writes the platform role unless it is in sync.
func (r *RoleReconciler) ensurePlatformRole(ctx context.Context, s *roleScope) error {
	if s.inSync() {
		return nil
	}
	pc, err := r.Connector.Connect(ctx, s.shop)
	if err != nil {
		return err
	}
	if err := r.write(ctx, pc, s); err != nil {
		return err
	}
	s.role.Status.AppliedHash = s.hash
	return nil
}

// write creates the platform role, or updates it; a role deleted on the
// platform behind our back is created again.
func (r *RoleReconciler) write(ctx context.Context, pc platform.Client, s *roleScope) error {
	role, desired := s.role, s.desired
	if role.Status.RoleID != "" && s.gone && !platform.CapabilitiesOf(pc).UpdateRole {
		// Gone from the platform: created again, which an API that cannot
		// update a role (TOP) can do.
		r.Recorder.Eventf(role, nil, corev1.EventTypeWarning, "Recreating", "CreateRole",
			"platform role %s is gone; creating it again", role.Status.RoleID)
		role.Status.RoleID = ""
	}
	if role.Status.RoleID != "" {
		if !platform.CapabilitiesOf(pc).UpdateRole {
			return stalled(shopv1alpha1.ReasonNotSupported,
				"the platform's API cannot update a role: change role %s in the back office, or create a new Role", role.Status.RoleID)
		}
		_, err := pc.UpdateRole(ctx, role.Status.RoleID, desired)
		if err == nil && s.drifted {
			driftCorrected(r.Recorder, role, "UpdateRole",
				fmt.Sprintf("platform role %s was changed outside the operator; restored %d permissions", role.Status.RoleID, len(desired.Permissions)))
			return nil
		}
		if err == nil {
			r.Recorder.Eventf(role, nil, corev1.EventTypeNormal, "Updated", "UpdateRole",
				"updated platform role %s: %d permissions", role.Status.RoleID, len(desired.Permissions))
			return nil
		}
		if !errors.Is(err, platform.ErrNotFound) {
			return platformOutcome("updating the platform role", err)
		}
		r.Recorder.Eventf(role, nil, corev1.EventTypeWarning, "Recreating", "CreateRole",
			"platform role %s is gone; creating it again", role.Status.RoleID)
		role.Status.RoleID = ""
	}
	created, err := pc.CreateRole(ctx, desired, string(role.UID))
	if err != nil {
		return platformOutcome("creating the platform role", err)
	}
	role.Status.RoleID = created.ID
	r.Recorder.Eventf(role, nil, corev1.EventTypeNormal, "Created", "CreateRole",
		"created platform role %s %q with %d permissions", created.ID, desired.Name, len(desired.Permissions))
	return nil
}

// reconcileDelete keeps the platform role while SubAccounts use it, then
// carries out the deletion policy.
func (r *RoleReconciler) reconcileDelete(ctx context.Context, role *shopv1alpha1.Role) (ctrl.Result, error) {
	users, err := r.countUsers(ctx, role)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(users) > 0 {
		markDeleting(role, waiting(shopv1alpha1.ReasonInUse,
			"still used by %d SubAccounts (%s); the platform role is kept until they stop using it",
			len(users), firstNames(users, 5)))
		return ctrl.Result{}, nil
	}
	if role.Status.RoleID != "" && role.Spec.DeletionPolicy != shopv1alpha1.DeletionPolicyRetain {
		if err := r.deleteRemote(ctx, role); err != nil {
			markDeleting(role, err)
			return summarizeDelete(err)
		}
	}
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, role, roleFinalizer)
}

func (r *RoleReconciler) deleteRemote(ctx context.Context, role *shopv1alpha1.Role) error {
	pc, err := cleanupClient(ctx, r.Connector, r.Recorder, role, role.Spec.ShopRef.Name, "DeleteRole",
		"platform role "+role.Status.RoleID)
	if err != nil || pc == nil {
		return err
	}
	if !platform.CapabilitiesOf(pc).DeleteRole {
		r.Recorder.Eventf(role, nil, corev1.EventTypeWarning, "NotSupported", "DeleteRole",
			"the platform's API cannot delete roles; role %s is left on the platform: remove it in the back office", role.Status.RoleID)
		return nil
	}
	err = pc.DeleteRole(ctx, role.Status.RoleID)
	if errors.Is(err, platform.ErrConflict) {
		// Accounts still hold the role: a SubAccount's switch away from it
		// may not have reached the platform yet. Its status change re-queues
		// this Role; the retry covers accounts nobody manages.
		return waiting(shopv1alpha1.ReasonInUse, "the platform still assigns role %s to accounts: %v", role.Status.RoleID, err)
	}
	if err != nil && !errors.Is(err, platform.ErrNotFound) {
		return platformOutcome("deleting the platform role", err)
	}
	r.Recorder.Eventf(role, nil, corev1.EventTypeNormal, "Deleted", "DeleteRole", "deleted platform role %s", role.Status.RoleID)
	return nil
}

// SetupWithManager registers the controller: Roles, their Shops, and the
// SubAccounts that start or stop using them.
func (r *RoleReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.Client = withCachedIndexes(r.Client, mgr)
	return ctrl.NewControllerManagedBy(mgr).
		For(&shopv1alpha1.Role{}, builder.WithPredicates(ownChangeMatters)).
		Watches(&shopv1alpha1.Role{}, r.skeleton.writes.pruner()).
		Watches(&shopv1alpha1.Shop{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return requestsFor(ctx, r.Client, &shopv1alpha1.RoleList{}, o.GetNamespace(), indexRoleShop, o.GetName())
		}), builder.WithPredicates(shopSpecOrReadinessChanged)).
		Watches(&shopv1alpha1.SubAccount{}, roleUsers{client: r.Client, delay: r.BatchDelay}).
		WatchesRawSource(source.Channel(r.Drift.roles, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles,
			NewQueue: fairQueueFactory(classifyFromCache(mgr.GetCache(), roleKind, roleUrgency))}).
		WithLogConstructor(shopLogger(mgr.GetLogger(), mgr.GetCache(), "role", "Role",
			shopNameFromRef(mgr.GetCache(), func() *shopv1alpha1.Role { return &shopv1alpha1.Role{} },
				func(r *shopv1alpha1.Role) string { return r.Spec.ShopRef.Name }))).
		Named("role").
		Complete(r)
}

// roleUsers re-queues the Roles a SubAccount starts or stops using: on an
// update both the old and the new Roles when the list changed, and the
// shop's Roles being deleted when the account's platform state changed (it
// may just have let go of one). Member counts wait delay, so a wave of
// SubAccounts costs one Role reconcile per delay; Roles being deleted are
// re-queued at once.
type roleUsers struct {
	client client.Client
	delay  time.Duration
}

func (h roleUsers) Create(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	enqueueRoles(q, e.Object, h.delay)
}

func (h roleUsers) Update(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	o, n := e.ObjectOld.(*shopv1alpha1.SubAccount), e.ObjectNew.(*shopv1alpha1.SubAccount)
	if !slices.Equal(o.Spec.Roles, n.Spec.Roles) {
		enqueueRoles(q, o, h.delay)
		enqueueRoles(q, n, h.delay)
	}
	if o.Status.AppliedHash == n.Status.AppliedHash {
		return
	}
	// Every new SubAccount's first status write comes here: the cache's
	// own Roles (byIndex), not a deep copy of the shop's Roles each time.
	roles, err := byIndex[*shopv1alpha1.Role](ctx, h.client, &shopv1alpha1.RoleList{}, n.Namespace, indexRoleShop, n.Spec.ShopRef.Name)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing Roles of the shop")
		return
	}
	for _, role := range roles {
		if !role.DeletionTimestamp.IsZero() {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(role)})
		}
	}
}

func (h roleUsers) Delete(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	enqueueRoles(q, e.Object, h.delay)
}

func (roleUsers) Generic(context.Context, event.GenericEvent, workqueue.TypedRateLimitingInterface[reconcile.Request]) {
}

func enqueueRoles(q workqueue.TypedRateLimitingInterface[reconcile.Request], o client.Object, delay time.Duration) {
	for _, ref := range o.(*shopv1alpha1.SubAccount).Spec.Roles {
		req := reconcile.Request{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: ref.Name}}
		if delay > 0 {
			q.AddAfter(req, delay)
		} else {
			q.Add(req)
		}
	}
}
