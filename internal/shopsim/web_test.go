package shopsim

import (
	"net/http"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

func TestWebPage(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{}})
	g := f.g
	role := f.role("<b>客服</b>", "wangwang-chat")
	var a wire.Account
	f.ok(http.StatusCreated, http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "xiaohong", Password: "Sup3r-secret-pw",
		AccountState: wire.AccountState{
			Profile: wire.Profile{Department: "<script>alert(1)</script>", Phone: "13912345678"},
			RoleIDs: []string{role.ID},
			Seat:    &wire.Seat{Chat: true, Capacity: 12, Presence: platform.PresenceBreak},
		}}, &a, sig{header: map[string]string{wire.HeaderSource: `SubAccount/default/"xh"<i>`}})
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathStatus, a.ID), wire.AccountStatus{Disabled: true}, nil, sig{})

	r := f.get("/", "")
	g.Expect(r.status).To(Equal(http.StatusOK))
	g.Expect(r.header.Get("Content-Type")).To(HavePrefix("text/html"))
	g.Expect(r.header.Get("Content-Security-Policy")).To(ContainSubstring("default-src 'none'"))
	page := string(r.body)
	for _, want := range []string{
		"taobao / hongxing", "Seats used: 1 of 3",
		"pinduoduo / 拼多多小店", "douyin / dyshop",
		"&lt;b&gt;客服&lt;/b&gt;",                                                   // the role, escaped
		"hongxing:xiaohong", `class="disabled">disabled<`, "Break", "<td>12</td>", // the account
		"&lt;script&gt;alert(1)&lt;/script&gt;", // its department, escaped
		"account.create", "account.update",
		"SubAccount/default/&#34;xh&#34;&lt;i&gt;", // the source, escaped
	} {
		g.Expect(page).To(ContainSubstring(want))
	}
	g.Expect(page).NotTo(ContainSubstring("<script>alert"))
	g.Expect(page).NotTo(ContainSubstring("<b>客服"))
	snap, err := f.engine.Snapshot()
	g.Expect(err).NotTo(HaveOccurred())
	var hash string
	for _, line := range strings.Split(string(snap), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), `"passwordHash": "`); ok {
			hash = strings.TrimSuffix(v, `",`)
		}
	}
	g.Expect(hash).NotTo(BeEmpty())
	for _, secret := range []string{"Sup3r-secret-pw", hash, tbCreds.AppSecret, tbCreds.AccessToken, tbCreds.AppKey,
		pddCreds.AppSecret, pddCreds.AccessToken, dyCreds.AppSecret, dyCreds.AccessToken, "13912345678"} {
		g.Expect(page).NotTo(ContainSubstring(secret))
	}

	// Only the latest entries, newest first.
	for range WebAuditEntries + 5 {
		f.ok(http.StatusOK, http.MethodPut, at(wire.PathStatus, a.ID), wire.AccountStatus{}, nil, sig{})
	}
	page = string(f.get("/", "").body)
	g.Expect(page).To(ContainSubstring("Latest 50 of 58 entries"))
	g.Expect(page).NotTo(ContainSubstring("account.create"))

	// The page reads no API call and other paths are not pages.
	g.Expect(f.engine.Calls()["ListAccounts"]).To(BeZero())
	g.Expect(f.get("/favicon.ico", "").status).To(Equal(http.StatusNotFound))
	g.Expect(f.admin(http.MethodPost, "/", "", "").status).To(Equal(http.StatusMethodNotAllowed))
}

func TestWebPageEmpty(t *testing.T) {
	g := NewWithT(t)
	f := &fixture{t: t, g: g}
	f.srv = New(memory.NewEngine(), Options{})
	f.ts = newTestServer(t, f.srv)
	r := f.get("/", "")
	g.Expect(r.status).To(Equal(http.StatusOK))
	g.Expect(string(r.body)).To(ContainSubstring("No shops."))
}

// With ShowSMSCodes (make dev) the page shows every phone's latest code,
// marked as the simulator's, by masked phone; without it, no code at all.
func TestWebPageSMSCodes(t *testing.T) {
	for _, show := range []bool{true, false} {
		f := newFixture(t, Options{AdminToken: adminToken, ShowSMSCodes: show})
		g := f.g
		f.requestCode("13800138021", "")
		f.requestCode("13900139022", "")
		codes := []string{f.sms("13800138021").Code, f.sms("13900139022").Code}

		page := string(f.get("/", "").body)
		for _, code := range codes {
			g.Expect(containsCode(page, code)).To(Equal(show), "code %s shown: %v", code, show)
		}
		g.Expect(page).NotTo(ContainSubstring("13800138021"), "the full phone number")
		if show {
			g.Expect(page).To(ContainSubstring("Simulated phones: SMS codes sent by shopsim"))
			g.Expect(page).To(MatchRegexp(`<td>139\*\*\*\*9022</td><td class="code">` + codes[1] + `</td>`))
			g.Expect(page).To(MatchRegexp(`<td>138\*\*\*\*8021</td><td class="code">` + codes[0] + `</td>`))
		} else {
			g.Expect(page).NotTo(ContainSubstring("Simulated phones"))
		}
	}
}
