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
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// chatSeatCapacity is a chat seat's reception capacity, 0 without a seat.
func chatSeatCapacity(s *platform.Seat) int32 {
	if s == nil {
		return 0
	}
	return s.Capacity
}

// ensureChatSeatCapacity applies the seat's reception capacity. Where the main
// account sets it (Taobao, Pinduoduo) it went with the account state and is
// only recorded. Where only the sub-account itself may change it (Douyin),
// it is set signed in with the account's own login from its credentials
// Secret, once the account can sign in (phone verified, enabled). When the
// platform refuses that login, a credential check tells a password the
// platform lost (a crash, a change in the back office) from a refusal: the
// former is repaired by setting the Secret's password again. The password
// is never logged or shown.
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
			"%s refused the sub-account's own login (%s, password from Secret %s) when setting its reception capacity to %d: %s",
			cat.Platform, login.Name, sa.Status.SecretName, want, platformMessage(err))
	case err != nil:
		err = platformOutcome("setting the reception capacity as the sub-account", err)
	}
	if err != nil {
		markStep(sa, shopv1alpha1.ConditionSeatCapacityApplied, err, "")
		return err
	}
	from := sa.Status.ChatSeatCapacity
	sa.Status.ChatSeatCapacity = chatSeatCapacity(acct.Seat)
	setCapacityCondition(sa, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
		fmt.Sprintf("reception capacity %d applied by the sub-account itself", sa.Status.ChatSeatCapacity))
	r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "SeatCapacitySet", "SetSeatCapacity",
		"set the reception capacity of %s from %d to %d, signed in as the sub-account itself", sa.Status.LoginName, from, sa.Status.ChatSeatCapacity)
	return nil
}

// chatSeatCapacitySettled sets what needs no platform call: the capacity
// goes with the account state (or there is no chat seat), was applied
// already, waits for the phone verification, or waits for the account to
// be enabled. It reports whether that settled it. It is also what the
// SeatCapacityApplied condition says when an earlier step failed while the
// phone is being verified.
func chatSeatCapacitySettled(s *subAccountScope) bool {
	sa, seat := s.sa, s.desired.Seat
	if !s.cat.SeatCapacityBySubAccount || seat == nil {
		removeCondition(sa, shopv1alpha1.ConditionSeatCapacityApplied)
		if s.caps.AccountSeat || seat == nil {
			sa.Status.ChatSeatCapacity = chatSeatCapacity(seat)
		}
		return true
	}
	want := seat.Capacity
	switch v := sa.Status.Verification; {
	case sa.Status.ChatSeatCapacity == want && !s.stateDrifted():
		setCapacityCondition(sa, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
			fmt.Sprintf("reception capacity %d applied by the sub-account itself", want))
	case v != nil && !v.Verified:
		setCapacityCondition(sa, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification,
			fmt.Sprintf("reception capacity %d is applied with the sub-account's own login once its phone is verified", want))
	case sa.Spec.Disabled:
		// Not an error: a disabled account is what the spec asks for.
		setCapacityCondition(sa, metav1.ConditionFalse, shopv1alpha1.ReasonAccountDisabled,
			fmt.Sprintf("reception capacity %d is applied when the account is enabled: only the sub-account itself may change it, and a disabled account cannot sign in", want))
	default:
		return false
	}
	return true
}

func setCapacityCondition(sa *shopv1alpha1.SubAccount, status metav1.ConditionStatus, reason, msg string) {
	setCondition(sa, shopv1alpha1.ConditionSeatCapacityApplied, status, reason, msg)
}

// ownLogin reads the sub-account's own login from its credentials Secret:
// the username and the password of the revision this reconcile wrote (an
// older one, from a cache that has not seen the write yet, is waited for).
func (r *SubAccountReconciler) ownLogin(ctx context.Context, sa *shopv1alpha1.SubAccount, creds credentials) (platform.SubAccountLogin, error) {
	name := sa.CredentialsSecretName()
	secret := &corev1.Secret{}
	err := r.Get(ctx, client.ObjectKey{Namespace: sa.Namespace, Name: name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return platform.SubAccountLogin{}, waiting(shopv1alpha1.ReasonSecretNotFound,
			"credentials Secret %q, with the sub-account's own login, not found; it is written again", name)
	case err != nil:
		return platform.SubAccountLogin{}, fmt.Errorf("reading the credentials Secret %q: %w", name, err)
	}
	if secret.Annotations[shopv1alpha1.AnnotationLogin] == shopv1alpha1.LoginPending {
		// publishLogin's patch is not in the cache yet.
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
