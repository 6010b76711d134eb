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
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// subAccountFinalizer keeps a SubAccount until its deletion policy has been
// carried out on the platform.
const subAccountFinalizer = "shop.subaccount.io/subaccount"

// SubAccountReconciler keeps a staff login on the platform in line with its
// SubAccount: credentials Secret, account, roles and permissions, password.
type SubAccountReconciler struct {
	client.Client
	Connector *Connector
	Recorder  events.EventRecorder
	Drift     *DriftTracker
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxConcurrentReconciles is how many SubAccounts are reconciled at
	// once (1 when zero).
	MaxConcurrentReconciles int

	skeleton skeleton[*shopv1alpha1.SubAccount]
	// publishing notes the credentials Secrets publishLogin is marking
	// live (ownedSecretChanged).
	publishing inFlight
}

// +kubebuilder:rbac:groups=shop.subaccount.io,resources=subaccounts,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=subaccounts/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=subaccounts/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=delete

// subAccountKind describes SubAccounts to the reconcile skeleton.
var subAccountKind = kindInfo[*shopv1alpha1.SubAccount]{
	name:               "SubAccount",
	finalizer:          subAccountFinalizer,
	newObject:          func() *shopv1alpha1.SubAccount { return &shopv1alpha1.SubAccount{} },
	observedGeneration: func(sa *shopv1alpha1.SubAccount) *int64 { return &sa.Status.ObservedGeneration },
	urgency:            subAccountUrgency,
}

// Reconcile brings one SubAccount to its desired state.
func (r *SubAccountReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.skeleton.run(ctx, req, subAccountKind, r)
}

func (r *SubAccountReconciler) readyMessage(sa *shopv1alpha1.SubAccount) string {
	return fmt.Sprintf("account %s (ID %s) is in sync", sa.Status.LoginName, sa.Status.AccountID)
}

func (*SubAccountReconciler) forget(client.ObjectKey) {}

