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
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/password"
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
}

// credentials is the password the credentials Secret holds, its revision,
// when it was generated, and the rotation request it answered.
type credentials struct {
	password string
	revision int64
	created  time.Time
	rotation string
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

// reconcile runs the steps in order; it returns when the password is next
// due for rotation, if ever.
func (r *SubAccountReconciler) reconcile(ctx context.Context, sa *shopv1alpha1.SubAccount) (time.Duration, error) {
	shop, err := r.Connector.shopOf(ctx, sa.Namespace, sa.Spec.ShopRef.Name)
	if err != nil {
		return 0, err
	}
	sa.Status.LoginName = shop.Spec.MainAccount + ":" + sa.Spec.AccountName
	cat, err := catalogFor(shop)
	if err != nil {
		return 0, err
	}

	roles, err := r.resolveRoles(ctx, sa)
	markStep(sa, shopv1alpha1.ConditionRolesResolved, err, fmt.Sprintf("%d roles resolved", len(roles)))
	if err != nil {
		return 0, err
	}
	state, effective, err := desiredAccount(sa, roles, cat)
	markStep(sa, shopv1alpha1.ConditionPermissionsValid, err, "all permissions are known and allowed")
	if err != nil {
		return 0, err
	}
	sa.Status.EffectivePermissions = effective
	sa.Status.PermissionSources = permissionSources(roles, state.ExtraPermissions)
	presence, presenceChange, err := scheduledPresence(sa.Spec.Seat, &state, r.now())
	if err != nil {
		return 0, err
	}
	sa.Status.Presence = presence
	if err := resolveDepartment(shop, sa, &state.Profile); err != nil {
		return 0, err
	}

	// Building a client makes no platform call; it tells what the
	// platform's API can do before anything is written.
	pc, connErr := r.Connector.Connect(ctx, shop)
	caps := platform.FullCapabilities()
	if connErr == nil {
		caps = platform.CapabilitiesOf(pc)
	}
	creds, err := r.ensureCredentials(ctx, sa, shop, cat, caps.SetPassword)
	okMessage := fmt.Sprintf("Secret %s holds the login", sa.Status.SecretName)
	if !caps.SetPassword {
		okMessage = fmt.Sprintf("Secret %s holds the login name; %s's API cannot set passwords, so the password stays the one set in the platform's back office",
			sa.Status.SecretName, shop.Spec.Platform)
	}
	markStep(sa, shopv1alpha1.ConditionCredentialsReady, err, okMessage)
	if err != nil {
		return 0, err
	}

	if shop.Spec.Suspend {
		return 0, waiting(shopv1alpha1.ReasonSuspended, "Shop %q is suspended; nothing is written to the platform", shop.Name)
	}
	if !apimeta.IsStatusConditionTrue(shop.Status.Conditions, shopv1alpha1.ConditionReady) {
		return 0, waiting(shopv1alpha1.ReasonShopNotReady, "Shop %q is not Ready", shop.Name)
	}
	if connErr != nil {
		return 0, connErr
	}
	finding, drifted := r.Drift.takeFinding(sa)
	if drifted {
		drifted = finding.settle(sa, driftPolicy(sa.Spec.DriftPolicy, shop), r.Recorder, func() (string, string) {
			return "sub-account " + sa.Status.LoginName, accountDriftChanges(finding, sa, mainAccountState(state, cat))
		})
	}
	stateDrifted := drifted && finding.state
	err = r.ensureAccount(ctx, pc, caps, sa, shop, mainAccountState(state, cat), creds, stateDrifted)
	if err == nil {
		err = r.ensureVerified(ctx, pc, sa)
	}
	if err == nil && caps.SetPassword && drifted && finding.password {
		err = r.restorePassword(ctx, pc, sa, creds)
	}
	if err == nil && caps.SetPassword {
		err = r.ensurePassword(ctx, pc, sa, creds)
	}
	if err == nil {
		err = r.ensureSeatCapacity(ctx, pc, caps, sa, cat, state.Seat, creds, stateDrifted)
	} else if v := sa.Status.Verification; v != nil && !v.Verified {
		// Only says that the capacity waits for the verification: no call.
		_ = r.ensureSeatCapacity(ctx, pc, caps, sa, cat, state.Seat, creds, stateDrifted)
	}
	markStep(sa, shopv1alpha1.ConditionSynced, err, "the platform account matches the spec")
	if err != nil {
		return 0, err
	}
	sa.Status.AppliedPermissions = effective
	v := sa.Status.Verification
	sa.Status.Chat = state.Seat != nil && state.Seat.Chat && (v == nil || v.Verified)
	sa.Status.Security = nil
	if caps.AccountSecurity {
		sa.Status.Security = &shopv1alpha1.SecuritySpec{PhoneProtection: state.Security.PhoneProtection,
			DigitalCertificate: state.Security.DigitalCertificate}
	}
	return soonest(r.nextRotation(sa, creds), presenceChange), nil
}

// resolveRoles finds the Roles the SubAccount uses and their platform IDs.
func (r *SubAccountReconciler) resolveRoles(ctx context.Context, sa *shopv1alpha1.SubAccount) ([]resolvedRole, error) {
	var (
		resolved          []resolvedRole
		missing, notReady []string
		otherShop         []string
	)
	for _, ref := range sa.Spec.Roles {
		role := &shopv1alpha1.Role{}
		err := r.Get(ctx, client.ObjectKey{Namespace: sa.Namespace, Name: ref.Name}, role)
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, ref.Name)
			continue
		case err != nil:
			return nil, fmt.Errorf("reading Role %q: %w", ref.Name, err)
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
		return nil, stalled(shopv1alpha1.ReasonRoleShopMismatch,
			"Roles %s belong to another Shop; a SubAccount of Shop %q can use only that Shop's Roles",
			strings.Join(otherShop, ", "), sa.Spec.ShopRef.Name)
	case len(missing) > 0:
		return nil, waiting(shopv1alpha1.ReasonRoleNotFound, "Roles %s not found in namespace %q",
			strings.Join(missing, ", "), sa.Namespace)
	case len(notReady) > 0:
		return nil, waiting(shopv1alpha1.ReasonRoleNotReady, "Roles %s are not on the platform yet",
			strings.Join(notReady, ", "))
	}
	return resolved, nil
}

