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

// Douyin's order: the code first, then the account (the Shop's
// status.phoneVerification BeforeCreate). The operator asks the platform
// for a code for the employee's phone; the SubAccount is
// PendingVerification with the masked phone and the expiry; the code
// handed over in the SubAccount's code Secret creates the account, already
// authorised (已授权). Until then there is no account and no seat, and an
// expired code leaves nothing on the platform: the resend annotation asks
// for a new one.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// codeFirst reports whether the SubAccount's account is created only with
// the code sent to its phone. On Douyin it waits while the Shop has not
// said yet how its platform verifies (a Shop from before the field).
func codeFirst(s *subAccountScope) (bool, error) {
	pv := platform.PhoneVerification(s.shop.Status.PhoneVerification)
	switch {
	case pv == platform.PhoneVerificationBeforeCreate && s.caps.RequestCode:
		return true, nil
	case pv == "" && s.shop.Spec.Platform == shopv1alpha1.PlatformDouyin:
		return false, waiting(shopv1alpha1.ReasonShopNotReady,
			"Shop %q has not reported yet how its platform verifies a new account's phone", s.shop.Name)
	}
	return false, nil
}

// createWithCode asks for a code for the account's phone, enters the code
// handed over, and creates the account with it. It returns the outcome
// the SubAccount waits on until the account exists.
func (r *SubAccountReconciler) createWithCode(ctx context.Context, s *subAccountScope) error {
	sa, pc, state := s.sa, s.pc, s.mainAccount()
	phone := state.Profile.Phone
	if v := sa.Status.Verification; v != nil && (v.ID == "" || v.Verified || v.Phone != platform.MaskPhone(phone)) {
		// A code for another phone (the spec changed), or the state of an
		// account that is gone: ask again.
		sa.Status.Verification = nil
	}
	if sa.Status.Verification == nil {
		if err := r.checkAccountQuota(ctx, sa, s.shop); err != nil {
			return err
		}
		got, err := pc.RequestCode(ctx, platform.CodeRequest{Phone: phone}, codeRequestID(sa, phone, sa.Status.LastHandledResend))
		if err != nil {
			return platformOutcome("asking the platform for a verification code", err)
		}
		sa.Status.Verification = verificationStatus(&got)
		r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "CodeSent", "RequestCode",
			"the platform sent a verification code to %s for sub-account %s; the account is created once the code is entered",
			got.Phone, sa.Status.LoginName)
	}

	// The agent's settings start as the spec (and the schedule) say, where
	// the main account may set them.
	w := s.seatWrites()
	var created *platform.Account
	refused := func(err error) {
		// What the platform's refusal means for the code we hold: a wrong
		// code used an attempt; an expired or unknown one is used up.
		v := sa.Status.Verification
		switch {
		case errors.Is(err, platform.ErrCodeExpired):
			v.AttemptsLeft = 0
		case errors.Is(err, platform.ErrInvalid) && platform.FieldOf(err) == "code":
			v.AttemptsLeft = max(v.AttemptsLeft-1, 0)
		}
	}
	res := handleCode(ctx, codeDeps{client: r.Client, connector: r.Connector, recorder: r.Recorder, now: r.now()}, smsCode{
		owner: sa, what: "sub-account " + sa.Status.LoginName, authorised: "is created and authorised (已授权)",
		secretName:  sa.Name + shopv1alpha1.VerificationSecretSuffix,
		resendToken: sa.Annotations[shopv1alpha1.AnnotationResendCode], resendHandled: sa.Status.LastHandledResend,
		resendHow: fmt.Sprintf("kubectl subaccount resend %s (or kubectl annotate subaccount %s %s=$(date +%%s) --overwrite)",
			sa.Name, sa.Name, shopv1alpha1.AnnotationResendCode),
		status: sa.Status.Verification,
		verify: func(ctx context.Context, code string) (*platform.Verification, error) {
			req := platform.CreateAccount{Name: sa.Spec.AccountName, Password: s.creds.password, AccountState: withSeatWrites(state, w),
				Code: &platform.VerificationCode{ID: sa.Status.Verification.ID, Code: code}}
			acct, err := pc.CreateAccount(ctx, req, string(sa.UID))
			if errors.Is(err, platform.ErrNotFound) || (errors.Is(err, platform.ErrInvalid) && platform.FieldOf(err) == "phone") {
				// The platform no longer knows the code, or it went to
				// another phone: only a new code helps.
				err = &platform.Error{Kind: platform.ErrCodeExpired, Field: "code", Message: platformMessage(err) + "; ask for a new code"}
			}
			if err != nil {
				refused(err)
				return nil, err
			}
			created = &acct
			return acct.Verification, nil
		},
		resend: func(ctx context.Context) (*platform.Verification, error) {
			got, err := pc.RequestCode(ctx, platform.CodeRequest{Phone: phone},
				codeRequestID(sa, phone, sa.Annotations[shopv1alpha1.AnnotationResendCode]))
			if err == nil {
				sa.Status.Verification = verificationStatus(&got) // the code entered next goes with this ID
			}
			return &got, err
		},
		// The platform has no account to read the attempts from: ours,
		// counted down by refused.
		current: func(context.Context) (*platform.Verification, error) {
			return statusVerification(sa.Status.Verification), nil
		},
	})
	sa.Status.Verification, sa.Status.LastHandledResend = res.status, res.resendHandled
	switch {
	case res.failed != nil && errors.Is(res.failed, platform.ErrNameTaken):
		return stalled(shopv1alpha1.ReasonNameTaken,
			"account name %q is already used in shop %q by an account this SubAccount did not create; choose another accountName",
			sa.Spec.AccountName, s.shop.Name)
	case res.failed != nil:
		return res.failed
	case created != nil:
		r.recordCreated(sa, s, *created, state, w)
		setCondition(sa, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
			"phone verified; the account was created authorised")
		return nil
	}
	setCondition(sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, res.reason, res.message)
	return res.err
}

