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
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/metrics"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// listPageSize is the page size of the bulk listing a drift check makes:
// the most every platform accepts (Taobao's subusers.page takes 2-199).
const listPageSize = 199

// DriftTracker carries what a Shop's drift check found to the Role and
// SubAccount controllers: it remembers which objects drifted and re-queues
// them through channel sources, so one bulk listing per shop replaces a
// platform call per account.
type DriftTracker struct {
	mu      sync.Mutex
	drifted map[driftKey]driftFinding
	// activity is what the Shop's activity check read for each SubAccount
	// (activity.go), until it takes it.
	activity map[client.ObjectKey]activityFinding
	// created carries the other way, from the SubAccount controller to
	// the Shop's seat count, the accounts just created whose
	// status.accountID the cache may not show yet (quota_queue.go).
	created     map[client.ObjectKey]map[types.UID]creation
	subAccounts chan event.GenericEvent
	roles       chan event.GenericEvent
}

type driftKey struct {
	kind string
	key  client.ObjectKey
}

// driftFinding is what a drift check found about one SubAccount or Role.
type driftFinding struct {
	// state: the account or role differs from what was applied, or is gone.
	state bool
	// observed is the account as listed; nil when it is gone.
	observed *platform.Account
	// observedRole is the role as listed; nil when it is gone.
	observedRole *platform.Role
	// password: the password was set on the platform after the operator
	// last set it.
	password bool
	// clean: in sync again, so a reported drift is over.
	clean bool
	// reportOnly: the role's platform API cannot update it
	// (Capabilities.UpdateRole false) but reports it: observedRole is
	// compared with the spec and a difference reported, never written.
	// rolePermissions says whether observedRole's permissions were read
	// (on Taobao only with an account that holds the role); if not, they
	// are not compared.
	reportOnly      bool
	rolePermissions bool
	// With none of state, password and clean, the finding only carries
	// observed: the agent's presence or capacity, the account's standing
	// (PlatformFrozen, SeatFeeOwed), or its roles and direct permissions
	// where they can be read but not set, changed or differ from the spec.
	// A SubAccount finding always comes from a whole check of the account,
	// so it settles the Drifted condition whatever it carries.
}

// passwordDriftSlack absorbs the difference between the operator's and the
// platform's clocks (and status times' whole seconds) when comparing the
// platform's passwordChangedAt with status.passwordSetTime.
const passwordDriftSlack = 5 * time.Second

// NewDriftTracker returns an empty tracker.
func NewDriftTracker() *DriftTracker {
	return &DriftTracker{
		drifted:     map[driftKey]driftFinding{},
		subAccounts: make(chan event.GenericEvent, 1024),
		roles:       make(chan event.GenericEvent, 1024),
	}
}

// mark records obj as drifted and re-queues it.
func (d *DriftTracker) mark(ctx context.Context, obj client.Object) {
	d.markWith(ctx, obj, driftFinding{state: true})
}

// markWith records what was found about obj and re-queues it.
func (d *DriftTracker) markWith(ctx context.Context, obj client.Object, f driftFinding) {
	ch, kind := d.roles, "Role"
	if _, ok := obj.(*shopv1alpha1.SubAccount); ok {
		ch, kind = d.subAccounts, "SubAccount"
	}
	d.mu.Lock()
	d.drifted[driftKey{kind, client.ObjectKeyFromObject(obj)}] = f
	d.mu.Unlock()
	select {
	case ch <- event.GenericEvent{Object: obj}:
	case <-ctx.Done():
	}
}

// takeFinding returns what was found about obj, if anything, and forgets
// it.
func (d *DriftTracker) takeFinding(obj client.Object) (driftFinding, bool) {
	if d == nil {
		return driftFinding{}, false
	}
	kind := "Role"
	if _, ok := obj.(*shopv1alpha1.SubAccount); ok {
		kind = "SubAccount"
	}
	k := driftKey{kind, client.ObjectKeyFromObject(obj)}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.drifted[k]
	delete(d.drifted, k)
	return f, ok
}

// driftPolicy is the policy in force: the object's own (a SubAccount's;
// empty for a Role), else the Shop's, else Correct.
func driftPolicy(own shopv1alpha1.DriftPolicy, shop *shopv1alpha1.Shop) shopv1alpha1.DriftPolicy {
	switch {
	case own != "":
		return own
	case shop.Spec.DriftPolicy != "":
		return shop.Spec.DriftPolicy
	}
	return shopv1alpha1.DriftPolicyCorrect
}