// ensureCredentials writes the credentials Secret before anything reaches
// the platform, so a crash never loses a password. A password is never
// regenerated: only rotation or a changed source replaces it, with a new
// revision that ensurePassword then applies.
func (r *SubAccountReconciler) ensureCredentials(ctx context.Context, sa *shopv1alpha1.SubAccount, shop *shopv1alpha1.Shop,
	cat *catalog.Catalog, managePassword bool) (credentials, error) {
	name := sa.CredentialsSecretName()
	sa.Status.SecretName = name
	secret := &corev1.Secret{}
	err := r.Get(ctx, client.ObjectKey{Namespace: sa.Namespace, Name: name}, secret)
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return credentials{}, fmt.Errorf("reading Secret %q: %w", name, err)
	}
	if exists && !metav1.IsControlledBy(secret, sa) {
		return credentials{}, stalled(shopv1alpha1.ReasonConflict,
			"Secret %q exists and is not managed by this SubAccount; set credentialsSecret.name to another name", name)
	}
	current := credentials{
		password: string(secret.Data[shopv1alpha1.SecretKeyPassword]),
		rotation: secret.Annotations[shopv1alpha1.AnnotationRotationHandled],
	}
	current.revision, _ = strconv.ParseInt(secret.Annotations[shopv1alpha1.AnnotationPasswordRevision], 10, 64)
	current.created, _ = time.Parse(time.RFC3339, secret.Annotations[shopv1alpha1.AnnotationPasswordCreated])

	next := credentials{}
	if managePassword {
		next, err = r.desiredPassword(ctx, sa, cat, current)
		if err != nil {
			return credentials{}, err
		}
	}
	if managePassword && next.password != current.password {
		// Above every revision seen: a Secret deleted and made again
		// starts from nothing, yet its password must still be applied.
		next.revision = max(current.revision, sa.Status.PasswordRevision) + 1
		next.created = r.now().UTC().Truncate(time.Second)
	}
	sa.Status.LastHandledRotation = next.rotation

	desired := secret.DeepCopy()
	desired.Name, desired.Namespace = name, sa.Namespace
	desired.Labels = maps.Clone(sa.Spec.CredentialsSecret.Labels)
	if desired.Labels == nil {
		desired.Labels = map[string]string{}
	}
	desired.Labels[shopv1alpha1.LabelManagedBy] = shopv1alpha1.ManagedByValue
	desired.Labels[shopv1alpha1.LabelSecretRole] = "credentials"
	desired.Labels[shopv1alpha1.LabelShop] = shop.Name
	desired.Labels[shopv1alpha1.LabelSubAccount] = sa.Name
	desired.Annotations = maps.Clone(sa.Spec.CredentialsSecret.Annotations)
	if desired.Annotations == nil {
		desired.Annotations = map[string]string{}
	}
	desired.Type = corev1.SecretTypeOpaque
	desired.Data = map[string][]byte{
		shopv1alpha1.SecretKeyUsername:    []byte(sa.Status.LoginName),
		shopv1alpha1.SecretKeyShop:        []byte(shop.Name),
		shopv1alpha1.SecretKeyPlatform:    []byte(shop.Spec.Platform),
		shopv1alpha1.SecretKeyAccountName: []byte(sa.Spec.AccountName),
	}
	if managePassword {
		desired.Annotations[shopv1alpha1.AnnotationPasswordRevision] = strconv.FormatInt(next.revision, 10)
		desired.Annotations[shopv1alpha1.AnnotationPasswordCreated] = next.created.Format(time.RFC3339)
		if next.rotation != "" {
			desired.Annotations[shopv1alpha1.AnnotationRotationHandled] = next.rotation
		}
		desired.Data[shopv1alpha1.SecretKeyPassword] = []byte(next.password)
	}
	if err := controllerutil.SetControllerReference(sa, desired, r.Scheme()); err != nil {
		return credentials{}, fmt.Errorf("owning Secret %q: %w", name, err)
	}
	if !exists {
		if err := r.Create(ctx, desired); err != nil {
			if apierrors.IsAlreadyExists(err) {
				// Not in our cache: someone else's, unlabelled, or ours
				// from an earlier reconcile the cache has not caught up
				// with. Never write over it: ours holds the password.
				return credentials{}, r.alreadyExists(ctx, sa, name)
			}
			return credentials{}, fmt.Errorf("creating Secret %q: %w", name, err)
		}
		return next, nil
	}
	// Owner references are compared by value: SetControllerReference put a
	// fresh copy in desired, whose *bool fields are new pointers.
	if !maps.EqualFunc(secret.Data, desired.Data, slices.Equal) ||
		!maps.Equal(secret.Labels, desired.Labels) || !maps.Equal(secret.Annotations, desired.Annotations) ||
		!equality.Semantic.DeepEqual(secret.OwnerReferences, desired.OwnerReferences) {
		if err := r.Update(ctx, desired); err != nil {
			return credentials{}, fmt.Errorf("updating Secret %q: %w", name, err)
		}
	}
	return next, nil
}