// codeRequestID keys a code request, so that a repeat (a status write that
// failed after the platform sent the code) gets the same code, not a
// second SMS: the SubAccount, the phone (as a digest: request IDs end up
// in the platform's logs) and the resend annotation it answers.
func codeRequestID(sa *shopv1alpha1.SubAccount, phone, resend string) string {
	sum := sha256.Sum256([]byte(phone + "\x00" + resend))
	return string(sa.UID) + "/code/" + hex.EncodeToString(sum[:8])
}

// recordCreated records a new account in status and says so in an Event.
func (r *SubAccountReconciler) recordCreated(sa *shopv1alpha1.SubAccount, s *subAccountScope, acct platform.Account,
	state platform.AccountState, w seatWrite) {
	now := metav1.NewTime(r.now())
	sa.Status.AccountID = acct.ID
	sa.Status.Verification = verificationStatus(acct.Verification)
	observeSeat(sa, acct.Seat)
	s.recordSeatWrites(w)
	sa.Status.AppliedHash = accountHash(state)
	sa.Status.PasswordRevision = s.creds.revision
	sa.Status.PasswordSetTime = &now
	authorised := ""
	if acct.Verification != nil && acct.Verification.Verified {
		authorised = ", authorised (已授权) with the code sent to " + acct.Verification.Phone
	}
	r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Created", "CreateAccount",
		"created sub-account %s (ID %s) with %d roles and %d permissions%s",
		sa.Status.LoginName, acct.ID, len(state.RoleIDs), len(sa.Status.EffectivePermissions), authorised)
}

// statusVerification is the platform's form of a status's verification.
func statusVerification(v *shopv1alpha1.VerificationStatus) *platform.Verification {
	if v == nil {
		return nil
	}
	out := &platform.Verification{ID: v.ID, Verified: v.Verified, Phone: v.Phone, AttemptsLeft: int(v.AttemptsLeft)}
	if v.SentAt != nil {
		out.SentAt = v.SentAt.Time
	}
	if v.ExpiresAt != nil {
		out.ExpiresAt = v.ExpiresAt.Time
	}
	return out
}

// expiresIn is how long until t, at least a second (the code's expiry is
// re-checked then, to say it expired).
func expiresIn(t, now time.Time) time.Duration {
	return max(t.Sub(now)+time.Second, time.Second)
}