// settle takes what a drift check found about obj, the one way every kind
// reports drift. A drift of what the operator can set (state, password)
// is corrected under driftPolicy Correct; under Report it is described in
// the Drifted condition and a DriftDetected Event, and nothing is changed.
// unsettable says how obj differs from its spec in what the platform
// reports but its API cannot set (Capabilities.ObservedOnly): that is
// reported whatever the policy, and never corrected. With neither, the
// Drifted condition goes. subject names the platform object ("sub-account
// main:xiaohong"); describe says what a settable drift changed. It returns
// whether the drift is to be corrected.
func (f driftFinding) settle(obj conditioned, policy shopv1alpha1.DriftPolicy, rec events.EventRecorder,
	subject string, describe func() string, unsettable string) bool {
	settable := !f.clean && (f.state || f.password)
	report := settable && policy == shopv1alpha1.DriftPolicyReport
	var parts []string
	if report {
		parts = append(parts, fmt.Sprintf("%s was changed outside the operator: %s; nothing was corrected (driftPolicy Report)", subject, describe()))
	}
	if unsettable != "" {
		parts = append(parts, fmt.Sprintf("%s differs from the spec in what the platform's API reports but cannot set: %s; "+
			"change it in the platform's back office (the operator never writes it, whatever the driftPolicy)", subject, unsettable))
	}
	if len(parts) == 0 {
		removeCondition(obj, shopv1alpha1.ConditionDrifted)
		return settable
	}
	msg := strings.Join(parts, ". ")
	setCondition(obj, shopv1alpha1.ConditionDrifted, metav1.ConditionTrue, shopv1alpha1.ReasonDriftDetected, msg)
	rec.Eventf(obj, nil, corev1.EventTypeWarning, "DriftDetected", "DriftCheck", "%s", msg)
	return settable && !report
}

// accountDriftChanges says how a sub-account differs from desired in what
// the platform's API can set (caps).
func accountDriftChanges(f driftFinding, sa *shopv1alpha1.SubAccount, desired platform.AccountState, caps platform.Capabilities) string {
	var parts []string
	switch {
	case f.observed == nil:
		parts = append(parts, fmt.Sprintf("account %s (ID %s) is gone from the platform", sa.Status.LoginName, sa.Status.AccountID))
	case f.state:
		if caps != platform.FullCapabilities() {
			desired, _ = limitToCapabilities(desired, f.observed.AccountState, caps)
		}
		changes := accountDiff(f.observed.AccountState, desired)
		if len(changes) == 0 {
			changes = []string{"its state differs from what was applied"}
		}
		parts = append(parts, "correcting would change: "+strings.Join(changes, "; "))
	}
	if f.password {
		parts = append(parts, fmt.Sprintf("the password was changed on the platform at %s, after the operator set it",
			f.observed.PasswordChangedAt.UTC().Format(time.RFC3339)))
	}
	return strings.Join(parts, "; ")
}

// roleDriftChanges says how a platform role differs from desired.
func roleDriftChanges(f driftFinding, desired platform.RoleSpec) string {
	if f.observedRole == nil {
		return "it is gone from the platform"
	}
	changes := roleDiff(f.observedRole.RoleSpec, desired)
	if len(changes) == 0 {
		changes = []string{"it differs from what was applied"}
	}
	return "correcting would change: " + strings.Join(changes, "; ")
}

// driftCorrected counts a drift put right in the drift metric and
// announces it in a DriftCorrected Event (action: the platform call).
func driftCorrected(rec events.EventRecorder, obj client.Object, action, msg string) {
	kind, shop := "SubAccount", ""
	switch o := obj.(type) {
	case *shopv1alpha1.SubAccount:
		shop = o.Spec.ShopRef.Name
	case *shopv1alpha1.Role:
		kind, shop = "Role", o.Spec.ShopRef.Name
	}
	metrics.DriftCorrected(obj.GetNamespace(), shop, kind)
	rec.Eventf(obj, nil, corev1.EventTypeWarning, "DriftCorrected", action, "%s", msg)
}

