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
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

// Shops with api TOP reach the suite's engine through the real TOP driver
// and shopsim's /router/rest (started with the first of them, for the
// rest of the run), so the controllers meet TOP's capabilities and answers
// as in production. topCalls records the TOP methods each app key called.
var (
	topSimOnce sync.Once
	topSimURL  string
	topSimF    platform.Factory
	topCalls   = &topWire{}
)

func topSimFactory() platform.Factory {
	topSimOnce.Do(func() {
		srv := httptest.NewServer(shopsim.New(engine, shopsim.Options{Clock: testNow}).Handler())
		topSimURL = srv.URL
		topSimF = taobao.NewFactory(taobao.Options{Clock: testNow, HTTPClient: &http.Client{Transport: topCalls}})
	})
	return topSimF
}

// topShop makes a Shop on Taobao's open API (TOP), through shopsim.
func topShop(s *shopv1alpha1.Shop) {
	topSimFactory()
	s.Spec.API, s.Spec.Endpoint = shopv1alpha1.ShopAPITOP, topSimURL
	s.Spec.Adoption = &shopv1alpha1.ShopAdoption{Policy: shopv1alpha1.ShopAdoptionAny}
	s.Spec.Seats = &shopv1alpha1.ShopAccountQuota{Included: 10} // TOP does not tell the quota
}

// topWire is an http.RoundTripper that records the method of every TOP
// request by app key.
type topWire struct {
	mu    sync.Mutex
	calls map[string][]string
}

func (w *topWire) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		w.mu.Lock()
		if w.calls == nil {
			w.calls = map[string][]string{}
		}
		k := form.Get(top.ParamAppKey)
		w.calls[k] = append(w.calls[k], form.Get(top.ParamMethod))
		w.mu.Unlock()
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(out)
}

// methods returns the TOP methods the app key called, in order.
func (w *topWire) methods(appKey string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.calls[appKey])
}

