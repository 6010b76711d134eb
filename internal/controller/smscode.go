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
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// smsCode is one phone awaiting the platform's SMS code: a Douyin
// SubAccount's, or a Shop notification contact's. Both follow the same
// rules: the code is handed over in a Secret that is read once and
// deleted whatever the outcome (a wrong code costs one attempt and is never
// entered again); a new value of a resend annotation asks for a new code
// (the platform allows one a minute); the code is never logged, shown or
// kept.
type smsCode struct {
	// owner gets the Events; what names the phone's holder in them
	// ("sub-account main:xh", "notification contact 值班").
	owner conditioned
	what  string
	// authorised is what a verified phone means, for the Event.
	authorised string
	// secretName is the Secret (in owner's namespace) with the code.
	secretName string
	// resendToken is the resend annotation's value; resendHandled the last
	// one acted on; resendHow the command that asks for a new code.
	resendToken, resendHandled, resendHow string
	status                                *shopv1alpha1.VerificationStatus

	verify  func(ctx context.Context, code string) (*platform.Verification, error)
	resend  func(ctx context.Context) (*platform.Verification, error)
	current func(ctx context.Context) (*platform.Verification, error)
}

// codeDeps is what handling a code needs from a reconciler.
type codeDeps struct {
	client    client.Client
	connector *Connector
	recorder  events.EventRecorder
	now       time.Time
}

// codeResult is where a phone's verification stands after handleCode.
type codeResult struct {
	status        *shopv1alpha1.VerificationStatus
	resendHandled string
	// verified, or else reason and message for a condition and the outcome
	// (pending: re-checked; expired: stalled) in err.
	verified        bool
	reason, message string
	err             error
	// failed is a platform or API error met on the way (nothing else is
	// set then): the caller returns it.
	failed error
}

// handleCode asks for a new code when the resend annotation says so, then
// enters a code handed over in the Secret, and says what is awaited.
func handleCode(ctx context.Context, d codeDeps, v smsCode) codeResult {
	res := codeResult{status: v.status, resendHandled: v.resendHandled}
	if v.status != nil && v.status.Verified {
		res.verified = true
		return res
	}
	if v.resendToken != "" && v.resendToken != v.resendHandled {
		got, err := v.resend(ctx)
		if err != nil {
			res.failed = platformOutcome("asking for a new verification code", err)
			return res
		}
		res.resendHandled = v.resendToken
		res.status = verificationStatus(got)
		d.recorder.Eventf(v.owner, nil, corev1.EventTypeNormal, "CodeSent", "ResendVerification",
			"the platform sent a new verification code to %s for %s", res.status.Phone, v.what)
	}

	var failure string
	secret, err := d.connector.secret(ctx, v.owner.GetNamespace(), v.secretName)
	switch {
	case err == nil && secret.Labels[shopv1alpha1.LabelSecretRole] != shopv1alpha1.SecretRoleVerification:
		// Only a Secret that says it is a code is read and deleted: a
		// person who may create this object but not touch Secrets must
		// not get an unrelated Secret of that name deleted or sent to
		// the platform. Its content is not looked at.
		failure = fmt.Sprintf("Secret %s is not labelled %s=%s, so it is left alone (neither read nor deleted)",
			v.secretName, shopv1alpha1.LabelSecretRole, shopv1alpha1.SecretRoleVerification)
	case err == nil:
		code := strings.TrimSpace(string(secret.Data[shopv1alpha1.SecretKeyCode]))
		// Consumed whatever happens next: the code must not stay in the
		// cluster, and a wrong one must not be entered again and again.
		if err := d.client.Delete(ctx, secret); client.IgnoreNotFound(err) != nil {
			res.failed = fmt.Errorf("deleting the verification Secret %q: %w", v.secretName, err)
			return res
		}
		if code == "" {
			failure = fmt.Sprintf("Secret %s had no key %q", v.secretName, shopv1alpha1.SecretKeyCode)
			break
		}
		got, err := v.verify(ctx, code)
		if err == nil {
			res.status, res.verified = verificationStatus(got), true
			d.recorder.Eventf(v.owner, nil, corev1.EventTypeNormal, "Verified", "Verify",
				"phone %s verified; %s %s", res.status.Phone, v.what, v.authorised)
			return res
		}
		if !errors.Is(err, platform.ErrInvalid) {
			res.failed = platformOutcome("entering the verification code", err)
			return res
		}
		failure = "the platform refused the code: " + platformMessage(err)
		d.recorder.Eventf(v.owner, nil, corev1.EventTypeWarning, "VerificationFailed", "Verify", "%s: %s", v.what, failure)
		if cur, err := v.current(ctx); err == nil && cur != nil {
			res.status = verificationStatus(cur)
		}
	case !apierrors.IsNotFound(err):
		res.failed = fmt.Errorf("reading the verification Secret %q: %w", v.secretName, err)
		return res
	}
	res.reason, res.message, res.err = pendingCode(res.status, d.now, v.secretName, v.resendHow, failure)
	return res
}