// checkDrift lists the shop's accounts and roles once and marks every
// managed object whose platform state differs from what was applied, or
// that is gone. Accounts and roles the operator does not manage are only
// read, never touched. On a platform that reports what its API cannot set
// (Capabilities.ObservedOnly: TOP's roles and direct permissions, read
// with each account), a difference from the spec is marked too, to be
// reported only. It is the Shop's drift step's check.
func (r *ShopReconciler) checkDrift(ctx context.Context, s *shopScope) error {
	pc, err := s.client(ctx)
	if err != nil {
		return err
	}
	shop, caps, cat := s.shop, s.caps, s.catalog
	only := caps.ObservedOnly()
	// On a platform whose API can change only part of an account (Taobao's
	// open API), the rest always differs from the spec; compare only what
	// can be applied, or every check would flag every account.
	full := caps == platform.FullCapabilities()
	remote := map[string]platform.Account{}
	for page := 1; ; page++ {
		res, err := pc.ListAccounts(ctx, platform.ListOptions{Page: page, PageSize: listPageSize})
		if err != nil {
			return platformOutcome("listing the shop's accounts", err)
		}
		for _, a := range res.Accounts {
			remote[a.ID] = a
		}
		if len(res.Accounts) < listPageSize || len(remote) >= res.Total {
			break
		}
	}
	managed := &shopv1alpha1.RoleList{}
	if err := r.List(ctx, managed, client.InNamespace(shop.Namespace), client.MatchingFields{indexRoleShop: shop.Name}); err != nil {
		return fmt.Errorf("listing Roles of the shop: %w", err)
	}
	roleIDs := map[string]string{}
	for i := range managed.Items {
		roleIDs[managed.Items[i].Name] = managed.Items[i].Status.RoleID
	}
	// A role's permissions as the accounts read report them, where the
	// platform reports them only that way.
	rolePermissions := map[string][]string{}
	subs := &shopv1alpha1.SubAccountList{}
	if err := r.List(ctx, subs, client.InNamespace(shop.Namespace), client.MatchingFields{indexSubAccountShop: shop.Name}); err != nil {
		return fmt.Errorf("listing SubAccounts of the shop: %w", err)
	}
	shop.Status.UnmanagedAccounts = unmanagedAccounts(shop.Spec.MainAccount, remote, subs.Items)
	for i := range subs.Items {
		sa := &subs.Items[i]
		if sa.Status.AccountID == "" || sa.Status.AppliedHash == "" || !sa.DeletionTimestamp.IsZero() {
			continue
		}
		acct, ok := remote[sa.Status.AccountID]
		if ok && !full {
			// A platform that cannot apply everything (TOP) lists less
			// than it can tell about one account (its standing, roles
			// and direct permissions): read it.
			if acct, err = pc.GetAccount(ctx, acct.ID); err != nil && !errors.Is(err, platform.ErrNotFound) {
				return platformOutcome("reading a managed account", err)
			}
			ok = err == nil
		}
		f := driftFinding{}
		switch {
		case !ok,
			// The agent's presence and capacity are left out: they are
			// the agent's to change, not drift (mainAccountState).
			full && accountHash(mainAccountState(acct.AccountState, cat)) != sa.Status.AppliedHash,
			!full && caps.AccountDisabled && acct.Disabled != sa.Spec.Disabled:
			f.state = true
		}
		// The agent changed their presence or capacity: shown in status.
		seen := ok && acct.Seat != nil && (acct.Seat.Capacity != sa.Status.ChatSeatCapacity ||
			sa.Status.Presence == nil || string(acct.Seat.Presence) != string(sa.Status.Presence.Current))
		// Roles and direct permissions the API reads but cannot set: shown
		// in status when they change, reported while they differ from the
		// spec.
		access := ok && observesAccess(caps) && accessDiffers(sa, acct, roleIDs, only, cat)
		// A password set on the platform after the operator set its own.
		if ok && caps.SetPassword && sa.Status.PasswordSetTime != nil &&
			acct.PasswordChangedAt.After(sa.Status.PasswordSetTime.Add(passwordDriftSlack)) {
			f.password = true
		}
		if ok {
			f.observed = &acct
			if only.RolePermissionsByAccount {
				for _, role := range acct.Roles {
					rolePermissions[role.ID] = role.Permissions
				}
			}
		}
		switch {
		case f.state || f.password || seen || access:
			r.Drift.markWith(ctx, sa, f)
		case apimeta.IsStatusConditionTrue(sa.Status.Conditions, shopv1alpha1.ConditionDrifted):
			r.Drift.markWith(ctx, sa, driftFinding{clean: true, observed: f.observed})
		case ok && standingChanged(sa, acct):
			r.Drift.markWith(ctx, sa, f)
		}
	}

	if !caps.UpdateRole && !only.RolePermissions {
		return nil // a changed role could neither be put back nor read
	}
	roles, err := pc.ListRoles(ctx)
	if err != nil {
		return platformOutcome("listing the shop's roles", err)
	}
	remoteRoles := map[string]platform.Role{}
	for _, role := range roles {
		remoteRoles[role.ID] = role
	}
	for i := range managed.Items {
		role := &managed.Items[i]
		if role.Status.RoleID == "" || role.Status.AppliedHash == "" || !role.DeletionTimestamp.IsZero() {
			continue
		}
		got, ok := remoteRoles[role.Status.RoleID]
		drifted := apimeta.IsStatusConditionTrue(role.Status.Conditions, shopv1alpha1.ConditionDrifted)
		switch {
		case !ok:
			r.Drift.mark(ctx, role)
		case !caps.UpdateRole:
			// Read, not settable: compared with the spec, reported only.
			f := driftFinding{reportOnly: true, observedRole: &got, rolePermissions: !only.RolePermissionsByAccount}
			if only.RolePermissionsByAccount {
				got.Permissions, f.rolePermissions = rolePermissions[got.ID]
			}
			want := platform.RoleSpec{Name: role.Spec.DisplayName, Description: role.Spec.Description, Permissions: role.Status.EffectivePermissions}
			switch {
			case len(roleChanges(got.RoleSpec, want, f.rolePermissions, cat)) > 0:
				r.Drift.markWith(ctx, role, f)
			case drifted:
				f.clean = true
				r.Drift.markWith(ctx, role, f)
			}
		case roleHash(got.RoleSpec) != role.Status.AppliedHash:
			r.Drift.markWith(ctx, role, driftFinding{state: true, observedRole: &got})
		case drifted:
			r.Drift.markWith(ctx, role, driftFinding{clean: true})
		}
	}
	return nil
}