// alreadyExists tells a Secret of ours the cache does not show yet
// (errCacheBehind) from someone else's (Conflict), asking the API server.
func (r *SubAccountReconciler) alreadyExists(ctx context.Context, sa *shopv1alpha1.SubAccount, name string) error {
	conflict := stalled(shopv1alpha1.ReasonConflict,
		"Secret %q exists and is not managed by this SubAccount; set credentialsSecret.name to another name", name)
	if r.Connector == nil || r.Connector.APIReader == nil {
		return conflict
	}
	live := &corev1.Secret{}
	if err := r.Connector.APIReader.Get(ctx, client.ObjectKey{Namespace: sa.Namespace, Name: name}, live); err != nil {
		if apierrors.IsNotFound(err) {
			return errCacheBehind // deleted meanwhile: try again
		}
		return fmt.Errorf("reading Secret %q: %w", name, err)
	}
	if metav1.IsControlledBy(live, sa) {
		return errCacheBehind
	}
	return conflict
}

// desiredPassword returns the credentials the account should have: the
// user's password from password.secretRef, or the current generated one
// unless a rotation is due or asked for. It decides from the Secret alone,
// never from status, which a stale cache may show old.
func (r *SubAccountReconciler) desiredPassword(ctx context.Context, sa *shopv1alpha1.SubAccount, cat *catalog.Catalog, current credentials) (credentials, error) {
	next := current
	token := sa.Annotations[shopv1alpha1.AnnotationRotatePassword]
	if ref := sa.Spec.Password.SecretRef; ref != nil {
		key := ref.Key
		if key == "" {
			key = shopv1alpha1.SecretKeyPassword
		}
		src, err := r.Connector.secret(ctx, sa.Namespace, ref.Name)
		if apierrors.IsNotFound(err) {
			return next, stalled(shopv1alpha1.ReasonSecretNotFound, "password Secret %q not found in namespace %q", ref.Name, sa.Namespace)
		}
		if err != nil {
			return next, fmt.Errorf("reading password Secret %q: %w", ref.Name, err)
		}
		pw, ok := src.Data[key]
		if !ok || len(pw) == 0 {
			return next, stalled(shopv1alpha1.ReasonSecretInvalid, "password Secret %q has no key %q", ref.Name, key)
		}
		if n := len([]rune(string(pw))); n < cat.PasswordMinLength {
			return next, stalled(shopv1alpha1.ReasonPasswordTooShort,
				"the password in Secret %q key %q has %d characters; %s requires at least %d", ref.Name, key, n, cat.Platform, cat.PasswordMinLength)
		}
		// Rotating a password someone else supplies is theirs to do.
		next.password, next.rotation = string(pw), token
		return next, nil
	}
	length, err := passwordLength(sa, cat)
	if err != nil {
		return next, err
	}
	rotate := current.password == ""
	if token != "" && token != current.rotation {
		rotate, next.rotation = true, token
	}
	if p := sa.Spec.Password.RotationPeriod; p != nil && !current.created.IsZero() &&
		!r.now().Before(current.created.Add(p.Duration)) {
		rotate = true
	}
	if !rotate {
		return next, nil
	}
	next.password, err = password.Generate(length)
	if err != nil {
		return next, fmt.Errorf("generating a password: %w", err)
	}
	return next, nil
}

