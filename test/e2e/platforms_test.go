//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// handOverSMSCode plays the employee of a Douyin SubAccount: once the
// operator reports PendingVerification, it reads the code shopsim texted
// to phone from shopsim's admin SMS endpoint and hands it over the
// conventional way (handOverCode). The code comes first: there is no
// account on the platform until it is accepted, and then there is one.
func handOverSMSCode(t *testing.T, ns, name, phone string) {
	t.Helper()
	g := NewWithT(t)
	awaitCode(t, ns, name)
	g.Expect(jsonpath(t, ns, "subaccount/"+name, `{.status.accountID}`)).To(BeEmpty())
	handOverCode(t, ns, name, phone)
	g.Eventually(func() string { return jsonpath(t, ns, "subaccount/"+name, `{.status.accountID}`) },
		60*time.Second, 200*time.Millisecond).ShouldNot(BeEmpty(), "the accepted code did not create the account")
}

// awaitCode waits until SubAccount name is PendingVerification.
func awaitCode(t *testing.T, ns, name string) {
	t.Helper()
	kubectl(t, "wait", "-n", ns, "subaccount/"+name, "--timeout=60s", "--for=condition=Verified=False")
	NewWithT(t).Expect(jsonpath(t, ns, "subaccount/"+name, `{.status.conditions[?(@.type=="Verified")].reason}`)).
		To(Equal("PendingVerification"))
}

