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

// codeUse is one thing the platform does only with the code it texted to
// a phone: create the account, or change its phone.
type codeUse struct {
	// req is the code's request: the phone, and the account whose phone
	// changes ("" to create one).
	req platform.CodeRequest
	// what names the phone's holder and then what the accepted code does,
	// for the CodeSent Event ("... sent a verification code to
	// 138****8000 for <what>; <then> once the code is entered").
	what, then string
	// authorised is what the accepted code did, for the Verified Event.
	authorised string
	// beforeRequest runs before a code is asked for (the seat check of a
	// new account); nil: nothing.
	beforeRequest func() error
	// enter hands the code to the platform; it returns the account.
	enter func(ctx context.Context, code platform.VerificationCode) (platform.Account, error)
}

// useCode asks for a code for u's phone (once: status.verification
// remembers the pending one), enters the code handed over in the
// SubAccount's code Secret, and returns the account once the platform
// accepted it. Until then it returns the outcome the SubAccount waits on
// (PendingVerification, or VerificationExpired once the code is used up,
// with the Verified condition saying so).
func (r *SubAccountReconciler) useCode(ctx context.Context, s *subAccountScope, u codeUse) (*platform.Account, error) {
	sa, pc := s.sa, s.pc
	phone := u.req.Phone
	if v := sa.Status.Verification; v == nil || v.ID == "" || v.Verified || v.Phone != platform.MaskPhone(phone) {
		// No code asked for this phone yet: none, one for another phone
		// (the spec changed), or the state of an account verified before
		// (a phone change keeps showing it until the new code is sent) or
		// gone (a new account shows nothing of it).
		if u.req.AccountID == "" {
			sa.Status.Verification = nil
		}
		if u.beforeRequest != nil {
			if err := u.beforeRequest(); err != nil {
				return nil, err
			}
		}
		got, err := pc.RequestCode(ctx, u.req, codeRequestID(sa, phone, sa.Status.LastHandledResend))
		if err != nil {
			return nil, platformOutcome("asking the platform for a verification code", err)
		}
		sa.Status.Verification = verificationStatus(&got)
		r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "CodeSent", "RequestCode",
			"the platform sent a verification code to %s for %s; %s once the code is entered", got.Phone, u.what, u.then)
	}

	var accepted *platform.Account
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
		owner: sa, what: u.what, authorised: u.authorised,
		secretName:  sa.Name + shopv1alpha1.VerificationSecretSuffix,
		resendToken: sa.Annotations[shopv1alpha1.AnnotationResendCode], resendHandled: sa.Status.LastHandledResend,
		resendHow: fmt.Sprintf("kubectl subaccount resend %s (or kubectl annotate subaccount %s %s=$(date +%%s) --overwrite)",
			sa.Name, sa.Name, shopv1alpha1.AnnotationResendCode),
		status: sa.Status.Verification,
		verify: func(ctx context.Context, code string) (*platform.Verification, error) {
			acct, err := u.enter(ctx, platform.VerificationCode{ID: sa.Status.Verification.ID, Code: code})
			if (errors.Is(err, platform.ErrNotFound) && (u.req.AccountID == "" || platform.FieldOf(err) == "verification")) ||
				(errors.Is(err, platform.ErrInvalid) && platform.FieldOf(err) == "phone") {
				// The platform no longer knows the code, or it went to
				// another phone: only a new code helps.
				err = &platform.Error{Kind: platform.ErrCodeExpired, Field: "code", Message: platformMessage(err) + "; ask for a new code"}
			}
			if err != nil {
				refused(err)
				return nil, err
			}
			accepted = &acct
			return acct.Verification, nil
		},
		resend: func(ctx context.Context) (*platform.Verification, error) {
			got, err := pc.RequestCode(ctx, u.req, codeRequestID(sa, phone, sa.Annotations[shopv1alpha1.AnnotationResendCode]))
			if err == nil {
				sa.Status.Verification = verificationStatus(&got) // the code entered next goes with this ID
			}
			return &got, err
		},
		// The platform has no record to read the attempts from (no account,
		// or not its phone yet): ours, counted down by refused.
		current: func(context.Context) (*platform.Verification, error) {
			return statusVerification(sa.Status.Verification), nil
		},
	})
	sa.Status.Verification, sa.Status.LastHandledResend = res.status, res.resendHandled
	switch {
	case res.failed != nil:
		return nil, res.failed
	case accepted != nil:
		return accepted, nil
	}
	setCondition(sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, res.reason, res.message)
	return nil, res.err
}

// createWithCode asks for a code for the account's phone, enters the code
// handed over, and creates the account with it. It returns the outcome
// the SubAccount waits on until the account exists.
func (r *SubAccountReconciler) createWithCode(ctx context.Context, s *subAccountScope) error {
	sa, pc, state := s.sa, s.pc, s.mainAccount()
	// The agent's settings start as the spec (and the schedule) say, where
	// the main account may set them.
	w := s.seatWrites()
	var began time.Time // zero: the create may have begun at any time
	created, err := r.useCode(ctx, s, codeUse{
		req:  platform.CodeRequest{Phone: state.Profile.Phone},
		what: "sub-account " + sa.Status.LoginName, then: "the account is created", authorised: "is created and authorised (已授权)",
		beforeRequest: func() error { return r.checkAccountQuota(ctx, sa, s.shop) },
		enter: func(ctx context.Context, code platform.VerificationCode) (platform.Account, error) {
			req := platform.CreateAccount{Name: sa.Spec.AccountName, Password: s.creds.password, AccountState: withSeatWrites(state, w),
				Code: &code}
			began = r.now()
			return pc.CreateAccount(ctx, req, string(sa.UID))
		},
	})
	switch {
	case err != nil && errors.Is(err, platform.ErrNameTaken):
		return stalled(shopv1alpha1.ReasonNameTaken,
			"account name %q is already used in shop %q by an account this SubAccount did not create; choose another accountName",
			sa.Spec.AccountName, s.shop.Name)
	case err != nil:
		return err
	}
	r.recordCreated(sa, s, *created, state, w, began)
	setCondition(sa, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
		"phone verified; the account was created authorised")
	return nil
}

