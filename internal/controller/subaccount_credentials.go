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

// A SubAccount's credentials: the Secret written before any platform
// call, the password it holds, and setting it on the platform.

import (
	"context"
	"encoding/json"
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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/password"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// credentials is the password the credentials Secret holds, its revision,
// when it was generated, and the rotation request it answered.
type credentials struct {
	// live: the Secret already shows the login as live (AnnotationLogin).
	live     bool
	password string
	revision int64
	created  time.Time
	rotation string
}

// credentialsSecret reads sa's credentials Secret: whether it exists from
// the cache, what it holds from the API server. The cache keeps a
// credentials Secret's metadata only (trimCredentials), so a Secret it
// shows is read again, whole; one it does not show is NotFound, as before
// (a Secret the cache has not caught up with makes the create that follows
// fail with AlreadyExists, which alreadyExists sorts out). Without an API
// reader (unit tests on a fake client, whose objects are whole) the cached
// Secret is the answer.
func (r *SubAccountReconciler) credentialsSecret(ctx context.Context, sa *shopv1alpha1.SubAccount) (*corev1.Secret, error) {
	key := client.ObjectKey{Namespace: sa.Namespace, Name: sa.CredentialsSecretName()}
	secret := &corev1.Secret{}
	if err := r.Get(ctx, key, secret); err != nil || !trimmed(secret) {
		return secret, err
	}
	if r.Connector == nil || r.Connector.APIReader == nil {
		return nil, fmt.Errorf("reading Secret %q: the cache holds its metadata only, and there is no API reader", key.Name)
	}
	live := &corev1.Secret{}
	if err := r.Connector.APIReader.Get(ctx, key, live); err != nil {
		return live, err
	}
	return live, nil
}

// writeCredentials writes the credentials Secret (ensureCredentials)
// before anything reaches the platform.
func (r *SubAccountReconciler) writeCredentials(ctx context.Context, s *subAccountScope) error {
	var err error
	s.creds, err = r.ensureCredentials(ctx, s.sa, s.shop, s.cat, s.caps.SetPassword)
	return err
}

// credentialsMessage is the CredentialsReady condition's message.
func credentialsMessage(s *subAccountScope) string {
	if !s.caps.SetPassword {
		return fmt.Sprintf("Secret %s holds the login name; %s's API cannot set passwords, so the password stays the one set in the platform's back office",
			s.sa.Status.SecretName, s.shop.Spec.Platform)
	}
	return fmt.Sprintf("Secret %s holds the login", s.sa.Status.SecretName)
}

// ensureCredentials writes the credentials Secret before anything reaches
// the platform, so a crash never loses a password. A password is never
// regenerated: only rotation or a changed source replaces it, with a new
// revision that ensurePassword then applies.
func (r *SubAccountReconciler) ensureCredentials(ctx context.Context, sa *shopv1alpha1.SubAccount, shop *shopv1alpha1.Shop,
	cat *catalog.Catalog, managePassword bool) (credentials, error) {
	name := sa.CredentialsSecretName()
	sa.Status.SecretName = name
	secret, err := r.credentialsSecret(ctx, sa)
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
		shopv1alpha1.SecretKeyShop:        []byte(shop.Name),
		shopv1alpha1.SecretKeyPlatform:    []byte(shop.Spec.Platform),
		shopv1alpha1.SecretKeyAccountName: []byte(sa.Spec.AccountName),
	}
	// The username only once the account is ours: a SubAccount refused
	// with NameTaken must not publish someone else's login.
	next.live = sa.Status.AccountID != "" && secret.Annotations[shopv1alpha1.AnnotationLogin] == shopv1alpha1.LoginLive
	desired.Annotations[shopv1alpha1.AnnotationLogin] = shopv1alpha1.LoginPending
	if next.live {
		desired.Annotations[shopv1alpha1.AnnotationLogin] = shopv1alpha1.LoginLive
		desired.Data[shopv1alpha1.SecretKeyUsername] = []byte(sa.Status.LoginName)
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
		if err := r.ownerNotDeleting(ctx, sa); err != nil {
			return credentials{}, err
		}
		if err := r.Create(ctx, desired); err != nil {
			if apierrors.IsAlreadyExists(err) {
				// Not in our cache: someone else's, unlabelled, or ours
				// from an earlier reconcile the cache has not caught up
				// with. Never write over it: ours holds the password.
				return credentials{}, r.alreadyExists(ctx, sa, name)
			}
			return credentials{}, secretWriteFailed("creating", name, err)
		}
		return next, nil
	}
	// Owner references are compared by value: SetControllerReference put a
	// fresh copy in desired, whose *bool fields are new pointers.
	if !maps.EqualFunc(secret.Data, desired.Data, slices.Equal) ||
		!maps.Equal(secret.Labels, desired.Labels) || !maps.Equal(secret.Annotations, desired.Annotations) ||
		!equality.Semantic.DeepEqual(secret.OwnerReferences, desired.OwnerReferences) {
		if err := r.Update(ctx, desired); err != nil {
			return credentials{}, secretWriteFailed("updating", name, err)
		}
	}
	return next, nil
}

