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
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
		if sa.Status.AppliedHash == hash && !s.seatWrites().any() {
			return nil // created as desired
		}
	} else if sa.Status.AppliedHash == hash && !s.stateDrifted() && !s.seatWrites().any() {
		phoneChangeDropped(sa, state.Profile.Phone)
		return nil
	}

	w := s.seatWrites()
	send := withSeatWrites(state, w)
	// What the account has now, to say what the update changes: the drift
	// check's listing when it found the drift, else one read. When that
	// listing did not have the account at all (on a platform that applies
	// everything), no read either: the update below finds it gone and
	// recreates it, so the drift check stays one listing per shop and no
	// call per account.
	var current platform.AccountState
	known := true
	switch {
	case s.stateDrifted() && s.drift.observed != nil:
		current = s.drift.observed.AccountState
	case s.stateDrifted() && caps == platform.FullCapabilities():
		known = false
	case state.Disabled && caps == platform.FullCapabilities() && sa.Status.AppliedHash == accountHash(enabledState(state)):
		// The disable is all that changed since the last state applied:
		// taking access away does not wait for a read that would only word
		// the Event. A disable is one call, not two, against the shop's
		// rate limit (an offboarding of many people disables many accounts
		// per shop at once).
		current = enabledState(send)
	default:
		acct, err := pc.GetAccount(ctx, sa.Status.AccountID)
		if errors.Is(err, platform.ErrNotFound) {
			return r.recreate(ctx, s)
		}
		if err != nil {
			return platformOutcome("reading the platform account", err)
		}
		current = acct.AccountState
		// Fresh: its roles and direct permissions, where they can be read
		// but not set (a difference is the drift check's to report).
		s.observeAccess(acct)
	}
	// A new phone on a platform that verifies phones first (Douyin) needs
	// the code texted to it: the rest is applied now, with the old phone,
	// which stays until the code is accepted (changePhoneWithCode).
	phoneChange := false
	if known {
		var err error
		if phoneChange, err = phoneChangeNeedsCode(s, current); err != nil {
			return err
		}
	}
	changed := hash
	if phoneChange {
		state.Profile.Phone, send.Profile.Phone = current.Profile.Phone, current.Profile.Phone
		hash = accountHash(state)
		if sa.Status.AppliedHash == hash && !s.stateDrifted() && !w.any() {
			return r.changePhoneWithCode(ctx, s, current.Profile.Phone, changed)
		}
	}
	if caps != platform.FullCapabilities() {
		var unsupported []string
		send, unsupported = limitToCapabilities(send, current, caps)
		markLimits(sa, s.shop, unsupported)
	}
	acct, err := pc.UpdateAccount(ctx, sa.Status.AccountID, send)
	if errors.Is(err, platform.ErrNotFound) {
		return r.recreate(ctx, s)
	}
	if err != nil {
		return platformOutcome("updating the platform account", err)
	}
	observeSeat(sa, acct.Seat)
	showStanding(sa, acct)
	changes := describeChange(sa, s.roles, current, send, s.seatWriteWords(w))
	s.recordSeatWrites(w)
	switch {
	case s.stateDrifted():
		driftCorrected(r.Recorder, sa, "UpdateAccount",
			fmt.Sprintf("sub-account %s was changed outside the operator; restored the declared state: %s", sa.Status.LoginName, changes))
	case w.boundary:
		r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "PresenceScheduled", "UpdateAccount",
			"updated sub-account %s: %s", sa.Status.LoginName, changes)
	default:
		r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Updated", "UpdateAccount",
			"updated sub-account %s: %s", sa.Status.LoginName, changes)
	}
	// The hash of the desired state, even where the platform could apply only
	// part of it: a field it cannot change is reported, not retried.
	sa.Status.AppliedHash = hash
	if phoneChange {
		return r.changePhoneWithCode(ctx, s, current.Profile.Phone, changed)
	}
	phoneChangeDropped(sa, state.Profile.Phone)
	return nil
}

