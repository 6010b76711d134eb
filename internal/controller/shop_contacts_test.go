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

// handOverContact puts a contact's code where the operator looks for it
// and waits until it was consumed.
func handOverContact(t *testing.T, shop *shopv1alpha1.Shop, phone, code string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: shop.Namespace, Name: shop.ContactSecretName(phone),
		Labels: map[string]string{shopv1alpha1.LabelSecretRole: "verification"}},
		StringData: map[string]string{shopv1alpha1.SecretKeyCode: code}}
	create(t, s)
	NewWithT(t).Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(context.Background(), client.ObjectKeyFromObject(s), &corev1.Secret{}))
	}, timeout, interval).Should(BeTrue(), "the code Secret was never consumed")
}

func contactStatus(t *testing.T, shop *shopv1alpha1.Shop, name string) shopv1alpha1.ContactStatus {
	t.Helper()
	_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(shop), shop)
	for _, c := range shop.Status.NotificationContacts {
		if c.Name == name {
			return c
		}
	}
	return shopv1alpha1.ContactStatus{}
}

// Notification contacts are verified exactly as a Douyin sub-account's
// phone: pending with where the code goes and until when, a wrong code
// costs an attempt and is consumed, a new code on request (one a minute),
// expiry stalls the contact (not the Shop), the right code verifies. A
// contact the spec drops is removed from the platform.
func TestShopNotificationContacts(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	duty, boss := uniquePhone(), "+86"+uniquePhone()
	ts := newShop(t, ns, platform.Douyin, 10, func(s *shopv1alpha1.Shop) {
		s.Spec.NotificationContacts = []shopv1alpha1.NotificationContact{{Name: "值班", Phone: duty}}
	})
	shop := &shopv1alpha1.Shop{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
	cond := waitCondition(t, shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	g.Expect(cond.Message).To(ContainSubstring("值班: an SMS code was sent to " + duty[:3] + "****" + duty[len(duty)-4:]))
	g.Expect(cond.Message).To(ContainSubstring("5 attempts left"))
	g.Expect(cond.Message).To(ContainSubstring("shop-contact-" + duty + "-verification"))
	waitCondition(t, shop, shopv1alpha1.ConditionReady, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	st := contactStatus(t, shop, "值班")
	g.Expect(st.Verification.Verified).To(BeFalse())
	g.Expect(st.Verification.AttemptsLeft).To(BeEquivalentTo(5))
	g.Expect(st.Verification.ExpiresAt).NotTo(BeNil())
	first, _, ok := engine.SMS(duty)
	g.Expect(ok).To(BeTrue())
	g.Expect(cond.Message).NotTo(ContainSubstring(first))

	wrong := "000000"
	if first == wrong {
		wrong = "111111"
	}
	handOverContact(t, shop, duty, wrong)
	g.Eventually(func() int32 { return contactStatus(t, shop, "值班").Verification.AttemptsLeft }, timeout, interval).Should(BeEquivalentTo(4))
	eventuallyEvents(t, shop, ContainElement(HaveField("Reason", "VerificationFailed")))

	// A new code asked for within the minute: the platform's refusal is
	// reported on the contact; the Shop stays Ready.
	update(t, shop, func(s *shopv1alpha1.Shop) {
		s.Annotations = map[string]string{shopv1alpha1.ContactResendAnnotation(duty): "0"}
	})
	cond = waitCondition(t, shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionFalse, shopv1alpha1.ReasonRateLimited)
	g.Expect(cond.Message).To(ContainSubstring("值班: asking for a new verification code: "))
	g.Expect(cond.Message).To(ContainSubstring("a code was sent less than a minute ago"))
	waitCondition(t, shop, shopv1alpha1.ConditionReady, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)

	// A new code on request, once the minute is over.
	setClock(t, time.Now().Add(2*time.Minute))
	update(t, shop, func(s *shopv1alpha1.Shop) {
		s.Annotations = map[string]string{shopv1alpha1.ContactResendAnnotation(duty): "1"}
	})
	var second string
	g.Eventually(func() string { second, _, _ = engine.SMS(duty); return second }, timeout, interval).ShouldNot(Equal(first))
	g.Eventually(func() int32 { return contactStatus(t, shop, "值班").Verification.AttemptsLeft }, timeout, interval).Should(BeEquivalentTo(5))
	g.Expect(contactStatus(t, shop, "值班").LastHandledResend).To(Equal("1"))

	handOverContact(t, shop, duty, second)
	waitCondition(t, shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(contactStatus(t, shop, "值班").Verification.Verified).To(BeTrue())
	g.Expect(ts.client(t).ListContacts(ctx)).To(ConsistOf(HaveField("Verification.Verified", true)))

	// A new name is a rename on the platform: still verified, no new code.
	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.NotificationContacts[0].Name = "值班客服" })
	g.Eventually(func() []platform.Contact { return engine.Contacts(ts.platform, ts.main) }, timeout, interval).Should(
		ConsistOf(And(HaveField("Name", "值班客服"), HaveField("Verification.Verified", true))))
	g.Eventually(func() bool { return contactStatus(t, shop, "值班客服").Verification.Verified }, timeout, interval).Should(BeTrue())
	code, _, _ := engine.SMS(duty)
	g.Expect(code).To(Equal(second), "no code was sent for a rename")

	// A second contact lets its code expire: it stalls, the Shop stays Ready.
	update(t, shop, func(s *shopv1alpha1.Shop) {
		s.Spec.NotificationContacts = append(s.Spec.NotificationContacts, shopv1alpha1.NotificationContact{Name: "店长", Phone: boss})
	})
	waitCondition(t, shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	setClock(t, time.Now().Add(10*time.Minute))
	update(t, shop, func(s *shopv1alpha1.Shop) { s.Labels = map[string]string{"touched": "1"} })
	cond = waitCondition(t, shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionFalse, shopv1alpha1.ReasonVerificationExpired)
	g.Expect(cond.Message).To(ContainSubstring("店长: "))
	g.Expect(cond.Message).To(ContainSubstring("kubectl annotate shop shop " + shopv1alpha1.ContactResendAnnotation(boss)))
	waitCondition(t, shop, shopv1alpha1.ConditionReady, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)

	// Dropping the contacts removes them from the platform.
	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.NotificationContacts = nil })
	g.Eventually(func() []platform.Contact { return engine.Contacts(ts.platform, ts.main) }, timeout, interval).Should(BeEmpty())
	g.Eventually(func() []metav1.Condition {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(shop), shop)
		return shop.Status.Conditions
	}, timeout, interval).ShouldNot(ContainElement(HaveField("Type", shopv1alpha1.ConditionContactsVerified)))
	for _, e := range eventsFor(t, shop) {
		g.Expect(e.Note).NotTo(ContainSubstring(first))
		g.Expect(e.Note).NotTo(ContainSubstring(second))
	}
}

