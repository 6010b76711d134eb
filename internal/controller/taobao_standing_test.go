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
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// A Taobao shop whose owner has not switched the sub-account service on
// (开启子账号服务) is Stalled, saying so; once switched on, it is Ready.
func TestTaobaoServiceOffStallsTheShop(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 5, nil)
	shop := &shopv1alpha1.Shop{}
	shop.Namespace, shop.Name = ns, "shop"
	waitCurrent(t, shop)

	NewWithT(t).Expect(engine.SetService(platform.Taobao, ts.main, false)).To(Succeed())
	requestDriftCheckAsync(t, ns)
	c := waitCondition(t, shop, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonServiceOff)
	g := NewWithT(t)
	g.Expect(c.Message).To(ContainSubstring("开启子账号服务"))
	g.Expect(apimeta.IsStatusConditionTrue(shop.Status.Conditions, shopv1alpha1.ConditionCredentialsValid)).To(BeTrue(),
		"the credentials are fine: it is the service that is off")

	g.Expect(engine.SetService(platform.Taobao, ts.main, true)).To(Succeed())
	requestDriftCheckAsync(t, ns)
	waitCurrent(t, shop)
}

// The shop's seats as the platform reports them: free seats count only
// once claimed, spec.seats (deprecated there) is ignored, the status says
// how many free seats are not claimed and what the bought seats in use
// cost a month, and a SubAccount that needs one seat more says how to get
// it: claim a free seat, or buy one and what it costs.
func TestTaobaoSeatLedger(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 0, func(s *shopv1alpha1.Shop) {
		s.Spec.Seats = &shopv1alpha1.ShopAccountQuota{Included: 10}
	})
	shop := &shopv1alpha1.Shop{}
	shop.Namespace, shop.Name = ns, "shop"
	g.Expect(engine.SetSeatLedger(platform.Taobao, ts.main, platform.SeatLedger{FreeGiven: 3, FreeClaimed: 1, Bought: 1})).To(Succeed())
	requestDriftCheckAsync(t, ns)
	waitSeats(t, shop, shopv1alpha1.AccountQuotaStatus{Used: 0, Total: 2,
		Ledger: &shopv1alpha1.SeatLedgerStatus{FreeGiven: 3, FreeClaimed: 1, FreeUnclaimed: 2, Bought: 1}})
	g.Expect(conditionsOf(shop)).To(ContainSubstring("2 free seats not claimed"))

	for _, name := range []string{"xiaohong", "daming"} {
		sa := newSubAccount(ns, name)
		create(t, sa)
		waitCurrent(t, sa)
	}
	waitSeats(t, shop, shopv1alpha1.AccountQuotaStatus{Used: 2, Total: 2, Managed: 2,
		Ledger: &shopv1alpha1.SeatLedgerStatus{FreeGiven: 3, FreeClaimed: 1, FreeUnclaimed: 2, Bought: 1, BoughtInUse: 1, MonthlyCostCNY: 2}})
	waitCurrent(t, shop)
	g.Expect(conditionsOf(shop)).To(ContainSubstring("the 1 bought seats in use cost 2 CNY a month"))

	third := newSubAccount(ns, "xiaolan")
	create(t, third)
	c := waitCondition(t, third, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSeatsExhausted)
	g.Expect(c.Message).To(ContainSubstring("claim (领取) 1 of the 2 free seats not claimed"))

	// Claiming the free seats lets the account in.
	g.Expect(engine.SetSeatLedger(platform.Taobao, ts.main, platform.SeatLedger{FreeGiven: 3, FreeClaimed: 3, Bought: 1})).To(Succeed())
	requestDriftCheckAsync(t, ns)
	waitCurrent(t, third)
	waitSeats(t, shop, shopv1alpha1.AccountQuotaStatus{Used: 3, Total: 4, Managed: 3,
		Ledger: &shopv1alpha1.SeatLedgerStatus{FreeGiven: 3, FreeClaimed: 3, Bought: 1}})
}

// With every free seat claimed, a SubAccount needing one more seat says
// how many to buy and what they cost a month.
func TestTaobaoSeatToBuy(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 0, nil)
	g.Expect(engine.SetSeatLedger(platform.Taobao, ts.main, platform.SeatLedger{FreeGiven: 1, FreeClaimed: 1})).To(Succeed())
	shop := &shopv1alpha1.Shop{}
	shop.Namespace, shop.Name = ns, "shop"
	requestDriftCheckAsync(t, ns)
	waitSeats(t, shop, shopv1alpha1.AccountQuotaStatus{Used: 0, Total: 1, Ledger: &shopv1alpha1.SeatLedgerStatus{FreeGiven: 1, FreeClaimed: 1}})
	first := newSubAccount(ns, "xiaohong")
	create(t, first)
	waitCurrent(t, first)
	second := newSubAccount(ns, "daming")
	create(t, second)
	c := waitCondition(t, second, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSeatsExhausted)
	g.Expect(c.Message).To(ContainSubstring("buy 1 more in the back office (2 CNY a month at 2 CNY per seat)"))
}

// A penalty freeze and an unpaid seat fee show as conditions on the
// SubAccount, which stays Ready; the operator does not try to undo the
// freeze, and the conditions go when the platform lifts them.
func TestPlatformFrozenAndSeatFeeOwed(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 5, nil)
	sa := newSubAccount(ns, "xiaohong")
	create(t, sa)
	waitCurrent(t, sa)

	g.Expect(engine.SetAccountStanding(platform.Taobao, ts.main, sa.Status.AccountID, true, true)).To(Succeed())
	requestDriftCheckAsync(t, ns)
	c := waitCondition(t, sa, shopv1alpha1.ConditionPlatformFrozen, metav1.ConditionTrue, shopv1alpha1.ReasonFrozenByPlatform)
	g.Expect(c.Message).To(ContainSubstring("does not try to undo"))
	waitCondition(t, sa, shopv1alpha1.ConditionSeatFeeOwed, metav1.ConditionTrue, shopv1alpha1.ReasonSeatFeeUnpaid)
	waitCurrent(t, sa)
	acct, ok := ts.account(t, "xiaohong")
	g.Expect(ok).To(BeTrue())
	g.Expect(acct.PlatformFrozen).To(BeTrue(), "still frozen: nothing tried to lift it")
	g.Expect(acct.Disabled).To(BeFalse())

	g.Expect(engine.SetAccountStanding(platform.Taobao, ts.main, sa.Status.AccountID, false, false)).To(Succeed())
	requestDriftCheckAsync(t, ns)
	g.Eventually(func() bool {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionPlatformFrozen) == nil &&
			apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionSeatFeeOwed) == nil
	}, timeout, interval).Should(BeTrue(), func() string { return conditionsOf(sa) })
}

// requestDriftCheckAsync asks the Shop for a drift check (which asks the
// platform for its shop info again) without waiting for it: a Stalled
// Shop never records it as handled.
func requestDriftCheckAsync(t *testing.T, ns string) {
	t.Helper()
	shop := &shopv1alpha1.Shop{}
	NewWithT(t).Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
	update(t, shop, func(s *shopv1alpha1.Shop) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[shopv1alpha1.AnnotationRequestedAt] = time.Now().Format(time.RFC3339Nano)
	})
}
