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
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// limitedPrefix marks test shops whose platform API can do only what
// Taobao's open API can: no account creation, deletion or passwords, no
// role assignment, no role updates.
const limitedPrefix = "limited-"

var topLike = platform.Capabilities{AccountDisabled: true, AccountSeat: true}

// capabilityFactory hands out capability-limited clients for limited shops,
// and TOP clients of shopsim's TOP endpoint for Shops with api TOP.
type capabilityFactory struct{ inner platform.Factory }

func (f capabilityFactory) ClientFor(ctx context.Context, cfg platform.ShopConfig) (platform.Client, error) {
	if cfg.API == string(shopv1alpha1.ShopAPITOP) {
		return topSimFactory().ClientFor(ctx, cfg) // the real TOP driver, against shopsim
	}
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
	ts := newShop(t, ns, platform.Taobao, 10, allowAdoption(shopv1alpha1.ShopAdoptionAny))
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
	eventuallyEvents(t, sa, ContainElement(HaveField("Reason", "Adopted")))
}

// On a platform whose API cannot create accounts or set passwords, the
// operator adopts, applies what it can, and says what it cannot.
func TestLimitedPlatformAdoptsAndReportsLimits(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShopWith(t, ns, "shop2", limitedPrefix+randomSuffix(), platform.Taobao, 10, allowAdoption(shopv1alpha1.ShopAdoptionAny))
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
	eventuallyEvents(t, sa, ContainElement(HaveField("Reason", "NotSupported")))
}

// allowAdoption sets a Shop's adoption policy (with the account names an
// AllowList allows).
func allowAdoption(policy shopv1alpha1.ShopAdoptionPolicy, names ...string) func(*shopv1alpha1.Shop) {
	return func(s *shopv1alpha1.Shop) {
		s.Spec.Adoption = &shopv1alpha1.ShopAdoption{Policy: policy, AccountNames: names}
	}
}

// Issue 15 item 2: mallory, who may create SubAccounts, must not take over
// xiaohong's account by naming it, even where the Shop allows adoption.
// The holder is named only within the adopter's namespace; from another
// namespace (a second Shop naming the same platform shop) the account is
// "managed elsewhere".
func TestAdoptionRefusesAnAccountAnotherSubAccountManages(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, allowAdoption(shopv1alpha1.ShopAdoptionAny))
	xiaohong := newSubAccount(ns, "xiaohong")
	create(t, xiaohong)
	waitCurrent(t, xiaohong)
	password := string(secretOf(t, xiaohong).Data["password"])

	mallory := newSubAccount(ns, "mallory")
	mallory.Spec.AccountName = "xiaohong"
	mallory.Spec.Adoption = shopv1alpha1.AdoptionAdopt
	create(t, mallory)
	cond := waitCondition(t, mallory, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonAccountManagedElsewhere)
	g.Expect(cond.Message).To(ContainSubstring("managed by SubAccount " + ns + "/xiaohong"))

	other := newNamespace(t)
	ts.createIn(t, other, allowAdoption(shopv1alpha1.ShopAdoptionAny))
	eve := newSubAccount(other, "eve")
	eve.Spec.AccountName = "xiaohong"
	eve.Spec.Adoption = shopv1alpha1.AdoptionPreview
	create(t, eve)
	cond = waitCondition(t, eve, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonAccountManagedElsewhere)
	g.Expect(cond.Message).To(ContainSubstring("is managed elsewhere"))
	g.Expect(cond.Message).NotTo(ContainSubstring(ns), "another namespace's SubAccount is not named")

	g.Expect(mallory.Status.AccountID).To(BeEmpty())
	g.Expect(eve.Status.AccountID).To(BeEmpty())
	g.Expect(xiaohong.Status.AccountID).To(Equal(mustAccount(t, ts, "xiaohong").ID))
	g.Expect(checkLogin(t, ts, "xiaohong", password)).To(BeTrue(), "xiaohong's password still logs in")
}

