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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// readyStaff creates a shop with the given Roles and one SubAccount using
// the first Role, and waits for all of them to be Ready.
func readyStaff(t *testing.T, p platform.Name, roles ...*shopv1alpha1.Role) (testShop, *shopv1alpha1.SubAccount) {
	t.Helper()
	ns := newNamespace(t)
	ts := newShop(t, ns, p, 10, nil)
	for _, r := range roles {
		r.Namespace = ns
		create(t, r)
	}
	sa := newSubAccount(ns, "xiaohong", roles[0].Name)
	if p == platform.Douyin {
		sa.Spec.Phone = uniquePhone() // Douyin binds a number to one shop only
	}
	create(t, sa)
	for _, r := range roles {
		waitCurrent(t, r)
	}
	if p == platform.Douyin {
		verifyPhone(t, sa)
	}
	waitCurrent(t, sa)
	return ts, sa
}

// waitPlatform waits until the platform account satisfies check.
func waitPlatform(t *testing.T, ts testShop, name string, check func(platform.Account) bool, what string) platform.Account {
	t.Helper()
	var acct platform.Account
	NewWithT(t).Eventually(func() bool {
		var ok bool
		acct, ok = ts.account(t, name)
		return ok && check(acct)
	}, timeout, interval).Should(BeTrue(), func() string {
		return fmt.Sprintf("platform account %s: %s; have %+v", name, what, acct)
	})
	return acct
}

func TestRolePermissionChangesAreGrantedAndRevoked(t *testing.T) {
	g := NewWithT(t)
	cs := newRole("", "cs", "客服", "customer-service")
	ts, sa := readyStaff(t, platform.Taobao, cs)
	acct, _ := ts.account(t, "xiaohong")
	g.Expect(acct.EffectivePermissions).NotTo(ContainElement("marketing-coupon"))

	// The SubAccount's generation does not change; its status follows the
	// Role, to what the platform now grants.
	statusFollows := func(coupon bool) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)).To(Succeed())
			g.Expect(slices.Contains(sa.Status.EffectivePermissions, "marketing-coupon")).To(Equal(coupon))
			g.Expect(sa.Status.EffectivePermissions).To(Equal(mustAccount(t, ts, "xiaohong").EffectivePermissions))
			g.Expect(sa.Status.AppliedPermissions).To(Equal(sa.Status.EffectivePermissions))
		}, timeout, interval).Should(Succeed())
	}

	update(t, cs, func(r *shopv1alpha1.Role) { r.Spec.Permissions = []string{"marketing-coupon"} })
	waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool {
		return containsAll(a.EffectivePermissions, "marketing-coupon", "marketing", "wangwang-chat")
	}, "the Role's new permission is granted")
	statusFollows(true)

	update(t, cs, func(r *shopv1alpha1.Role) { r.Spec.Permissions = nil })
	waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool {
		return !containsAll(a.EffectivePermissions, "marketing-coupon") && containsAll(a.EffectivePermissions, "wangwang-chat")
	}, "the removed permission is revoked")
	statusFollows(false)
	waitCurrent(t, sa)
}

