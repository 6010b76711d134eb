package shopsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// douyinAccount creates a Douyin account with phone (and a position on
// first use) through the API.
func (f *fixture) douyinAccount(name, phone string) wire.Account {
	f.t.Helper()
	dy := sig{shop: platform.Douyin}
	var pos wire.Role
	if roles := f.engine.Roles(platform.Douyin, dyMain); len(roles) > 0 {
		pos = wire.FromRole(roles[0])
	} else {
		f.ok(http.StatusCreated, http.MethodPost, wire.PathRoles, wire.RoleSpec{Name: "客服", Permissions: []string{"im-chat"}}, &pos, dy)
	}
	var a wire.Account
	f.ok(http.StatusCreated, http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: name, Password: "Pa55word!",
		AccountState: wire.AccountState{RoleIDs: []string{pos.ID}, Profile: wire.Profile{Phone: phone}}}, &a, dy)
	return a
}

// requestCode asks the Douyin shop for a code for phone (for account id,
// or a new account).
func (f *fixture) requestCode(phone, id string) wire.Verification {
	f.t.Helper()
	var v wire.Verification
	f.ok(http.StatusCreated, http.MethodPost, wire.PathVerifications, wire.CodeRequest{Phone: phone, AccountID: id}, &v, sig{shop: platform.Douyin})
	return v
}