// The Shop decides whether adoption is allowed: by default it is not;
// AllowList allows the names it lists. An adoption is an Event, and the
// first write after it is in the platform's audit log with the adopter as
// its source.
func TestShopAdoptionPolicy(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	legacy, err := ts.client(t).CreateAccount(context.Background(), platform.CreateAccount{Name: "legacy", Password: "back-office-1"}, "")
	g.Expect(err).NotTo(HaveOccurred())

	sa := newSubAccount(ns, "legacy")
	sa.Spec.Adoption = shopv1alpha1.AdoptionAdopt
	create(t, sa)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonAdoptionNotAllowed)
	g.Expect(cond.Message).To(ContainSubstring("set the Shop's spec.adoption.policy to AllowList"))
	g.Expect(checkLogin(t, ts, "legacy", "back-office-1")).To(BeTrue(), "a refused adoption writes nothing")

	shop := &shopv1alpha1.Shop{}
	shop.Namespace, shop.Name = ns, ts.name
	update(t, shop, allowAdoption(shopv1alpha1.ShopAdoptionAllowList, "someone-else"))
	g.Eventually(func() string {
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)).To(Succeed())
		c := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionStalled)
		if c == nil {
			return ""
		}
		return c.Message
	}, timeout, interval).Should(ContainSubstring(`does not list "legacy"`))
	g.Expect(checkLogin(t, ts, "legacy", "back-office-1")).To(BeTrue())

	update(t, shop, allowAdoption(shopv1alpha1.ShopAdoptionAllowList, "someone-else", "legacy"))
	waitCurrent(t, sa)
	waitCondition(t, sa, shopv1alpha1.ConditionAdopted, metav1.ConditionTrue, shopv1alpha1.ReasonAdopted)
	g.Expect(sa.Status.AccountID).To(Equal(legacy.ID))
	eventuallyEvents(t, sa, ContainElement(And(HaveField("Reason", "Adopted"), HaveField("Note", ContainSubstring(legacy.ID)))))
	g.Expect(engine.Audit(ts.platform, ts.main)).To(ContainElement(And(
		HaveField("TargetID", legacy.ID), HaveField("Action", "account.password"),
		HaveField("Source", ContainSubstring(ns+"/legacy")))))
}

// The allow-list and the policy go together, refused at admission.
var shopAdoptionAdmissionCases = []admissionCase{
	{name: "adoption allow-list", kind: "Shop", create: `{"spec":{"adoption":{"policy":"AllowList","accountNames":["legacy"]}}}`},
	{name: "adoption any", kind: "Shop", create: `{"spec":{"adoption":{"policy":"Any"}}}`},
	{name: "adoption allow-list without names", kind: "Shop", create: `{"spec":{"adoption":{"policy":"AllowList"}}}`,
		want: "accountNames is required with policy AllowList and allowed only with it"},
	{name: "adoption names without allow-list", kind: "Shop", create: `{"spec":{"adoption":{"accountNames":["legacy"]}}}`,
		want: "accountNames is required with policy AllowList and allowed only with it"},
	{name: "adoption unknown policy", kind: "Shop", create: `{"spec":{"adoption":{"policy":"Sometimes"}}}`,
		want: "Unsupported value"},
}

func TestShopAdoptionAdmission(t *testing.T) {
	runAdmissionCases(t, shopAdoptionAdmissionCases)
}

