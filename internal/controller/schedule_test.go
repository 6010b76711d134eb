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

// A lunch break on a schedule: Break inside the window, Online after it,
// with the next change in status, driven by the controllers' clock.
func TestScheduledBreak(t *testing.T) {
	g := NewWithT(t)
	cst := time.FixedZone("CST", 8*3600)
	// Monday 23 November 2026, 12:10 in Shanghai: lunch is on.
	setClock(t, time.Date(2026, 11, 23, 12, 10, 0, 0, cst))

	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Douyin, 10, nil)
	cs := newRole(ns, "cs", "客服", "customer-service")
	create(t, cs)
	sa := newSubAccount(ns, "agent", "cs")
	sa.Spec.Phone = uniquePhone()
	sa.Spec.ChatSeat = &shopv1alpha1.ChatSeatSpec{Chat: true, Capacity: 20, Presence: shopv1alpha1.PresenceOnline,
		Schedule: &shopv1alpha1.ChatSeatSchedule{TimeZone: "Asia/Shanghai", Windows: []shopv1alpha1.ScheduleWindow{
			{Name: "lunch", Days: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}, Start: "12:00", End: "12:30", Presence: shopv1alpha1.PresenceBreak},
		}}}
	create(t, sa)
	verifyPhone(t, sa)
	waitCurrent(t, sa)
	g.Expect(sa.Status.Presence).NotTo(BeNil())
	g.Expect(sa.Status.Presence.Current).To(Equal(shopv1alpha1.PresenceBreak))
	g.Expect(sa.Status.Presence.Window).To(Equal("lunch"))
	g.Expect(sa.Status.Presence.NextChange.Time).To(BeTemporally("==", time.Date(2026, 11, 23, 12, 30, 0, 0, cst)))
	g.Expect(sa.Status.Presence.NextChangeLocal).To(Equal("Mon 12:30 Asia/Shanghai"), "kubectl's Next-Change column")
	g.Expect(mustAccount(t, ts, "agent").Seat.Presence).To(Equal(platform.PresenceBreak))

	// 12:31: lunch is over. Any reconcile now (here a label change) sees it.
	setClock(t, time.Date(2026, 11, 23, 12, 31, 0, 0, cst))
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Labels = map[string]string{"touched": "1"} })
	waitPlatform(t, ts, "agent", func(a platform.Account) bool { return a.Seat.Presence == platform.PresenceOnline }, "back online")
	g.Eventually(func() *metav1.Time {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		if sa.Status.Presence == nil {
			return nil
		}
		return sa.Status.Presence.NextChange
	}, timeout, interval).Should(HaveField("Time", BeTemporally("==", time.Date(2026, 11, 24, 12, 0, 0, 0, cst))))
	g.Expect(sa.Status.Presence.Current).To(Equal(shopv1alpha1.PresenceOnline))
	g.Expect(sa.Status.Presence.Window).To(BeEmpty())
	g.Expect(sa.Status.Presence.NextChangeLocal).To(Equal("Tue 12:00 Asia/Shanghai"))
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
