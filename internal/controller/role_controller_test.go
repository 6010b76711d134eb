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
	"strings"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// platformRole returns the shop's platform role with the given ID.
func platformRole(ts testShop, id string) (platform.Role, bool) {
	for _, r := range engine.Roles(ts.platform, ts.main) {
		if r.ID == id {
			return r, true
		}
	}
	return platform.Role{}, false
}

// roleAudit returns the shop's audit entries with action about role id.
func roleAudit(ts testShop, action, id string) []memory.AuditEntry {
	var out []memory.AuditEntry
	for _, e := range engine.Audit(ts.platform, ts.main) {
		if e.Action == action && e.TargetID == id {
			out = append(out, e)
		}
	}
	return out
}

func TestRoleBecomesReady(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	role := newRole(ns, "cs", "客服", "customer-service")
	create(t, role)
	sa := newSubAccount(ns, "xiaohong", "cs")
	create(t, sa)
	waitCurrent(t, role)
	waitCurrent(t, sa)

	g.Expect(role.Status.RoleID).NotTo(BeEmpty())
	pr, ok := platformRole(ts, role.Status.RoleID)
	g.Expect(ok).To(BeTrue(), "platform role %s exists", role.Status.RoleID)
	g.Expect(pr.Name).To(Equal("客服"))
	g.Expect(role.Status.EffectivePermissions).To(Equal(pr.Permissions))
	g.Expect(role.Status.EffectivePermissions).To(ContainElements("wangwang", "wangwang-chat", "trade-order-view", "logistics-query"))
	for _, c := range []string{shopv1alpha1.ConditionPermissionsValid, shopv1alpha1.ConditionSynced} {
		g.Expect(conditionsOf(role)).To(ContainSubstring(fmt.Sprintf("[%s=True %s", c, shopv1alpha1.ReasonSucceeded)))
	}
	g.Eventually(func() int32 {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(role), role)
		return role.Status.SubAccounts
	}, timeout, interval).Should(BeEquivalentTo(1))
	g.Expect(roleAudit(ts, "role.create", role.Status.RoleID)).To(HaveLen(1))
	g.Eventually(func() []string { return eventReasons(t, role) }, timeout, interval).Should(ContainElement("Created"))
}

func eventReasons(t *testing.T, obj client.Object) []string {
	t.Helper()
	var out []string
	for _, e := range eventsFor(t, obj) {
		out = append(out, e.Reason)
	}
	return out
}

func TestRoleDisplayNameTooLongForTaobao(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	role := newRole(ns, "cs", strings.Repeat("客", 21), "customer-service")
	create(t, role) // 21 characters pass admission (64): only Taobao says 20
	cond := waitCondition(t, role, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonInvalidSpec)
	g.Expect(cond.Message).To(ContainSubstring("has 21 characters"))
	g.Expect(cond.Message).To(ContainSubstring("at most 20"))
	waitCondition(t, role, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonInvalidSpec)
	g.Expect(engine.Roles(ts.platform, ts.main)).To(BeEmpty())
}

func TestRoleUnknownPermission(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	role := newRole(ns, "cs", "客服", "", "wangwang-chat", "no-such-code")
	create(t, role)
	cond := waitCondition(t, role, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonUnknownPermissions)
	g.Expect(cond.Message).To(ContainSubstring("no-such-code"))
	g.Expect(cond.Message).NotTo(ContainSubstring("wangwang-chat"))
	waitCondition(t, role, shopv1alpha1.ConditionPermissionsValid, metav1.ConditionFalse, shopv1alpha1.ReasonUnknownPermissions)
	g.Expect(engine.Roles(ts.platform, ts.main)).To(BeEmpty())
}

func TestRoleHighRiskNeedsAllowHighRisk(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	role := newRole(ns, "boss", "店长", "admin")
	create(t, role)
	cond := waitCondition(t, role, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonHighRiskNotAllowed)
	highRisk := []string{"funds-payment", "funds-view", "item-delete", "item-price", "subaccount-manage"}
	for _, code := range highRisk {
		g.Expect(cond.Message).To(ContainSubstring(code))
	}
	g.Expect(cond.Message).To(ContainSubstring("allowHighRisk"))
	g.Expect(engine.Roles(ts.platform, ts.main)).To(BeEmpty(), "a refused role must not reach the platform")

	update(t, role, func(r *shopv1alpha1.Role) { r.Spec.AllowHighRisk = true })
	waitCurrent(t, role)
	pr, ok := platformRole(ts, role.Status.RoleID)
	g.Expect(ok).To(BeTrue())
	g.Expect(pr.Permissions).To(ContainElements(highRisk))
	g.Expect(conditionsOf(role)).NotTo(ContainSubstring(shopv1alpha1.ConditionStalled))
}

