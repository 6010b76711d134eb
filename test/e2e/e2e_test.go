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
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// The tests run in this order; TestSecretHygiene must be last.

const (
	// samplesNS is where config/samples is applied. The samples' account
	// and role names are unique in shopsim's hongxing shop, so they are
	// applied once, shared by the tests that need them.
	samplesNS = "e2e-samples"
	// sampleEndpoint is the Shop endpoint in config/samples.
	sampleEndpoint = "http://127.0.0.1:8089"
	// readyTransition is the Ready condition's last transition.
	readyTransition = `{.status.conditions[?(@.type=="Ready")].lastTransitionTime}`
)

// sampleObjects are config/samples' operator resources ("role" alone is
// RBAC's Role: ours is shoprole).
var sampleObjects = []string{"shop/hongxing", "shoprole/customer-service", "shoprole/operations", "subaccount/xiaohong", "subaccount/daming",
	"subaccount/xiaolan",
	"shop/doudian", "shoprole/douyin-customer-service", "subaccount/xiaomei",
	"shop/pdd-xiaodian", "shoprole/pinduoduo-customer-service-lead", "shoprole/pinduoduo-operations", "subaccount/aqiang",
	"staff/xiaoli", "subaccount/xiaoli-hongxing", "subaccount/xiaoli-pdd-xiaodian"}

// sampleAccounts are config/samples' SubAccounts of the Taobao shop
// hongxing (name = accountName).
var sampleAccounts = []string{"xiaohong", "daming", "xiaolan"}

// sampleDouyinPhone is the phone of the Douyin sample agent, xiaomei.
const sampleDouyinPhone = "13800138021"

var samplesApplied struct {
	sync.Mutex
	done bool
}

// samples applies config/samples in samplesNS (once), its Shop pointed at
// this run's shopsim, and waits until every sample is Ready.
func samples(t *testing.T) string {
	t.Helper()
	samplesApplied.Lock()
	defer samplesApplied.Unlock()
	if !samplesApplied.done {
		namespace(t, samplesNS)
		rendered := kubectl(t, "kustomize", filepath.Join(env.Root, "config", "samples"))
		if shops := strings.Count(rendered, "\nkind: Shop\n"); shops != 3 || strings.Count(rendered, "endpoint: "+sampleEndpoint) != shops {
			t.Fatalf("kubectl kustomize config/samples: expected three Shops, each with endpoint %s, in:\n%s", sampleEndpoint, rendered)
		}
		rendered = strings.ReplaceAll(rendered, "endpoint: "+sampleEndpoint, "endpoint: "+env.ShopsimURL)
		t.Logf("kubectl apply -n %s of config/samples with endpoint %s", samplesNS, env.ShopsimURL)
		kubectlIn(t, rendered, "apply", "-n", samplesNS, "-f", "-")
		handOverSMSCode(t, samplesNS, "xiaomei", sampleDouyinPhone)
		samplesApplied.done = true
	}
	waitReady(t, samplesNS, sampleObjects...)
	return samplesNS
}

// TestSamples applies config/samples, waits until everything is Ready,
// and logs in to shopsim with each SubAccount's Secret.
func TestSamples(t *testing.T) {
	g := begin(t)
	ns := samples(t)

	accounts, err := hongxing.Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	for _, name := range sampleAccounts {
		user, password := credentials(t, ns, name)
		g.Expect(user).To(Equal("hongxing:" + name))
		g.Expect(accounts).To(HaveKey(name))
		g.Expect(accounts[name].ID).To(Equal(jsonpath(t, ns, "subaccount/"+name, "{.status.accountID}")))
		g.Expect(accounts[name].Login).To(Equal(user))

		ok, err := hongxing.Login(user, password)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(ok).To(BeTrue(), "%s does not log in with the password of its Secret", user)
		ok, err = hongxing.Login(user, password+"-wrong")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(ok).To(BeFalse(), "%s logs in with a wrong password", user)
	}

	out := kubectl(t, "get", "shopstaff", "-n", ns)
	t.Logf("kubectl get shopstaff -n %s:\n%s", ns, out)
	kinds := map[string]string{"shop": "shop.shop.subaccount.io", "shoprole": "role.shop.subaccount.io",
		"subaccount": "subaccount.shop.subaccount.io", "staff": "staff.shop.subaccount.io"}
	for _, short := range sampleObjects {
		kind, name, _ := strings.Cut(short, "/")
		obj := kinds[kind] + "/" + name
		g.Expect(kinds).To(HaveKey(kind), "sampleObjects names %s, a kind this test does not know", short)
		ready := `(?m)^%s\s.*\bTrue\b`
		if kind == "staff" {
			// A Staff's READY column is its summary: every shop's account ready.
			ready = `(?m)^%s\s+\d+\s+(\d+)/\d+ ready\s+true\s`
			m := regexp.MustCompile(fmt.Sprintf(`(?m)^%s\s+(\d+)\s+(\d+)/(\d+) ready\s`, regexp.QuoteMeta(obj))).FindStringSubmatch(out)
			g.Expect(m).To(HaveLen(4), "%s missing from the table", obj)
			g.Expect(m[2]).To(Equal(m[1]), "%s: not every shop's account is ready", obj)
			g.Expect(m[3]).To(Equal(m[1]), "%s: the summary counts another number of shops", obj)
		}
		g.Expect(out).To(MatchRegexp(ready, obj), "%s missing or not Ready", obj)
	}
	names := strings.Fields(kubectl(t, "get", "shopstaff", "-n", ns, "-o", "name"))
	g.Expect(names).To(HaveLen(len(sampleObjects)), "kubectl get shopstaff -o name: %v", names)
}

