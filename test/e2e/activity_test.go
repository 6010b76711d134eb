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
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// ownShops are shopsim shops of the activity and phone-change tests'
// own, so that their accounts take no seat of the shared shops.
// Credentials random per run.
var (
	activityShop = shop{Platform: platform.Taobao, MainAccount: "activity-tb", AppKey: "activity-tb", AppSecret: rand.Text(), AccessToken: rand.Text()}
	phoneShop    = shop{Platform: platform.Douyin, MainAccount: "phone-dy", AppKey: "phone-dy", AppSecret: rand.Text(), AccessToken: rand.Text()}
	ownShops     = []shop{activityShop, phoneShop}
)

// subAccountYAML is a SubAccount of Shop shopName with the Role role,
// deleted with it, and more spec fields (indented YAML).
func subAccountYAML(name, shopName, role, spec string) string {
	return fmt.Sprintf(`---
apiVersion: shop.subaccount.io/v1alpha1
kind: SubAccount
metadata:
  name: %[1]s
spec:
  shopRef: {name: %[2]s}
  accountName: e2e-%[1]s
  displayName: %[1]s
  employee: {name: %[1]s}
  roles: [{name: %[3]s}]
  deletionPolicy: Delete
%[4]s`, name, shopName, role, spec)
}

// roleYAML is a customer-service Role of Shop shopName.
func roleYAML(name, shopName string) string {
	return fmt.Sprintf(`---
apiVersion: shop.subaccount.io/v1alpha1
kind: Role
metadata:
  name: %s
spec:
  shopRef: {name: %s}
  displayName: 客服
  template: customer-service
`, name, shopName)
}

// plugin runs the built kubectl-subaccount with the run's kubeconfig.
func plugin(t *testing.T, args ...string) string {
	t.Helper()
	bin := filepath.Join(env.WorkDir, "bin", "kubectl-subaccount")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kubectl-subaccount")
	build.Dir = env.Root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/kubectl-subaccount: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, append(args, "--kubeconfig", env.Kubeconfig)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl subaccount %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestActivityThroughShopsim: what sub-accounts do on shopsim reaches
// their SubAccounts. One signs in with the password of its Secret and
// acts (an operation injected through the admin API); the other's last
// login is three hours old. After the Shop's check (requested), the first
// shows its last login and last activity and is not Inactive; the second,
// over the Shop's inactivityThreshold of 1h, is Inactive with an Event
// and stays Ready; kubectl subaccount activity prints both.
func TestActivityThroughShopsim(t *testing.T) {
	g := begin(t)
	ns := namespace(t, "e2e-activity")
	kubectlIn(t, shopYAML(activityShop, "activity-api", "activity", "  inactivityThreshold: 1h\n")+
		roleYAML("cs", "activity")+subAccountYAML("busy", "activity", "cs", "")+subAccountYAML("idle", "activity", "cs", ""),
		"apply", "-n", ns, "-f", "-")
	waitReady(t, ns, "shop/activity", "subaccount/busy", "subaccount/idle")

	user, password := credentials(t, ns, "busy")
	g.Expect(harness.SignIn(activityShop.Platform, activityShop.MainAccount, user, password+"-wrong")).NotTo(Succeed(),
		"a wrong password signs in")
	g.Expect(harness.SignIn(activityShop.Platform, activityShop.MainAccount, user, password)).To(Succeed())
	g.Expect(harness.InjectActivity(shopsim.ActivityInjection{Platform: activityShop.Platform, MainAccount: activityShop.MainAccount,
		AccountName: "e2e-busy", Kind: platform.ActivityOperation, Operation: "item.update", Target: "item 6123"})).To(Succeed())
	idleLogin := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	g.Expect(harness.InjectActivity(shopsim.ActivityInjection{Platform: activityShop.Platform, MainAccount: activityShop.MainAccount,
		AccountName: "e2e-idle", Kind: platform.ActivityLogin, Time: idleLogin})).To(Succeed())

	kubectl(t, "annotate", "-n", ns, "shop/activity", "shop.subaccount.io/requested-at="+time.Now().Format(time.RFC3339Nano), "--overwrite")
	kubectl(t, "wait", "-n", ns, "subaccount/idle", "--timeout=60s", "--for=condition=Inactive=True")
	g.Expect(jsonpath(t, ns, "subaccount/idle", `{.status.lastLogin}`)).To(Equal(idleLogin.Format(time.RFC3339)))
	// Both of busy's entries may be of the same second (status keeps
	// whole seconds), so not necessarily in the order they were made.
	g.Eventually(func() []string {
		return strings.Fields(jsonpath(t, ns, "subaccount/busy", `{.status.recentActivity[*].kind}`))
	}, 60*time.Second, 200*time.Millisecond).Should(ConsistOf("Login", "Operation"))
	g.Expect(jsonpath(t, ns, "subaccount/busy", `{.status.recentActivity[*].operation}`)).To(Equal("item.update"))
	g.Expect(jsonpath(t, ns, "subaccount/busy", `{.status.lastLogin}`)).NotTo(BeEmpty())
	g.Expect(jsonpath(t, ns, "subaccount/busy", `{.status.lastActivity}`)).NotTo(BeEmpty())
	g.Expect(jsonpath(t, ns, "subaccount/busy", `{.status.conditions[?(@.type=="Inactive")].status}`)).To(Equal("False"))
	waitReady(t, ns, "subaccount/busy", "subaccount/idle")
	events := kubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=idle", "-o", "jsonpath={.items[*].reason}")
	g.Expect(strings.Fields(events)).To(ContainElement("Inactive"))

	busy := plugin(t, "activity", "busy", "-n", ns)
	t.Logf("kubectl subaccount activity busy:\n%s", busy)
	g.Expect(busy).To(ContainSubstring("inactive:       no"))
	g.Expect(busy).To(MatchRegexp(`(?m)^\S+\s+Operation\s+item\.update item 6123$`))
	g.Expect(busy).To(MatchRegexp(`(?m)^\S+\s+Login\s+-$`))
	idle := plugin(t, "activity", "idle", "-n", ns)
	t.Logf("kubectl subaccount activity idle:\n%s", idle)
	g.Expect(idle).To(ContainSubstring("inactive:       YES"))
	g.Expect(idle).To(ContainSubstring("last login:     " + idleLogin.Format(time.RFC3339)))
}
