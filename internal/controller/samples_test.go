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
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/samples"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

// applySamples creates every object listed in config/samples/kustomization.yaml in ns.
func applySamples(t *testing.T, ns string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := samples.Load(filepath.Join("..", "..", "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range objs {
		u.SetNamespace(ns)
		if err := k8s.Create(context.Background(), u); err != nil {
			t.Fatalf("applying %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	return objs
}

// The samples are real: applied as they are, every Shop, Role and
// SubAccount becomes Ready, each login works on the platform with the
// password in its Secret, and permissions are the previewed ones.
func TestSamplesBecomeReady(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	// The sample Shops' main accounts and credentials, registered with the
	// platform as hack/shopsim.example.yaml registers them with shopsim.
	// They are fixed, so a repeated run (-count) finds them registered
	// already and starts them afresh.
	setups, err := shopsim.LoadConfig(filepath.Join("..", "..", "hack", "shopsim.example.yaml"), func(string) string { return "" })
	g.Expect(err).NotTo(HaveOccurred())
	for _, setup := range setups {
		err := engine.AddShop(setup)
		if err == nil {
			continue
		}
		g.Expect(err).To(MatchError(platform.ErrConflict))
		c := testShop{platform: setup.Platform, main: setup.MainAccount, creds: setup.Credentials}.client(t)
		for _, a := range engine.Accounts(setup.Platform, setup.MainAccount) {
			g.Expect(c.DeleteAccount(context.Background(), a.ID)).To(Succeed())
		}
		for _, r := range engine.Roles(setup.Platform, setup.MainAccount) {
			g.Expect(c.DeleteRole(context.Background(), r.ID)).To(Succeed())
		}
	}
	objs := applySamples(t, ns)
	g.Expect(objs).To(HaveLen(17))
	// The Douyin agent waits for the code texted to her phone.
	xiaomei := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "xiaomei"}}
	verifyPhone(t, xiaomei)
	for _, u := range objs {
		if u.GetKind() == "Secret" {
			continue
		}
		waitCurrent(t, u)
	}

	ts := testShop{ns: ns, platform: platform.Taobao, main: "hongxing",
		creds: platform.Credentials{AppKey: "12345678", AppSecret: "demo-app-secret", AccessToken: "demo-session-token"}}
	for _, name := range []string{"xiaohong", "daming", "xiaolan"} {
		sa := &shopv1alpha1.SubAccount{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, sa)).To(Succeed())
		secret := secretOf(t, sa)
		g.Expect(string(secret.Data["username"])).To(Equal("hongxing:" + name))
		g.Expect(string(secret.Data["platform"])).To(Equal("taobao"))
		g.Expect(string(secret.Data["shop"])).To(Equal("hongxing"))
		g.Expect(secret.Labels).To(HaveKeyWithValue(shopv1alpha1.LabelManagedBy, shopv1alpha1.ManagedByValue))
		g.Expect(secret.Labels).NotTo(HaveKey("app.kubernetes.io/instance"))
		g.Expect(secret.Data["password"]).To(HaveLen(16))
		ok, err := ts.client(t).CheckCredentials(context.Background(), name, string(secret.Data["password"]))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(ok).To(BeTrue(), "the password in Secret %s does not log in", secret.Name)

		acct, found := ts.account(t, name)
		g.Expect(found).To(BeTrue())
		g.Expect(sa.Status.AccountID).To(Equal(acct.ID))
		g.Expect(sa.Status.LoginName).To(Equal("hongxing:" + name))
		g.Expect(acct.EffectivePermissions).To(Equal(sa.Status.EffectivePermissions), "the status preview must match the platform")
		g.Expect(sa.Status.AppliedPermissions).To(Equal(sa.Status.EffectivePermissions))
	}

	xiaohong, _ := ts.account(t, "xiaohong")
	g.Expect(xiaohong.Seat).To(Equal(&platform.Seat{Chat: true, Capacity: 20, Presence: platform.PresenceOnline}))
	g.Expect(xiaohong.Profile.Department).To(Equal("客服部"))
	g.Expect(xiaohong.Security.PhoneProtection).To(BeTrue())
	// ... and shown in status.
	sa := &shopv1alpha1.SubAccount{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "xiaohong"}, sa)).To(Succeed())
	g.Expect(sa.Status.Security).To(Equal(&shopv1alpha1.SecuritySpec{PhoneProtection: true}))

	daming, _ := ts.account(t, "daming")
	// Taobao's tree: "sm" in the operations template brings its parent and descendants.
	g.Expect(daming.EffectivePermissions).To(ContainElements("sell", "sm", "sm-design", "sm-tbd-visit", "sm-tbd-publish", "marketing-coupon", "trade-refund"))
	g.Expect(daming.ExtraPermissions).To(ContainElement("trade-refund"))
	g.Expect(daming.EffectivePermissions).NotTo(ContainElements("item-delete", "item-price", "funds-view"))

	shop := &shopv1alpha1.Shop{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hongxing"}, shop)).To(Succeed())
	g.Eventually(func() *shopv1alpha1.AccountQuotaStatus {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(shop), shop)
		return shop.Status.Seats
	}, timeout, interval).Should(Equal(&shopv1alpha1.AccountQuotaStatus{Used: 4, Total: 15, Managed: 4,
		// The demo shop reports its seats (12 free given, 10 claimed, 5
		// bought): 4 accounts fit in the free ones.
		Ledger: &shopv1alpha1.SeatLedgerStatus{FreeGiven: 12, FreeClaimed: 10, FreeUnclaimed: 2, Bought: 5}}),
		"the three SubAccounts and the Staff's")
	g.Expect(conditionsOf(shop)).To(ContainSubstring("2 free seats not claimed"))

	// The Staff: one account in each of its two shops, Ready.
	staff := &shopv1alpha1.Staff{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "xiaoli"}, staff)).To(Succeed())
	g.Expect(staff.Status.Summary).To(Equal("2/2 ready"))
	li, found := ts.account(t, "xiaoli")
	g.Expect(found).To(BeTrue())
	g.Expect(li.Profile.Phone).To(Equal("13800138041"))
	_, found = testShop{platform: platform.Pinduoduo, main: "拼多多小店"}.account(t, "xiaoli")
	g.Expect(found).To(BeTrue())

	// Douyin: one position, verified, chat on, the lunch-break schedule in
	// status; the capacity is the agent's (the platform's default until she
	// sets it), the spec's 20 intent only.
	g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(xiaomei), xiaomei)).To(Succeed())
	g.Expect(xiaomei.Status.Verification.Verified).To(BeTrue())
	g.Expect(xiaomei.Status.Chat).To(BeTrue())
	g.Expect(xiaomei.Status.ChatSeatCapacity).To(BeEquivalentTo(memory.DefaultSeatCapacity))
	g.Expect(apimeta.FindStatusCondition(xiaomei.Status.Conditions, shopv1alpha1.ConditionSeatCapacityApplied)).To(
		HaveField("Reason", shopv1alpha1.ReasonAgentOwned))
	g.Expect(xiaomei.Status.Presence).NotTo(BeNil())
	g.Expect(xiaomei.Status.Presence.NextChange).NotTo(BeNil())
	dy := testShop{platform: platform.Douyin, main: "抖店旗舰店"}
	mei, found := dy.account(t, "xiaomei")
	g.Expect(found).To(BeTrue())
	g.Expect(mei.RoleIDs).To(HaveLen(1))
	g.Expect(mei.Seat.Capacity).To(BeEquivalentTo(memory.DefaultSeatCapacity))
	g.Expect(mei.EffectivePermissions).To(ContainElements("im-chat", "aftersale-refund"))

	// Pinduoduo: templates plus explicit codes.
	pdd := testShop{platform: platform.Pinduoduo, main: "拼多多小店"}
	aqiang, found := pdd.account(t, "aqiang")
	g.Expect(found).To(BeTrue())
	g.Expect(aqiang.EffectivePermissions).To(ConsistOf("chat.reply", "order.view", "order.refund", "logistics.query", "data.report", "logistics.ship"))
	for _, r := range engine.Roles(platform.Pinduoduo, "拼多多小店") {
		if r.Name == "运营" {
			g.Expect(r.Permissions).To(ConsistOf("item.edit", "marketing.coupon", "shop.decoration", "order.view", "data.report", "chat.reply"))
		}
	}

	// The department tree is on the platform and in status; each agent is
	// a member of hers.
	waitCondition(t, shop, shopv1alpha1.ConditionDepartmentsSynced, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	deps := departmentPaths(ts)
	g.Expect(deps).To(HaveKey("客服部/售后"))
	g.Expect(deps).To(HaveKey("财务部"))
	xiaolan, _ := ts.account(t, "xiaolan")
	g.Expect(xiaolan.Profile.DepartmentID).To(Equal(deps["客服部/售后"]))
	g.Expect(xiaolan.ExtraPermissions).To(ContainElement("trade-address"))
	g.Expect(xiaohong.Profile.DepartmentID).To(Equal(deps["客服部"]))
	g.Eventually(func() []shopv1alpha1.DepartmentStatus {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(shop), shop)
		return shop.Status.Departments
	}, timeout, interval).Should(ContainElements(
		And(HaveField("Path", "客服部/售后"), HaveField("ID", deps["客服部/售后"]), HaveField("Members", BeEquivalentTo(1))),
		HaveField("Path", "运营部")))
}

func sampleClient(t *testing.T) platform.Client {
	t.Helper()
	return testShop{platform: platform.Taobao, main: "hongxing",
		creds: platform.Credentials{AppKey: "12345678", AppSecret: "demo-app-secret", AccessToken: "demo-session-token"}}.client(t)
}