// On Taobao's open API an account's roles and direct permissions, and a
// role's permissions, can be read (taobao.sellercenter.subuser.permissions.
// roles.get) but not set. The SubAccount shows them in
// status.observedAccess; a change made in the back office is reported as
// drift (Drifted, a DriftDetected Event naming the missing and extra roles
// and permissions) under the Shop's default driftPolicy, Correct, and
// nothing is written; the Role's permissions, read with the account that
// holds it, are reported the same way. Put back by hand, the reports go.
func TestTaobaoTOPObservedRolesAndDrift(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, topShop)
	shop := &shopv1alpha1.Shop{}
	shop.Namespace, shop.Name = ns, "shop"
	waitCurrent(t, shop)

	cs := newRole(ns, "cs", "客服", "", "wangwang-chat")
	create(t, cs)
	waitCurrent(t, cs)
	back := ts.client(t) // the seller back office
	ops, err := back.CreateRole(ctx, platform.RoleSpec{Name: "运营", Permissions: []string{"item-edit"}}, "")
	g.Expect(err).NotTo(HaveOccurred())
	acct, err := back.CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: "Pa55word!x",
		AccountState: platform.AccountState{RoleIDs: []string{cs.Status.RoleID}, ExtraPermissions: []string{"phone"}}}, "")
	g.Expect(err).NotTo(HaveOccurred())

	sa := newSubAccount(ns, "xiaohong", "cs")
	sa.Spec.ExtraPermissions = []string{"phone"}
	sa.Spec.Adoption = shopv1alpha1.AdoptionAdopt
	create(t, sa)
	waitCurrent(t, sa)
	g.Expect(sa.Status.ObservedAccess).To(Equal(&shopv1alpha1.ObservedAccess{
		Roles: []shopv1alpha1.ObservedRole{{ID: cs.Status.RoleID, Name: "客服"}}, Permissions: []string{"phone"}}))
	g.Expect(apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionDrifted)).To(BeNil())

	// The back office gives xiaohong the ops role, takes her direct
	// permission away, and changes the cs role's permissions.
	now, err := back.GetAccount(ctx, acct.ID)
	g.Expect(err).NotTo(HaveOccurred())
	now.RoleIDs, now.ExtraPermissions = []string{cs.Status.RoleID, ops.ID}, nil
	_, err = back.UpdateAccount(ctx, acct.ID, now.AccountState)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = back.UpdateRole(ctx, cs.Status.RoleID, platform.RoleSpec{Name: "客服", Permissions: []string{"wangwang-history"}})
	g.Expect(err).NotTo(HaveOccurred())
	before := len(topCalls.methods(ts.creds.AppKey))
	requestDriftCheckAsync(t, ns)

	c := waitCondition(t, sa, shopv1alpha1.ConditionDrifted, metav1.ConditionTrue, shopv1alpha1.ReasonDriftDetected)
	g.Expect(c.Message).To(ContainSubstring("roles on the platform the spec does not list: 运营 (ID " + ops.ID + ")"))
	g.Expect(c.Message).To(ContainSubstring("direct permissions missing on the platform: phone"))
	g.Expect(c.Message).To(ContainSubstring("never writes it"))
	g.Expect(sa.Status.ObservedAccess).NotTo(BeNil())
	g.Expect(sa.Status.ObservedAccess.Roles).To(ConsistOf(
		shopv1alpha1.ObservedRole{ID: cs.Status.RoleID, Name: "客服"}, shopv1alpha1.ObservedRole{ID: ops.ID, Name: "运营"}))
	g.Expect(sa.Status.ObservedAccess.Permissions).To(BeEmpty())
	g.Eventually(func() []eventsv1.Event { return eventsFor(t, sa) }, timeout, interval).Should(ContainElement(HaveField("Reason", "DriftDetected")))

	rc := waitCondition(t, cs, shopv1alpha1.ConditionDrifted, metav1.ConditionTrue, shopv1alpha1.ReasonDriftDetected)
	g.Expect(rc.Message).To(ContainSubstring("permissions missing on the platform: wangwang-chat"))
	g.Expect(rc.Message).To(ContainSubstring("permissions on the platform the spec does not grant: wangwang-history"))
	g.Eventually(func() []eventsv1.Event { return eventsFor(t, cs) }, timeout, interval).Should(ContainElement(HaveField("Reason", "DriftDetected")))
	waitCurrent(t, cs)
	g.Expect(apimeta.IsStatusConditionTrue(cs.Status.Conditions, shopv1alpha1.ConditionReady)).To(BeTrue(), "reported, not Stalled on an update TOP cannot make")
	waitCurrent(t, sa)

	// Nothing was written: no TOP write since the check, and the back
	// office's changes stand.
	for _, m := range topCalls.methods(ts.creds.AppKey)[before:] {
		g.Expect(m).NotTo(BeElementOf(top.MethodSubuserUpdate, top.MethodRoleAdd), "a write after the drift check")
	}
	reads := 0
	for _, m := range topCalls.methods(ts.creds.AppKey)[before:] {
		if m == top.MethodSubuserPermRoles {
			reads++
		}
	}
	g.Expect(reads).To(Equal(1), "the drift check read the one managed account's roles once, and nothing read them again")
	after := mustAccount(t, ts, "xiaohong")
	g.Expect(after.RoleIDs).To(ConsistOf(cs.Status.RoleID, ops.ID))
	g.Expect(after.ExtraPermissions).To(BeEmpty())

	// Put back in the back office: the next check finds both in step.
	now.RoleIDs, now.ExtraPermissions = []string{cs.Status.RoleID}, []string{"phone"}
	_, err = back.UpdateAccount(ctx, acct.ID, now.AccountState)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = back.UpdateRole(ctx, cs.Status.RoleID, platform.RoleSpec{Name: "客服", Permissions: []string{"wangwang-chat"}})
	g.Expect(err).NotTo(HaveOccurred())
	requestDriftCheckAsync(t, ns)
	for _, obj := range []conditioned{sa, cs} {
		g.Eventually(func() *metav1.Condition {
			_ = k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)
			return apimeta.FindStatusCondition(obj.GetConditions(), shopv1alpha1.ConditionDrifted)
		}, timeout, interval).Should(BeNil(), func() string { return conditionsOf(obj) })
	}
}
