//go:build reliability

package reliability

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// TestOutOfBandDrift (scenario 4): on shopsim, behind the operator's back,
// one account is deleted, one gets a permission, one is disabled and one's
// password is changed; the next drift check (one bulk listing of the
// shop's accounts and one of its roles, no call per account) finds them
// all, puts each back and emits an Event. A SubAccount with driftPolicy
// Report is only reported (Drifted condition, DriftDetected Event).
// Accounts the operator does not manage are never changed, and an existing
// account is adopted only by a SubAccount that asks for it.
func TestOutOfBandDrift(t *testing.T) {
	g := harness.Begin(t)
	ns := harness.Namespace(t, "drift")
	shop := shops["drift"]
	n := max(scale.driftAccounts, 5)
	var yaml strings.Builder
	yaml.WriteString(shopYAML("drift", "  adoption: {policy: AllowList, accountNames: [legacy]}\n"))
	yaml.WriteString(roleYAML("cs", "drift"))
	for i := range n {
		yaml.WriteString(subAccountYAML(fmt.Sprintf("x%03d", i), "drift", "cs", ""))
	}
	yaml.WriteString(subAccountYAML("report-only", "drift", "cs", "  driftPolicy: Report\n"))
	apply(t, ns, yaml.String())
	waitAllReady(t, g, ns, "subaccounts", n+1, 3*time.Minute)

	// Accounts made in the back office: one left alone, one to adopt.
	for _, name := range []string{"back-office", "legacy"} {
		pw := "Back-Office-" + randomString(10)
		harness.RememberSecret("the back-office password of "+name, pw)
		_, err := shop.Call(http.MethodPost, wire.PathAccounts, nil,
			wire.CreateAccount{Name: name, Password: pw, AccountState: wire.AccountState{Disabled: true, ExtraPermissions: []string{"data-report"}}}, nil)
		g.Expect(err).NotTo(HaveOccurred())
	}
	accounts, err := shop.Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	unmanaged := accounts["back-office"]
	legacy := accounts["legacy"]

	// Behind the operator's back.
	put := func(name string, mutate func(*wire.AccountState)) {
		a := accounts[name]
		st := a.AccountState
		mutate(&st)
		_, err := shop.Call(http.MethodPut, harness.AccountPath(a.ID, ""), nil, st, nil)
		g.Expect(err).NotTo(HaveOccurred())
	}
	_, err = shop.Call(http.MethodDelete, harness.AccountPath(accounts["x000"].ID, ""), nil, nil, nil)
	g.Expect(err).NotTo(HaveOccurred())
	put("x001", func(s *wire.AccountState) { s.ExtraPermissions = append(s.ExtraPermissions, "marketing-coupon") })
	put("x002", func(s *wire.AccountState) { s.Disabled = true })
	// The platform's passwordChangedAt must be clearly later than the
	// operator's passwordSetTime (whole seconds, 5s slack for clock skew).
	g.Eventually(func() time.Duration {
		return time.Since(list(t, ns, "subaccounts")["x003"].Metadata.CreationTimestamp)
	}).WithTimeout(time.Minute).Should(BeNumerically(">", 7*time.Second))
	newPassword := "Changed-" + randomString(12)
	harness.RememberSecret("the password set on shopsim behind the operator's back", newPassword)
	_, err = shop.Call(http.MethodPut, harness.AccountPath(accounts["x003"].ID, "/password"), nil, wire.PasswordChange{Password: newPassword}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	put("report-only", func(s *wire.AccountState) { s.Disabled = true })

	// The drift check, now.
	before := stats(g).Shops[shopKey("drift")]
	token := strconv.FormatInt(time.Now().UnixNano(), 10)
	harness.Kubectl(t, "annotate", "-n", ns, "shop/drift", "--overwrite", "shop.subaccount.io/requested-at="+token)
	start := time.Now()
	harness.Kubectl(t, "wait", "-n", ns, "shop/drift", "--timeout=60s", "--for=jsonpath={.status.lastHandledRequestedAt}="+token)
	g.Eventually(func() error {
		subs := list(t, ns, "subaccounts")
		if n, which := notReady(t, ns, "subaccounts"); n > 0 {
			return fmt.Errorf("%d not Ready: %s", n, which)
		}
		if status, _, _ := subs["report-only"].condition("Drifted"); status != "True" {
			return fmt.Errorf("report-only has no Drifted=True condition yet")
		}
		return nil
	}).WithTimeout(2 * time.Minute).Should(Succeed())
	corrected := time.Since(start)
	during := diffStats(stats(g).Shops[shopKey("drift")], before)

	// Corrected on the platform.
	accounts, err = shop.Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	subs := list(t, ns, "subaccounts")
	g.Expect(accounts["x000"].ID).To(Equal(subs["x000"].Status.AccountID), "x000 recreated with its new ID in status")
	g.Expect(accounts["x001"].ExtraPermissions).NotTo(ContainElement("marketing-coupon"))
	g.Expect(accounts["x002"].Disabled).To(BeFalse())
	g.Expect(accounts["report-only"].Disabled).To(BeTrue(), "report-only was corrected")
	_, _, msg := subs["report-only"].condition("Drifted")
	g.Expect(msg).To(ContainSubstring("disabled true → false"))
	verifyAccounts(t, g, ns, "drift", "back-office", "legacy") // x003's Secret password logs in again

	// One listing of each, no call per account.
	figure(t, "drift: %d managed accounts, 4 changed behind the operator's back and 1 report-only: found and handled in %s with %v",
		n+1, corrected.Round(100*time.Millisecond), during.ByRoute)
	g.Expect(during.ByRoute["GET "+wire.PathAccounts]).To(Equal(1), "account listings")
	g.Expect(during.ByRoute["GET "+wire.PathRoles]).To(Equal(1), "role listings")
	g.Expect(during.ByRoute["GET "+wire.PathAccount]).To(BeZero(), "calls per account")
	g.Expect(during.ByRoute["GET "+wire.PathAccountName]).To(BeZero(), "look-ups by name")

	// Events.
	var events struct {
		Items []struct {
			Reason         string
			InvolvedObject struct{ Name string }
		}
	}
	g.Expect(json.Unmarshal([]byte(harness.Kubectl(t, "get", "events", "-n", ns, "-o", "json")), &events)).To(Succeed())
	reasons := map[string][]string{}
	for _, e := range events.Items {
		reasons[e.InvolvedObject.Name] = append(reasons[e.InvolvedObject.Name], e.Reason)
	}
	g.Expect(reasons["x000"]).To(ContainElement("Recreating"))
	g.Expect(reasons["x001"]).To(ContainElement("DriftCorrected"))
	g.Expect(reasons["x002"]).To(ContainElement("DriftCorrected"))
	g.Expect(reasons["x003"]).To(ContainElement("DriftCorrected"))
	g.Expect(reasons["report-only"]).To(ContainElement("DriftDetected"))
	g.Expect(reasons["report-only"]).NotTo(ContainElement("DriftCorrected"))

	// The unmanaged account is as its owner left it; the audit log has
	// nothing of the operator's on it.
	g.Expect(accounts["back-office"]).To(Equal(unmanaged))
	entries, err := shop.Audit()
	g.Expect(err).NotTo(HaveOccurred())
	for _, e := range entries {
		if e.TargetName == "back-office" || e.TargetName == "legacy" {
			g.Expect(e.Source).NotTo(HavePrefix("SubAccount/"), "the operator wrote to an account it does not manage: %+v", e)
		}
	}

	// Adoption only when asked: the default refuses the name and leaves the
	// account alone; adoption: Adopt takes "legacy" over (same ID).
	apply(t, ns, subAccountYAML("back-office", "drift", "cs", "")+
		subAccountYAML("legacy", "drift", "cs", "  adoption: Adopt\n"))
	g.Eventually(func() string {
		_, reason, _ := list(t, ns, "subaccounts")["back-office"].condition("Ready")
		return reason
	}).Should(Equal("NameTaken"))
	waitReadyNamed(t, g, ns, "legacy")
	accounts, err = shop.Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(accounts["back-office"]).To(Equal(unmanaged))
	g.Expect(accounts["legacy"].ID).To(Equal(legacy.ID))
	g.Expect(accounts["legacy"].Disabled).To(BeFalse(), "the adopted account has the spec applied")
	status, _, _ := list(t, ns, "subaccounts")["legacy"].condition("Adopted")
	g.Expect(status).To(Equal("True"))
}

// waitReadyNamed waits until SubAccount name is Ready.
func waitReadyNamed(t testing.TB, g Gomega, ns, name string) {
	t.Helper()
	g.Eventually(func() bool { return list(t, ns, "subaccounts")[name].ready() }).WithTimeout(2*time.Minute).Should(BeTrue(), "%s Ready", name)
}
