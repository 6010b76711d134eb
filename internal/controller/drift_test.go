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
	"fmt"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// requestDriftCheck asks the Shop for a drift check now and waits until it
// has been made.
func requestDriftCheck(t *testing.T, ns string) {
	t.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	shop := &shopv1alpha1.Shop{}
	g := NewWithT(t)
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
	update(t, shop, func(s *shopv1alpha1.Shop) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[shopv1alpha1.AnnotationRequestedAt] = token
	})
	g.Eventually(func() string {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(shop), shop)
		return shop.Status.LastHandledRequestedAt
	}, timeout, interval).Should(Equal(token))
}

// Changes made in the back office behind the operator's back are found by
// one bulk listing and undone; accounts it does not manage are left alone.
func TestDriftIsDetectedAndCorrected(t *testing.T) {
	g := NewWithT(t)
	cs := newRole("", "cs", "客服", "customer-service")
	ts, sa := readyStaff(t, platform.Taobao, cs)
	pc := ts.client(t)
	ctx := context.Background()

	// An account the operator does not manage, with its own odd state.
	theirs, err := pc.CreateAccount(ctx, platform.CreateAccount{Name: "owner-helper", Password: "their-Passw0rd",
		AccountState: platform.AccountState{Disabled: true, ExtraPermissions: []string{"funds-view"}}}, "")
	g.Expect(err).NotTo(HaveOccurred())

	// Out of band: disable the managed account and grant it a permission.
	acct := mustAccount(t, ts, "xiaohong")
	changed := acct.AccountState
	changed.Disabled = true
	changed.ExtraPermissions = []string{"funds-view"}
	_, err = pc.UpdateAccount(ctx, acct.ID, changed)
	g.Expect(err).NotTo(HaveOccurred())
	// ... and widen the role.
	role := engine.Roles(ts.platform, ts.main)[0]
	role.Permissions = append(role.Permissions, "item-price")
	_, err = pc.UpdateRole(ctx, role.ID, role.RoleSpec)
	g.Expect(err).NotTo(HaveOccurred())

	engine.ResetCalls()
	requestDriftCheck(t, ts.ns)

	waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool {
		return !a.Disabled && len(a.ExtraPermissions) == 0
	}, "the declared state is restored")
	g.Eventually(func() []string {
		for _, r := range engine.Roles(ts.platform, ts.main) {
			if r.ID == role.ID {
				return r.Permissions
			}
		}
		return nil
	}, timeout, interval).ShouldNot(ContainElement("item-price"))
	g.Eventually(func() []string {
		var reasons []string
		for _, e := range eventsFor(t, sa) {
			reasons = append(reasons, e.Reason)
		}
		for _, e := range eventsFor(t, cs) {
			reasons = append(reasons, e.Reason)
		}
		return reasons
	}, timeout, interval).Should(ContainElements("DriftCorrected", "DriftCorrected"))

	// One listing found it all: no call per account.
	calls := engine.Calls()
	g.Expect(calls["ListAccounts"]).To(Equal(1))
	g.Expect(calls["GetAccount"]).To(BeZero())

	// The unmanaged account is exactly as its owner left it.
	still, ok := ts.account(t, "owner-helper")
	g.Expect(ok).To(BeTrue())
	g.Expect(still.ID).To(Equal(theirs.ID))
	g.Expect(still.Disabled).To(BeTrue())
	g.Expect(still.AccountState).To(Equal(theirs.AccountState))
}

// An account deleted in the back office is created again with the password
// the Secret already holds.
func TestDriftRecreatesDeletedAccount(t *testing.T) {
	g := NewWithT(t)
	ts, sa := readyStaff(t, platform.Pinduoduo, newRole("", "cs", "客服", "customer-service"))
	oldID := sa.Status.AccountID
	g.Expect(ts.client(t).DeleteAccount(context.Background(), oldID)).To(Succeed())

	requestDriftCheck(t, ts.ns)
	acct := waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool { return a.ID != oldID }, "recreated")
	g.Expect(checkLogin(t, ts, "xiaohong", string(secretOf(t, sa).Data["password"]))).To(BeTrue())
	g.Eventually(func() string {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return sa.Status.AccountID
	}, timeout, interval).Should(Equal(acct.ID))
}