func (r *SubAccountReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// subAccountScope is what one SubAccount reconcile knows; its steps fill it
// in, in order.
type subAccountScope struct {
	sa   *shopv1alpha1.SubAccount
	shop *shopv1alpha1.Shop
	cat  *catalog.Catalog
	// roles are the Roles the SubAccount uses, with their platform IDs.
	roles []resolvedRole
	// desired is the account state the spec asks for; effective, its
	// permissions.
	desired   platform.AccountState
	effective []string
	// scheduled is the presence the seat's schedule sets now (the spec's
	// outside every window); boundary the schedule's last boundary.
	scheduled platform.Presence
	boundary  time.Time
	// pc is the shop's platform client, connErr why there is none; caps
	// is what the platform's API can do (everything without a client).
	pc      platform.Client
	connErr error
	caps    platform.Capabilities
	// creds is what the credentials Secret holds.
	creds credentials
	// drift is what the shop's last drift check found; drifted, whether
	// it is to be corrected (driftPolicy).
	drift   driftFinding
	drifted bool
}

func (s *subAccountScope) object() conditioned { return s.sa }

// mainAccount is the desired state as the main account applies it.
func (s *subAccountScope) mainAccount() platform.AccountState {
	return mainAccountState(s.desired, s.cat)
}

// stateDrifted says the account's state drifted and is to be put back.
func (s *subAccountScope) stateDrifted() bool { return s.drifted && s.drift.state }

// syncedMessage is the Synced condition's message.
var syncedMessage = fixed[*subAccountScope]("the platform account matches the spec")

// reconcile runs the SubAccount's steps in order. The account, its phone
// verification, its password and its chat seat's capacity make up the
// Synced condition. It returns when the password is next due for
// rotation or the schedule next changes the presence, if ever.
func (r *SubAccountReconciler) reconcile(ctx context.Context, sa *shopv1alpha1.SubAccount) (time.Duration, error) {
	s := &subAccountScope{sa: sa}
	next, failed, err := runSteps(ctx, s, []step[*subAccountScope]{
		{name: "shop", run: plain(r.loadShop)},
		{name: "activity", run: r.takeActivity},
		{name: "roles", run: plain(r.resolveRoles), condition: shopv1alpha1.ConditionRolesResolved, ok: rolesMessage},
		{name: "permissions", run: plain(desirePermissions), condition: shopv1alpha1.ConditionPermissionsValid,
			ok: fixed[*subAccountScope]("all permissions are known and allowed")},
		{name: "schedule", run: r.schedule},
		{name: "department", run: plain(department)},
		{name: "connect", run: plain(r.connect)},
		{name: "credentials", run: plain(r.writeCredentials), condition: shopv1alpha1.ConditionCredentialsReady, ok: credentialsMessage},
		{name: "platformReady", run: plain(platformReady)},
		{name: "drift", run: plain(r.takeDrift)},
		{name: "account", run: plain(r.ensureAccount), condition: shopv1alpha1.ConditionSynced, ok: syncedMessage},
		{name: "verification", run: plain(r.ensureVerified), condition: shopv1alpha1.ConditionSynced, ok: syncedMessage},
		{name: "password", run: plain(r.applyPassword), condition: shopv1alpha1.ConditionSynced, ok: syncedMessage},
		{name: "publishLogin", run: plain(r.publishLogin)},
		{name: "chatSeatCapacity", run: plain(r.ensureChatSeatCapacity), condition: shopv1alpha1.ConditionSynced, ok: syncedMessage},
		{name: "applied", run: r.recordApplied},
	})
	if v := sa.Status.Verification; v != nil && !v.Verified && slices.Contains([]string{"account", "verification", "password"}, failed) {
		// Say that the capacity waits for the verification: no call.
		chatSeatCapacitySettled(s)
	}
	return next, err
}

// loadShop reads the SubAccount's Shop and its platform's catalog.
func (r *SubAccountReconciler) loadShop(ctx context.Context, s *subAccountScope) error {
	shop, err := r.Connector.shopOf(ctx, s.sa.Namespace, s.sa.Spec.ShopRef.Name)
	if err != nil {
		return err
	}
	s.shop = shop
	s.sa.Status.LoginName = shop.Spec.MainAccount + ":" + s.sa.Spec.AccountName
	s.cat, err = catalogFor(shop)
	return err
}

// resolveRoles finds the Roles the SubAccount uses and their platform IDs.
func (r *SubAccountReconciler) resolveRoles(ctx context.Context, s *subAccountScope) error {
	sa := s.sa
	var (
		resolved          []resolvedRole
		missing, notReady []string
		otherShop         []string
	)
	for _, ref := range sa.Spec.Roles {
		// Read-only, without a deep copy (every SubAccount reconcile reads
		// its Roles): only strings are read, and the permissions slice
		// shared with the cache is copied before anything sorts or
		// extends it (desiredAccount, permissionSources).
		role := &shopv1alpha1.Role{}
		err := r.Get(ctx, client.ObjectKey{Namespace: sa.Namespace, Name: ref.Name}, role, client.UnsafeDisableDeepCopy)
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, ref.Name)
			continue
		case err != nil:
			return fmt.Errorf("reading Role %q: %w", ref.Name, err)
		case role.Spec.ShopRef.Name != sa.Spec.ShopRef.Name:
			otherShop = append(otherShop, fmt.Sprintf("%s (shop %s)", ref.Name, role.Spec.ShopRef.Name))
			continue
		case role.Status.RoleID == "" || len(role.Status.EffectivePermissions) == 0:
			notReady = append(notReady, ref.Name)
			continue
		}
		resolved = append(resolved, resolvedRole{name: role.Name, id: role.Status.RoleID, permissions: role.Status.EffectivePermissions})
	}
	switch {
	case len(otherShop) > 0:
		return stalled(shopv1alpha1.ReasonRoleShopMismatch,
			"Roles %s belong to another Shop; a SubAccount of Shop %q can use only that Shop's Roles",
			strings.Join(otherShop, ", "), sa.Spec.ShopRef.Name)
	case len(missing) > 0:
		return waiting(shopv1alpha1.ReasonRoleNotFound, "Roles %s not found in namespace %q",
			strings.Join(missing, ", "), sa.Namespace)
	case len(notReady) > 0:
		return waiting(shopv1alpha1.ReasonRoleNotReady, "Roles %s are not on the platform yet",
			strings.Join(notReady, ", "))
	}
	s.roles = resolved
	return nil
}

func rolesMessage(s *subAccountScope) string { return fmt.Sprintf("%d roles resolved", len(s.roles)) }

