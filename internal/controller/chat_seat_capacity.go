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

// A SubAccount's chat seat's reception capacity (not the shop's account
// quota: quota_queue.go).

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// ensureChatSeatCapacity reports, on a platform where only the agent may
// set the reception capacity (Douyin), where it stands against the spec's
// starting value (the SeatCapacityApplied condition). By default the
// operator never acts as an employee: the spec's value is intent only and
// the condition shows the gap, without a retry. Only when the Shop opts in
// (spec.signInAsAgent: StartingCapacity) does it sign in as the agent, with
// the login from the credentials Secret, to set the starting value once per
// spec value, and never to undo the agent's own change; the platform's
// audit records it as made on the agent's behalf. When the platform
// refuses that login, a credential check tells a password the platform
// lost (a crash, a change in the back office) from a refusal: the former
// is repaired by setting the Secret's password again. The password is
// never logged or shown.
func (r *SubAccountReconciler) ensureChatSeatCapacity(ctx context.Context, s *subAccountScope) error {
	if chatSeatCapacitySettled(s) {
		return nil
	}
	sa, pc, caps, cat := s.sa, s.pc, s.caps, s.cat
	want := s.desired.Seat.Capacity
	login, err := r.ownLogin(ctx, sa, s.creds)
	if err != nil {
		markStep(sa, shopv1alpha1.ConditionSeatCapacityApplied, err, "")
		return err
	}
	acct, err := pc.SetSeatCapacity(ctx, sa.Status.AccountID, want, login)
	if errors.Is(err, platform.ErrUnauthorized) && caps.CheckCredentials && caps.SetPassword {
		var repaired bool
		if repaired, err = r.repairPassword(ctx, s, login, err); repaired {
			acct, err = pc.SetSeatCapacity(ctx, sa.Status.AccountID, want, login)
		}
	}
	switch {
	case errors.Is(err, platform.ErrUnauthorized):
		err = stalled(shopv1alpha1.ReasonLoginRejected,
			"%s refused the sub-account's own login (%s, password from Secret %s) when setting its starting reception capacity to %d on its behalf: %s",
			cat.Platform, login.Name, sa.Status.SecretName, want, platformMessage(err))
	case err != nil:
		err = platformOutcome("setting the starting reception capacity on the agent's behalf", err)
	}
	if err != nil {
		markStep(sa, shopv1alpha1.ConditionSeatCapacityApplied, err, "")
		return err
	}
	from := sa.Status.ChatSeatCapacity
	observeSeat(sa, acct.Seat)
	start := &shopv1alpha1.SeatStartStatus{Capacity: want, Presence: shopv1alpha1.Presence(s.desired.Seat.Presence)}
	if old := sa.Status.SeatStart; old != nil {
		start.Presence = old.Presence
	}
	sa.Status.SeatStart = start
	setCapacityCondition(sa, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
		fmt.Sprintf("starting reception capacity %d set on the agent's behalf, signed in with its login (the Shop's signInAsAgent: StartingCapacity)", want))
	r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "SeatCapacitySet", "SetSeatCapacity",
		"set the starting reception capacity of %s from %d to %d on the agent's behalf, signed in with its login (the Shop's signInAsAgent: StartingCapacity)",
		sa.Status.LoginName, from, sa.Status.ChatSeatCapacity)
	return nil
}

// chatSeatCapacitySettled sets the SeatCapacityApplied condition where no
// platform call is to be made: the main account sets the capacity (or
// there is no chat seat), the agent's capacity is the spec's, the spec's
// value is intent only (no opt-in), it was set once already (the agent's
// later change stands), or, under the opt-in, it waits for the phone
// verification or for the account to be enabled. It reports whether that
// settled it. It is also what the condition says when an earlier step
// failed while the phone is being verified.
func chatSeatCapacitySettled(s *subAccountScope) bool {
	sa, seat := s.sa, s.desired.Seat
	if !s.cat.SeatCapacityBySubAccount || seat == nil {
		removeCondition(sa, shopv1alpha1.ConditionSeatCapacityApplied)
		return true
	}
	want, have := seat.Capacity, sa.Status.ChatSeatCapacity
	started := sa.Status.SeatStart != nil && sa.Status.SeatStart.Capacity == want
	switch v := sa.Status.Verification; {
	case started && have == want:
		setCapacityCondition(sa, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
			fmt.Sprintf("starting reception capacity %d set on the agent's behalf, signed in with its login (the Shop's signInAsAgent: StartingCapacity)", want))
	case have == want:
		setCapacityCondition(sa, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
			fmt.Sprintf("reception capacity %d, as the spec asks", want))
	case s.shop.Spec.SignInAsAgent != shopv1alpha1.SignInAsAgentStartingCapacity:
		setCapacityCondition(sa, metav1.ConditionFalse, shopv1alpha1.ReasonAgentOwned,
			fmt.Sprintf("%s lets only the agent set the reception capacity (接待人数), in the chat client; the main account can only see it. "+
				"The spec's %d is intent only; the agent's is %d. Nothing is retried: the operator does not sign in as the agent (the Shop's spec.signInAsAgent is Never)",
				s.cat.Platform, want, have))
	case started:
		setCapacityCondition(sa, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
			fmt.Sprintf("starting reception capacity %d was set on the agent's behalf; the agent has since set %d, which stands", want, have))
	case v != nil && !v.Verified:
		setCapacityCondition(sa, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification,
			fmt.Sprintf("starting reception capacity %d is set on the agent's behalf once its phone is verified", want))
	case sa.Spec.Disabled:
		// Not an error: a disabled account is what the spec asks for.
		setCapacityCondition(sa, metav1.ConditionFalse, shopv1alpha1.ReasonAccountDisabled,
			fmt.Sprintf("starting reception capacity %d is set on the agent's behalf when the account is enabled: a disabled account cannot sign in", want))
	default:
		return false
	}
	return true
}

