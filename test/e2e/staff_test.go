//go:build e2e

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

package e2e

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// staffShops are shopsim shops of TestStaff's own, so its four accounts
// take no seat of the shops the other tests share. Credentials random per
// run.
var staffShops = []shop{
	{Platform: platform.Taobao, MainAccount: "staff-tb", AppKey: "staff-tb", AppSecret: rand.Text(), AccessToken: rand.Text()},
	{Platform: platform.Pinduoduo, MainAccount: "staff-pdd", AppKey: "staff-pdd", AppSecret: rand.Text(), AccessToken: rand.Text()},
	{Platform: platform.Douyin, MainAccount: "staff-dy", AppKey: "staff-dy", AppSecret: rand.Text(), AccessToken: rand.Text()},
	{Platform: platform.Pinduoduo, MainAccount: "staff-pdd2", AppKey: "staff-pdd2", AppSecret: rand.Text(), AccessToken: rand.Text()},
}

// staffShopsimConfig is shopsim's config entries of staffShops.
func staffShopsimConfig() string { return shopsimEntries(staffShops, "1380000008") }

// shopsimEntries is shopsim's config entries of shops of a test's own,
// 10 seats each, their main phones phonePrefix and a digit.
func shopsimEntries(shops []shop, phonePrefix string) string {
	var b strings.Builder
	for i, s := range shops {
		s.RememberSecrets()
		fmt.Fprintf(&b, "  - platform: %s\n    mainAccount: %s\n    mainPhone: \"%s%d\"\n    seatQuota: 10\n    appKey: %q\n    appSecret: %q\n    accessToken: %q\n",
			s.Platform, s.MainAccount, phonePrefix, i, s.AppKey, s.AppSecret, s.AccessToken)
	}
	return b.String()
}

