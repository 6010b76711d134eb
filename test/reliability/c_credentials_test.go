//go:build reliability

package reliability

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// TestBadShopCredentials (scenario 3): one shop's access token is replaced
// by a wrong one. The Shop says so (CredentialsValid=False with the
// platform's message, scrubbed); the operator does not hammer the platform
// for that shop (counted); another shop carries on; a SubAccount deleted
// meanwhile keeps its finalizer and says why; once the Secret is fixed
// everything resumes and the deleted SubAccount's account is deleted.
func TestBadShopCredentials(t *testing.T) {
	g := harness.Begin(t)
	ns := harness.Namespace(t, "creds")
	var yaml strings.Builder
	for _, shop := range []string{"creds-good", "creds-bad"} {
		yaml.WriteString(shopYAML(shop, ""))
		yaml.WriteString(roleYAML(shop+"-cs", shop))
		for i := range scale.credsAccounts {
			yaml.WriteString(subAccountYAML(fmt.Sprintf("%s-%03d", shop, i), shop, shop+"-cs", ""))
		}
	}
	apply(t, ns, yaml.String())
	waitAllReady(t, g, ns, "subaccounts", 2*scale.credsAccounts, 3*time.Minute)

	// Break the token.
	wrong := "wrong-token-" + randomString(16)
	harness.RememberSecret("the wrong access token of creds-bad", wrong)
	before := stats(g).Shops[shopKey("creds-bad")]
	broken := time.Now()
	harness.Kubectl(t, "patch", "-n", ns, "secret/creds-bad-api", "--type=merge", "-p", `{"stringData":{"accessToken":"`+wrong+`"}}`)
	var message string
	g.Eventually(func() string {
		shop := list(t, ns, "shops.shop.subaccount.io")["creds-bad"]
		status, reason, msg := shop.condition("CredentialsValid")
		message = msg
		return status + "/" + reason
	}).WithTimeout(time.Minute).Should(Equal("False/CredentialsRejected"))
	g.Expect(message).To(ContainSubstring("invalid app key or access token"), "the platform's message")
	g.Expect(message).NotTo(ContainSubstring(wrong))
	g.Expect(message).NotTo(ContainSubstring(shops["creds-bad"].AccessToken))

	// Deleted while the credentials are wrong: kept, and says why.
	victim := "creds-bad-000"
	harness.Kubectl(t, "delete", "-n", ns, "subaccount/"+victim, "--wait=false")
	var deleting object
	g.Eventually(func() string {
		deleting = list(t, ns, "subaccounts")[victim]
		_, reason, _ := deleting.condition("Ready")
		return reason
	}).WithTimeout(time.Minute).Should(Equal("CredentialsRejected"))
	g.Expect(deleting.Metadata.DeletionTimestamp).NotTo(BeNil())
	g.Expect(deleting.Metadata.Finalizers).NotTo(BeEmpty())
	_, _, why := deleting.condition("Ready")
	g.Expect(why).To(ContainSubstring("the finalizer stays until the credentials Secret is fixed"))
	t.Logf("the SubAccount deleted meanwhile says: %s", why)

	// The other shop is unaffected: new SubAccounts there become Ready,
	// while a change to the broken shop's SubAccounts goes nowhere.
	var more strings.Builder
	for i := range scale.credsAccounts {
		more.WriteString(subAccountYAML(fmt.Sprintf("creds-good-new-%03d", i), "creds-good", "creds-good-cs", ""))
	}
	apply(t, ns, more.String())
	harness.Kubectl(t, "patch", "-n", ns, "subaccount/creds-bad-001", "--type=merge", "-p", `{"spec":{"disabled":true}}`)
	apply(t, ns, subAccountYAML("creds-bad-new", "creds-bad", "creds-bad-cs", ""))
	g.Eventually(func() int {
		n := 0
		for name, sa := range list(t, ns, "subaccounts") {
			if strings.HasPrefix(name, "creds-good") && sa.ready() {
				n++
			}
		}
		return n
	}).WithTimeout(3 * time.Minute).Should(Equal(2 * scale.credsAccounts))
	window := time.Since(broken)
	bad := diffStats(stats(g).Shops[shopKey("creds-bad")], before)
	figure(t, "bad credentials: %d calls for the shop with the wrong token in %s (%v) while a SubAccount of it was deleted, one disabled and one created; the other shop created %d SubAccounts meanwhile",
		bad.Calls, window.Round(100*time.Millisecond), bad.ByRoute, scale.credsAccounts)
	// One credentials check; nothing per SubAccount, nothing when
	// dependants come and go.
	g.Expect(bad.Calls).To(Equal(1), "calls for the shop whose credentials are wrong: %v", bad.ByRoute)

	// Fixed: everything resumes.
	fixed := time.Now()
	harness.Kubectl(t, "patch", "-n", ns, "secret/creds-bad-api", "--type=merge", "-p", `{"stringData":{"accessToken":"`+shops["creds-bad"].AccessToken+`"}}`)
	g.Eventually(func() bool {
		_, ok := list(t, ns, "subaccounts")[victim]
		return ok
	}).WithTimeout(2*time.Minute).Should(BeFalse(), "the SubAccount deleted meanwhile is still there")
	waitAllReady(t, g, ns, "subaccounts", 3*scale.credsAccounts, 3*time.Minute)
	figure(t, "bad credentials: everything Ready again %s after the Secret was fixed", time.Since(fixed).Round(100*time.Millisecond))
	_, status, err := shops["creds-bad"].AccountByName(victim)
	g.Expect(status).To(Equal(404), "the deleted SubAccount's account: %v", err)
	verifyAccounts(t, g, ns, "creds-bad")
	verifyAccounts(t, g, ns, "creds-good")
}