// ensureAccount creates (or adopts) the platform account, or brings it in
// line with the desired state. Creation is keyed by the SubAccount's UID, so
// a retry after a crash finds the first account instead of making a second.
func (r *SubAccountReconciler) ensureAccount(ctx context.Context, pc platform.Client, caps platform.Capabilities,
	sa *shopv1alpha1.SubAccount, shop *shopv1alpha1.Shop, state platform.AccountState, creds credentials, drifted bool) error {
	hash := accountHash(state)
	if sa.Status.AccountID == "" {
		if err := r.createOrAdopt(ctx, pc, caps, sa, shop, state, creds); err != nil {
			return err
		}
		if sa.Status.AppliedHash == hash {
			return nil // created as desired
		}
	} else if sa.Status.AppliedHash == hash && !drifted {
		return nil
	}

	send := state
	if caps != platform.FullCapabilities() {
		current, err := pc.GetAccount(ctx, sa.Status.AccountID)
		if errors.Is(err, platform.ErrNotFound) {
			return r.recreate(ctx, pc, caps, sa, shop, state, creds)
		}
		if err != nil {
			return platformOutcome("reading the platform account", err)
		}
		var unsupported []string
		send, unsupported = limitToCapabilities(state, current.AccountState, caps)
		markLimits(sa, shop, unsupported)
	}
	_, err := pc.UpdateAccount(ctx, sa.Status.AccountID, send)
	if errors.Is(err, platform.ErrNotFound) {
		return r.recreate(ctx, pc, caps, sa, shop, state, creds)
	}
	if err != nil {
		return platformOutcome("updating the platform account", err)
	}
	switch {
	case drifted:
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

// restorePassword sets the Secret's password again after a drift check
// found it changed on the platform.
func (r *SubAccountReconciler) restorePassword(ctx context.Context, pc platform.Client, sa *shopv1alpha1.SubAccount, creds credentials) error {
	if sa.Status.AccountID == "" || creds.password == "" {
		return nil
	}
	if err := pc.SetPassword(ctx, sa.Status.AccountID, creds.password); err != nil {
		return platformOutcome("setting the password again", err)
	}
	now := metav1.NewTime(r.now())
	sa.Status.PasswordSetTime = &now
	driftCorrected(r.Recorder, sa, "SetPassword",
		fmt.Sprintf("the password of sub-account %s was changed outside the operator; set it again from Secret %s", sa.Status.LoginName, sa.Status.SecretName))
	return nil
}

// recreate creates again an account that is gone from the platform.
func (r *SubAccountReconciler) recreate(ctx context.Context, pc platform.Client, caps platform.Capabilities,
	sa *shopv1alpha1.SubAccount, shop *shopv1alpha1.Shop, state platform.AccountState, creds credentials) error {
	r.Recorder.Eventf(sa, nil, corev1.EventTypeWarning, "Recreating", "CreateAccount",
		"sub-account %s (ID %s) is gone from the platform; creating it again", sa.Status.LoginName, sa.Status.AccountID)
	sa.Status.AccountID, sa.Status.AppliedHash, sa.Status.PasswordRevision = "", "", 0
	sa.Status.Verification = nil
	return r.createOrAdopt(ctx, pc, caps, sa, shop, state, creds)
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
func (r *SubAccountReconciler) createOrAdopt(ctx context.Context, pc platform.Client, caps platform.Capabilities,
	sa *shopv1alpha1.SubAccount, shop *shopv1alpha1.Shop, state platform.AccountState, creds credentials) error {
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
			return r.adopt(ctx, caps, sa, shop, adoption, existing, state)
		case !errors.Is(err, platform.ErrNotFound):
			return platformOutcome("looking the account up by name", err)
		case !caps.CreateAccount:
			return stalled(shopv1alpha1.ReasonNotSupported,
				"%s's API cannot create sub-accounts: create %s in the platform's back office, then set adoption: Adopt",
				shop.Spec.Platform, sa.Status.LoginName)
		}
	}
	if err := r.checkSeat(ctx, sa, shop); err != nil {
		return err
	}
	acct, err := pc.CreateAccount(ctx, platform.CreateAccount{Name: sa.Spec.AccountName, Password: creds.password, AccountState: state}, string(sa.UID))
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
	sa.Status.SeatCapacity = seatCapacity(acct.Seat)
	sa.Status.AppliedHash = accountHash(state)
	sa.Status.PasswordRevision = creds.revision
	sa.Status.PasswordSetTime = &now
	r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Created", "CreateAccount",
		"created sub-account %s (ID %s) with %d roles and %d permissions",
		sa.Status.LoginName, acct.ID, len(state.RoleIDs), len(sa.Status.EffectivePermissions))
	return nil
}

