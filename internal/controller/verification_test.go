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
	apimeta "k8s.io/apimachinery/pkg/api/meta"
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
	// The code comes first: the SubAccount shows the masked phone and the
	// expiry, and the platform has no account (no seat) yet.
	waitCondition(t, sa, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	g.Expect(sa.Status.Verification.ExpiresAt).NotTo(BeNil())
	g.Expect(sa.Status.Verification.Phone).To(Equal(phone[:3] + "****" + phone[len(phone)-4:]))
	g.Expect(sa.Status.AccountID).To(BeEmpty())
	_, exists := ts.account(t, sa.Spec.AccountName)
	g.Expect(exists).To(BeFalse(), "an account exists before its code was entered")
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
	eventuallyEvents(t, sa, ContainElement(HaveField("Reason", "VerificationFailed")))
	_, exists = ts.account(t, sa.Spec.AccountName)
	g.Expect(exists).To(BeFalse(), "a wrong code created the account")

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
// Nothing is left on the platform; resend asks for a new code, whose
// entry creates the account.
func TestDouyinVerificationExpires(t *testing.T) {
	g := NewWithT(t)
	ts, sa := pendingDouyinAgent(t)
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	first, _, _ := engine.SMS(sa.Spec.Phone)
	setClock(t, time.Now().Add(6*time.Minute))
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Labels = map[string]string{"touched": "1"} })
	cond := waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonVerificationExpired)
	g.Expect(cond.Message).To(ContainSubstring(shopv1alpha1.AnnotationResendCode))
	g.Expect(cond.Message).To(ContainSubstring("kubectl subaccount resend " + sa.Name))
	_, exists := ts.account(t, sa.Spec.AccountName)
	g.Expect(exists).To(BeFalse(), "an expired code left an account on the platform")
	g.Expect(engine.Shops()).To(ContainElement(SatisfyAll(HaveField("MainAccount", ts.main), HaveField("SeatsUsed", BeZero()))))

	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Annotations = map[string]string{shopv1alpha1.AnnotationResendCode: "again"}
	})
	var second string
	g.Eventually(func() string { second, _, _ = engine.SMS(sa.Spec.Phone); return second }, timeout, interval).ShouldNot(Equal(first))
	waitCondition(t, sa, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	handOver(t, sa, second)
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(mustAccount(t, ts, sa.Spec.AccountName).Verification.Verified).To(BeTrue())
}

// touchObject changes a label of obj, which wakes its reconcile.
func touchObject(t *testing.T, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	NewWithT(t).Eventually(func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels["touched"] = time.Now().Format("150405.000000")
		obj.SetLabels(labels)
		return k8s.Update(ctx, obj)
	}, timeout, interval).Should(Succeed())
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

// Issue 15, item 1: a Secret named like a code Secret but not labelled as
// one is neither read nor deleted, for a SubAccount and for a Shop's
// notification contact; the condition says why the code is not taken
// without showing the Secret's content. Labelled, the same Secret is
// taken.
func TestUnlabelledVerificationSecretIsLeftAlone(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	duty := uniquePhone()
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Douyin, 10, func(s *shopv1alpha1.Shop) {
		s.Spec.NotificationContacts = []shopv1alpha1.NotificationContact{{Name: "值班", Phone: duty}}
	})
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	sa := newSubAccount(ns, "agent", "cs")
	sa.Spec.Phone = uniquePhone()
	create(t, sa)
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	shop := &shopv1alpha1.Shop{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
	waitCondition(t, shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)

	for _, c := range []struct {
		owner      conditioned
		condition  string
		secretName string
		phone      string
	}{
		{sa, shopv1alpha1.ConditionVerified, sa.Name + shopv1alpha1.VerificationSecretSuffix, sa.Spec.Phone},
		{shop, shopv1alpha1.ConditionContactsVerified, shop.ContactSecretName(duty), duty},
	} {
		code, _, ok := engine.SMS(c.phone)
		g.Expect(ok).To(BeTrue())
		// Someone else's Secret that happens to have this name, even with
		// the right code in it.
		other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: c.secretName,
			Labels: map[string]string{"app": "webhook"}},
			StringData: map[string]string{shopv1alpha1.SecretKeyCode: code}}
		create(t, other)
		// Not a code Secret, so not watched: the next reconcile (here a
		// touched label) leaves it alone and says why.
		touchObject(t, c.owner)
		g.Eventually(func() string {
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(c.owner), c.owner)
			return conditionMessage(c.owner, c.condition)
		}, timeout, interval).Should(ContainSubstring("Secret "+c.secretName+" is not labelled shop.subaccount.io/secret=verification, so it is left alone"),
			"the condition says why the code is not taken")
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(other), &corev1.Secret{})).To(Succeed(), "the unlabelled Secret was deleted")
		g.Expect(conditionMessage(c.owner, c.condition)).NotTo(ContainSubstring(code))
		v, _, _ := engine.SMS(c.phone)
		g.Expect(v).To(Equal(code), "no new code was asked for")

		// Opting in is a label; the same Secret is then taken.
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(other), other)).To(Succeed())
		other.Labels[shopv1alpha1.LabelSecretRole] = shopv1alpha1.SecretRoleVerification
		g.Expect(k8s.Update(ctx, other)).To(Succeed())
		g.Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(other), &corev1.Secret{}))
		}, timeout, interval).Should(BeTrue(), "the labelled code Secret was never consumed")
		waitCondition(t, c.owner, c.condition, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	}
	g.Expect(mustAccount(t, ts, sa.Spec.AccountName).Verification.Verified).To(BeTrue())
}

// conditionMessage is the message of obj's condition of that type, or "".
func conditionMessage(obj conditioned, condType string) string {
	if c := apimeta.FindStatusCondition(obj.GetConditions(), condType); c != nil {
		return c.Message
	}
	return ""
}