// The known gap of item 2: the holder check read the cache, so two
// SubAccounts adopting the same account at the same moment both passed it
// and both took the account (the second password replaced the first).
// The platform holds the first lookup until the second arrives, so both
// look before either has written anything; exactly one may adopt.
func TestConcurrentAdoptionsTakeTheAccountOnce(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns, other := newNamespace(t), newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, allowAdoption(shopv1alpha1.ShopAdoptionAny))
	ts.createIn(t, other, allowAdoption(shopv1alpha1.ShopAdoptionAny))
	legacy, err := ts.client(t).CreateAccount(ctx, platform.CreateAccount{Name: "legacy", Password: "back-office-1"}, "")
	g.Expect(err).NotTo(HaveOccurred())
	waitCurrent(t, shopObject(t, ns))
	waitCurrent(t, shopObject(t, other))

	var finds atomic.Int32
	second := make(chan struct{})
	engine.SetFault(func(method string) error {
		if method != "FindAccount" {
			return nil
		}
		switch finds.Add(1) {
		case 1:
			select {
			case <-second:
			case <-time.After(timeout):
			}
		case 2:
			close(second)
		}
		return nil
	})
	t.Cleanup(func() { engine.SetFault(nil) })

	var adopters []*shopv1alpha1.SubAccount
	for _, n := range []string{ns, other} {
		sa := newSubAccount(n, "adopter")
		sa.Spec.AccountName, sa.Spec.Adoption = "legacy", shopv1alpha1.AdoptionAdopt
		create(t, sa)
		adopters = append(adopters, sa)
	}
	outcome := func(sa *shopv1alpha1.SubAccount) string {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(sa), sa); err != nil {
			return err.Error()
		}
		switch {
		case sa.Status.AccountID == legacy.ID && apimeta.IsStatusConditionTrue(sa.Status.Conditions, shopv1alpha1.ConditionReady):
			return "adopted"
		case sa.Status.AccountID == "" && sa.Status.AdoptionClaim == "" && apimeta.IsStatusConditionTrue(sa.Status.Conditions, shopv1alpha1.ConditionStalled) &&
			apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionStalled).Reason == shopv1alpha1.ReasonAccountManagedElsewhere:
			return "refused"
		}
		return conditionsOf(sa) + " accountID " + sa.Status.AccountID
	}
	g.Eventually(func() []string {
		return []string{outcome(adopters[0]), outcome(adopters[1])}
	}, 2*timeout, interval).Should(ConsistOf("adopted", "refused"), "exactly one adopts")
	g.Expect(finds.Load()).To(BeNumerically(">=", 2), "both looked the account up")
	winner := adopters[0]
	if winner.Status.AccountID == "" {
		winner = adopters[1]
	}
	g.Expect(checkLogin(t, ts, "legacy", string(secretOf(t, winner).Data["password"]))).To(BeTrue(), "the adopter's password logs in")
}

// forbiddenReader is the API reader of a manager that may not read
// SubAccounts and Shops outside its watched namespaces.
type forbiddenReader struct{}

func (forbiddenReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return apierrors.NewForbidden(schema.GroupResource{Group: shopv1alpha1.GroupVersion.Group, Resource: "shops"}, "", errors.New("not allowed"))
}

func (forbiddenReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return apierrors.NewForbidden(schema.GroupResource{Group: shopv1alpha1.GroupVersion.Group, Resource: "subaccounts"}, "",
		errors.New(`cannot list resource "subaccounts" at the cluster scope`))
}

// The known gap of --watch-namespaces: a manager that may read SubAccounts
// only in its watched namespaces (the chart's Roles per namespace) cannot
// see a holder elsewhere, so it refuses to adopt instead of guessing, and
// says what the cluster admin can grant.
func TestAdoptionNeedsClusterWideRead(t *testing.T) {
	g := NewWithT(t)
	r := &SubAccountReconciler{Connector: &Connector{APIReader: forbiddenReader{}}}
	sa := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-a", Name: "legacy"}}
	sa.Status.LoginName = "main:legacy"
	s := &subAccountScope{sa: sa, shop: &shopv1alpha1.Shop{}}
	err := r.claim(context.Background(), s, "42", platform.Account{ID: "42"})
	var o *outcome
	g.Expect(errors.As(err, &o)).To(BeTrue(), "an outcome, not %v", err)
	g.Expect(o.stalled).To(BeTrue())
	g.Expect(o.reason).To(Equal(shopv1alpha1.ReasonAdoptionNotAllowed))
	g.Expect(o.message).To(Equal("the operator may not read SubAccounts and Shops in every namespace, so it cannot tell whether another SubAccount manages account main:legacy; " +
		"adopting needs that (a cluster admin grants get and list on subaccounts and shops cluster-wide)"))
}

// mayAdopt reads the holder from the API server; a manager that may not
// list SubAccounts cluster-wide lets the check pass to the claim (which
// refuses Adopt, above), so a preview, which writes nothing, still shows.
func TestMayAdoptLeavesAForbiddenReadToTheClaim(t *testing.T) {
	g := NewWithT(t)
	r := &SubAccountReconciler{Connector: &Connector{APIReader: forbiddenReader{}}}
	sa := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-a", Name: "legacy"}}
	sa.Spec.AccountName = "legacy"
	shop := &shopv1alpha1.Shop{}
	allowAdoption(shopv1alpha1.ShopAdoptionAny)(shop)
	s := &subAccountScope{sa: sa, shop: shop}
	g.Expect(r.mayAdopt(context.Background(), s, platform.Account{ID: "42"})).To(Succeed())

	r.Connector.APIReader = nil
	g.Expect(r.mayAdopt(context.Background(), s, platform.Account{ID: "42"})).To(MatchError(ContainSubstring("no API reader")))
}