// phoneChangeNeedsCode says whether changing an existing account's phone
// from current to the spec's needs the code texted to the new phone
// (ChangePhone) rather than an UpdateAccount: on a platform that verifies
// phones first, as Douyin does.
func phoneChangeNeedsCode(s *subAccountScope, current platform.AccountState) (bool, error) {
	want := s.desired.Profile.Phone
	if want == "" || want == current.Profile.Phone {
		return false, nil
	}
	return codeFirst(s)
}

// changePhoneWithCode changes the account's phone to the spec's with the
// code texted to the new phone: the SubAccount is PendingVerification for
// the new phone (masked) until the code handed over is accepted; the old
// phone stays on the platform until then, and an expired code
// (VerificationExpired) changes nothing. hash is the applied hash once the
// phone is changed. A gateway without the phone change (NotSupported)
// stalls the SubAccount with the back-office step.
func (r *SubAccountReconciler) changePhoneWithCode(ctx context.Context, s *subAccountScope, oldPhone, hash string) error {
	sa, pc := s.sa, s.pc
	phone := s.desired.Profile.Phone
	acct, err := r.useCode(ctx, s, codeUse{
		req:  platform.CodeRequest{Phone: phone, AccountID: sa.Status.AccountID},
		what: "sub-account " + sa.Status.LoginName, authorised: "now has this phone",
		then: "the phone changes from " + platform.MaskPhone(oldPhone),
		enter: func(ctx context.Context, code platform.VerificationCode) (platform.Account, error) {
			return pc.ChangePhone(ctx, sa.Status.AccountID, code)
		},
	})
	if errors.Is(err, platform.ErrNotSupported) {
		sa.Status.Verification = &shopv1alpha1.VerificationStatus{Verified: true, Phone: platform.MaskPhone(oldPhone)}
		return stalled(shopv1alpha1.ReasonNotSupported,
			"the platform's gateway cannot change a phone with a verification code (it predates the phone change): "+
				"change sub-account %s's phone from %s to %s in %s's back office (edit the sub-account; the new phone receives a code there). "+
				"The operator sees the new phone at the Shop's next drift check; until then the account keeps %s",
			sa.Status.LoginName, platform.MaskPhone(oldPhone), platform.MaskPhone(phone), s.shop.Spec.Platform, platform.MaskPhone(oldPhone))
	}
	if err != nil {
		return err
	}
	sa.Status.Verification = verificationStatus(acct.Verification)
	if sa.Status.Verification == nil {
		sa.Status.Verification = &shopv1alpha1.VerificationStatus{Verified: true, Phone: platform.MaskPhone(phone)}
	}
	sa.Status.AppliedHash = hash
	r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "PhoneChanged", "ChangePhone",
		"changed sub-account %s's phone from %s to %s with the code sent to the new phone", sa.Status.LoginName,
		platform.MaskPhone(oldPhone), platform.MaskPhone(phone))
	setCondition(sa, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
		"phone "+platform.MaskPhone(phone)+" verified; the account's phone was changed with its code")
	return nil
}

// phoneChangeDropped forgets a pending phone change the spec no longer
// asks for (the phone set back to the account's): the account's phone is
// verified, as it was.
func phoneChangeDropped(sa *shopv1alpha1.SubAccount, phone string) {
	if v := sa.Status.Verification; sa.Status.AccountID != "" && v != nil && v.ID != "" && !v.Verified {
		sa.Status.Verification = &shopv1alpha1.VerificationStatus{Verified: true, Phone: platform.MaskPhone(phone)}
	}
}

// codeRequestID keys a code request, so that a repeat (a status write that
// failed after the platform sent the code) gets the same code, not a
// second SMS: the SubAccount, the phone (as a digest: request IDs end up
// in the platform's logs) and the resend annotation it answers.
func codeRequestID(sa *shopv1alpha1.SubAccount, phone, resend string) string {
	sum := sha256.Sum256([]byte(phone + "\x00" + resend))
	return string(sa.UID) + "/code/" + hex.EncodeToString(sum[:8])
}

// recordCreated records a new account in status and says so in an Event;
// began is when the call that created it began (zero when not known).
func (r *SubAccountReconciler) recordCreated(sa *shopv1alpha1.SubAccount, s *subAccountScope, acct platform.Account,
	state platform.AccountState, w seatWrite, began time.Time) {
	now := metav1.NewTime(r.now())
	// Until the cache shows status.accountID, the Shop's seat count must
	// not take this account for nobody's (createdNotHeld).
	r.Drift.accountCreated(sa, began, now.Time)
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