func TestExtraPermissionsAndRoleSwitch(t *testing.T) {
	g := NewWithT(t)
	cs := newRole("", "cs", "客服", "customer-service")
	ops := newRole("", "ops", "运营", "operations")
	ts, sa := readyStaff(t, platform.Taobao, cs, ops)

	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.ExtraPermissions = []string{"trade-refund"} })
	waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool {
		return containsAll(a.ExtraPermissions, "trade-refund")
	}, "the supplementary permission is granted")
	// Status shows where each permission comes from, after Taobao's tree
	// expansion (refunds bring their parent, trade).
	waitCurrent(t, sa)
	_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(cs), cs)
	g.Expect(cs.Status.EffectivePermissions).NotTo(BeEmpty())
	g.Expect(sa.Status.PermissionSources).To(Equal(&shopv1alpha1.PermissionSources{
		Roles:         []shopv1alpha1.RolePermissions{{Name: "cs", Permissions: cs.Status.EffectivePermissions}},
		Supplementary: []string{"trade", "trade-refund"},
	}))

	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Spec.ExtraPermissions = nil
		s.Spec.Roles = []shopv1alpha1.LocalObjectReference{{Name: "ops"}}
	})
	acct := waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool {
		return len(a.ExtraPermissions) == 0 && len(a.RoleIDs) == 1 && a.RoleIDs[0] == ops.Status.RoleID
	}, "the supplementary permission is revoked and the role switched")
	g.Expect(acct.EffectivePermissions).To(ContainElement("item-edit"))
	g.Expect(acct.EffectivePermissions).NotTo(ContainElement("wangwang-chat"))
	waitCurrent(t, sa)
	_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(ops), ops)
	g.Expect(sa.Status.PermissionSources).To(Equal(&shopv1alpha1.PermissionSources{
		Roles: []shopv1alpha1.RolePermissions{{Name: "ops", Permissions: ops.Status.EffectivePermissions}},
	}), "no supplementary permissions left")
	// The Role no longer used counts no users.
	g.Eventually(func() int32 {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(cs), cs)
		return cs.Status.SubAccounts
	}, timeout, interval).Should(BeZero())
	eventuallyEvents(t, sa, ContainElement(HaveField("Reason", "Updated")))
}

func TestPasswordRotationOnDemand(t *testing.T) {
	g := NewWithT(t)
	ts, sa := readyStaff(t, platform.Pinduoduo, newRole("", "cs", "客服", "customer-service"))
	old := secretOf(t, sa)
	oldPassword := string(old.Data["password"])
	g.Expect(sa.Status.PasswordRevision).To(BeEquivalentTo(1))

	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Annotations = map[string]string{shopv1alpha1.AnnotationRotatePassword: "2026-11-22T10:00:00Z"}
	})
	g.Eventually(func() int64 {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return sa.Status.PasswordRevision
	}, timeout, interval).Should(BeEquivalentTo(2))
	newPassword := string(secretOf(t, sa).Data["password"])
	g.Expect(newPassword).NotTo(Equal(oldPassword))
	g.Expect(sa.Status.LastHandledRotation).To(Equal("2026-11-22T10:00:00Z"))
	g.Expect(checkLogin(t, ts, "xiaohong", newPassword)).To(BeTrue(), "the new password must log in")
	g.Expect(checkLogin(t, ts, "xiaohong", oldPassword)).To(BeFalse(), "the old password must not")
	waitCurrent(t, sa)

	// The same annotation value again does not rotate again.
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.DisplayName = "小红" })
	waitCurrent(t, sa)
	g.Expect(sa.Status.PasswordRevision).To(BeEquivalentTo(2))
	g.Expect(string(secretOf(t, sa).Data["password"])).To(Equal(newPassword))
	for _, e := range eventsFor(t, sa) {
		g.Expect(e.Note).NotTo(ContainSubstring(newPassword))
		g.Expect(e.Note).NotTo(ContainSubstring(oldPassword))
	}
}

// A deleted credentials Secret is made again with a new password, and that
// password reaches the platform even though the rotated account's status
// already holds a higher revision than a fresh Secret would start from.
func TestDeletedSecretAfterRotationGetsANewPasswordApplied(t *testing.T) {
	g := NewWithT(t)
	ts, sa := readyStaff(t, platform.Pinduoduo, newRole("", "cs", "客服", "customer-service"))
	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Annotations = map[string]string{shopv1alpha1.AnnotationRotatePassword: "2026-11-22T11:00:00Z"}
	})
	g.Eventually(func() int64 {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return sa.Status.PasswordRevision
	}, timeout, interval).Should(BeEquivalentTo(2))
	old := secretOf(t, sa)
	oldPassword := string(old.Data["password"])
	g.Expect(k8s.Delete(context.Background(), old)).To(Succeed())

	var fresh *corev1.Secret
	g.Eventually(func() bool {
		s := &corev1.Secret{}
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(old), s); err != nil || s.UID == old.UID {
			return false
		}
		fresh = s
		return true
	}, timeout, interval).Should(BeTrue(), "the Secret is made again")
	newPassword := string(fresh.Data["password"])
	g.Expect(newPassword).NotTo(BeEmpty())
	g.Expect(newPassword).NotTo(Equal(oldPassword))
	g.Eventually(func() bool { return checkLogin(t, ts, "xiaohong", newPassword) }, timeout, interval).
		Should(BeTrue(), "the new Secret's password must log in")
	g.Expect(checkLogin(t, ts, "xiaohong", oldPassword)).To(BeFalse())
	g.Expect(fresh.Annotations[shopv1alpha1.AnnotationPasswordRevision]).To(Equal("3"))
	// The status write follows the platform call: wait for it.
	g.Eventually(func() int64 {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return sa.Status.PasswordRevision
	}, timeout, interval).Should(BeEquivalentTo(3))
	waitCurrent(t, sa)
}