// With nothing changed, a drift check writes nothing to the platform.
func TestDriftCheckInSteadyStateWritesNothing(t *testing.T) {
	g := NewWithT(t)
	ts, _ := readyStaff(t, platform.Douyin, newRole("", "cs", "客服", "customer-service"))
	before := len(engine.Audit(ts.platform, ts.main))
	requestDriftCheck(t, ts.ns)
	requestDriftCheck(t, ts.ns)
	g.Consistently(func() int { return len(engine.Audit(ts.platform, ts.main)) }, time.Second, 100*time.Millisecond).Should(Equal(before))
}

// A password changed in the back office after the operator set it is
// found by the same listing (passwordChangedAt) and set again from the
// Secret (found by the reliability suite: it was never noticed).
func TestDriftPasswordChangedOnThePlatformIsSetAgain(t *testing.T) {
	g := NewWithT(t)
	ts, sa := readyStaff(t, platform.Taobao, newRole("", "cs", "客服", "customer-service"))
	password := string(secretOf(t, sa).Data["password"])
	setClock(t, time.Now().Add(time.Minute))
	g.Expect(ts.client(t).SetPassword(context.Background(), sa.Status.AccountID, "Someone-Elses-1")).To(Succeed())
	g.Expect(checkLogin(t, ts, "xiaohong", password)).To(BeFalse())

	requestDriftCheck(t, ts.ns)
	g.Eventually(func() bool { return checkLogin(t, ts, "xiaohong", password) }, timeout, interval).Should(BeTrue(),
		"the Secret's password logs in again")
	g.Eventually(func() []string {
		var notes []string
		for _, e := range eventsFor(t, sa) {
			if e.Reason == "DriftCorrected" {
				notes = append(notes, e.Note)
			}
		}
		return notes
	}, timeout, interval).Should(ContainElement(ContainSubstring("password of sub-account")))
	g.Expect(string(secretOf(t, sa).Data["password"])).To(Equal(password), "the Secret is unchanged")
}

// driftPolicy Report only reports: the Drifted condition says what differs
// and a DriftDetected Event is emitted, nothing is written; Correct then
// puts it back and clears the condition.
func TestDriftReportOnly(t *testing.T) {
	g := NewWithT(t)
	ts, sa := readyStaff(t, platform.Pinduoduo, newRole("", "cs", "客服", "customer-service"))
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.DriftPolicy = shopv1alpha1.DriftPolicyReport })
	waitCurrent(t, sa)
	acct := mustAccount(t, ts, "xiaohong")
	changed := acct.AccountState
	changed.Disabled = true
	_, err := ts.client(t).UpdateAccount(context.Background(), acct.ID, changed)
	g.Expect(err).NotTo(HaveOccurred())
	writes := len(engine.Audit(ts.platform, ts.main))

	requestDriftCheck(t, ts.ns)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionDrifted, metav1.ConditionTrue, shopv1alpha1.ReasonDriftDetected)
	g.Expect(cond.Message).To(Equal("sub-account " + sa.Status.LoginName + " was changed outside the operator: correcting would change: disabled true → false; nothing was corrected (driftPolicy Report)"))
	g.Expect(mustAccount(t, ts, "xiaohong").Disabled).To(BeTrue(), "report-only changed the account")
	g.Expect(engine.Audit(ts.platform, ts.main)).To(HaveLen(writes), "report-only wrote to the platform")
	g.Eventually(func() []string { return eventReasons(t, sa) }, timeout, interval).Should(ContainElement("DriftDetected"))

	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.DriftPolicy = shopv1alpha1.DriftPolicyCorrect })
	requestDriftCheck(t, ts.ns)
	waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool { return !a.Disabled }, "corrected")
	g.Eventually(func() string {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return conditionsOf(sa)
	}, timeout, interval).ShouldNot(ContainSubstring(shopv1alpha1.ConditionDrifted))
}