func setCapacityCondition(sa *shopv1alpha1.SubAccount, status metav1.ConditionStatus, reason, msg string) {
	setCondition(sa, shopv1alpha1.ConditionSeatCapacityApplied, status, reason, msg)
}

// ownLogin reads the sub-account's own login from its credentials Secret
// (credentialsSecret: from the API server): the username and the password
// of the revision this reconcile wrote (an older one is waited for).
func (r *SubAccountReconciler) ownLogin(ctx context.Context, sa *shopv1alpha1.SubAccount, creds credentials) (platform.SubAccountLogin, error) {
	name := sa.CredentialsSecretName()
	secret, err := r.credentialsSecret(ctx, sa)
	switch {
	case apierrors.IsNotFound(err):
		return platform.SubAccountLogin{}, waiting(shopv1alpha1.ReasonSecretNotFound,
			"credentials Secret %q, with the sub-account's own login, not found; it is written again", name)
	case err != nil:
		return platform.SubAccountLogin{}, fmt.Errorf("reading the credentials Secret %q: %w", name, err)
	}
	if secret.Annotations[shopv1alpha1.AnnotationLogin] == shopv1alpha1.LoginPending {
		// publishLogin has not marked it live yet.
		return platform.SubAccountLogin{}, &outcome{reason: shopv1alpha1.ReasonProgressing, requeueAfter: time.Second,
			message: fmt.Sprintf("waiting to read the live login of Secret %q", name)}
	}
	for _, key := range []string{shopv1alpha1.SecretKeyUsername, shopv1alpha1.SecretKeyPassword} {
		if len(secret.Data[key]) == 0 {
			return platform.SubAccountLogin{}, stalled(shopv1alpha1.ReasonSecretInvalid,
				"credentials Secret %q has no key %q: the sub-account's own login is needed to set its reception capacity", name, key)
		}
	}
	if rev, _ := strconv.ParseInt(secret.Annotations[shopv1alpha1.AnnotationPasswordRevision], 10, 64); rev != creds.revision {
		return platform.SubAccountLogin{}, &outcome{reason: shopv1alpha1.ReasonProgressing, requeueAfter: time.Second,
			message: fmt.Sprintf("waiting to read password revision %d of Secret %q", creds.revision, name)}
	}
	return platform.SubAccountLogin{Name: string(secret.Data[shopv1alpha1.SecretKeyUsername]),
		Password: string(secret.Data[shopv1alpha1.SecretKeyPassword])}, nil
}

// repairPassword runs the credential check after the platform refused the
// sub-account's own login: when the Secret's password does not log in
// although the account can sign in, the platform has lost it (a crash
// between the Secret and the platform, a change in the back office), so it
// is set again. It reports whether it repaired anything; otherwise it
// returns refused, the original refusal.
func (r *SubAccountReconciler) repairPassword(ctx context.Context, s *subAccountScope, login platform.SubAccountLogin, refused error) (bool, error) {
	sa, pc := s.sa, s.pc
	ok, err := pc.CheckCredentials(ctx, login.Name, login.Password)
	if err != nil {
		return false, platformOutcome("checking the sub-account's own login", err)
	}
	if ok {
		return false, refused
	}
	if err := pc.SetPassword(ctx, sa.Status.AccountID, login.Password); err != nil {
		return false, platformOutcome("setting the password again", err)
	}
	now := metav1.NewTime(r.now())
	sa.Status.PasswordSetTime = &now
	r.Recorder.Eventf(sa, nil, corev1.EventTypeWarning, "PasswordRepaired", "SetPassword",
		"the password in Secret %s did not log in to %s; set it on the platform again", sa.Status.SecretName, sa.Status.LoginName)
	return true, nil
}