// enabledState is s with its login enabled.
func enabledState(s platform.AccountState) platform.AccountState {
	s.Disabled = false
	return s
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
	claim := sa.Status.AdoptionClaim
	// A claim is only ever kept while adopting: whatever happens below
	// other than claiming (or adopting, which makes it the accountID)
	// lets it go.
	sa.Status.AdoptionClaim = ""
	// Only look before creating when something may be adopted: a plain
	// create costs one platform call, and its idempotency key already makes
	// a retry safe.
	if adoption != shopv1alpha1.AdoptionNever || !caps.CreateAccount {
		existing, err := pc.FindAccount(ctx, sa.Spec.AccountName)
		switch {
		case err == nil:
			if adoption != shopv1alpha1.AdoptionNever {
				if err := r.mayAdopt(ctx, s, existing); err != nil {
					return err
				}
			}
			if adoption == shopv1alpha1.AdoptionAdopt {
				if err := r.claim(ctx, s, claim, existing); err != nil {
					return err
				}
			}
			return r.adopt(s, adoption, existing)
		case !errors.Is(err, platform.ErrNotFound):
			return platformOutcome("looking the account up by name", err)
		case !caps.CreateAccount:
			return stalled(shopv1alpha1.ReasonNotSupported,
				"%s's API cannot create sub-accounts: create %s in the platform's back office, then set adoption: Adopt",
				shop.Spec.Platform, sa.Status.LoginName)
		}
	}
	if first, err := codeFirst(s); err != nil || first {
		if err != nil {
			return err
		}
		return r.createWithCode(ctx, s)
	}
	if err := r.checkAccountQuota(ctx, sa, shop); err != nil {
		return err
	}
	// The agent's settings start as the spec (and the schedule) say, where
	// the main account may set them.
	w := s.seatWrites()
	began := r.now()
	acct, err := pc.CreateAccount(ctx, platform.CreateAccount{Name: sa.Spec.AccountName, Password: s.creds.password,
		AccountState: withSeatWrites(state, w)}, string(sa.UID))
	if err != nil {
		if errors.Is(err, platform.ErrNameTaken) {
			return stalled(shopv1alpha1.ReasonNameTaken,
				"account name %q is already used in shop %q by an account this SubAccount did not create; choose another accountName, or set adoption: Preview to see what adopting it would change",
				sa.Spec.AccountName, shop.Name)
		}
		return platformOutcome("creating the platform account", err)
	}
	showStanding(sa, acct)
	r.recordCreated(sa, s, acct, state, w, began)
	return nil
}

// mayAdopt refuses to adopt (or preview) an account the Shop's
// spec.adoption does not allow, or one another SubAccount manages: without
// this, whoever may create a SubAccount could take over any staff login by
// its name and replace its password. Both are Stalled: a person must act.
func (r *SubAccountReconciler) mayAdopt(ctx context.Context, s *subAccountScope, existing platform.Account) error {
	sa, shop := s.sa, s.shop
	policy := shopv1alpha1.ShopAdoptionNever
	var allowed []string
	if shop.Spec.Adoption != nil && shop.Spec.Adoption.Policy != "" {
		policy, allowed = shop.Spec.Adoption.Policy, shop.Spec.Adoption.AccountNames
	}
	switch {
	case policy == shopv1alpha1.ShopAdoptionNever:
		return stalled(shopv1alpha1.ReasonAdoptionNotAllowed,
			"Shop %s does not allow adoption: to adopt account %s, set the Shop's spec.adoption.policy to AllowList (with %q in spec.adoption.accountNames) or Any",
			shop.Name, sa.Status.LoginName, sa.Spec.AccountName)
	case policy == shopv1alpha1.ShopAdoptionAllowList && !slices.Contains(allowed, sa.Spec.AccountName):
		return stalled(shopv1alpha1.ReasonAdoptionNotAllowed,
			"Shop %s allows adopting only the accounts in spec.adoption.accountNames, which does not list %q: add it there to adopt account %s",
			shop.Name, sa.Spec.AccountName, sa.Status.LoginName)
	}
	// Read from the API server (the CRD's selectable field), not from an
	// index of the cache: adoption is rare, and an index of every
	// SubAccount's account ID, in every namespace, held a set per account
	// (about 5 MB at 10,000 SubAccounts) for this one read.
	holder, err := r.accountHolder(ctx, s, existing.ID, fieldAccountID)
	if apierrors.IsForbidden(err) {
		// A manager that may not list SubAccounts cluster-wide: a preview
		// writes nothing, and Adopt's claim refuses with what to grant.
		return nil
	}
	if err != nil {
		return err
	}
	return managedElsewhere(sa, holder, existing)
}

// managedElsewhere refuses an account holder manages (nil: nobody).
func managedElsewhere(sa *shopv1alpha1.SubAccount, holder *shopv1alpha1.SubAccount, existing platform.Account) error {
	switch {
	case holder == nil:
		return nil
	case holder.Namespace == sa.Namespace:
		// The caller may read SubAccounts here anyway: naming the holder
		// tells them whom to ask.
		return stalled(shopv1alpha1.ReasonAccountManagedElsewhere,
			"account %s (ID %s) is managed by SubAccount %s/%s and cannot be adopted; choose another accountName",
			sa.Status.LoginName, existing.ID, holder.Namespace, holder.Name)
	default:
		// Another namespace's SubAccounts are not the caller's to see.
		return stalled(shopv1alpha1.ReasonAccountManagedElsewhere,
			"account %s (ID %s) is managed elsewhere and cannot be adopted; choose another accountName",
			sa.Status.LoginName, existing.ID)
	}
}