// A Shop's driftPolicy Report holds for its Roles too: a role widened in the
// back office is left as it is, the Role's Drifted condition says what
// differs and a DriftDetected Event is emitted; Correct then puts it back
// and clears the condition.
func TestDriftReportOnlyRole(t *testing.T) {
	g := NewWithT(t)
	cs := newRole("", "cs", "客服", "customer-service")
	ts, _ := readyStaff(t, platform.Taobao, cs)
	ctx := context.Background()
	shop := &shopv1alpha1.Shop{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ts.ns, Name: "shop"}, shop)).To(Succeed())
	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.DriftPolicy = shopv1alpha1.DriftPolicyReport })

	role := engine.Roles(ts.platform, ts.main)[0]
	role.Permissions = append(role.Permissions, "item-price")
	_, err := ts.client(t).UpdateRole(ctx, role.ID, role.RoleSpec)
	g.Expect(err).NotTo(HaveOccurred())
	platformPerms := func() []string {
		for _, r := range engine.Roles(ts.platform, ts.main) {
			if r.ID == role.ID {
				return r.Permissions
			}
		}
		return nil
	}
	writes := len(engine.Audit(ts.platform, ts.main))

	requestDriftCheck(t, ts.ns)
	cond := waitCondition(t, cs, shopv1alpha1.ConditionDrifted, metav1.ConditionTrue, shopv1alpha1.ReasonDriftDetected)
	g.Expect(cond.Message).To(Equal("platform role " + role.ID + " was changed outside the operator: " +
		"correcting would change: permissions +[] -[item-price sell]; nothing was corrected (driftPolicy Report)"))
	g.Expect(platformPerms()).To(ContainElement("item-price"), "report-only changed the role")
	g.Expect(engine.Audit(ts.platform, ts.main)).To(HaveLen(writes), "report-only wrote to the platform")
	g.Eventually(func() []string { return eventReasons(t, cs) }, timeout, interval).Should(ContainElement("DriftDetected"))

	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.DriftPolicy = shopv1alpha1.DriftPolicyCorrect })
	requestDriftCheck(t, ts.ns)
	g.Eventually(platformPerms, timeout, interval).ShouldNot(ContainElement("item-price"))
	requestDriftCheck(t, ts.ns)
	g.Eventually(func() string {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(cs), cs)
		return conditionsOf(cs)
	}, timeout, interval).ShouldNot(ContainSubstring(shopv1alpha1.ConditionDrifted))
}

// The unmanaged accounts the Shop's status names are the listed ones no
// SubAccount holds, by login, sorted, and at most MaxUnmanagedLogins:
// past it, count still says how many.
func TestUnmanagedAccountsBounded(t *testing.T) {
	g := NewWithT(t)
	remote := map[string]platform.Account{}
	var subs []shopv1alpha1.SubAccount
	for i := range shopv1alpha1.MaxUnmanagedLogins + 30 {
		id := fmt.Sprintf("id-%03d", i)
		a := platform.Account{ID: id}
		a.Name = fmt.Sprintf("agent%03d", i)
		if i%2 == 0 {
			a.Login = "m:" + a.Name // a driver that reports the login; the others get one made
		}
		remote[id] = a
		if i < 10 {
			subs = append(subs, shopv1alpha1.SubAccount{Status: shopv1alpha1.SubAccountStatus{AccountID: id}})
		}
	}
	got := unmanagedAccounts("m", remote, subs)
	g.Expect(got.Count).To(BeEquivalentTo(shopv1alpha1.MaxUnmanagedLogins + 20))
	g.Expect(got.Logins).To(HaveLen(shopv1alpha1.MaxUnmanagedLogins))
	g.Expect(got.Logins[0]).To(Equal("m:agent010"), "the held accounts (0-9) are not unmanaged")
	g.Expect(slices.IsSorted(got.Logins)).To(BeTrue())
	g.Expect(unmanagedAccounts("m", remote, nil).Count).To(BeEquivalentTo(shopv1alpha1.MaxUnmanagedLogins + 30))
	g.Expect(unmanagedAccounts("m", map[string]platform.Account{}, subs)).To(BeNil())
}