// adopt takes over an existing account, or with Preview only shows what
// that would change. Never is refused as a taken name.
func (r *SubAccountReconciler) adopt(_ context.Context, caps platform.Capabilities, sa *shopv1alpha1.SubAccount,
	shop *shopv1alpha1.Shop, adoption shopv1alpha1.AdoptionPolicy, existing platform.Account, state platform.AccountState) error {
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
		sa.Status.SeatCapacity = seatCapacity(existing.Seat)
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

// ensurePassword applies a newer password revision from the Secret.
func (r *SubAccountReconciler) ensurePassword(ctx context.Context, pc platform.Client, sa *shopv1alpha1.SubAccount, creds credentials) error {
	if creds.revision <= sa.Status.PasswordRevision {
		return nil
	}
	if err := pc.SetPassword(ctx, sa.Status.AccountID, creds.password); err != nil {
		return platformOutcome("setting the password", err)
	}
	now := metav1.NewTime(r.now())
	sa.Status.PasswordRevision = creds.revision
	sa.Status.PasswordSetTime = &now
	r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "PasswordChanged", "SetPassword",
		"set password revision %d of %s from Secret %s", creds.revision, sa.Status.LoginName, sa.Status.SecretName)
	return nil
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

// nextRotation is how long until the generated password is due for
// rotation, or zero when it never is.
func (r *SubAccountReconciler) nextRotation(sa *shopv1alpha1.SubAccount, creds credentials) time.Duration {
	p := sa.Spec.Password.RotationPeriod
	if p == nil || sa.Spec.Password.SecretRef != nil || creds.created.IsZero() {
		return 0
	}
	return max(creds.created.Add(p.Duration).Sub(r.now()), time.Second)
}

func (r *SubAccountReconciler) reconcileDelete(ctx context.Context, sa *shopv1alpha1.SubAccount) (ctrl.Result, error) {
	if err := r.offboard(ctx, sa); err != nil {
		markDeleting(sa, err)
		return summarizeDelete(err)
	}
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, sa, subAccountFinalizer)
}