// TestRolePermissions changes a Role's permissions with kubectl patch and
// sees the account on the platform gain, then lose, the permission.
func TestRolePermissions(t *testing.T) {
	g := begin(t)
	ns := samples(t)
	const added = "marketing-coupon"

	effective := func() ([]string, error) {
		accounts, err := hongxing.Accounts()
		if err != nil {
			return nil, err
		}
		a, ok := accounts["xiaohong"]
		if !ok {
			return nil, fmt.Errorf("no account xiaohong in %v", accounts)
		}
		return a.EffectivePermissions, nil
	}
	before, err := effective()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(before).NotTo(BeEmpty())
	g.Expect(before).NotTo(ContainElement(added))

	kubectl(t, "patch", "-n", ns, "shoprole/customer-service", "--type=merge", "-p", `{"spec":{"permissions":["`+added+`"]}}`)
	waitReady(t, ns, "shoprole/customer-service", "subaccount/xiaohong")
	g.Eventually(effective).Should(ContainElement(added), "xiaohong's effectivePermissions on shopsim")
	g.Expect(strings.Fields(jsonpath(t, ns, "subaccount/xiaohong", `{.status.effectivePermissions[*]}`))).To(ContainElement(added))

	kubectl(t, "patch", "-n", ns, "shoprole/customer-service", "--type=json", "-p", `[{"op":"remove","path":"/spec/permissions"}]`)
	waitReady(t, ns, "shoprole/customer-service", "subaccount/xiaohong")
	g.Eventually(effective).Should(ConsistOf(before), "xiaohong's effectivePermissions on shopsim after the revocation")
	g.Expect(strings.Fields(jsonpath(t, ns, "subaccount/xiaohong", `{.status.effectivePermissions[*]}`))).NotTo(ContainElement(added))
}