// sms reads the code sent to phone through the admin endpoint.
func (f *fixture) sms(phone string) SMSMessage {
	f.t.Helper()
	r := f.get(AdminPathSMS+"?phone="+url.QueryEscape(phone), adminToken)
	if r.status != http.StatusOK {
		f.t.Fatalf("GET %s: %d %s", AdminPathSMS, r.status, r.body)
	}
	var m SMSMessage
	if err := json.Unmarshal(r.body, &m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

// containsCode reports whether text shows code as a number of its own (not
// inside a longer one, such as an account ID).
func containsCode(text, code string) bool {
	return regexp.MustCompile(`(^|[^0-9])` + code + `([^0-9]|$)`).MatchString(text)
}

func otherCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestVerificationEndpoints(t *testing.T) {
	f := newAfterCreateFixture(t, Options{AdminToken: adminToken})
	g := f.g
	dy := sig{shop: platform.Douyin}
	a := f.douyinAccount("xh", "13912345678")
	g.Expect(a.Verification).To(Equal(&wire.Verification{Phone: "139****5678", SentAt: t0, ExpiresAt: t0.Add(5 * time.Minute), AttemptsLeft: 5}))
	m := f.sms("13912345678")
	g.Expect(m.Code).To(MatchRegexp(`^[0-9]{6}$`))
	g.Expect(m.SentAt).To(Equal(t0))
	// The account answer never carries the code.
	r := f.call(http.MethodGet, at(wire.PathAccount, a.ID), nil, dy)
	g.Expect(string(r.body)).To(ContainSubstring(`"verification":{"verified":false,"phone":"139****5678"`))
	g.Expect(containsCode(string(r.body), m.Code)).To(BeFalse())

	// A wrong code: 422 on "code" with the attempts left.
	d := expectError(t, f.call(http.MethodPost, at(wire.PathVerify, a.ID), wire.VerifyCode{Code: otherCode(m.Code)}, dy),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "code")
	g.Expect(d.Message).To(Equal("wrong code; 4 attempts left"))
	// Too early a new code: 429 with Retry-After.
	f.clock.Advance(20*time.Second + 100*time.Millisecond)
	r = f.call(http.MethodPost, at(wire.PathVerificationCode, a.ID), nil, dy)
	expectError(t, r, http.StatusTooManyRequests, wire.CodeRateLimited, "")
	g.Expect(r.header.Get(wire.HeaderRetryAfter)).To(Equal("40"))
	// A body other than nothing or {} is refused.
	expectError(t, f.call(http.MethodPost, at(wire.PathVerificationCode, a.ID), []byte(`{"phone":"1"}`), dy),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "")
	expectError(t, f.call(http.MethodPost, at(wire.PathVerify, a.ID), []byte(`{"code":"1","x":1}`), dy),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "")
	// Expired: 422 with the time.
	f.clock.Advance(5 * time.Minute)
	d = expectError(t, f.call(http.MethodPost, at(wire.PathVerify, a.ID), wire.VerifyCode{Code: m.Code}, dy),
		http.StatusUnprocessableEntity, wire.CodeCodeExpired, "code")
	g.Expect(d.Message).To(Equal("the code expired at 03:09:05; request a new code"))

	// A new code ({} as body is fine), then the right one.
	var got wire.Account
	f.ok(http.StatusOK, http.MethodPost, at(wire.PathVerificationCode, a.ID), []byte(`{}`), &got,
		sig{shop: platform.Douyin, header: map[string]string{wire.HeaderSource: "SubAccount/shop/xh"}})
	sent := t0.Add(5*time.Minute + 20*time.Second + 100*time.Millisecond)
	g.Expect(got.Verification).To(Equal(&wire.Verification{Phone: "139****5678", SentAt: sent, ExpiresAt: sent.Add(5 * time.Minute), AttemptsLeft: 5}))
	m = f.sms("13912345678")
	g.Expect(m.SentAt).To(Equal(sent))
	var login wire.LoginResult
	f.ok(http.StatusOK, http.MethodPost, wire.PathLogin, wire.LoginCheck{Name: "xh", Password: "Pa55word!"}, &login, dy)
	g.Expect(login.OK).To(BeFalse(), "not authorised before verification")
	f.ok(http.StatusOK, http.MethodPost, at(wire.PathVerify, a.ID), wire.VerifyCode{Code: m.Code}, &got,
		sig{shop: platform.Douyin, header: map[string]string{wire.HeaderSource: "SubAccount/shop/xh"}})
	g.Expect(got.Verification.Verified).To(BeTrue())
	f.ok(http.StatusOK, http.MethodPost, wire.PathLogin, wire.LoginCheck{Name: "xh", Password: "Pa55word!"}, &login, dy)
	g.Expect(login.OK).To(BeTrue())

	// Verified: 409 for both.
	expectError(t, f.call(http.MethodPost, at(wire.PathVerify, a.ID), wire.VerifyCode{Code: m.Code}, dy), http.StatusConflict, wire.CodeConflict, "")
	expectError(t, f.call(http.MethodPost, at(wire.PathVerificationCode, a.ID), nil, dy), http.StatusConflict, wire.CodeConflict, "")
	// Unknown account: 404; Taobao accounts need none: 409.
	expectError(t, f.call(http.MethodPost, at(wire.PathVerify, "99999999"), wire.VerifyCode{Code: "1"}, dy), http.StatusNotFound, wire.CodeNotFound, "id")
	tb := f.account("tb", "Pa55word!")
	g.Expect(tb.Verification).To(BeNil())
	expectError(t, f.call(http.MethodPost, at(wire.PathVerificationCode, tb.ID), nil, sig{}), http.StatusConflict, wire.CodeConflict, "")
	// Only POST.
	r = f.call(http.MethodGet, at(wire.PathVerify, a.ID), nil, dy)
	g.Expect(r.status).To(Equal(http.StatusMethodNotAllowed))
	g.Expect(r.header.Get("Allow")).To(Equal("POST"))

	// Audited with the source, never with the code.
	var audit []string
	for _, e := range f.engine.Audit(platform.Douyin, dyMain) {
		if strings.HasPrefix(e.Action, "account.verif") {
			audit = append(audit, e.Action+" "+e.Detail+" "+e.Source)
		}
	}
	g.Expect(audit).To(Equal([]string{
		"account.verification verification code sent ",
		"account.verification verification code sent SubAccount/shop/xh",
		"account.verify phone verified SubAccount/shop/xh",
	}))
}

func TestAdminSMS(t *testing.T) {
	f := newFixture(t, Options{AdminToken: adminToken})
	f.requestCode("13912345678", "")
	q := AdminPathSMS + "?phone=13912345678"
	expectError(t, f.get(q, ""), http.StatusUnauthorized, wire.CodeUnauthorized, "")
	expectError(t, f.get(q, "wrong"), http.StatusUnauthorized, wire.CodeUnauthorized, "")
	expectError(t, f.get(AdminPathSMS, adminToken), http.StatusUnprocessableEntity, wire.CodeInvalid, "phone")
	expectError(t, f.get(AdminPathSMS+"?phone=13900000000", adminToken), http.StatusNotFound, wire.CodeNotFound, "phone")
	expectError(t, f.admin(http.MethodPut, q, adminToken, "{}"), http.StatusMethodNotAllowed, wire.CodeNotSupported, "")
	r := f.get(q, adminToken)
	f.g.Expect(r.status).To(Equal(http.StatusOK))
	f.g.Expect(r.header.Get("Cache-Control")).To(Equal("no-store"))
	code, _, _ := f.engine.SMS("13912345678")
	f.g.Expect(string(bytes.TrimSpace(r.body))).To(Equal(`{"code":"` + code + `","sentAt":"2024-01-02T03:04:05Z"}`))
	// Not subject to faults, like the other admin endpoints.
	f.srv.SetFaults(Faults{ErrorRate: 1})
	f.g.Expect(f.get(q, adminToken).status).To(Equal(http.StatusOK))

	// Disabled without an admin token.
	f2 := newFixture(t, Options{})
	f2.requestCode("13912345678", "")
	expectError(t, f2.get(q, "anything"), http.StatusForbidden, wire.CodeForbidden, "")
}

// A wrong code uses an attempt even though it is an error answer: the
// state file keeps that, so a restart does not give attempts back.
func TestWrongCodePersisted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := newAfterCreateFixture(t, Options{StateFile: path})
	g := f.g
	dy := sig{shop: platform.Douyin}
	a := f.douyinAccount("xh", "13912345678")
	code, _, _ := f.engine.SMS("13912345678")
	expectError(t, f.call(http.MethodPost, at(wire.PathVerify, a.ID), wire.VerifyCode{Code: otherCode(code)}, dy),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "code")
	// A refused request changes nothing and is not saved specially.
	expectError(t, f.call(http.MethodPost, at(wire.PathVerificationCode, a.ID), nil, dy), http.StatusTooManyRequests, wire.CodeRateLimited, "")

	e2 := memory.NewEngine(memory.WithClock(f.clock.Now))
	_, err := LoadState(e2, path)
	g.Expect(err).NotTo(HaveOccurred())
	accts := e2.Accounts(platform.Douyin, dyMain)
	g.Expect(accts).To(HaveLen(1))
	g.Expect(accts[0].Verification.AttemptsLeft).To(Equal(4))
	got, _, ok := e2.SMS("13912345678")
	g.Expect(ok).To(BeTrue())
	g.Expect(got).To(Equal(code))

	// Verifying through a server over the restored engine works.
	f2 := &fixture{t: t, g: g, clock: f.clock, engine: e2, srv: New(e2, Options{Clock: f.clock.Now, StateFile: path})}
	f2.ts = httptest.NewServer(f2.srv.Handler())
	t.Cleanup(f2.ts.Close)
	var acct wire.Account
	f2.ok(http.StatusOK, http.MethodPost, at(wire.PathVerify, a.ID), wire.VerifyCode{Code: code}, &acct, dy)
	g.Expect(acct.Verification.Verified).To(BeTrue())
	data, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(ContainSubstring(`"verified": true`))
}

func TestWebPageVerification(t *testing.T) {
	f := newAfterCreateFixture(t, Options{})
	g := f.g
	dy := sig{shop: platform.Douyin}
	pending := f.douyinAccount("pending", "13911110001")
	done := f.douyinAccount("done", "13911110002")
	code, _, _ := f.engine.SMS("13911110002")
	f.ok(http.StatusOK, http.MethodPost, at(wire.PathVerify, done.ID), wire.VerifyCode{Code: code}, nil, dy)
	f.account("tb", "Pa55word!")

	page := string(f.get("/", "").body)
	g.Expect(page).To(ContainSubstring("<th>Verification</th>"))
	g.Expect(page).To(ContainSubstring("dyshop:pending</td><td class=\"enabled\">enabled</td><td>pending until 03:09</td>"))
	g.Expect(page).To(ContainSubstring("dyshop:done</td><td class=\"enabled\">enabled</td><td class=\"enabled\">authorised (已授权)</td>"))
	g.Expect(page).To(ContainSubstring("hongxing:tb</td><td class=\"enabled\">enabled</td><td>—</td>"))
	pendingCode, _, _ := f.engine.SMS("13911110001")
	g.Expect(containsCode(page, pendingCode)).To(BeFalse())
	g.Expect(containsCode(page, code)).To(BeFalse())
	g.Expect(page).NotTo(ContainSubstring("13911110001"))
	g.Expect(page).NotTo(ContainSubstring("139****0001"))

	// Expired, then out of attempts.
	f.clock.Advance(5 * time.Minute)
	g.Expect(string(f.get("/", "").body)).To(ContainSubstring("<td>pending: the code expired at 03:09, a new code is needed</td>"))
	f.ok(http.StatusOK, http.MethodPost, at(wire.PathVerificationCode, pending.ID), nil, nil, dy)
	pendingCode, _, _ = f.engine.SMS("13911110001")
	for range memory.VerificationAttempts {
		f.call(http.MethodPost, at(wire.PathVerify, pending.ID), wire.VerifyCode{Code: otherCode(pendingCode)}, dy)
	}
	page = string(f.get("/", "").body)
	g.Expect(page).To(ContainSubstring("<td>pending: no attempts left, a new code is needed</td>"))
	g.Expect(containsCode(page, pendingCode)).To(BeFalse())
}