// offboard carries out the deletion policy on the platform. It never writes
// the credentials Secret, except to let it outlive a retained account.
func (r *SubAccountReconciler) offboard(ctx context.Context, sa *shopv1alpha1.SubAccount) error {
	policy := sa.DeletionPolicyOrDefault()
	if policy != shopv1alpha1.DeletionPolicyDelete {
		// The account lives on; so must the only copy of its password.
		if err := r.keepSecret(ctx, sa); err != nil {
			return err
		}
	}
	if policy == shopv1alpha1.DeletionPolicyRetain {
		r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Retained", "Offboard",
			"left sub-account %s on the platform (deletionPolicy Retain)", sa.Status.LoginName)
		return nil
	}
	pc, err := cleanupClient(ctx, r.Connector, r.Recorder, sa, sa.Spec.ShopRef.Name, "Offboard",
		"sub-account "+sa.Status.LoginName)
	if err != nil || pc == nil {
		return err
	}
	caps := platform.CapabilitiesOf(pc)
	if policy == shopv1alpha1.DeletionPolicyDelete && !caps.DeleteAccount {
		if !caps.AccountDisabled {
			r.Recorder.Eventf(sa, nil, corev1.EventTypeWarning, "NotSupported", "Offboard",
				"the platform's API can neither delete nor disable sub-accounts; %s is left as it is: remove it in the back office", sa.Status.LoginName)
			return nil
		}
		r.Recorder.Eventf(sa, nil, corev1.EventTypeWarning, "NotSupported", "Offboard",
			"the platform's API cannot delete sub-accounts; disabling %s instead: delete it in the back office", sa.Status.LoginName)
		policy = shopv1alpha1.DeletionPolicyDisable
	}
	id, err := r.accountToOffboard(ctx, pc, caps, sa)
	if err != nil || id == "" {
		return err
	}
	if policy == shopv1alpha1.DeletionPolicyDisable {
		acct, err := pc.GetAccount(ctx, id)
		if errors.Is(err, platform.ErrNotFound) {
			return nil
		}
		if err != nil {
			return platformOutcome("reading the account to disable it", err)
		}
		if acct.Disabled {
			return nil
		}
		acct.AccountState.Disabled = true
		if _, err := pc.UpdateAccount(ctx, id, acct.AccountState); err != nil && !errors.Is(err, platform.ErrNotFound) {
			return platformOutcome("disabling the account", err)
		}
		r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Disabled", "Offboard",
			"disabled sub-account %s (deletionPolicy Disable)", sa.Status.LoginName)
		return nil
	}
	if err := pc.DeleteAccount(ctx, id); err != nil && !errors.Is(err, platform.ErrNotFound) {
		return platformOutcome("deleting the account", err)
	}
	r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Deleted", "Offboard",
		"deleted sub-account %s (ID %s)", sa.Status.LoginName, id)
	return nil
}