// secretWriteFailed is a failed write of the credentials Secret. One the
// API server refuses as invalid (labels or annotations from
// spec.credentialsSecret that admission let through, such as annotations
// over the API server's 256 KiB) is refused again on every retry: a person
// must change the spec, so it is Stalled with the API server's reason.
func secretWriteFailed(doing, name string, err error) error {
	if apierrors.IsInvalid(err) {
		return &outcome{reason: shopv1alpha1.ReasonInvalidSpec, stalled: true, requeueAfter: stallRetry, cause: err,
			message: fmt.Sprintf("the API server refuses the credentials Secret %q: %s; change spec.credentialsSecret", name, invalidCauses(err))}
	}
	return fmt.Errorf("%s Secret %q: %w", doing, name, err)
}

// invalidCauses is what the API server found invalid, field by field, or
// its message when it gives no details.
func invalidCauses(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil || len(status.Status().Details.Causes) == 0 {
		return err.Error()
	}
	var causes []string
	for _, c := range status.Status().Details.Causes {
		causes = append(causes, platform.Cut(c.Field+": "+c.Message, 256))
	}
	return strings.Join(causes, "; ")
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

// ownerNotDeleting checks against the API server, before a credentials
// Secret is created, that its SubAccount is not being deleted. The
// SubAccount and its Secret come from two watches that may lag each other:
// when a deletion begins, the garbage collector (foreground deletion) or the
// namespace controller deletes the Secret, and the Secret's event can wake
// a reconcile whose cached SubAccount does not show its deletionTimestamp
// yet. Acting on that copy would create the Secret again, with a fresh
// password, for an account about to go. The guard against our own writes
// (writes.stale) cannot see a deletion someone else began, so this asks the
// API server, once per Secret created. A SubAccount being deleted, gone, or
// replaced by another of the same name (another UID) waits for the cache
// (errCacheBehind): the next reconcile sees the deletion and offboards.
func (r *SubAccountReconciler) ownerNotDeleting(ctx context.Context, sa *shopv1alpha1.SubAccount) error {
	if r.Connector == nil || (r.Connector.meta == nil && r.Connector.APIReader == nil) {
		return nil
	}
	// Its metadata only: the UID and deletionTimestamp are all this asks,
	// and the whole object would cost the API server and the manager a
	// SubAccount's encoding and decoding for each Secret created.
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(shopv1alpha1.GroupVersion.WithKind("SubAccount"))
	live.SetNamespace(sa.Namespace)
	live.SetName(sa.Name)
	var err error
	if r.Connector.meta != nil {
		live, err = r.Connector.meta.get(ctx, live)
	} else {
		err = r.Connector.APIReader.Get(ctx, client.ObjectKeyFromObject(sa), live)
	}
	if err != nil {
		if apierrors.IsNotFound(err) {
			return errCacheBehind
		}
		return fmt.Errorf("reading SubAccount %q before creating its Secret: %w", sa.Name, err)
	}
	if live.UID != sa.UID || !live.DeletionTimestamp.IsZero() {
		return errCacheBehind
	}
	return nil
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
		if err := requireOptIn(src, "password Secret", shopv1alpha1.SecretRolePassword); err != nil {
			return next, err
		}
		pw, ok := src.Data[key]
		if !ok || len(pw) == 0 {
			return next, stalled(shopv1alpha1.ReasonSecretInvalid, "password Secret %q has no key %q", ref.Name, key)
		}
		if len([]rune(string(pw))) < cat.PasswordMinLength {
			// Nothing about the value, not even its length, goes to status.
			return next, stalled(shopv1alpha1.ReasonPasswordTooShort,
				"the password in Secret %q key %q is too short; %s requires at least %d characters", ref.Name, key, cat.Platform, cat.PasswordMinLength)
		}
		if why := password.Weakness(string(pw)); why != "" {
			// Pinduoduo's page asks for strong passwords; the platforms
			// check only length. The message says why, never the value.
			return next, stalled(shopv1alpha1.ReasonPasswordTooWeak,
				"the password in Secret %q key %q is weak: %s", ref.Name, key, why)
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

// applyPassword sets the Secret's password on the platform: again when a
// drift check found it changed there (and the drift is corrected), and
// when the Secret holds a newer revision than the platform has. Nothing on
// a platform whose API cannot set passwords.
func (r *SubAccountReconciler) applyPassword(ctx context.Context, s *subAccountScope) error {
	if !s.caps.SetPassword {
		return nil
	}
	if s.drifted && s.drift.password {
		if err := r.restorePassword(ctx, s); err != nil {
			return err
		}
	}
	return r.ensurePassword(ctx, s)
}

// restorePassword sets the Secret's password again after a drift check
// found it changed on the platform.
func (r *SubAccountReconciler) restorePassword(ctx context.Context, s *subAccountScope) error {
	sa := s.sa
	if sa.Status.AccountID == "" || s.creds.password == "" {
		return nil
	}
	if err := s.pc.SetPassword(ctx, sa.Status.AccountID, s.creds.password); err != nil {
		return platformOutcome("setting the password again", err)
	}
	now := metav1.NewTime(r.now())
	sa.Status.PasswordSetTime = &now
	driftCorrected(r.Recorder, sa, "SetPassword",
		fmt.Sprintf("the password of sub-account %s was changed outside the operator; set it again from Secret %s", sa.Status.LoginName, sa.Status.SecretName))
	return nil
}

// ensurePassword applies a newer password revision from the Secret.
func (r *SubAccountReconciler) ensurePassword(ctx context.Context, s *subAccountScope) error {
	sa, creds := s.sa, s.creds
	if creds.revision <= sa.Status.PasswordRevision {
		return nil
	}
	if err := s.pc.SetPassword(ctx, sa.Status.AccountID, creds.password); err != nil {
		return platformOutcome("setting the password", err)
	}
	now := metav1.NewTime(r.now())
	sa.Status.PasswordRevision = creds.revision
	sa.Status.PasswordSetTime = &now
	r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "PasswordChanged", "SetPassword",
		"set password revision %d of %s from Secret %s", creds.revision, sa.Status.LoginName, sa.Status.SecretName)
	return nil
}

// publishLogin marks the credentials Secret live and gives it the
// username once the account is this SubAccount's and its password applied
// (the steps before it succeeded). A merge patch, so a cache that has not
// seen this reconcile's write of the Secret cannot make it conflict.
func (r *SubAccountReconciler) publishLogin(ctx context.Context, s *subAccountScope) error {
	sa := s.sa
	if s.creds.live || sa.Status.AccountID == "" {
		return nil
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{shopv1alpha1.AnnotationLogin: shopv1alpha1.LoginLive}},
		"data":     map[string][]byte{shopv1alpha1.SecretKeyUsername: []byte(sa.Status.LoginName)},
	})
	if err != nil {
		return fmt.Errorf("marking Secret %q live: %w", sa.Status.SecretName, err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: sa.Namespace, Name: sa.CredentialsSecretName()}}
	// Noted before the patch: its event may come before its answer.
	r.publishing.start(secret)
	if r.Connector != nil && r.Connector.meta != nil {
		// Nothing reads the answer: its metadata is enough.
		err = r.Connector.meta.patch(ctx, secret, patch)
	} else {
		err = r.Patch(ctx, secret, client.RawPatch(types.MergePatchType, patch))
	}
	if err != nil {
		r.publishing.done(secret)
		return fmt.Errorf("marking Secret %q live: %w", secret.Name, err)
	}
	s.creds.live = true
	return nil
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