// What a department or contact write meets is sorted: a transient platform
// failure fails the reconcile; a refusal or a rate limit is reported on the
// step's condition with the first reason, and looked at again after the
// soonest wait.
func TestSideIssues(t *testing.T) {
	g := NewWithT(t)
	var s sideIssues
	transient := platformOutcome("creating department 客服部", platform.NewError(platform.ErrTransient, "", "gateway down"))
	g.Expect(s.add(transient)).To(MatchError(ContainSubstring("gateway down")))
	g.Expect(s.add(errors.New("reading a Secret: timeout"))).To(HaveOccurred(), "not a platform outcome: fails the reconcile")
	g.Expect(s.lines).To(BeEmpty())

	refused := platformOutcome("creating department 客服部", platform.NewError(platform.ErrInvalid, "name", "too long"))
	g.Expect(s.add(refused)).To(Succeed())
	limited := platformOutcome("asking for a new verification code",
		&platform.Error{Kind: platform.ErrRateLimited, RetryAfter: 42 * time.Second, Message: "too soon"})
	g.Expect(s.add(limited)).To(Succeed())
	g.Expect(s.reason).To(Equal(shopv1alpha1.ReasonPlatformRejected), "the first reason")
	g.Expect(s.lines).To(HaveLen(2))
	g.Expect(s.lines[1]).To(ContainSubstring("too soon"))
	g.Expect(s.next).To(Equal(42 * time.Second))
}