// Field selectors on SubAccounts (the CRD's selectableFields): the API
// server answers who holds or claims an account without listing them all.
const (
	fieldAccountID     = "status.accountID"
	fieldAdoptionClaim = "status.adoptionClaim"
)

// adoptionClaimCheck is how soon a claimed adoption is checked: the claim
// is written when the reconcile that made it ends.
const adoptionClaimCheck = 100 * time.Millisecond

// claim makes the adoption of existing safe from another SubAccount
// adopting it at the same moment, which mayAdopt's read cannot
// see: each writes its claim (status.adoptionClaim) before anything goes to
// the platform, and only then reads, from the API server, every SubAccount
// that holds or claims the account. Of two claims, the second to be
// written sees the first, so at most one goes ahead; both back off and try
// again when each saw the other. An earlier reconcile's claim (claimed)
// is this check's turn.
func (r *SubAccountReconciler) claim(ctx context.Context, s *subAccountScope, claimed string, existing platform.Account) error {
	sa := s.sa
	if claimed != existing.ID {
		sa.Status.AdoptionClaim = existing.ID
		return &outcome{reason: shopv1alpha1.ReasonAdoptionClaimed, requeueAfter: adoptionClaimCheck,
			message: fmt.Sprintf("account %s (ID %s) is claimed for adoption; checking that no other SubAccount holds or claims it",
				sa.Status.LoginName, existing.ID)}
	}
	other, err := r.accountHolder(ctx, s, existing.ID, fieldAccountID, fieldAdoptionClaim)
	if apierrors.IsForbidden(err) {
		// With --watch-namespaces and Roles per namespace, SubAccounts
		// elsewhere cannot be seen: refuse rather than guess.
		return stalled(shopv1alpha1.ReasonAdoptionNotAllowed,
			"the operator may not read SubAccounts and Shops in every namespace, so it cannot tell whether another SubAccount manages account %s; "+
				"adopting needs that (a cluster admin grants get and list on subaccounts and shops cluster-wide)", sa.Status.LoginName)
	}
	if err != nil {
		return err
	}
	if other == nil || other.Status.AccountID == existing.ID {
		return managedElsewhere(sa, other, existing)
	}
	// Another claim: it may have seen ours too, and backed off as well.
	// Try again after a pause of its own, so the next round is not a tie.
	return &outcome{reason: shopv1alpha1.ReasonAdoptionClaimed, requeueAfter: time.Second + rand.N(4*time.Second),
		message: fmt.Sprintf("another SubAccount is adopting account %s (ID %s) at the same time; trying again", sa.Status.LoginName, existing.ID)}
}

// accountHolder returns another SubAccount, in any namespace, that holds
// (or claims) account id of the same platform shop, or nil: one listed by
// any of fields, read from the API server with the CRD's selectable
// fields. A Shop in another namespace
// naming the same platform, main account and endpoint is the same platform
// shop.
func (r *SubAccountReconciler) accountHolder(ctx context.Context, s *subAccountScope, id string, fields ...string) (*shopv1alpha1.SubAccount, error) {
	if r.Connector == nil || r.Connector.APIReader == nil {
		return nil, fmt.Errorf("reading who holds account %s: no API reader", id)
	}
	reader := r.Connector.APIReader
	for _, field := range fields {
		var holders shopv1alpha1.SubAccountList
		if err := reader.List(ctx, &holders, client.MatchingFields{field: id}); err != nil {
			return nil, fmt.Errorf("listing SubAccounts that hold account %s: %w", id, err)
		}
		for i := range holders.Items {
			h := &holders.Items[i]
			if h.UID == s.sa.UID {
				continue
			}
			var hs shopv1alpha1.Shop
			err := reader.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: h.Spec.ShopRef.Name}, &hs)
			if apierrors.IsNotFound(err) {
				continue // without its Shop it manages nothing
			}
			if err != nil {
				return nil, fmt.Errorf("reading Shop %s/%s: %w", h.Namespace, h.Spec.ShopRef.Name, err)
			}
			if samePlatformShop(&hs, s.shop) {
				return h, nil
			}
		}
	}
	return nil, nil
}

