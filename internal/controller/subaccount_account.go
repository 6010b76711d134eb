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

// A SubAccount's platform account: created, adopted, updated, created
// again when it is gone.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// ensureAccount creates (or adopts) the platform account, or brings it in
// line with the desired state. Creation is keyed by the SubAccount's UID, so
// a retry after a crash finds the first account instead of making a second.
func (r *SubAccountReconciler) ensureAccount(ctx context.Context, s *subAccountScope) error {
	sa, pc, caps, state := s.sa, s.pc, s.caps, s.mainAccount()
	hash := accountHash(state)
	if sa.Status.AccountID == "" {
		if err := r.createOrAdopt(ctx, s); err != nil {
			return err
		}
		if sa.Status.AppliedHash == hash {
			return nil // created as desired
		}
	} else if sa.Status.AppliedHash == hash && !s.stateDrifted() {
		return nil
	}

	send := state
	if caps != platform.FullCapabilities() {
		current, err := pc.GetAccount(ctx, sa.Status.AccountID)
		if errors.Is(err, platform.ErrNotFound) {
			return r.recreate(ctx, s)
		}
		if err != nil {
			return platformOutcome("reading the platform account", err)
		}
		var unsupported []string
		send, unsupported = limitToCapabilities(state, current.AccountState, caps)
		markLimits(sa, s.shop, unsupported)
	}
	_, err := pc.UpdateAccount(ctx, sa.Status.AccountID, send)
	if errors.Is(err, platform.ErrNotFound) {
		return r.recreate(ctx, s)
	}
	if err != nil {
		return platformOutcome("updating the platform account", err)
	}
	switch {
	case s.stateDrifted():
		driftCorrected(r.Recorder, sa, "UpdateAccount",
			fmt.Sprintf("sub-account %s was changed outside the operator; restored the declared state", sa.Status.LoginName))
	default:
		r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Updated", "UpdateAccount",
			"updated sub-account %s: %s", sa.Status.LoginName, describeChange(sa, send))
	}
	// The hash of the desired state, even where the platform could apply only
	// part of it: a field it cannot change is reported, not retried.
	sa.Status.AppliedHash = hash
	return nil
}

// recreate creates again an account that is gone from the platform.
func (r *SubAccountReconciler) recreate(ctx context.Context, s *subAccountScope) error {
	sa := s.sa
	r.Recorder.Eventf(sa, nil, corev1.EventTypeWarning, "Recreating", "CreateAccount",
		"sub-account %s (ID %s) is gone from the platform; creating it again", sa.Status.LoginName, sa.Status.AccountID)
	sa.Status.AccountID, sa.Status.AppliedHash, sa.Status.PasswordRevision = "", "", 0
	sa.Status.Verification = nil
	return r.createOrAdopt(ctx, s)
}

// markLimits sets or clears the PlatformLimits condition.
func markLimits(sa *shopv1alpha1.SubAccount, shop *shopv1alpha1.Shop, unsupported []string) {
	if len(unsupported) == 0 {
		removeCondition(sa, shopv1alpha1.ConditionPlatformLimits)
		return
	}
	setCondition(sa, shopv1alpha1.ConditionPlatformLimits, metav1.ConditionTrue, shopv1alpha1.ReasonNotSupported,
		fmt.Sprintf("%s's API cannot apply %s; change them in the platform's back office", shop.Spec.Platform, strings.Join(unsupported, ", ")))
}