// A Role in use stays, on the platform too, until no SubAccount uses it.
func TestRoleInUseIsKeptUntilReleased(t *testing.T) {
	g := NewWithT(t)
	cs := newRole("", "cs", "客服", "customer-service")
	ops := newRole("", "ops", "运营", "operations")
	ts, sa := readyStaff(t, platform.Taobao, cs, ops)
	csID := cs.Status.RoleID

	g.Expect(k8s.Delete(context.Background(), cs)).To(Succeed())
	cond := waitCondition(t, cs, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonInUse)
	g.Expect(cond.Message).To(ContainSubstring("xiaohong"))
	g.Expect(cs.DeletionTimestamp).NotTo(BeNil())
	_, exists := platformRole(ts, csID)
	g.Expect(exists).To(BeTrue(), "the platform role is kept while in use")
	g.Expect(mustAccount(t, ts, "xiaohong").RoleIDs).To(ContainElement(csID))

	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Spec.Roles = []shopv1alpha1.LocalObjectReference{{Name: "ops"}}
	})
	waitGone(t, cs)
	_, exists = platformRole(ts, csID)
	g.Expect(exists).To(BeFalse(), "the platform role is deleted once unused")
	g.Expect(roleAudit(ts, "role.delete", csID)).To(HaveLen(1))
	waitCurrent(t, sa)
	g.Expect(mustAccount(t, ts, "xiaohong").RoleIDs).To(Equal([]string{ops.Status.RoleID}))
}

func TestRoleDeletionPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy shopv1alpha1.DeletionPolicy
		kept   bool
	}{
		{policy: shopv1alpha1.DeletionPolicyDelete, kept: false},
		{policy: shopv1alpha1.DeletionPolicyRetain, kept: true},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			ts := newShop(t, ns, platform.Pinduoduo, 10, nil)
			role := newRole(ns, "cs", "客服", "customer-service")
			role.Spec.DeletionPolicy = tc.policy
			create(t, role)
			waitCurrent(t, role)
			id := role.Status.RoleID
			g.Expect(k8s.Delete(context.Background(), role)).To(Succeed())
			waitGone(t, role)
			_, exists := platformRole(ts, id)
			g.Expect(exists).To(Equal(tc.kept))
		})
	}
}

func TestRolePermissionChangeUpdatesPlatformRole(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	role := newRole(ns, "cs", "客服", "customer-service")
	create(t, role)
	waitCurrent(t, role)
	id := role.Status.RoleID
	g.Expect(roleAudit(ts, "role.update", id)).To(BeEmpty())

	update(t, role, func(r *shopv1alpha1.Role) { r.Spec.Permissions = []string{"marketing-coupon"} })
	waitCurrent(t, role)
	g.Expect(role.Status.EffectivePermissions).To(ContainElements("marketing", "marketing-coupon", "wangwang-chat"))
	pr, ok := platformRole(ts, id)
	g.Expect(ok).To(BeTrue())
	g.Expect(pr.Permissions).To(Equal(role.Status.EffectivePermissions))
	g.Expect(role.Status.RoleID).To(Equal(id), "updated in place, not recreated")
	g.Expect(roleAudit(ts, "role.update", id)).To(HaveLen(1), "one UpdateRole for one change")
	g.Expect(roleAudit(ts, "role.create", id)).To(HaveLen(1))
	g.Eventually(func() []string { return eventReasons(t, role) }, timeout, interval).Should(ContainElement("Updated"))
}

// The platform is slow to apply a SubAccount's switch away from a deleted
// Role: the Role controller sees no user left, but the platform refuses to
// delete a role an account still holds. Once the account lets go, the Role
// must go too, without waiting for a person or a five-minute retry.
func TestRoleReleasedAfterDelayedAccountUpdate(t *testing.T) {
	g := NewWithT(t)
	cs := newRole("", "cs", "客服", "customer-service")
	ops := newRole("", "ops", "运营", "operations")
	ts, sa := readyStaff(t, platform.Taobao, cs, ops)
	csID := cs.Status.RoleID
	g.Expect(k8s.Delete(context.Background(), cs)).To(Succeed())
	waitCondition(t, cs, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonInUse)

	var busy atomic.Bool
	busy.Store(true)
	engine.SetFault(func(method string) error {
		if method == "UpdateAccount" && busy.Load() {
			return platform.NewError(platform.ErrTransient, "", "platform busy, try again")
		}
		return nil
	})
	t.Cleanup(func() { engine.SetFault(nil) })
	deletes := engine.Calls()["DeleteRole"]

	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Spec.Roles = []shopv1alpha1.LocalObjectReference{{Name: "ops"}}
	})
	// The Role controller tried to delete the platform role the account
	// still holds, and the platform refused.
	g.Eventually(func() int { return engine.Calls()["DeleteRole"] }, timeout, interval).Should(BeNumerically(">", deletes))
	g.Expect(mustAccount(t, ts, "xiaohong").RoleIDs).To(ContainElement(csID))

	busy.Store(false)
	waitCurrent(t, sa)
	g.Expect(mustAccount(t, ts, "xiaohong").RoleIDs).To(Equal([]string{ops.Status.RoleID}))
	waitGone(t, cs)
	_, exists := platformRole(ts, csID)
	g.Expect(exists).To(BeFalse(), "the platform role is deleted once unused")
}