func TestPasswordFromUserSecret(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Pinduoduo, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	// Labelled as the docs advise, so the operator sees its changes at once.
	src := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vault-pw", Labels: map[string]string{shopv1alpha1.LabelSecretRole: "password"}},
		StringData: map[string]string{"pw": "tiny!"},
	}
	create(t, src)
	sa := newSubAccount(ns, "agent", "cs")
	sa.Spec.Password.SecretRef = &shopv1alpha1.SecretKeyReference{Name: "vault-pw", Key: "pw"}
	create(t, sa)

	// Pinduoduo needs 6 characters; the message says so without the password.
	cond := waitCondition(t, sa, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonPasswordTooShort)
	g.Expect(cond.Message).To(ContainSubstring("is too short; pinduoduo requires at least 6 characters"))
	g.Expect(cond.Message).NotTo(ContainSubstring("5"), "nothing about the value, not even its length")
	g.Expect(cond.Message).NotTo(ContainSubstring("tiny!"))
	_, exists := ts.account(t, "agent")
	g.Expect(exists).To(BeFalse(), "no account may be created with a refused password")

	update(t, src, func(s *corev1.Secret) { s.Data = map[string][]byte{"pw": []byte("first-Passw0rd")} })
	waitCurrent(t, sa)
	g.Expect(checkLogin(t, ts, "agent", "first-Passw0rd")).To(BeTrue())

	// Written by External Secrets or Vault: a new value reaches the platform.
	update(t, src, func(s *corev1.Secret) { s.Data = map[string][]byte{"pw": []byte("second-Passw0rd")} })
	g.Eventually(func() bool { return checkLogin(t, ts, "agent", "second-Passw0rd") }, timeout, interval).Should(BeTrue())
	g.Expect(string(secretOf(t, sa).Data["password"])).To(Equal("second-Passw0rd"))
}

func TestDisableBlocksLogin(t *testing.T) {
	g := NewWithT(t)
	ts, sa := readyStaff(t, platform.Taobao, newRole("", "cs", "客服", "customer-service"))
	password := string(secretOf(t, sa).Data["password"])
	g.Expect(checkLogin(t, ts, "xiaohong", password)).To(BeTrue())

	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Disabled = true })
	waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool { return a.Disabled }, "disabled")
	g.Expect(checkLogin(t, ts, "xiaohong", password)).To(BeFalse())

	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Disabled = false })
	waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool { return !a.Disabled }, "enabled again")
	g.Expect(checkLogin(t, ts, "xiaohong", password)).To(BeTrue())
}

func TestDeletionPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy     shopv1alpha1.DeletionPolicy
		exists     bool
		disabled   bool
		keepSecret bool
	}{
		{policy: shopv1alpha1.DeletionPolicyDelete, exists: false},
		{policy: shopv1alpha1.DeletionPolicyDisable, exists: true, disabled: true, keepSecret: true},
		{policy: shopv1alpha1.DeletionPolicyRetain, exists: true, disabled: false, keepSecret: true},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ts, sa := readyStaff(t, platform.Taobao, newRole("", "cs", "客服", "customer-service"))
			update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.DeletionPolicy = tc.policy })
			waitCurrent(t, sa)
			g.Expect(k8s.Delete(context.Background(), sa)).To(Succeed())
			waitGone(t, sa)

			acct, exists := ts.account(t, "xiaohong")
			g.Expect(exists).To(Equal(tc.exists))
			if exists {
				g.Expect(acct.Disabled).To(Equal(tc.disabled))
			}
			// envtest runs no garbage collector: what decides the Secret's
			// fate is whether it still names the SubAccount as its owner.
			secret := secretOf(t, sa)
			g.Expect(metav1.IsControlledBy(secret, sa)).To(Equal(!tc.keepSecret))
		})
	}
}

