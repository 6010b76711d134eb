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

// A sub-account's standing with the platform: marks only the platform
// sets (a penalty freeze, an unpaid seat fee). They are shown as
// conditions and never acted on: the operator cannot lift a penalty or pay
// a fee, and spec.disabled stays the seller's own switch.

import (
	"fmt"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// showStanding sets PlatformFrozen and SeatFeeOwed from what the platform
// reports about the account.
func showStanding(sa *shopv1alpha1.SubAccount, acct platform.Account) {
	if acct.PlatformFrozen {
		setCondition(sa, shopv1alpha1.ConditionPlatformFrozen, metav1.ConditionTrue, shopv1alpha1.ReasonFrozenByPlatform,
			fmt.Sprintf("the platform froze account %s as a penalty; only the platform lifts it (appeal in the seller back office). "+
				"The operator does not try to undo it, and spec.disabled is unaffected", sa.Status.LoginName))
	} else {
		removeCondition(sa, shopv1alpha1.ConditionPlatformFrozen)
	}
	if acct.SeatFeeOwed {
		setCondition(sa, shopv1alpha1.ConditionSeatFeeOwed, metav1.ConditionTrue, shopv1alpha1.ReasonSeatFeeUnpaid,
			fmt.Sprintf("the seat fee of account %s is unpaid (%d CNY per seat per month): pay it in the seller back office (服务市场)",
				sa.Status.LoginName, platform.SeatPriceCNY))
	} else {
		removeCondition(sa, shopv1alpha1.ConditionSeatFeeOwed)
	}
}

// standingChanged says whether the account's standing differs from what
// the SubAccount shows.
func standingChanged(sa *shopv1alpha1.SubAccount, acct platform.Account) bool {
	return acct.PlatformFrozen != apimeta.IsStatusConditionTrue(sa.Status.Conditions, shopv1alpha1.ConditionPlatformFrozen) ||
		acct.SeatFeeOwed != apimeta.IsStatusConditionTrue(sa.Status.Conditions, shopv1alpha1.ConditionSeatFeeOwed)
}
