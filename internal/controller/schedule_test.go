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

// statusPresence waits until the SubAccount's status shows presence p as
// read from the platform.
func statusPresence(t *testing.T, sa *shopv1alpha1.SubAccount, p shopv1alpha1.Presence) {
	t.Helper()
	NewWithT(t).Eventually(func() shopv1alpha1.Presence {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		if sa.Status.Presence == nil {
			return ""
		}
		return sa.Status.Presence.Current
	}, timeout, interval).Should(Equal(p))
}

// touch makes the SubAccount reconcile now (a label change).
func touch(t *testing.T, sa *shopv1alpha1.SubAccount, value string) {
	t.Helper()
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Labels = map[string]string{"touched": value} })
}

// A lunch break on a schedule acts at its boundaries only: Break at 12:00,
// Online at 12:30. Between them the agent's own choice stands, and every
// reconcile (or drift check) in between leaves it alone.
func TestScheduledBreak(t *testing.T) {
	g := NewWithT(t)
	cst := time.FixedZone("CST", 8*3600)
	// Monday 23 November 2026, 11:50 in Shanghai: lunch is next.
	setClock(t, time.Date(2026, 11, 23, 11, 50, 0, 0, cst))

	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Pinduoduo, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	sa := newSubAccount(ns, "agent", "cs")
	sa.Spec.ChatSeat = &shopv1alpha1.ChatSeatSpec{Chat: true, Capacity: 20, Presence: shopv1alpha1.PresenceOnline,
		Schedule: &shopv1alpha1.ChatSeatSchedule{TimeZone: "Asia/Shanghai", Windows: []shopv1alpha1.ScheduleWindow{
			{Name: "lunch", Days: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}, Start: "12:00", End: "12:30", Presence: shopv1alpha1.PresenceBreak},
		}}}
	create(t, sa)
	waitCurrent(t, sa)
	g.Expect(sa.Status.Presence).NotTo(BeNil())
	g.Expect(sa.Status.Presence.Current).To(Equal(shopv1alpha1.PresenceOnline))
	g.Expect(sa.Status.Presence.ReceivesMessages).To(BeTrue())
	g.Expect(sa.Status.Presence.NextChange.Time).To(BeTemporally("==", time.Date(2026, 11, 23, 12, 0, 0, 0, cst)))
	g.Expect(sa.Status.Presence.NextChangeLocal).To(Equal("Mon 12:00 Asia/Shanghai"), "kubectl's Next-Change column")
	agent := func(p platform.Presence) {
		t.Helper()
		_, err := engine.SetSeatAsAgent(ts.platform, ts.main, sa.Status.AccountID, p, 0)
		g.Expect(err).NotTo(HaveOccurred())
	}
	onPlatform := func() platform.Presence { return mustAccount(t, ts, "agent").Seat.Presence }

	// 11:55: the agent goes Busy. A drift check shows it; nothing puts it back.
	agent(platform.PresenceBusy)
	setClock(t, time.Date(2026, 11, 23, 11, 55, 0, 0, cst))
	requestDriftCheck(t, ns)
	statusPresence(t, sa, shopv1alpha1.PresenceBusy)
	g.Expect(sa.Status.Presence.ReceivesMessages).To(BeFalse(), "忙碌 cannot receive messages")
	g.Expect(onPlatform()).To(Equal(platform.PresenceBusy))

	// 12:10: the 12:00 boundary was not acted at yet: Break, once.
	setClock(t, time.Date(2026, 11, 23, 12, 10, 0, 0, cst))
	touch(t, sa, "1")
	waitPlatform(t, ts, "agent", func(a platform.Account) bool { return a.Seat.Presence == platform.PresenceBreak }, "on lunch break")
	statusPresence(t, sa, shopv1alpha1.PresenceBreak)
	g.Expect(sa.Status.Presence.Window).To(Equal("lunch"))
	g.Expect(sa.Status.Presence.LastBoundary.Time).To(BeTemporally("==", time.Date(2026, 11, 23, 12, 0, 0, 0, cst)))
	g.Eventually(func() []string { return eventNotes(t, sa, "PresenceScheduled") }, timeout, interval).Should(ContainElement(
		"updated sub-account " + sa.Status.LoginName + ": presence set to Break (小休, cannot receive messages) at the Mon 12:00 Asia/Shanghai schedule boundary (window lunch began)"))

	// 12:15: the agent comes back early. At 12:20 that stands.
	agent(platform.PresenceOnline)
	setClock(t, time.Date(2026, 11, 23, 12, 20, 0, 0, cst))
	requestDriftCheck(t, ns)
	statusPresence(t, sa, shopv1alpha1.PresenceOnline)
	touch(t, sa, "2")
	requestDriftCheck(t, ns)
	g.Expect(onPlatform()).To(Equal(platform.PresenceOnline), "between boundaries the agent's choice stands")

	// 12:25 the agent goes Busy; at the 12:30 boundary the schedule sets Online.
	agent(platform.PresenceBusy)
	setClock(t, time.Date(2026, 11, 23, 12, 31, 0, 0, cst))
	touch(t, sa, "3")
	waitPlatform(t, ts, "agent", func(a platform.Account) bool { return a.Seat.Presence == platform.PresenceOnline }, "back online")
	g.Eventually(func() *metav1.Time {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		if sa.Status.Presence == nil {
			return nil
		}
		return sa.Status.Presence.NextChange
	}, timeout, interval).Should(HaveField("Time", BeTemporally("==", time.Date(2026, 11, 24, 12, 0, 0, 0, cst))))
	g.Expect(sa.Status.Presence.Window).To(BeEmpty())
	g.Expect(sa.Status.Presence.NextChangeLocal).To(Equal("Tue 12:00 Asia/Shanghai"))
	g.Eventually(func() []string { return eventNotes(t, sa, "PresenceScheduled") }, timeout, interval).Should(ContainElement(
		"updated sub-account " + sa.Status.LoginName + ": presence set to Online (在线, receives messages) at the Mon 12:30 Asia/Shanghai schedule boundary (no window in force)"))
	for _, e := range eventsFor(t, sa) {
		g.Expect(e.Note).NotTo(ContainSubstring("login enabled"), "a presence change is not a login change")
		g.Expect(e.Reason).NotTo(Equal("DriftCorrected"))
	}
}