// createOrAdopt gives the SubAccount its platform account: an existing one
// of the same name when spec.adoption allows it (or must, on a platform
// that cannot create accounts), otherwise a new one.
func (r *SubAccountReconciler) createOrAdopt(ctx context.Context, s *subAccountScope) error {
	sa, shop, pc, caps, state := s.sa, s.shop, s.pc, s.caps, s.mainAccount()
	adoption := sa.Spec.Adoption
	if adoption == "" {
		adoption = shopv1alpha1.AdoptionNever
	}
	// Only look before creating when something may be adopted: a plain
	// create costs one platform call, and its idempotency key already makes
	// a retry safe.
	if adoption != shopv1alpha1.AdoptionNever || !caps.CreateAccount {
		existing, err := pc.FindAccount(ctx, sa.Spec.AccountName)
		switch {
		case err == nil:
			return r.adopt(s, adoption, existing)
		case !errors.Is(err, platform.ErrNotFound):
			return platformOutcome("looking the account up by name", err)
		case !caps.CreateAccount:
			return stalled(shopv1alpha1.ReasonNotSupported,
				"%s's API cannot create sub-accounts: create %s in the platform's back office, then set adoption: Adopt",
				shop.Spec.Platform, sa.Status.LoginName)
		}
	}
	if err := r.checkAccountQuota(ctx, sa, shop); err != nil {
		return err
	}
	acct, err := pc.CreateAccount(ctx, platform.CreateAccount{Name: sa.Spec.AccountName, Password: s.creds.password, AccountState: state}, string(sa.UID))
	if err != nil {
		if errors.Is(err, platform.ErrNameTaken) {
			return stalled(shopv1alpha1.ReasonNameTaken,
				"account name %q is already used in shop %q by an account this SubAccount did not create; choose another accountName, or set adoption: Preview to see what adopting it would change",
				sa.Spec.AccountName, shop.Name)
		}
		return platformOutcome("creating the platform account", err)
	}
	now := metav1.NewTime(r.now())
	sa.Status.AccountID = acct.ID
	sa.Status.Verification = verificationStatus(acct.Verification)
	sa.Status.ChatSeatCapacity = chatSeatCapacity(acct.Seat)
	sa.Status.AppliedHash = accountHash(state)
	sa.Status.PasswordRevision = s.creds.revision
	sa.Status.PasswordSetTime = &now
	r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Created", "CreateAccount",
		"created sub-account %s (ID %s) with %d roles and %d permissions",
		sa.Status.LoginName, acct.ID, len(state.RoleIDs), len(sa.Status.EffectivePermissions))
	return nil
}

// adopt takes over an existing account, or with Preview only shows what
// that would change. Never is refused as a taken name.
func (r *SubAccountReconciler) adopt(s *subAccountScope, adoption shopv1alpha1.AdoptionPolicy, existing platform.Account) error {
	sa, shop, caps, state := s.sa, s.shop, s.caps, s.mainAccount()
	send, unsupported := limitToCapabilities(state, existing.AccountState, caps)
	changes := accountDiff(existing.AccountState, send)
	summary := "nothing"
	if len(changes) > 0 {
		summary = strings.Join(changes, "; ")
	}
	if caps.SetPassword {
		summary += "; the password is replaced by the one in Secret " + sa.Status.SecretName
	}
	if len(unsupported) > 0 {
		summary += fmt.Sprintf("; %s's API cannot apply %s", shop.Spec.Platform, strings.Join(unsupported, ", "))
	}
	switch adoption {
	case shopv1alpha1.AdoptionPreview:
		msg := fmt.Sprintf("account %s (ID %s) exists; adopting it would change: %s. Set adoption: Adopt to go ahead",
			sa.Status.LoginName, existing.ID, summary)
		setCondition(sa, shopv1alpha1.ConditionAdopted, metav1.ConditionFalse, shopv1alpha1.ReasonAdoptionPreview, msg)
		return stalled(shopv1alpha1.ReasonAdoptionPreview, "%s", msg)
	case shopv1alpha1.AdoptionAdopt:
		sa.Status.AccountID = existing.ID
		sa.Status.Verification = verificationStatus(existing.Verification)
		sa.Status.ChatSeatCapacity = chatSeatCapacity(existing.Seat)
		sa.Status.AppliedHash = "" // apply the spec next
		setCondition(sa, shopv1alpha1.ConditionAdopted, metav1.ConditionTrue, shopv1alpha1.ReasonAdopted,
			fmt.Sprintf("adopted existing account %s (ID %s)", sa.Status.LoginName, existing.ID))
		r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Adopted", "AdoptAccount",
			"adopted existing sub-account %s (ID %s); applying: %s", sa.Status.LoginName, existing.ID, summary)
		return nil
	}
	return stalled(shopv1alpha1.ReasonNameTaken,
		"account %s exists on the platform and this SubAccount did not create it; set adoption: Preview to see what adopting it would change",
		sa.Status.LoginName)
}

// describeChange says in a few words what an update changes, for Events.
func describeChange(sa *shopv1alpha1.SubAccount, state platform.AccountState) string {
	var parts []string
	granted, revoked := diffSets(sa.Status.AppliedPermissions, sa.Status.EffectivePermissions)
	if len(granted) > 0 {
		parts = append(parts, "granted "+strings.Join(granted, ", "))
	}
	if len(revoked) > 0 {
		parts = append(parts, "revoked "+strings.Join(revoked, ", "))
	}
	if state.Disabled {
		parts = append(parts, "login disabled")
	} else {
		parts = append(parts, "login enabled")
	}
	return strings.Join(parts, "; ")
}

// diffSets returns what is in b but not a, and in a but not b.
func diffSets(a, b []string) (added, removed []string) {
	for _, x := range b {
		if !slices.Contains(a, x) {
			added = append(added, x)
		}
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}