// accountToOffboard returns the platform ID of the SubAccount's account.
// When status lost it (a crash right after creating), the account is looked
// up by name, and counts as ours only if the password we hold logs in:
// an account we did not create is never touched.
func (r *SubAccountReconciler) accountToOffboard(ctx context.Context, pc platform.Client, caps platform.Capabilities, sa *shopv1alpha1.SubAccount) (string, error) {
	if sa.Status.AccountID != "" {
		return sa.Status.AccountID, nil
	}
	if !caps.CheckCredentials {
		return "", nil // ownership cannot be proven: leave it alone
	}
	acct, err := pc.FindAccount(ctx, sa.Spec.AccountName)
	if errors.Is(err, platform.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", platformOutcome("looking the account up by name", err)
	}
	secret := &corev1.Secret{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: sa.Namespace, Name: sa.CredentialsSecretName()}, secret); err != nil ||
		!metav1.IsControlledBy(secret, sa) {
		return "", nil
	}
	ok, err := pc.CheckCredentials(ctx, sa.Spec.AccountName, string(secret.Data[shopv1alpha1.SecretKeyPassword]))
	if err != nil {
		return "", platformOutcome("checking whether the account is ours", err)
	}
	if !ok {
		return "", nil
	}
	return acct.ID, nil
}

// keepSecret drops the SubAccount's owner reference from its credentials
// Secret so garbage collection leaves it: the account it logs in to stays.
func (r *SubAccountReconciler) keepSecret(ctx context.Context, sa *shopv1alpha1.SubAccount) error {
	secret := &corev1.Secret{}
	err := r.Get(ctx, client.ObjectKey{Namespace: sa.Namespace, Name: sa.CredentialsSecretName()}, secret)
	if apierrors.IsNotFound(err) || (err == nil && !metav1.IsControlledBy(secret, sa)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the credentials Secret: %w", err)
	}
	patch := client.MergeFrom(secret.DeepCopy())
	secret.OwnerReferences = slices.DeleteFunc(secret.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == sa.UID })
	if err := r.Patch(ctx, secret, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("keeping the credentials Secret: %w", err)
	}
	return nil
}

