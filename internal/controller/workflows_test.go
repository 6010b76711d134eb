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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// A Douyin phone already bound elsewhere gets the platform's own, distinct
// message as a Conflict condition: another sub-account of this shop, or
// another shop. Nothing is created.
func TestDouyinPhoneAlreadyBound(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Douyin, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	first := newSubAccount(ns, "first", "cs")
	first.Spec.Phone = uniquePhone()
	create(t, first)
	verifyPhone(t, first) // the code first: the phone is bound once the account exists
	waitCondition(t, first, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)

	same := newSubAccount(ns, "same-shop", "cs")
	same.Spec.Phone = first.Spec.Phone
	create(t, same)
	cond := waitCondition(t, same, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonConflict)
	g.Expect(cond.Message).To(ContainSubstring(`the phone number is already a sub-account of this shop ("first")`))

	other := newNamespace(t)
	newShop(t, other, platform.Douyin, 10, nil)
	create(t, newRole(other, "cs", "客服", "customer-service"))
	elsewhere := newSubAccount(other, "elsewhere", "cs")
	elsewhere.Spec.Phone = first.Spec.Phone
	create(t, elsewhere)
	cond = waitCondition(t, elsewhere, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonConflict)
	g.Expect(cond.Message).To(ContainSubstring("the phone number is bound to another shop"))

	g.Expect(engine.Accounts(ts.platform, ts.main)).To(HaveLen(1))
}

// Scheduled rotation on Pinduoduo: once the password is rotationPeriod old
// (the injectable clock moved on) a new one is generated, written to the
// Secret and set on the platform.
func TestPasswordRotationOnSchedule(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Pinduoduo, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	sa := newSubAccount(ns, "xiaohong", "cs")
	sa.Spec.Password.RotationPeriod = &metav1.Duration{Duration: time.Hour}
	create(t, sa)
	waitCurrent(t, sa)
	oldPassword := string(secretOf(t, sa).Data["password"])

	setClock(t, time.Now().Add(2*time.Hour))
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Labels = map[string]string{"touched": "1"} })
	g.Eventually(func() int64 {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return sa.Status.PasswordRevision
	}, timeout, interval).Should(BeEquivalentTo(2))
	newPassword := string(secretOf(t, sa).Data["password"])
	g.Expect(newPassword).NotTo(Equal(oldPassword))
	g.Expect(checkLogin(t, ts, "xiaohong", newPassword)).To(BeTrue())
	g.Expect(checkLogin(t, ts, "xiaohong", oldPassword)).To(BeFalse())
	eventuallyEvents(t, sa, ContainElement(HaveField("Reason", "PasswordChanged")))
}

// A rotation whose platform call fails after the Secret got the new
// password (a crash between the two) leaves them disagreeing only until
// the next reconcile: the Secret's newer revision is set on the platform.
func TestRotationRepairedAfterAFailedPlatformCall(t *testing.T) {
	g := NewWithT(t)
	ts, sa := readyStaff(t, platform.Pinduoduo, newRole("", "cs", "客服", "customer-service"))
	engine.SetFault(func(method string) error {
		if method == "SetPassword" {
			return platform.NewError(platform.ErrTransient, "", "connection reset")
		}
		return nil
	})
	t.Cleanup(func() { engine.SetFault(nil) })
	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Annotations = map[string]string{shopv1alpha1.AnnotationRotatePassword: "now"}
	})
	// The Secret has revision 2; the platform still the first password.
	g.Eventually(func() string {
		return secretOf(t, sa).Annotations[shopv1alpha1.AnnotationPasswordRevision]
	}, timeout, interval).Should(Equal("2"))
	newPassword := string(secretOf(t, sa).Data["password"])
	waitCondition(t, sa, shopv1alpha1.ConditionSynced, metav1.ConditionFalse, shopv1alpha1.ReasonPlatformError)
	g.Expect(checkLogin(t, ts, "xiaohong", newPassword)).To(BeFalse())

	engine.SetFault(nil)
	g.Eventually(func() bool { return checkLogin(t, ts, "xiaohong", newPassword) }, timeout, interval).Should(BeTrue())
	waitCurrent(t, sa)
	g.Expect(sa.Status.PasswordRevision).To(BeEquivalentTo(2))
}
