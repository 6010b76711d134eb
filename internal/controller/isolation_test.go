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
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// References are by name within the namespace only: a SubAccount or Role in
// namespace B naming the Shop and Role of namespace A finds nothing and
// waits, and nothing reaches A's shop on the platform.
func TestCrossNamespaceReferencesAreImpossible(t *testing.T) {
	g := NewWithT(t)
	nsA := newNamespace(t)
	nsB := newNamespace(t)
	tsA := newShop(t, nsA, platform.Taobao, 10, nil)
	roleA := newRole(nsA, "cs", "客服", "customer-service")
	create(t, roleA)
	waitCurrent(t, roleA)
	rolesBefore := len(engine.Roles(tsA.platform, tsA.main))

	// A SubAccount in B with shopRef "shop" and roles ["cs"]: both exist, in A.
	sa := newSubAccount(nsB, "intruder", "cs")
	create(t, sa)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonShopNotFound)
	g.Expect(cond.Message).To(Equal(fmt.Sprintf("Shop %q not found in namespace %q", "shop", nsB)))
	g.Expect(conditionsOf(sa)).NotTo(ContainSubstring(nsA), "nothing of namespace A may show in B's status")

	// A Role in B naming the Shop that exists only in A.
	roleB := newRole(nsB, "ops", "运营", "operations")
	create(t, roleB)
	cond = waitCondition(t, roleB, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonShopNotFound)
	g.Expect(cond.Message).To(Equal(fmt.Sprintf("Shop %q not found in namespace %q", "shop", nsB)))

	// Nothing reaches A's shop on the platform, however long we look.
	g.Consistently(func() int { return len(engine.Accounts(tsA.platform, tsA.main)) }, 2*time.Second, interval).
		Should(BeZero(), "no account may be created on namespace A's shop")
	g.Expect(engine.Roles(tsA.platform, tsA.main)).To(HaveLen(rolesBefore), "no role may be created on namespace A's shop")
	g.Expect(roleB.Status.RoleID).To(BeEmpty())
	g.Expect(sa.Status.AccountID).To(BeEmpty())
	// A's Role counts no user from B.
	waitCurrent(t, roleA)
	g.Expect(roleA.Status.SubAccounts).To(BeZero())
}
