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
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// limitedPrefix marks test shops whose platform API can do only what
// Taobao's open API can: no account creation, deletion or passwords, no
// role assignment, no role updates.
const limitedPrefix = "limited-"

var topLike = platform.Capabilities{AccountDisabled: true, AccountSeat: true}

// capabilityFactory hands out capability-limited clients for limited shops.
type capabilityFactory struct{ inner platform.Factory }

func (f capabilityFactory) ClientFor(ctx context.Context, cfg platform.ShopConfig) (platform.Client, error) {
	c, err := f.inner.ClientFor(ctx, cfg)
	if err != nil || !strings.HasPrefix(cfg.MainAccount, limitedPrefix) {
		return c, err
	}
	return limitedClient{c}, nil
}

// limitedClient refuses what the limited platform cannot do, faithfully:
// an UpdateAccount that would change an unsupported field is refused too.
type limitedClient struct{ platform.Client }

func (limitedClient) Capabilities() platform.Capabilities { return topLike }

func notSupported(op string) error { return platform.NewError(platform.ErrNotSupported, "", "%s", op) }

func (limitedClient) CreateAccount(context.Context, platform.CreateAccount, string) (platform.Account, error) {
	return platform.Account{}, notSupported("create account")
}
func (limitedClient) DeleteAccount(context.Context, string) error {
	return notSupported("delete account")
}
func (limitedClient) SetPassword(context.Context, string, string) error {
	return notSupported("set password")
}
func (limitedClient) UpdateRole(context.Context, string, platform.RoleSpec) (platform.Role, error) {
	return platform.Role{}, notSupported("update role")
}
func (c limitedClient) UpdateAccount(ctx context.Context, id string, s platform.AccountState) (platform.Account, error) {
	cur, err := c.Client.GetAccount(ctx, id)
	if err != nil {
		return cur, err
	}
	if _, unsupported := limitToCapabilities(s, cur.AccountState, topLike); len(unsupported) > 0 {
		return cur, notSupported("changing " + strings.Join(unsupported, ", "))
	}
	return c.Client.UpdateAccount(ctx, id, s)
}

// Adoption is explicit: Preview shows what would change and writes
// nothing; Adopt takes the account over, applies the spec and the password.
func TestAdoptionPreviewThenAdopt(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	existing, err := ts.client(t).CreateAccount(context.Background(),
		platform.CreateAccount{Name: "xiaohong", Password: "old-Passw0rd", AccountState: platform.AccountState{Disabled: true}}, "")
	g.Expect(err).NotTo(HaveOccurred())
	cs := newRole(ns, "cs", "客服", "customer-service")
	create(t, cs)
	waitCurrent(t, cs)

	sa := newSubAccount(ns, "xiaohong", "cs")
	sa.Spec.Adoption = shopv1alpha1.AdoptionPreview
	create(t, sa)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionAdopted, metav1.ConditionFalse, shopv1alpha1.ReasonAdoptionPreview)
	g.Expect(cond.Message).To(ContainSubstring("roles [] → [" + cs.Status.RoleID + "]"))
	g.Expect(cond.Message).To(ContainSubstring("disabled true → false"))
	g.Expect(cond.Message).To(ContainSubstring("the password is replaced"))
	waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonAdoptionPreview)
	acct := mustAccount(t, ts, "xiaohong")
	g.Expect(acct.AccountState).To(Equal(existing.AccountState), "a preview must not write")
	g.Expect(checkLogin(t, ts, "xiaohong", "old-Passw0rd")).To(BeFalse(), "disabled accounts do not log in")

	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Adoption = shopv1alpha1.AdoptionAdopt })
	waitCurrent(t, sa)
	waitCondition(t, sa, shopv1alpha1.ConditionAdopted, metav1.ConditionTrue, shopv1alpha1.ReasonAdopted)
	g.Expect(sa.Status.AccountID).To(Equal(existing.ID))
	acct = mustAccount(t, ts, "xiaohong")
	g.Expect(acct.RoleIDs).To(Equal([]string{cs.Status.RoleID}))
	g.Expect(acct.Disabled).To(BeFalse())
	g.Expect(checkLogin(t, ts, "xiaohong", string(secretOf(t, sa).Data["password"]))).To(BeTrue())
	g.Expect(engine.Accounts(ts.platform, ts.main)).To(HaveLen(1))
	g.Expect(eventsFor(t, sa)).To(ContainElement(HaveField("Reason", "Adopted")))
}

// On a platform whose API cannot create accounts or set passwords, the
// operator adopts, applies what it can, and says what it cannot.
func TestLimitedPlatformAdoptsAndReportsLimits(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShopNamed(t, ns, "shop2", limitedPrefix+randomSuffix())
	cs := newRole(ns, "cs", "客服", "customer-service")
	cs.Spec.ShopRef.Name = "shop2"
	create(t, cs)
	waitCurrent(t, cs)

	sa := newSubAccount(ns, "xiaohong", "cs")
	sa.Spec.ShopRef.Name = "shop2"
	create(t, sa)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonNotSupported)
	g.Expect(cond.Message).To(ContainSubstring("cannot create sub-accounts"))
	g.Expect(cond.Message).To(ContainSubstring("adoption: Adopt"))
	g.Expect(secretOf(t, sa).Data).NotTo(HaveKey("password"), "no password is generated that could never be set")

	// Created in the back office, then adopted.
	existing, err := ts.client(t).CreateAccount(context.Background(), platform.CreateAccount{Name: "xiaohong", Password: "back-office-1"}, "")
	g.Expect(err).NotTo(HaveOccurred())
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Adoption = shopv1alpha1.AdoptionAdopt })
	waitCurrent(t, sa)
	g.Expect(sa.Status.AccountID).To(Equal(existing.ID))
	limits := waitCondition(t, sa, shopv1alpha1.ConditionPlatformLimits, metav1.ConditionTrue, shopv1alpha1.ReasonNotSupported)
	g.Expect(limits.Message).To(ContainSubstring("cannot apply roles"))
	creds := waitCondition(t, sa, shopv1alpha1.ConditionCredentialsReady, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(creds.Message).To(ContainSubstring("cannot set passwords"))
	g.Expect(checkLogin(t, ts, "xiaohong", "back-office-1")).To(BeTrue(), "the back-office password is left alone")

	// What it can do, it does.
	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Spec.Disabled = true })
	waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool { return a.Disabled }, "disabled")

	// Deleting with policy Delete disables instead, and says so.
	update(t, sa, func(s *shopv1alpha1.SubAccount) {
		s.Spec.Disabled = false
		s.Spec.DeletionPolicy = shopv1alpha1.DeletionPolicyDelete
	})
	waitPlatform(t, ts, "xiaohong", func(a platform.Account) bool { return !a.Disabled }, "enabled")
	g.Expect(k8s.Delete(context.Background(), sa)).To(Succeed())
	waitGone(t, sa)
	acct := mustAccount(t, ts, "xiaohong")
	g.Expect(acct.Disabled).To(BeTrue())
	g.Expect(eventsFor(t, sa)).To(ContainElement(HaveField("Reason", "NotSupported")))
}