// TestDeletionPolicies deletes SubAccounts with each deletionPolicy and
// checks the platform: gone, disabled, unchanged. It has a namespace and a
// shop (shopsim's Pinduoduo shop) of its own.
func TestDeletionPolicies(t *testing.T) {
	g := begin(t)
	ns := namespace(t, "e2e-deletion")
	policies := map[string]string{"staff-delete": "Delete", "staff-disable": "Disable", "staff-retain": "Retain"}
	names := []string{"staff-delete", "staff-disable", "staff-retain"}

	yaml := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: pdd-api
  labels:
    shop.subaccount.io/secret: shop-api
type: Opaque
stringData:
  appKey: %q
  appSecret: %q
  accessToken: %q
---
apiVersion: shop.subaccount.io/v1alpha1
kind: Shop
metadata:
  name: pdd
spec:
  platform: pinduoduo
  mainAccount: %s
  endpoint: %s
  credentialsSecretRef:
    name: pdd-api
`, pdd.AppKey, pdd.AppSecret, pdd.AccessToken, pdd.MainAccount, env.ShopsimURL)
	for _, name := range names {
		yaml += fmt.Sprintf(`---
apiVersion: shop.subaccount.io/v1alpha1
kind: SubAccount
metadata:
  name: %[1]s
spec:
  shopRef:
    name: pdd
  accountName: %[1]s
  displayName: %[1]s
  employee:
    name: %[1]s
    department: e2e
  deletionPolicy: %[2]s
`, name, policies[name])
	}
	kubectlIn(t, yaml, "apply", "-n", ns, "-f", "-")
	objs := []string{"shop/pdd"}
	for _, name := range names {
		objs = append(objs, "subaccount/"+name)
	}
	waitReady(t, ns, objs...)

	before := map[string]wire.Account{}
	passwords := map[string]string{}
	for _, name := range names {
		user, password := credentials(t, ns, name)
		passwords[name] = password
		a, status, err := pdd.AccountByName(name)
		g.Expect(err).NotTo(HaveOccurred(), "GET by-name %s: %d", name, status)
		g.Expect(a.Disabled).To(BeFalse())
		before[name] = a
		ok, err := pdd.Login(user, password)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(ok).To(BeTrue(), "%s does not log in", user)
	}

	for _, name := range names {
		kubectl(t, "delete", "-n", ns, "subaccount/"+name, "--wait", "--timeout=60s")
	}
	g.Expect(kubectl(t, "get", "-n", ns, "subaccounts", "-o", "name")).To(BeEmpty())

	// Delete: gone.
	_, status, err := pdd.AccountByName("staff-delete")
	g.Expect(status).To(Equal(http.StatusNotFound), "staff-delete after deletion: %v", err)
	accounts, err := pdd.Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(accounts).NotTo(HaveKey("staff-delete"))

	// Disable: the same account, disabled; it no longer logs in.
	a, _, err := pdd.AccountByName("staff-disable")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.Disabled).To(BeTrue())
	want := before["staff-disable"]
	want.Disabled = true
	g.Expect(a).To(Equal(want))
	ok, err := pdd.Login("staff-disable", passwords["staff-disable"])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeFalse(), "a disabled account logs in")

	// Retain: untouched; it still logs in.
	a, _, err = pdd.AccountByName("staff-retain")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a).To(Equal(before["staff-retain"]))
	ok, err = pdd.Login("staff-retain", passwords["staff-retain"])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue(), "a retained account no longer logs in")

	// The audit log agrees: a delete, a disabling update, nothing else.
	entries, err := pdd.Audit()
	g.Expect(err).NotTo(HaveOccurred())
	actions := map[string][]string{}
	for _, e := range entries {
		if _, ours := policies[e.TargetName]; ours && strings.HasPrefix(e.Action, "account.") {
			g.Expect(e.Source).To(Equal("SubAccount/"+ns+"/"+e.TargetName), "audit entry %+v", e)
			actions[e.TargetName] = append(actions[e.TargetName], e.Action)
		}
	}
	g.Expect(actions["staff-delete"]).To(Equal([]string{"account.create", "account.delete"}))
	g.Expect(actions["staff-disable"]).To(Equal([]string{"account.create", "account.update"}))
	g.Expect(actions["staff-retain"]).To(Equal([]string{"account.create"}))
}

// TestValidation applies invalid SubAccounts: kubectl apply fails with the
// CRD's OpenAPI and CEL messages, and nothing is stored.
func TestValidation(t *testing.T) {
	g := begin(t)
	ns := namespace(t, "e2e-validation")
	subAccount := func(name, extra string) string {
		return fmt.Sprintf(`apiVersion: shop.subaccount.io/v1alpha1
kind: SubAccount
metadata:
  name: %[1]s
spec:
  shopRef:
    name: hongxing
  accountName: %[1]s
%[2]s`, name, extra)
	}
	for _, tc := range []struct {
		name, extra string
		messages    []string
	}{{
		name:  "too-many-chats",
		extra: "  seat:\n    chat: true\n    capacity: 51\n",
		messages: []string{
			`The SubAccount "too-many-chats" is invalid`,
			`spec.seat.capacity: Invalid value: 51: spec.seat.capacity in body should be less than or equal to 50`,
		},
	}, {
		name:  "bad-phone",
		extra: "  phone: \"12345\"\n",
		messages: []string{
			`The SubAccount "bad-phone" is invalid`,
			`spec.phone: Invalid value: "12345": phone must be an 11-digit mainland mobile number such as 13800138000 or E.164 such as +8613800138000`,
		},
	}} {
		_, stderr, err := runKubectl(subAccount(tc.name, tc.extra), "apply", "-n", ns, "-f", "-")
		g.Expect(err).To(HaveOccurred(), "kubectl apply of %s succeeded", tc.name)
		t.Logf("kubectl apply of %s: %s", tc.name, strings.TrimSpace(stderr))
		for _, m := range tc.messages {
			g.Expect(stderr).To(ContainSubstring(m))
		}
	}
	g.Expect(kubectl(t, "get", "-n", ns, "subaccounts", "-o", "name")).To(BeEmpty())
}

// TestShopsimRestart stops shopsim (SIGTERM) and starts it again with the
// same state file and port: nothing is lost, the SubAccounts stay Ready,
// and later changes still reach the platform.
func TestShopsimRestart(t *testing.T) {
	g := begin(t)
	ns := samples(t)

	before, err := hongxing.Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	users := map[string]string{}
	passwords := map[string]string{}
	for _, name := range sampleAccounts {
		g.Expect(before).To(HaveKey(name))
		users[name], passwords[name] = credentials(t, ns, name)
	}
	transitions := map[string]string{}
	for _, obj := range sampleObjects {
		transitions[obj] = jsonpath(t, ns, obj, readyTransition)
		g.Expect(transitions[obj]).NotTo(BeEmpty(), "%s has no Ready condition", obj)
	}

	g.Expect(stopShopsim()).To(Succeed(), "shopsim's exit after SIGTERM")
	if err := startShopsim(); err != nil {
		t.Fatalf("restarting shopsim: %v", err)
	}

	after, err := hongxing.Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(after).To(Equal(before), "the accounts after the restart")
	for _, name := range sampleAccounts {
		ok, err := hongxing.Login(users[name], passwords[name])
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(ok).To(BeTrue(), "%s does not log in after the restart", users[name])
	}

	// A drift check now: the operator reads the restarted shopsim.
	requested := strconv.FormatInt(time.Now().UnixNano(), 10)
	kubectl(t, "annotate", "-n", ns, "shop/hongxing", "--overwrite", "shop.subaccount.io/requested-at="+requested)
	kubectl(t, "wait", "-n", ns, "shop/hongxing", "--timeout=60s", "--for=jsonpath={.status.lastHandledRequestedAt}="+requested)
	waitReady(t, ns, sampleObjects...)
	for _, obj := range sampleObjects {
		g.Expect(jsonpath(t, ns, obj, readyTransition)).To(Equal(transitions[obj]), "%s was not Ready at some point", obj)
	}

	// A change after the restart still reaches shopsim: disable daming,
	// then enable him again.
	for _, disabled := range []bool{true, false} {
		kubectl(t, "patch", "-n", ns, "subaccount/daming", "--type=merge", "-p", fmt.Sprintf(`{"spec":{"disabled":%t}}`, disabled))
		waitReady(t, ns, "subaccount/daming")
		g.Eventually(func() (bool, error) {
			a, _, err := hongxing.AccountByName("daming")
			return a.Disabled, err
		}).Should(Equal(disabled), "daming's disabled on shopsim")
		ok, err := hongxing.Login(users["daming"], passwords["daming"])
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(ok).To(Equal(!disabled), "daming logs in (disabled: %t)", disabled)
	}
}

// TestAudit checks that shopsim's audit log names the SubAccount (and
// Role) behind every write for the samples.
func TestAudit(t *testing.T) {
	g := begin(t)
	ns := samples(t)

	// Other tests write to the same shopsim through its API directly (the
	// browser test's roles carry no source): look only at the samples'
	// accounts and roles.
	sampleRoles := map[string]bool{}
	for _, id := range strings.Fields(kubectl(t, "get", "roles.shop.subaccount.io", "-n", ns, "-o", "jsonpath={.items[*].status.roleID}")) {
		sampleRoles[id] = true
	}
	g.Expect(sampleRoles).NotTo(BeEmpty(), "the samples' Roles have no platform IDs")

	entries, err := hongxing.Audit()
	g.Expect(err).NotTo(HaveOccurred())
	created := map[string]bool{}
	roleEntries := 0
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Action, "account.") && isSampleAccount(e.TargetName):
			g.Expect(e.Source).To(Equal("SubAccount/"+ns+"/"+e.TargetName), "audit entry %+v", e)
			if e.Action == "account.create" {
				created[e.TargetName] = true
			}
		case strings.HasPrefix(e.Action, "role.") && sampleRoles[e.TargetID]:
			g.Expect(e.Source).To(HavePrefix("Role/"+ns+"/"), "audit entry %+v", e)
			roleEntries++
		}
	}
	g.Expect(roleEntries).To(BeNumerically(">", 0), "no audit entry for the samples' roles")
	for _, name := range sampleAccounts {
		g.Expect(created).To(HaveKey(name), "no account.create audit entry for %s", name)
	}
}

func isSampleAccount(name string) bool {
	for _, n := range sampleAccounts {
		if n == name {
			return true
		}
	}
	return false
}