// accessDiffers says whether an account's roles and direct permissions as
// read (acct), where the platform reads but cannot set them, changed from
// what the SubAccount's status shows or differ from its spec (its Roles'
// platform IDs, roleIDs by name, and its expanded extra permissions).
func accessDiffers(sa *shopv1alpha1.SubAccount, acct platform.Account, roleIDs map[string]string,
	only platform.Observation, cat *catalog.Catalog) bool {
	if !equality.Semantic.DeepEqual(observedAccessOf(acct), sa.Status.ObservedAccess) {
		return true
	}
	var wantRoles, wantExtra []string
	for _, ref := range sa.Spec.Roles {
		if id := roleIDs[ref.Name]; id != "" {
			wantRoles = append(wantRoles, id)
		}
	}
	if src := sa.Status.PermissionSources; src != nil {
		wantExtra = src.Supplementary
	}
	return len(accessChanges(acct.AccountState, wantRoles, wantExtra, only, cat, nil)) > 0
}

// unmanagedAccounts are the listed accounts no SubAccount holds, by
// login, sorted, at most MaxUnmanagedLogins of them named (the access
// review reads them from the Shop's status; nil when there are none).
func unmanagedAccounts(mainAccount string, remote map[string]platform.Account, subs []shopv1alpha1.SubAccount) *shopv1alpha1.UnmanagedAccountsStatus {
	held := make(map[string]bool, len(subs))
	for i := range subs {
		if id := subs[i].Status.AccountID; id != "" {
			held[id] = true
		}
	}
	var logins []string
	for id, a := range remote {
		if !held[id] {
			logins = append(logins, cmp.Or(a.Login, mainAccount+":"+a.Name))
		}
	}
	if len(logins) == 0 {
		return nil
	}
	slices.Sort(logins)
	return &shopv1alpha1.UnmanagedAccountsStatus{Count: int32(len(logins)),
		Logins: slices.Clip(logins[:min(len(logins), shopv1alpha1.MaxUnmanagedLogins)])}
}