// TestStaff: one person across a Taobao, a Pinduoduo and a Douyin shop of
// shopsim, picked by a label, with the real manager: Ready once the Douyin
// code (read from shopsim's SMS outbox) is handed over to the SubAccount
// its row names; a fourth shop labelled to match gains an account; a hand
// edit to a field the Staff sets on its SubAccount is put back; active:
// false disables all four on shopsim (the time printed); the fourth shop
// relabelled out of the selector loses its account by its deletionPolicy
// (Delete: gone from shopsim); deleting the Staff deletes the rest.
func TestStaff(t *testing.T) {
	g := begin(t)
	ns := namespace(t, "e2e-staff")
	const phone = "13800138091"
	var yaml strings.Builder
	for i, s := range staffShops {
		name := s.MainAccount
		label := "e2e"
		if i == 3 {
			label = "later"
		}
		fmt.Fprintf(&yaml, `apiVersion: v1
kind: Secret
metadata:
  name: %[1]s-api
  labels: {shop.subaccount.io/secret: shop-api}
stringData: {appKey: %[2]q, appSecret: %[3]q, accessToken: %[4]q}
---
apiVersion: shop.subaccount.io/v1alpha1
kind: Shop
metadata:
  name: %[1]s
  labels: {brand: %[7]s}
spec:
  platform: %[5]s
  mainAccount: %[1]s
  endpoint: %[6]s
  credentialsSecretRef: {name: %[1]s-api}
---
apiVersion: shop.subaccount.io/v1alpha1
kind: Role
metadata:
  name: %[1]s-cs
  labels: {job: customer-service}
spec:
  shopRef: {name: %[1]s}
  displayName: 客服
  template: customer-service
---
`, name, s.AppKey, s.AppSecret, s.AccessToken, s.Platform, env.ShopsimURL, label)
	}
	fmt.Fprintf(&yaml, `apiVersion: shop.subaccount.io/v1alpha1
kind: Staff
metadata:
  name: li
spec:
  employee: {name: 李小丽, number: E2E-0001}
  phone: %q
  accountName: e2e-li
  assignments:
    - shopSelector: {matchLabels: {brand: e2e}}
      roleSelector: {matchLabels: {job: customer-service}}
      seat: {chat: true, capacity: 10}
`, phone)
	kubectlIn(t, yaml.String(), "apply", "-n", ns, "-f", "-")

	// The Douyin shop texts the phone; the row says so and names the
	// SubAccount the code goes to.
	g.Eventually(func() string {
		return jsonpath(t, ns, "staff/li", `{.status.shops[?(@.shop=="staff-dy")].verification}`)
	}, 2*time.Minute, 200*time.Millisecond).Should(Equal("Pending"))
	g.Expect(jsonpath(t, ns, "staff/li", `{.status.shops[?(@.shop=="staff-dy")].subAccount}`)).To(Equal("li-staff-dy"))
	handOverSMSCode(t, ns, "li-staff-dy", phone)
	waitReady(t, ns, "staff/li")
	g.Expect(jsonpath(t, ns, "staff/li", "{.status.summary}")).To(Equal("3/3 ready"))

	// A fourth shop labelled to match.
	kubectl(t, "label", "-n", ns, "shop/staff-pdd2", "brand=e2e", "--overwrite")
	g.Eventually(func() string { return jsonpath(t, ns, "staff/li", "{.status.summary}") },
		2*time.Minute, 200*time.Millisecond).Should(Equal("4/4 ready"))
	for _, s := range staffShops {
		a, status, err := s.AccountByName("e2e-li")
		g.Expect(err).NotTo(HaveOccurred(), "%s: %d", s.MainAccount, status)
		g.Expect(a.Disabled).To(BeFalse())
	}

	// A hand edit to what the Staff sets on its SubAccount is put back.
	kubectl(t, "patch", "-n", ns, "subaccount/li-staff-tb", "--type=merge", "-p",
		`{"spec":{"employee":{"name":"someone else"},"seat":{"chat":true,"capacity":25}}}`)
	g.Eventually(func() string {
		return jsonpath(t, ns, "subaccount/li-staff-tb", "{.spec.employee.name} {.spec.seat.capacity}")
	}, 2*time.Minute, 200*time.Millisecond).Should(Equal("李小丽 10"), "the hand edit was not put back")
	waitReady(t, ns, "staff/li")

	// Offboarding: every account disabled on shopsim; the time printed.
	t0 := time.Now()
	kubectl(t, "patch", "-n", ns, "staff/li", "--type=merge", "-p", `{"spec":{"active":false}}`)
	g.Eventually(func() (int, error) {
		n := 0
		for _, s := range staffShops {
			a, _, err := s.AccountByName("e2e-li")
			if err != nil {
				return n, err
			}
			if a.Disabled {
				n++
			}
		}
		return n, nil
	}, 2*time.Minute, 20*time.Millisecond).Should(Equal(len(staffShops)))
	offboarded := time.Since(t0)
	fmt.Printf("TestStaff: active: false → %d platform accounts disabled on shopsim in %s\n", len(staffShops), offboarded.Round(time.Millisecond))
	t.Logf("offboarding took %s", offboarded)
	waitReady(t, ns, "staff/li")
	g.Expect(jsonpath(t, ns, "staff/li", "{.status.summary}")).To(Equal("4/4 disabled"))

	// A shop that stops matching the selector loses its account by the
	// account's deletionPolicy (Delete): the SubAccount goes, and the
	// account with it on shopsim.
	kubectl(t, "label", "-n", ns, "shop/staff-pdd2", "brand=later", "--overwrite")
	g.Eventually(func() int {
		_, status, _ := staffShops[3].AccountByName("e2e-li")
		return status
	}, 2*time.Minute, 200*time.Millisecond).Should(Equal(http.StatusNotFound), "staff-pdd2 still has the account")
	g.Eventually(func() string {
		return kubectl(t, "get", "-n", ns, "subaccounts", "-l", "shop.subaccount.io/staff=li", "-o", "name")
	}, 2*time.Minute, 200*time.Millisecond).ShouldNot(ContainSubstring("li-staff-pdd2"))
	g.Eventually(func() string { return jsonpath(t, ns, "staff/li", "{.status.summary}") },
		2*time.Minute, 200*time.Millisecond).Should(Equal("3/3 disabled"))

	// Deleting the Staff deletes the accounts (deletionPolicy Delete).
	kubectl(t, "delete", "-n", ns, "staff/li", "--wait", "--timeout=120s")
	for _, s := range staffShops {
		_, status, _ := s.AccountByName("e2e-li")
		g.Expect(status).To(Equal(http.StatusNotFound), "%s still has the account", s.MainAccount)
	}
}