// pendingCode says what a phone waits for and when to look again: the
// code's Secret and expiry, or, once it expired or has no attempts left,
// how to ask for a new one (stalled).
func pendingCode(v *shopv1alpha1.VerificationStatus, now time.Time, secretName, resendHow, failure string) (string, string, error) {
	prefix := ""
	if failure != "" {
		prefix = failure + "; "
	}
	if v.AttemptsLeft <= 0 || (v.ExpiresAt != nil && !now.Before(v.ExpiresAt.Time)) {
		msg := fmt.Sprintf("%sthe verification code sent to %s can no longer be used (expired or no attempts left); ask for a new one: %s",
			prefix, v.Phone, resendHow)
		return shopv1alpha1.ReasonVerificationExpired, msg, stalled(shopv1alpha1.ReasonVerificationExpired, "%s", msg)
	}
	// No poll: the code Secret is watched (labelled, so in the cache) and
	// wakes the owner at once; the only timer is the code's expiry, to say
	// it expired.
	until, poll := "a few minutes", time.Duration(0)
	if v.ExpiresAt != nil {
		until = v.ExpiresAt.UTC().Format(time.RFC3339)
		poll = expiresIn(v.ExpiresAt.Time, now)
	}
	msg := fmt.Sprintf("%san SMS code was sent to %s, valid until %s (%d attempts left): put it in Secret %s, key %s, labelled %s=%s "+
		"(kubectl subaccount verify does it); a new code: %s",
		prefix, v.Phone, until, v.AttemptsLeft, secretName, shopv1alpha1.SecretKeyCode,
		shopv1alpha1.LabelSecretRole, shopv1alpha1.SecretRoleVerification, resendHow)
	return shopv1alpha1.ReasonPendingVerification, msg,
		&outcome{reason: shopv1alpha1.ReasonPendingVerification, message: msg, requeueAfter: poll}
}

// verificationStatus converts the platform's verification state.
func verificationStatus(v *platform.Verification) *shopv1alpha1.VerificationStatus {
	if v == nil {
		return nil
	}
	out := &shopv1alpha1.VerificationStatus{ID: v.ID, Verified: v.Verified, Phone: v.Phone, AttemptsLeft: int32(v.AttemptsLeft)}
	if !v.SentAt.IsZero() {
		out.SentAt = &metav1.Time{Time: v.SentAt}
	}
	if !v.ExpiresAt.IsZero() {
		out.ExpiresAt = &metav1.Time{Time: v.ExpiresAt}
	}
	return out
}

// platformMessage is what the platform said, without the error kind.
func platformMessage(err error) string {
	var pe *platform.Error
	if errors.As(err, &pe) && pe.Message != "" {
		return pe.Message
	}
	return err.Error()
}