// handOverCode reads the code shopsim texted to phone from its admin SMS
// endpoint and hands it over in Secret "<name>-verification" key "code"
// (applied from stdin, so the code is in no command line), then waits
// until the operator has consumed the Secret.
func handOverCode(t *testing.T, ns, name, phone string) {
	t.Helper()
	g := NewWithT(t)
	m, err := sms(phone)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(m.Code).NotTo(BeEmpty())
	rememberSecret(fmt.Sprintf("the SMS code texted to SubAccount %s/%s", ns, name), m.Code)
	kubectlIn(t, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s-verification
  labels:
    shop.subaccount.io/secret: verification
type: Opaque
stringData:
  code: %q
`, name, m.Code), "apply", "-n", ns, "-f", "-")
	g.Eventually(func() string {
		_, stderr, _ := runKubectl("", "get", "-n", ns, "secret", name+"-verification")
		return stderr
	}, 60*time.Second, 200*time.Millisecond).Should(ContainSubstring("NotFound"), "the operator never consumed the code Secret")
}

// TestDouyinSample: the Douyin sample agent, verified with the code read
// from shopsim's SMS outbox, is authorised with chat permission in status,
// has exactly one position, shows her presence and its next change from
// the lunch-break schedule, and keeps her own reception capacity: the
// operator never signs in as her.
func TestDouyinSample(t *testing.T) {
	g := begin(t)
	ns := samples(t)
	get := func(path string) string { return jsonpath(t, ns, "subaccount/xiaomei", path) }

	g.Expect(get(`{.status.verification.verified}`)).To(Equal("true"))
	g.Expect(get(`{.status.conditions[?(@.type=="Verified")].status}`)).To(Equal("True"))
	g.Expect(get(`{.status.verification.phone}`)).To(Equal("138****8021"))
	g.Expect(get(`{.status.chat}`)).To(Equal("true"))
	// Her capacity is hers: the spec's 20 is intent only, the gap shown.
	g.Expect(get(`{.status.seatCapacity}`)).To(Equal("10"))
	g.Expect(get(`{.status.conditions[?(@.type=="SeatCapacityApplied")].reason}`)).To(Equal("AgentOwned"))
	current := get(`{.status.presence.current}`)
	g.Expect(current).To(BeElementOf("Online", "Break"))
	if current == "Break" {
		g.Expect(get(`{.status.presence.window}`)).To(Equal("lunch"))
	}
	next, err := time.Parse(time.RFC3339, get(`{.status.presence.nextChange}`))
	g.Expect(err).NotTo(HaveOccurred(), "status.presence.nextChange")
	g.Expect(next).To(BeTemporally(">", time.Now().Add(-time.Minute)))
	local := next.In(mustLocation(t, "Asia/Shanghai"))
	g.Expect(local.Format("15:04")).To(BeElementOf("12:00", "12:30"), "the lunch window's boundaries")
	g.Expect(local.Weekday()).NotTo(BeElementOf(time.Saturday, time.Sunday))
	// The printed table shows that instant as local time; a date column
	// would print a future time as "<invalid>".
	wide := kubectl(t, "get", "-n", ns, "subaccount", "xiaomei", "-o", "wide")
	g.Expect(tableCell(t, wide, "xiaomei", "NEXT-CHANGE")).To(Equal(local.Format("Mon 15:04") + " Asia/Shanghai"))

	a, status, err := douyin.AccountByName("xiaomei")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(status).To(Equal(http.StatusOK))
	g.Expect(a.Verification).NotTo(BeNil())
	g.Expect(a.Verification.Verified).To(BeTrue())
	g.Expect(a.RoleIDs).To(HaveLen(1), "exactly one position")
	g.Expect(a.Seat).NotTo(BeNil())
	g.Expect(a.Seat.Chat).To(BeTrue())
	g.Expect(a.Seat.Capacity).To(BeEquivalentTo(10), "the operator never signs in as her")
	g.Expect(string(a.Seat.Presence)).To(Equal(current))
	g.Expect(a.EffectivePermissions).To(ContainElements("im-chat", "aftersale-refund"))
	user, password := credentials(t, ns, "xiaomei")
	ok, err := douyin.Login(user, password)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue(), "xiaomei logs in with the password of her Secret once verified")

	entries, err := douyin.Audit()
	g.Expect(err).NotTo(HaveOccurred())
	source := "SubAccount/" + ns + "/xiaomei"
	g.Expect(entries).To(ContainElement(And(HaveField("Action", "verification.request"), HaveField("Source", source))))
	g.Expect(entries).To(ContainElement(And(HaveField("Action", "account.verification"), HaveField("Detail", "phone verified; authorised"),
		HaveField("Source", source))))
	g.Expect(entries).NotTo(ContainElement(HaveField("Action", "account.seat.capacity")), "the operator never signs in as her")
	events := kubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=xiaomei", "-o", "jsonpath={.items[*].reason}")
	g.Expect(strings.Fields(events)).To(ContainElements("Created", "Verified"))
	g.Expect(strings.Fields(events)).NotTo(ContainElement("SeatCapacitySet"))
}

// TestPinduoduoSample: the Pinduoduo Roles are their templates plus the
// explicit codes, on shopsim and in status, and the sample lead logs in
// with a 12-character generated password.
func TestPinduoduoSample(t *testing.T) {
	g := begin(t)
	ns := samples(t)
	lead := strings.Fields(jsonpath(t, ns, "shoprole/pinduoduo-customer-service-lead", `{.status.effectivePermissions[*]}`))
	g.Expect(lead).To(ConsistOf("chat.reply", "order.view", "order.refund", "logistics.query", "data.report", "logistics.ship"))
	ops := strings.Fields(jsonpath(t, ns, "shoprole/pinduoduo-operations", `{.status.effectivePermissions[*]}`))
	g.Expect(ops).To(ConsistOf("item.edit", "marketing.coupon", "shop.decoration", "order.view", "data.report", "chat.reply"))

	a, status, err := pdd.AccountByName("aqiang")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(status).To(Equal(http.StatusOK))
	g.Expect(a.EffectivePermissions).To(ConsistOf(lead))
	user, password := credentials(t, ns, "aqiang")
	g.Expect(user).To(Equal("拼多多小店:aqiang"))
	g.Expect([]rune(password)).To(HaveLen(12))
	ok, err := pdd.Login(user, password)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue())
}

func mustLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// tableCell is the cell of a kubectl table (as 'kubectl get' prints it)
// in the row whose first column is row and the column headed column. Cells
// may hold spaces, so the column is cut at the header's position, in runes
// as kubectl's tabwriter aligns them.
func tableCell(t *testing.T, table, row, column string) string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	header := []rune(lines[0])
	start := strings.Index(lines[0], column)
	if start < 0 {
		t.Fatalf("no column %s in:\n%s", column, table)
	}
	from := len([]rune(lines[0][:start]))
	to := len(header)
	// The next column starts at the next header after this one's spaces.
	for i := from + len(column); i < len(header)-1; i++ {
		if header[i] == ' ' && header[i+1] != ' ' {
			to = i + 1
			break
		}
	}
	for _, line := range lines[1:] {
		if f := strings.Fields(line); len(f) > 0 && f[0] == row {
			r := []rune(line)
			if len(r) < to {
				to = len(r)
			}
			if len(r) < from {
				return ""
			}
			return strings.TrimSpace(string(r[from:to]))
		}
	}
	t.Fatalf("no row %s in:\n%s", row, table)
	return ""
}