// desirePermissions translates the spec and the roles into the desired
// account state and checks its permissions against the catalog.
func desirePermissions(_ context.Context, s *subAccountScope) error {
	state, effective, err := desiredAccount(s.sa, s.roles, s.cat)
	if err != nil {
		return err
	}
	s.desired, s.effective = state, effective
	s.sa.Status.EffectivePermissions = effective
	s.sa.Status.PermissionSources = permissionSources(s.roles, state.ExtraPermissions)
	return nil
}

// department resolves the department the account joins.
func department(_ context.Context, s *subAccountScope) error {
	return resolveDepartment(s.shop, s.sa, &s.desired.Profile)
}

// connect builds the platform client. That makes no platform call; it
// tells what the platform's API can do before anything is written. A
// failure is reported by platformReady, after the credentials Secret is
// written.
func (r *SubAccountReconciler) connect(ctx context.Context, s *subAccountScope) error {
	s.pc, s.connErr = r.Connector.Connect(ctx, s.shop)
	s.caps = platform.FullCapabilities()
	if s.connErr == nil {
		s.caps = platform.CapabilitiesOf(s.pc)
	}
	return nil
}

// platformReady stops before the platform while the Shop is suspended or
// not Ready, or its client could not be built.
func platformReady(_ context.Context, s *subAccountScope) error {
	switch {
	case s.shop.Spec.Suspend:
		return waiting(shopv1alpha1.ReasonSuspended, "Shop %q is suspended; nothing is written to the platform", s.shop.Name)
	case !apimeta.IsStatusConditionTrue(s.shop.Status.Conditions, shopv1alpha1.ConditionReady):
		return waiting(shopv1alpha1.ReasonShopNotReady, "Shop %q is not Ready", s.shop.Name)
	}
	return s.connErr
}

// takeDrift takes what the shop's last drift check found about the
// SubAccount and settles it under the drift policy (drift.go).
func (r *SubAccountReconciler) takeDrift(_ context.Context, s *subAccountScope) error {
	finding, found := r.Drift.takeFinding(s.sa)
	if !found {
		return nil
	}
	s.drift = finding
	unsettable := ""
	if finding.observed != nil {
		// The agent's presence and capacity as listed: shown, never drift;
		// so is the account's standing (PlatformFrozen, SeatFeeOwed).
		observeSeat(s.sa, finding.observed.Seat)
		showStanding(s.sa, *finding.observed)
		// Roles and direct permissions the API reads but cannot set:
		// shown, and a difference from the spec reported, never written.
		unsettable = s.observeAccess(*finding.observed)
	}
	s.drifted = finding.settle(s.sa, driftPolicy(s.sa.Spec.DriftPolicy, s.shop), r.Recorder, "sub-account "+s.sa.Status.LoginName,
		func() string { return accountDriftChanges(finding, s.sa, s.mainAccount(), s.caps) }, unsettable)
	return nil
}

// observeAccess shows an account's roles and direct permissions as read,
// where the platform's API reads but cannot set them, and says how they
// differ from the spec ("" when they match, or where the API sets them).
func (s *subAccountScope) observeAccess(acct platform.Account) string {
	if !observesAccess(s.caps) {
		return ""
	}
	s.sa.Status.ObservedAccess = observedAccessOf(acct)
	changes := accessChanges(acct.AccountState, s.desired.RoleIDs, s.desired.ExtraPermissions, s.caps.ObservedOnly(), s.cat,
		roleNamer(s.roles, acct.Roles))
	return strings.Join(changes, "; ")
}

// recordApplied records in status what the platform now has, and looks
// again when the password is due for rotation.
func (r *SubAccountReconciler) recordApplied(_ context.Context, s *subAccountScope) (stepResult, error) {
	sa, state := s.sa, s.desired
	sa.Status.AppliedPermissions = s.effective
	v := sa.Status.Verification
	sa.Status.Chat = state.Seat != nil && state.Seat.Chat && (v == nil || v.Verified)
	if !observesAccess(s.caps) {
		sa.Status.ObservedAccess = nil // the platform's API sets them: appliedPermissions
	}
	sa.Status.Security = nil
	if s.caps.AccountSecurity {
		sa.Status.Security = &shopv1alpha1.SecuritySpec{PhoneProtection: state.Security.PhoneProtection,
			DigitalCertificate: state.Security.DigitalCertificate}
	}
	return stepResult{requeueAfter: r.nextRotation(sa, s.creds)}, nil
}