// samePlatformShop says whether two Shops name the same shop on the
// platform: the same platform, main account and endpoint.
func samePlatformShop(a, b *shopv1alpha1.Shop) bool {
	endpoint := func(s *shopv1alpha1.Shop) string {
		if s.Spec.Endpoint == "" {
			return strings.TrimSuffix(platform.DefaultEndpoint(platform.Name(s.Spec.Platform)), "/")
		}
		return strings.TrimSuffix(s.Spec.Endpoint, "/")
	}
	return a.Spec.Platform == b.Spec.Platform && a.Spec.MainAccount == b.Spec.MainAccount && endpoint(a) == endpoint(b)
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
		showStanding(sa, existing)
		s.observeAccess(existing)
		// The last ShopInfo counted it as nobody's: the Shop counts again
		// once the cache shows it held (recountDue).
		r.Drift.accountAdopted(sa, r.now())
		sa.Status.AccountID = existing.ID
		sa.Status.Verification = verificationStatus(existing.Verification)
		// Its agent's presence and capacity stay theirs (seatWrites).
		observeSeat(sa, existing.Seat)
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

// describeChange says what an update changes, for Events: each kind of
// change (permissions, roles, login, profile, department, phone, seat,
// security, presence) in its own words. current is the account before the
// update, send what was written, seat the words of the agent's settings
// written (seatWriteWords).
func describeChange(sa *shopv1alpha1.SubAccount, roles []resolvedRole, current, send platform.AccountState, seat []string) string {
	var parts []string
	granted, revoked := diffSets(sa.Status.AppliedPermissions, sa.Status.EffectivePermissions)
	if len(granted) > 0 {
		parts = append(parts, "granted "+strings.Join(granted, ", "))
	}
	if len(revoked) > 0 {
		parts = append(parts, "revoked "+strings.Join(revoked, ", "))
	}
	if added, removed := diffSets(sortedCopy(current.RoleIDs), sortedCopy(send.RoleIDs)); len(added)+len(removed) > 0 {
		name := func(ids []string) string {
			out := make([]string, len(ids))
			for i, id := range ids {
				out[i] = id
				for _, r := range roles {
					if r.id == id {
						out[i] = r.name
					}
				}
			}
			return strings.Join(out, ", ")
		}
		switch {
		case len(added) > 0 && len(removed) > 0:
			parts = append(parts, "roles: added "+name(added)+", removed "+name(removed))
		case len(added) > 0:
			parts = append(parts, "roles: added "+name(added))
		default:
			parts = append(parts, "roles: removed "+name(removed))
		}
	}
	if current.Disabled != send.Disabled {
		if send.Disabled {
			parts = append(parts, "login disabled")
		} else {
			parts = append(parts, "login enabled")
		}
	}
	parts = append(parts, profileChanges(current.Profile, send.Profile)...)
	if c, w := current.Seat, send.Seat; (c == nil) != (w == nil) || c != nil && c.Chat != w.Chat {
		switch {
		case w == nil:
			parts = append(parts, "chat seat removed")
		case c == nil:
			parts = append(parts, fmt.Sprintf("chat seat added (chat %s)", onOff(w.Chat)))
		default:
			parts = append(parts, "chat (IM) "+onOff(w.Chat))
		}
	}
	parts = append(parts, seat...)
	if c, w := current.Security, send.Security; c != w {
		var sec []string
		if c.PhoneProtection != w.PhoneProtection {
			sec = append(sec, "phone protection "+onOff(w.PhoneProtection))
		}
		if c.DigitalCertificate != w.DigitalCertificate {
			sec = append(sec, "digital certificate "+onOff(w.DigitalCertificate))
		}
		parts = append(parts, "security: "+strings.Join(sec, ", "))
	}
	if len(parts) == 0 {
		return "the declared state written again (nothing differed)"
	}
	return strings.Join(parts, "; ")
}

// profileChanges names the profile fields that change: the department and
// the phone in their own words (the phone masked), the rest as profile.
func profileChanges(c, w platform.Profile) []string {
	var out, fields []string
	if c.DisplayName != w.DisplayName {
		fields = append(fields, "display name")
	}
	if c.EmployeeName != w.EmployeeName {
		fields = append(fields, "employee name")
	}
	if c.EmployeeNumber != w.EmployeeNumber {
		fields = append(fields, "employee number")
	}
	if len(fields) > 0 {
		out = append(out, "profile: "+strings.Join(fields, ", "))
	}
	if c.Department != w.Department || c.DepartmentID != w.DepartmentID {
		out = append(out, fmt.Sprintf("department %s → %s", orNone(c.Department), orNone(w.Department)))
	}
	switch {
	case c.Phone == w.Phone:
	case w.Phone == "":
		out = append(out, "phone removed")
	default:
		out = append(out, "phone changed to "+platform.MaskPhone(w.Phone))
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
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