// masked is a phone as the platform and status show it (138****8000).
func masked(phone string) string { return platform.MaskPhone(phone) }

// verifiedDouyinAgent is a Douyin agent whose account was created with its
// code, Ready.
func verifiedDouyinAgent(t *testing.T) (testShop, *shopv1alpha1.SubAccount) {
	t.Helper()
	ts, sa := pendingDouyinAgent(t)
	verifyPhone(t, sa)
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	waitCurrent(t, sa)
	return ts, sa
}

// A phone change on a Douyin account needs a code for the new phone, the
// way creation does: PendingVerification with the new phone masked and
// the expiry, the old phone kept on the platform meanwhile (other changes
// of the same edit applied at once); an expired code is VerificationExpired
// and changes nothing; resend asks for a new code; the code handed over
// changes the phone. Before, the update was refused as forbidden and the
// SubAccount stalled.
func TestDouyinPhoneChange(t *testing.T) {
	g := NewWithT(t)
	ts, sa := verifiedDouyinAgent(t)
	oldPhone, newPhone := sa.Spec.Phone, uniquePhone()

	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Spec.Phone = newPhone
		s.Spec.DisplayName = "客服小美 (new phone)"
	})
	cond := waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	g.Expect(cond.Message).To(ContainSubstring(masked(newPhone)))
	g.Expect(cond.Message).To(ContainSubstring(sa.Name + "-verification"))
	waitCondition(t, sa, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	g.Expect(sa.Status.Verification).NotTo(BeNil())
	g.Expect(sa.Status.Verification.Phone).To(Equal(masked(newPhone)))
	g.Expect(sa.Status.Verification.Verified).To(BeFalse())
	g.Expect(sa.Status.Verification.ExpiresAt).NotTo(BeNil())
	first, _, ok := engine.SMS(newPhone)
	g.Expect(ok).To(BeTrue(), "no code was texted to the new phone")
	// The old phone stays until the code is accepted; the rest is applied.
	acct := mustAccount(t, ts, sa.Spec.AccountName)
	g.Expect(acct.Profile.Phone).To(Equal(oldPhone))
	g.Expect(acct.Profile.DisplayName).To(Equal("客服小美 (new phone)"))
	// What was applied is the old phone: the drift check's comparison
	// (checkDrift) finds no drift.
	g.Expect(accountHash(mainAccountState(acct.AccountState, nil))).To(Equal(sa.Status.AppliedHash),
		"the drift check would take the pending phone change for drift")

	// Expired: said so, with how to get a new code; nothing changed.
	setClock(t, time.Now().Add(6*time.Minute))
	touchObject(t, sa)
	cond = waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonVerificationExpired)
	g.Expect(cond.Message).To(ContainSubstring("kubectl subaccount resend " + sa.Name))
	g.Expect(cond.Message).To(ContainSubstring(masked(newPhone)))
	g.Expect(mustAccount(t, ts, sa.Spec.AccountName).Profile.Phone).To(Equal(oldPhone))

	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Annotations = map[string]string{shopv1alpha1.AnnotationResendCode: "phone-change"}
	})
	var second string
	g.Eventually(func() string { second, _, _ = engine.SMS(newPhone); return second }, timeout, interval).ShouldNot(Equal(first))
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	handOver(t, sa, second)
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	waitCurrent(t, sa)
	g.Expect(mustAccount(t, ts, sa.Spec.AccountName).Profile.Phone).To(Equal(newPhone))
	g.Expect(sa.Status.Verification.Verified).To(BeTrue())
	g.Expect(sa.Status.Verification.Phone).To(Equal(masked(newPhone)))
	evs := eventsFor(t, sa)
	g.Expect(evs).To(ContainElement(HaveField("Reason", "PhoneChanged")))
	for _, e := range evs {
		g.Expect(e.Note).NotTo(ContainSubstring(first))
		g.Expect(e.Note).NotTo(ContainSubstring(second))
		g.Expect(e.Note).NotTo(ContainSubstring(newPhone))
	}
}

// A phone change the spec takes back before the code is entered: the
// pending verification is dropped and the account, with its old phone,
// is verified and in sync again.
func TestDouyinPhoneChangeTakenBack(t *testing.T) {
	g := NewWithT(t)
	ts, sa := verifiedDouyinAgent(t)
	oldPhone := sa.Spec.Phone
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Phone = uniquePhone() })
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Phone = oldPhone })
	waitCondition(t, sa, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	waitCurrent(t, sa)
	g.Expect(sa.Status.Verification.Phone).To(Equal(masked(oldPhone)))
	g.Expect(mustAccount(t, ts, sa.Spec.AccountName).Profile.Phone).To(Equal(oldPhone))
}

// A gateway without the phone change (it answers NotSupported): the
// SubAccount is Stalled with the back-office step, and the account keeps
// its phone.
func TestDouyinPhoneChangeNotSupported(t *testing.T) {
	g := NewWithT(t)
	ts, sa := verifiedDouyinAgent(t)
	oldPhone, newPhone := sa.Spec.Phone, uniquePhone()
	engine.SetFault(func(method string) error {
		if method == "RequestCode" || method == "ChangePhone" {
			return platform.NewError(platform.ErrNotSupported, "", "this gateway cannot change a phone with a code")
		}
		return nil
	})
	t.Cleanup(func() { engine.SetFault(nil) })
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Phone = newPhone })
	cond := waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonNotSupported)
	g.Expect(cond.Message).To(ContainSubstring("back office"))
	g.Expect(cond.Message).To(ContainSubstring(masked(newPhone)))
	g.Expect(mustAccount(t, ts, sa.Spec.AccountName).Profile.Phone).To(Equal(oldPhone))
}
