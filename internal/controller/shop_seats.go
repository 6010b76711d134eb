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

// A Taobao shop's standing, as its platform info reports it: whether the
// owner switched the sub-account service on, and its seats (free ones
// given and claimed, bought ones and what they cost).

import (
	"context"
	"fmt"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// serviceOn stalls a Shop whose sub-account service is switched off: no
// sub-account can be managed until the owner switches it on, a step only
// the back office offers.
func serviceOn(_ context.Context, s *shopScope) (stepResult, error) {
	if c := s.memo.check; c == nil || c.service != platform.ServiceOff {
		return stepResult{}, nil
	}
	return stepResult{}, stalled(shopv1alpha1.ReasonServiceOff,
		"the shop's sub-account service is switched off: the owner must switch it on in the seller back office "+
			"(子账号 › 管理我的子账号 › 开启子账号服务, at zizhanghao.taobao.com); the operator looks again every few minutes, "+
			"or at once when the Shop's %s annotation changes", shopv1alpha1.AnnotationRequestedAt)
}

// ledgerStatus is the Shop's view of the platform's seat ledger with used
// seats in use: the accounts beyond the claimed free seats occupy bought
// ones, which cost platform.SeatPriceCNY a month each.
func ledgerStatus(l *platform.SeatLedger, used int32) *shopv1alpha1.SeatLedgerStatus {
	if l == nil {
		return nil
	}
	inUse := min(max(used-l.FreeClaimed, 0), l.Bought)
	return &shopv1alpha1.SeatLedgerStatus{FreeGiven: l.FreeGiven, FreeClaimed: l.FreeClaimed, FreeUnclaimed: l.Unclaimed(),
		Bought: l.Bought, BoughtInUse: inUse, MonthlyCostCNY: inUse * platform.SeatPriceCNY}
}

// ledgerMessage adds the ledger to the Shop's Ready message: free seats
// not claimed yet, and the monthly cost of the bought seats in use.
func ledgerMessage(l *shopv1alpha1.SeatLedgerStatus) string {
	if l == nil {
		return ""
	}
	msg := fmt.Sprintf(" (%d free, %d bought)", l.FreeClaimed, l.Bought)
	if l.FreeUnclaimed > 0 {
		msg += fmt.Sprintf("; %d free seats not claimed: claim them (领取) in the back office before buying any", l.FreeUnclaimed)
	}
	if l.BoughtInUse > 0 {
		msg += fmt.Sprintf("; the %d bought seats in use cost %d CNY a month (%d CNY per seat)", l.BoughtInUse, l.MonthlyCostCNY, platform.SeatPriceCNY)
	}
	return msg
}

// moreSeats says, for a SubAccount that waits for a seat, how to get the
// seats needed (this one and those ahead of it): claim the free seats not
// claimed yet, or buy the rest, and what they cost a month. Where the
// platform reports no ledger it says to raise spec.seats.purchased.
func moreSeats(shop *shopv1alpha1.Shop, needed int32) string {
	var l *shopv1alpha1.SeatLedgerStatus
	if shop.Status.Seats != nil {
		l = shop.Status.Seats.Ledger
	}
	if l == nil {
		return "free a seat or raise spec.seats.purchased on the Shop"
	}
	claim := min(needed, l.FreeUnclaimed)
	buy := needed - claim
	switch {
	case buy == 0:
		return fmt.Sprintf("free a seat, or claim (领取) %d of the %d free seats not claimed in the back office", claim, l.FreeUnclaimed)
	case claim > 0:
		return fmt.Sprintf("free a seat, or claim (领取) the %d free seats not claimed and buy %d more in the back office (%d CNY a month at %d CNY per seat)",
			claim, buy, buy*platform.SeatPriceCNY, platform.SeatPriceCNY)
	}
	return fmt.Sprintf("free a seat, or buy %d more in the back office (%d CNY a month at %d CNY per seat)",
		buy, buy*platform.SeatPriceCNY, platform.SeatPriceCNY)
}