// eventNotes lists the notes of obj's Events with reason.
func eventNotes(t *testing.T, obj client.Object, reason string) []string {
	var out []string
	for _, e := range eventsFor(t, obj) {
		if e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out
}

// The agent's presence and capacity are theirs: a drift check shows them
// in status and changes nothing; a new starting value in the spec is
// written once, with an Event naming it.
func TestAgentSeatIsNotDrift(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	sa := newSubAccount(ns, "agent", "cs")
	sa.Spec.ChatSeat = &shopv1alpha1.ChatSeatSpec{Chat: true, Capacity: 12, Presence: shopv1alpha1.PresenceOnline}
	create(t, sa)
	waitCurrent(t, sa)
	g.Expect(mustAccount(t, ts, "agent").Seat).To(Equal(&platform.Seat{Chat: true, Capacity: 12, Presence: platform.PresenceOnline}))
	g.Expect(sa.Status.SeatStart).To(Equal(&shopv1alpha1.SeatStartStatus{Capacity: 12, Presence: shopv1alpha1.PresenceOnline}))

	_, err := engine.SetSeatAsAgent(ts.platform, ts.main, sa.Status.AccountID, platform.PresenceBusy, 30)
	g.Expect(err).NotTo(HaveOccurred())
	requestDriftCheck(t, ns)
	statusPresence(t, sa, shopv1alpha1.PresenceBusy)
	g.Expect(sa.Status.ChatSeatCapacity).To(BeEquivalentTo(30))
	requestDriftCheck(t, ns)
	g.Expect(mustAccount(t, ts, "agent").Seat).To(Equal(&platform.Seat{Chat: true, Capacity: 30, Presence: platform.PresenceBusy}))
	_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
	g.Expect(conditionsOf(sa)).NotTo(ContainSubstring(shopv1alpha1.ConditionDrifted))
	for _, e := range eventsFor(t, sa) {
		g.Expect(e.Reason).NotTo(BeElementOf("DriftCorrected", "DriftDetected"))
	}

	// The owner asks for a new starting capacity: written once, presence kept.
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.ChatSeat.Capacity = 20 })
	waitPlatform(t, ts, "agent", func(a platform.Account) bool { return a.Seat.Capacity == 20 }, "starting capacity 20")
	g.Expect(mustAccount(t, ts, "agent").Seat.Presence).To(Equal(platform.PresenceBusy))
	g.Eventually(func() []string { return eventNotes(t, sa, "Updated") }, timeout, interval).Should(ContainElement(
		"updated sub-account " + sa.Status.LoginName + ": starting reception capacity 20"))

	// Other kinds of change, each in its own words.
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Disabled = true })
	g.Eventually(func() []string { return eventNotes(t, sa, "Updated") }, timeout, interval).Should(ContainElement(
		ContainSubstring("login disabled")))
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.DisplayName = "小红" })
	g.Eventually(func() []string { return eventNotes(t, sa, "Updated") }, timeout, interval).Should(ContainElement(
		"updated sub-account " + sa.Status.LoginName + ": profile: display name"))
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Security.PhoneProtection = true })
	g.Eventually(func() []string { return eventNotes(t, sa, "Updated") }, timeout, interval).Should(ContainElement(
		"updated sub-account " + sa.Status.LoginName + ": security: phone protection on"))
}

// A schedule the engine rejects is a condition naming the problem.
func TestInvalidScheduleIsRefused(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	newShop(t, ns, platform.Taobao, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	sa := newSubAccount(ns, "agent", "cs")
	sa.Spec.ChatSeat = &shopv1alpha1.ChatSeatSpec{Chat: true, Capacity: 5, Presence: shopv1alpha1.PresenceOnline,
		Schedule: &shopv1alpha1.ChatSeatSchedule{TimeZone: "Asia/Shanghai", Windows: []shopv1alpha1.ScheduleWindow{
			{Name: "lunch", Start: "12:00", End: "12:30", Presence: shopv1alpha1.PresenceBreak},
			{Name: "meeting", Start: "12:15", End: "13:00", Presence: shopv1alpha1.PresenceBusy},
		}}}
	create(t, sa)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonInvalidSpec)
	g.Expect(cond.Message).To(ContainSubstring("seat.schedule"))
	g.Expect(cond.Message).To(ContainSubstring("overlaps"))
}
