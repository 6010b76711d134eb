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

// What the sub-accounts did reaches their status through one feed read per
// shop per check: last login, last activity and the recent entries; an
// account unused for longer than the Shop's inactivityThreshold is
// Inactive, with an Event, and stays Ready.
func TestActivityInStatusAndInactive(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) {
		s.Spec.InactivityThreshold = &metav1.Duration{Duration: 48 * time.Hour}
	})
	cs := newRole(ns, "cs", "客服", "customer-service")
	create(t, cs)
	active, idle := newSubAccount(ns, "xiaohong", "cs"), newSubAccount(ns, "xiaolan", "cs")
	create(t, active)
	create(t, idle)
	waitCurrent(t, active)
	waitCurrent(t, idle)
	shop := &shopv1alpha1.Shop{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
	waitCondition(t, shop, shopv1alpha1.ConditionActivityMonitored, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)

	now := time.Now().UTC().Truncate(time.Second)
	for _, e := range []platform.Activity{
		{AccountName: "xiaohong", Kind: platform.ActivityLogin, Time: now.Add(-time.Hour)},
		{AccountName: "xiaohong", Kind: platform.ActivityOperation, Operation: "item.update", Target: "item 6123", Time: now.Add(-time.Minute)},
		{AccountName: "xiaolan", Kind: platform.ActivityLogin, Time: now.Add(-72 * time.Hour)},
	} {
		_, err := engine.RecordActivity(ts.platform, ts.main, e)
		g.Expect(err).NotTo(HaveOccurred())
	}
	engine.ResetCalls()
	requestDriftCheck(t, ns)

	// A new account is already Inactive=False ("never seen used since it
	// was declared"), so wait for the feed's entry, not only the reason.
	lastUsed := "last used " + now.Add(-time.Minute).Format(time.RFC3339)
	g.Eventually(func() string {
		return waitCondition(t, active, shopv1alpha1.ConditionInactive, metav1.ConditionFalse, shopv1alpha1.ReasonActive).Message
	}, timeout, interval).Should(ContainSubstring(lastUsed))
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(active), active)).To(Succeed())
	g.Expect(active.Status.LastLogin.Time).To(BeTemporally("==", now.Add(-time.Hour)))
	g.Expect(active.Status.LastActivity.Time).To(BeTemporally("==", now.Add(-time.Minute)))
	g.Expect(active.Status.RecentActivity).To(HaveExactElements(
		And(HaveField("Kind", "Operation"), HaveField("Operation", "item.update"), HaveField("Target", "item 6123")),
		HaveField("Kind", "Login")), "newest first")

	got := waitCondition(t, idle, shopv1alpha1.ConditionInactive, metav1.ConditionTrue, shopv1alpha1.ReasonInactive)
	g.Expect(got.Message).To(ContainSubstring("inactivityThreshold 48h0m0s"))
	g.Eventually(func() []string {
		var notes []string
		for _, e := range eventsFor(t, idle) {
			if e.Reason == shopv1alpha1.ReasonInactive {
				notes = append(notes, e.Note)
			}
		}
		return notes
	}, timeout, interval).Should(ConsistOf(ContainSubstring("sub-account " + ts.main + ":xiaolan: last used")))
	waitCurrent(t, idle)

	// One feed read for the shop: no call per account.
	calls := engine.Calls()
	g.Expect(calls["ListActivity"]).To(Equal(1))
	g.Expect(calls["GetAccount"]).To(BeZero())

	// Used again: no longer inactive.
	_, err := engine.RecordActivity(ts.platform, ts.main, platform.Activity{AccountName: "xiaolan", Kind: platform.ActivityPresence, Presence: "Online"})
	g.Expect(err).NotTo(HaveOccurred())
	requestDriftCheck(t, ns)
	waitCondition(t, idle, shopv1alpha1.ConditionInactive, metav1.ConditionFalse, shopv1alpha1.ReasonActive)
}

// A platform (an older gateway) without an activity feed: the Shop says
// so, stays Ready, and nothing is marked Inactive.
func TestNoActivityFeed(t *testing.T) {
	g := NewWithT(t)
	engine.SetFault(func(method string) error {
		if method == "ListActivity" {
			return platform.NewError(platform.ErrNotSupported, "", "the gateway has no activity feed")
		}
		return nil
	})
	t.Cleanup(func() { engine.SetFault(nil) })
	ns := newNamespace(t)
	newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) {
		s.Spec.InactivityThreshold = &metav1.Duration{Duration: time.Hour}
	})
	shop := &shopv1alpha1.Shop{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
	got := waitCondition(t, shop, shopv1alpha1.ConditionActivityMonitored, metav1.ConditionFalse, shopv1alpha1.ReasonNotSupported)
	g.Expect(got.Message).To(ContainSubstring("no activity feed"))
	waitCurrent(t, shop)
	cs := newRole(ns, "cs", "客服", "customer-service")
	create(t, cs)
	sa := newSubAccount(ns, "xiaohong", "cs")
	create(t, sa)
	waitCurrent(t, sa)
	g.Expect(conditionsOf(sa)).NotTo(ContainSubstring(shopv1alpha1.ConditionInactive))
}
