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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// handOver puts a verification code where the operator looks for it and
// waits until the operator has consumed (deleted) it.
func handOver(t *testing.T, sa *shopv1alpha1.SubAccount, code string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: sa.Namespace, Name: sa.Name + shopv1alpha1.VerificationSecretSuffix,
		Labels: map[string]string{shopv1alpha1.LabelSecretRole: "verification"}},
		StringData: map[string]string{shopv1alpha1.SecretKeyCode: code}}
	create(t, s)
	NewWithT(t).Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(context.Background(), client.ObjectKeyFromObject(s), &corev1.Secret{}))
	}, timeout, interval).Should(BeTrue(), "the code Secret was never consumed")
}

// Douyin's SMS verification: pending with where to put the code; a wrong
// code costs an attempt and is never retried; a new code on request; the
// right one authorises the account. The code never shows up anywhere.
func TestDouyinPhoneVerification(t *testing.T) {
	g := NewWithT(t)
	ts, sa := pendingDouyinAgent(t)
	phone := sa.Spec.Phone

	cond := waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	g.Expect(cond.Message).To(ContainSubstring("5 attempts left"))
	g.Expect(cond.Message).To(ContainSubstring(sa.Name + "-verification"))
	g.Expect(cond.Message).To(ContainSubstring(phone[:3] + "****" + phone[len(phone)-4:]))
	g.Expect(sa.Status.Verification).NotTo(BeNil())
	g.Expect(sa.Status.Verification.Verified).To(BeFalse())
	first, _, ok := engine.SMS(phone)
	g.Expect(ok).To(BeTrue())
	g.Expect(cond.Message).NotTo(ContainSubstring(first))

	wrong := "000000"
	if first == wrong {
		wrong = "111111"
	}
	handOver(t, sa, wrong)
	cond = waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	g.Eventually(func() int32 {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return sa.Status.Verification.AttemptsLeft
	}, timeout, interval).Should(BeEquivalentTo(4))
	g.Expect(eventsFor(t, sa)).To(ContainElement(HaveField("Reason", "VerificationFailed")))

	// A new code on request (the platform allows one a minute: move the clock).
	setClock(t, time.Now().Add(2*time.Minute))
	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Annotations = map[string]string{shopv1alpha1.AnnotationResendCode: "1"}
	})
	var second string
	g.Eventually(func() string { second, _, _ = engine.SMS(phone); return second }, timeout, interval).ShouldNot(Equal(first))
	g.Eventually(func() int32 {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return sa.Status.Verification.AttemptsLeft
	}, timeout, interval).Should(BeEquivalentTo(5))

	handOver(t, sa, second)
	waitCurrent(t, sa)
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(sa.Status.Verification.Verified).To(BeTrue())
	g.Expect(mustAccount(t, ts, sa.Spec.AccountName).Verification.Verified).To(BeTrue())
	for _, e := range eventsFor(t, sa) {
		g.Expect(e.Note).NotTo(ContainSubstring(first))
		g.Expect(e.Note).NotTo(ContainSubstring(second))
	}
}

// An expired code stalls with how to get a new one.
func TestDouyinVerificationExpires(t *testing.T) {
	g := NewWithT(t)
	_, sa := pendingDouyinAgent(t)
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	setClock(t, time.Now().Add(6*time.Minute))
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Labels = map[string]string{"touched": "1"} })
	cond := waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonVerificationExpired)
	g.Expect(cond.Message).To(ContainSubstring(shopv1alpha1.AnnotationResendCode))
}

// verifyPhone enters the SMS code the platform sent to a Douyin
// SubAccount's phone, as the employee would.
func verifyPhone(t *testing.T, sa *shopv1alpha1.SubAccount) {
	t.Helper()
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	code, _, ok := engine.SMS(sa.Spec.Phone)
	NewWithT(t).Expect(ok).To(BeTrue(), "no SMS was sent to %s", sa.Spec.Phone)
	handOver(t, sa, code)
}

// pendingDouyinAgent creates a Douyin agent whose account awaits its code.
func pendingDouyinAgent(t *testing.T) (testShop, *shopv1alpha1.SubAccount) {
	t.Helper()
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Douyin, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	sa := newSubAccount(ns, "agent", "cs")
	sa.Spec.Phone = uniquePhone()
	create(t, sa)
	return ts, sa
}