func (r *SubAccountReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the controller: SubAccounts, their Secrets,
// and the Shops, Roles and password Secrets they depend on.
func (r *SubAccountReconciler) SetupWithManager(mgr ctrl.Manager) error {
	byIndex := func(field string) handler.EventHandler {
		return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return requestsFor(ctx, r.Client, &shopv1alpha1.SubAccountList{}, o.GetNamespace(), field, o.GetName())
		})
	}
	waitingForSeats := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		reqs, err := wakeForSeats(ctx, r.Client, o.(*shopv1alpha1.Shop))
		if err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "listing SubAccounts of the shop")
		}
		return reqs
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&shopv1alpha1.SubAccount{}, builder.WithPredicates(ownChangeMatters)).
		Owns(&corev1.Secret{}, builder.WithPredicates(ownedSecretChanged)).
		Watches(&shopv1alpha1.Shop{}, byIndex(indexSubAccountShop), builder.WithPredicates(shopSpecOrReadinessChanged)).
		Watches(&shopv1alpha1.Shop{}, waitingForSeats, builder.WithPredicates(shopSeatsChanged)).
		Watches(&shopv1alpha1.Shop{}, byIndex(indexSubAccountShop), builder.WithPredicates(shopDepartmentIDsChanged)).
		Watches(&shopv1alpha1.Role{}, byIndex(indexSubAccountRoles), builder.WithPredicates(roleChangeMatters)).
		Watches(&corev1.Secret{}, byIndex(indexSubAccountPassSecret)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(verificationSecretOwner)).
		WatchesRawSource(source.Channel(r.Drift.subAccounts, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles,
			NewQueue: fairQueueFactory(classifyFromCache(mgr.GetCache(), func() *shopv1alpha1.SubAccount { return &shopv1alpha1.SubAccount{} }, subAccountUrgency))}).
		WithLogConstructor(shopLogger(mgr.GetLogger(), mgr.GetCache(), "subaccount", "SubAccount",
			shopNameFromRef(mgr.GetCache(), func() *shopv1alpha1.SubAccount { return &shopv1alpha1.SubAccount{} },
				func(sa *shopv1alpha1.SubAccount) string { return sa.Spec.ShopRef.Name }))).
		Named("subaccount").
		Complete(r)
}

// ensureVerified drives the platform's phone verification (Douyin) with
// the rules every SMS code follows (handleCode): a code handed over in the
// Secret "<name>-verification" is entered once and the Secret deleted; the
// resend-code annotation asks for a new code.
func (r *SubAccountReconciler) ensureVerified(ctx context.Context, pc platform.Client, sa *shopv1alpha1.SubAccount) error {
	if sa.Status.Verification == nil {
		removeCondition(sa, shopv1alpha1.ConditionVerified)
		return nil
	}
	id := sa.Status.AccountID
	accountVerification := func(acct platform.Account, err error) (*platform.Verification, error) {
		return acct.Verification, err
	}
	res := handleCode(ctx, codeDeps{client: r.Client, connector: r.Connector, recorder: r.Recorder, now: r.now()}, smsCode{
		owner: sa, what: "sub-account " + sa.Status.LoginName, authorised: "is authorised",
		secretName:  sa.Name + shopv1alpha1.VerificationSecretSuffix,
		resendToken: sa.Annotations[shopv1alpha1.AnnotationResendCode], resendHandled: sa.Status.LastHandledResend,
		resendHow: fmt.Sprintf("kubectl annotate subaccount %s %s=$(date +%%s) --overwrite", sa.Name, shopv1alpha1.AnnotationResendCode),
		status:    sa.Status.Verification,
		verify: func(ctx context.Context, code string) (*platform.Verification, error) {
			return accountVerification(pc.VerifyAccount(ctx, id, code))
		},
		resend: func(ctx context.Context) (*platform.Verification, error) {
			return accountVerification(pc.ResendVerification(ctx, id))
		},
		current: func(ctx context.Context) (*platform.Verification, error) {
			return accountVerification(pc.GetAccount(ctx, id))
		},
	})
	sa.Status.Verification, sa.Status.LastHandledResend = res.status, res.resendHandled
	switch {
	case res.failed != nil:
		return res.failed
	case res.verified:
		setCondition(sa, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, "phone verified; the account is authorised")
		return nil
	}
	setCondition(sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, res.reason, res.message)
	return res.err
}

// verificationSecretOwner maps "<name>-verification" to SubAccount name.
func verificationSecretOwner(_ context.Context, o client.Object) []reconcile.Request {
	name, ok := strings.CutSuffix(o.GetName(), shopv1alpha1.VerificationSecretSuffix)
	if !ok || name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
}