func TestMissingRoleThenCreated(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	sa := newSubAccount(ns, "xiaohong", "cs")
	create(t, sa)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionRolesResolved, metav1.ConditionFalse, shopv1alpha1.ReasonRoleNotFound)
	g.Expect(cond.Message).To(ContainSubstring("Roles cs not found"))
	_, exists := ts.account(t, "xiaohong")
	g.Expect(exists).To(BeFalse())

	create(t, newRole(ns, "cs", "客服", "customer-service"))
	waitCurrent(t, sa)
}

func TestRoleOfAnotherShopIsRefused(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	newShop(t, ns, platform.Taobao, 10, nil)
	other := newRole(ns, "other-cs", "客服", "customer-service")
	other.Spec.ShopRef.Name = "another-shop"
	create(t, other)
	sa := newSubAccount(ns, "xiaohong", "other-cs")
	create(t, sa)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonRoleShopMismatch)
	g.Expect(cond.Message).To(ContainSubstring("belong to another Shop"))
}

func TestTakenAccountNameIsNeverTouched(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	// Someone created "taken" by hand in the back office.
	theirs, err := ts.client(t).CreateAccount(context.Background(),
		platform.CreateAccount{Name: "taken", Password: "their-Passw0rd"}, "")
	g.Expect(err).NotTo(HaveOccurred())
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	sa := newSubAccount(ns, "taken", "cs")
	create(t, sa)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonNameTaken)
	g.Expect(cond.Message).To(ContainSubstring(`account name "taken" is already used`))

	// Deleting the SubAccount must leave their account alone.
	g.Expect(k8s.Delete(context.Background(), sa)).To(Succeed())
	waitGone(t, sa)
	acct, exists := ts.account(t, "taken")
	g.Expect(exists).To(BeTrue())
	g.Expect(acct.ID).To(Equal(theirs.ID))
	g.Expect(acct.Disabled).To(BeFalse())
	g.Expect(checkLogin(t, ts, "taken", "their-Passw0rd")).To(BeTrue())
}

func TestSeatQuotaFull(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 1, func(s *shopv1alpha1.Shop) {
		s.Spec.Seats = &shopv1alpha1.ShopAccountQuota{Included: 1}
	})
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	first := newSubAccount(ns, "first", "cs")
	create(t, first)
	waitCurrent(t, first)
	second := newSubAccount(ns, "second", "cs")
	create(t, second)
	cond := waitCondition(t, second, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSeatsExhausted)
	g.Expect(cond.Message).To(ContainSubstring("seats"))
	g.Expect(engine.Accounts(ts.platform, ts.main)).To(HaveLen(1))
	// Seat counts are batched (testBatchDelay) after SubAccounts arrive.
	waitSeats(t, &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}},
		shopv1alpha1.AccountQuotaStatus{Used: 1, Total: 1, Managed: 2, Waiting: 1})
}

// An account left on the platform by its SubAccount's deletion
// (deletionPolicy Retain) keeps its seat: the Shop counts it as nobody's
// once the SubAccount is gone, and the next SubAccount waits for a seat
// instead of being sent to a platform that has none.
func TestRetainedAccountKeepsItsSeat(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 1, nil)
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	first := newSubAccount(ns, "first", "cs")
	first.Spec.DeletionPolicy = shopv1alpha1.DeletionPolicyRetain
	create(t, first)
	waitCurrent(t, first)
	waitSeats(t, shop, shopv1alpha1.AccountQuotaStatus{Used: 1, Total: 1, Managed: 1})

	g.Expect(k8s.Delete(context.Background(), first)).To(Succeed())
	waitGone(t, first)
	g.Expect(engine.Accounts(ts.platform, ts.main)).To(HaveLen(1), "retained")
	waitSeats(t, shop, shopv1alpha1.AccountQuotaStatus{Used: 1, Total: 1, Unmanaged: 1})

	second := newSubAccount(ns, "second", "cs")
	create(t, second)
	waitCondition(t, second, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSeatsExhausted)
	g.Expect(engine.Accounts(ts.platform, ts.main)).To(HaveLen(1))
}

// A crash between creating the platform account and writing status must not
// create a second account: the retry presents the same request ID.
func TestCreateAfterCrashReusesTheAccount(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	role := newRole(ns, "cs", "客服", "customer-service")
	create(t, role)
	waitCurrent(t, role)
	shop := &shopv1alpha1.Shop{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.Suspend = true })
	sa := newSubAccount(ns, "xiaohong", "cs")
	create(t, sa)
	// Suspended: the Secret is written first, nothing reaches the platform.
	waitCondition(t, sa, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonSuspended)
	secret := secretOf(t, sa)
	g.Expect(engine.Accounts(ts.platform, ts.main)).To(BeEmpty())

	// The "crashed" first attempt: the create went through, status was lost.
	first, err := ts.client(t).CreateAccount(context.Background(), platform.CreateAccount{
		Name: "xiaohong", Password: string(secret.Data["password"])}, string(sa.UID))
	g.Expect(err).NotTo(HaveOccurred())

	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.Suspend = false })
	waitCurrent(t, sa)
	g.Expect(sa.Status.AccountID).To(Equal(first.ID))
	g.Expect(engine.Accounts(ts.platform, ts.main)).To(HaveLen(1))
	g.Expect(checkLogin(t, ts, "xiaohong", string(secret.Data["password"]))).To(BeTrue())
}

// An account deleted out of band is created again when the SubAccount is
// next reconciled.
func TestAccountDeletedOnThePlatformIsRecreated(t *testing.T) {
	g := NewWithT(t)
	ts, sa := readyStaff(t, platform.Taobao, newRole("", "cs", "客服", "customer-service"))
	oldID := sa.Status.AccountID
	g.Expect(ts.client(t).DeleteAccount(context.Background(), oldID)).To(Succeed())
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.DisplayName = "小红" })
	acct := waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool { return a.ID != oldID }, "recreated")
	g.Expect(acct.Profile.DisplayName).To(Equal("小红"))
	waitCurrent(t, sa)
	g.Expect(sa.Status.AccountID).To(Equal(acct.ID))
	g.Expect(checkLogin(t, ts, "xiaohong", string(secretOf(t, sa).Data["password"]))).To(BeTrue())
}

func TestSecretsNeverReachStatusOrEvents(t *testing.T) {
	g := NewWithT(t)
	ts, sa := readyStaff(t, platform.Taobao, newRole("", "cs", "客服", "customer-service"))
	password := string(secretOf(t, sa).Data["password"])
	for _, s := range []string{password, ts.creds.AppSecret, ts.creds.AccessToken} {
		g.Expect(conditionsOf(sa)).NotTo(ContainSubstring(s))
		for _, e := range eventsFor(t, sa) {
			g.Expect(e.Note).NotTo(ContainSubstring(s))
		}
	}
	eventuallyEvents(t, sa, ContainElement(HaveField("Reason", "Created")))
	// The platform's audit log names the resource behind each write.
	g.Expect(engine.Audit(ts.platform, ts.main)).To(ContainElement(And(
		HaveField("Action", "account.create"), HaveField("Source", "SubAccount/"+sa.Namespace+"/xiaohong"))))
}

func checkLogin(t *testing.T, ts testShop, name, password string) bool {
	t.Helper()
	ok, err := ts.client(t).CheckCredentials(context.Background(), name, password)
	if err != nil {
		t.Fatalf("checking credentials: %v", err)
	}
	return ok
}

func mustAccount(t *testing.T, ts testShop, name string) platform.Account {
	t.Helper()
	a, ok := ts.account(t, name)
	if !ok {
		t.Fatalf("no platform account %s", name)
	}
	return a
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || strings.EqualFold(h, w)
		}
		if !found {
			return false
		}
	}
	return true
}

var phoneSeq atomic.Int64

// uniquePhone returns a mainland mobile number no other test uses.
func uniquePhone() string {
	return fmt.Sprintf("139%08d", time.Now().UnixNano()%1e6*100+phoneSeq.Add(1)%100)
}
