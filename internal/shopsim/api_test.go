package shopsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

func TestEveryEndpoint(t *testing.T) {
	f := newFixture(t, Options{})
	g := f.g

	var shop wire.ShopInfo
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, &shop, sig{})
	g.Expect(shop).To(Equal(wire.ShopInfo{Platform: platform.Taobao, MainAccount: tbMain, SeatsUsed: 0, SeatsTotal: 3, Service: platform.ServiceOn,
		PhoneVerification: platform.PhoneVerificationNone}))

	var perms wire.PermissionList
	f.ok(http.StatusOK, http.MethodGet, wire.PathPermissions, nil, &perms, sig{})
	g.Expect(perms.Items).To(ContainElement(HaveField("Code", "wangwang-chat")))

	// Roles.
	var roles wire.RoleList
	f.ok(http.StatusOK, http.MethodGet, wire.PathRoles, nil, &roles, sig{})
	g.Expect(roles.Items).NotTo(BeNil())
	g.Expect(roles.Items).To(BeEmpty())
	role := f.role("客服", "wangwang-chat")
	g.Expect(role.ID).NotTo(BeEmpty())
	g.Expect(role.Permissions).To(Equal([]string{"wangwang", "wangwang-chat"}))
	var got wire.Role
	f.ok(http.StatusOK, http.MethodGet, at(wire.PathRole, role.ID), nil, &got, sig{})
	g.Expect(got).To(Equal(role))
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathRole, role.ID),
		wire.RoleSpec{Name: "客服", Description: "customer service", Permissions: []string{"wangwang-chat", "trade-order-view"}}, &got, sig{})
	g.Expect(got.Description).To(Equal("customer service"))
	g.Expect(got.Permissions).To(ContainElement("trade-order-view"))
	f.ok(http.StatusOK, http.MethodGet, wire.PathRoles, nil, &roles, sig{})
	g.Expect(roles.Items).To(Equal([]wire.Role{got}))

	// Accounts: create with the source and an idempotency key; a repeat
	// answers the same account.
	create := wire.CreateAccount{Name: "xiaohong", Password: "Pa55word!", AccountState: wire.AccountState{
		Profile: wire.Profile{DisplayName: "小红", Department: "客服部", Phone: "13900000001"},
		RoleIDs: []string{role.ID},
	}}
	hdr := sig{header: map[string]string{wire.HeaderIdempotencyKey: "req-1", wire.HeaderSource: "SubAccount/default/xiaohong"}}
	var acct, again wire.Account
	f.ok(http.StatusCreated, http.MethodPost, wire.PathAccounts, create, &acct, hdr)
	g.Expect(acct.Login).To(Equal("hongxing:xiaohong"))
	g.Expect(acct.RoleIDs).To(Equal([]string{role.ID}))
	g.Expect(acct.EffectivePermissions).To(ContainElement("trade-order-view"))
	g.Expect(acct.PasswordChangedAt).To(Equal(t0))
	f.ok(http.StatusCreated, http.MethodPost, wire.PathAccounts, create, &again, hdr)
	g.Expect(again).To(Equal(acct))
	g.Expect(f.engine.Accounts(platform.Taobao, tbMain)).To(HaveLen(1))
	// The answer never carries the password.
	r := f.call(http.MethodGet, at(wire.PathAccount, acct.ID), nil, sig{})
	g.Expect(string(r.body)).NotTo(ContainSubstring("Pa55word!"))

	other := f.account("daming", "Pa55word!")
	var list wire.AccountList
	f.ok(http.StatusOK, http.MethodGet, wire.PathAccounts+"?page=1&pageSize=1", nil, &list, sig{})
	g.Expect(list.Total).To(Equal(2))
	g.Expect(list.Items).To(Equal([]wire.Account{acct}))
	f.ok(http.StatusOK, http.MethodGet, wire.PathAccounts+"?page=2&pageSize=1", nil, &list, sig{})
	g.Expect(list.Items).To(Equal([]wire.Account{other}))
	f.ok(http.StatusOK, http.MethodGet, wire.PathAccounts+"?page=3&pageSize=1", nil, &list, sig{})
	g.Expect(list.Items).NotTo(BeNil())
	g.Expect(list.Items).To(BeEmpty())
	f.ok(http.StatusOK, http.MethodGet, wire.PathAccounts, nil, &list, sig{}) // defaults
	g.Expect(list.Items).To(HaveLen(2))

	var found wire.Account
	f.ok(http.StatusOK, http.MethodGet, at(wire.PathAccount, acct.ID), nil, &found, sig{})
	g.Expect(found).To(Equal(acct))
	f.ok(http.StatusOK, http.MethodGet, at(wire.PathAccountName, "xiaohong"), nil, &found, sig{})
	g.Expect(found).To(Equal(acct))

	// PUT replaces the state as a whole.
	f.clock.Advance(time.Minute)
	state := acct.AccountState
	state.ExtraPermissions = []string{"phone"}
	state.Security = wire.Security{PhoneProtection: true}
	var updated wire.Account
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathAccount, acct.ID), state, &updated, sig{header: map[string]string{wire.HeaderSource: "SubAccount/default/xiaohong"}})
	g.Expect(updated.ExtraPermissions).To(Equal([]string{"phone"}))
	g.Expect(updated.Security.PhoneProtection).To(BeTrue())

	// PUT status and seat change only their part.
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathStatus, acct.ID), wire.AccountStatus{Disabled: true}, &updated, sig{})
	g.Expect(updated.Disabled).To(BeTrue())
	g.Expect(updated.ExtraPermissions).To(Equal([]string{"phone"}))
	g.Expect(updated.Profile).To(Equal(create.Profile))
	seat := wire.Seat{Chat: true, Capacity: 20, Presence: platform.PresenceBusy}
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathSeat, acct.ID), seat, &updated, sig{})
	g.Expect(updated.Seat).To(Equal(&seat))
	g.Expect(updated.Disabled).To(BeTrue())
	g.Expect(updated.RoleIDs).To(Equal([]string{role.ID}))
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathStatus, acct.ID), wire.AccountStatus{Disabled: false}, &updated, sig{})
	g.Expect(updated.Disabled).To(BeFalse())
	g.Expect(updated.Seat).To(Equal(&seat))

	// Password and login.
	var login wire.LoginResult
	f.ok(http.StatusOK, http.MethodPost, wire.PathLogin, wire.LoginCheck{Name: "xiaohong", Password: "Pa55word!"}, &login, sig{})
	g.Expect(login.OK).To(BeTrue())
	f.ok(http.StatusNoContent, http.MethodPut, at(wire.PathPassword, acct.ID), wire.PasswordChange{Password: "N3w-Pa55word"}, nil, sig{})
	f.ok(http.StatusOK, http.MethodPost, wire.PathLogin, wire.LoginCheck{Name: "hongxing:xiaohong", Password: "Pa55word!"}, &login, sig{})
	g.Expect(login.OK).To(BeFalse())
	f.ok(http.StatusOK, http.MethodPost, wire.PathLogin, wire.LoginCheck{Name: "hongxing:xiaohong", Password: "N3w-Pa55word"}, &login, sig{})
	g.Expect(login.OK).To(BeTrue())
	f.ok(http.StatusOK, http.MethodGet, at(wire.PathAccount, acct.ID), nil, &found, sig{})
	g.Expect(found.PasswordChangedAt).To(Equal(t0.Add(time.Minute)))

	// A department label is not a department: those are created
	// (TestDepartmentsAndContacts).
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathAccount, other.ID),
		wire.AccountState{Profile: wire.Profile{Department: "客服部"}}, nil, sig{})
	f.account("ahua", "Pa55word!")
	var deps wire.DepartmentList
	f.ok(http.StatusOK, http.MethodGet, wire.PathDepartments, nil, &deps, sig{})
	g.Expect(deps.Items).NotTo(BeNil())
	g.Expect(deps.Items).To(BeEmpty())

	// Audit: every write, with its source; since filters.
	var audit wire.AuditList
	f.ok(http.StatusOK, http.MethodGet, wire.PathAudit, nil, &audit, sig{})
	actions := make([]string, 0, len(audit.Items))
	for _, e := range audit.Items {
		actions = append(actions, e.Action+" "+e.TargetName+" "+e.Source)
	}
	g.Expect(actions).To(Equal([]string{
		"role.create 客服 ",
		"role.update 客服 ",
		"account.create xiaohong SubAccount/default/xiaohong",
		"account.create daming ",
		"account.update xiaohong SubAccount/default/xiaohong",
		"account.update xiaohong ",
		"account.update xiaohong ",
		"account.update xiaohong ",
		"account.password xiaohong ",
		"account.update daming ",
		"account.create ahua ",
	}))
	f.ok(http.StatusOK, http.MethodGet, wire.PathAudit+"?since="+url.QueryEscape(t0.Add(time.Minute).Format(time.RFC3339)), nil, &audit, sig{})
	g.Expect(audit.Items).To(HaveLen(7))
	g.Expect(f.engine.Audit(platform.Taobao, tbMain)[2].Source).To(Equal("SubAccount/default/xiaohong"))

	// Deletes answer 204; the objects are gone.
	f.ok(http.StatusNoContent, http.MethodDelete, at(wire.PathAccount, acct.ID), nil, nil, sig{header: map[string]string{wire.HeaderSource: "SubAccount/default/xiaohong"}})
	expectError(t, f.call(http.MethodGet, at(wire.PathAccount, acct.ID), nil, sig{}), http.StatusNotFound, wire.CodeNotFound, "id")
	f.ok(http.StatusNoContent, http.MethodDelete, at(wire.PathRole, role.ID), nil, nil, sig{header: map[string]string{wire.HeaderSource: "Role/default/cs"}})
	expectError(t, f.call(http.MethodGet, at(wire.PathRole, role.ID), nil, sig{}), http.StatusNotFound, wire.CodeNotFound, "id")
	log := f.engine.Audit(platform.Taobao, tbMain)
	g.Expect(log[len(log)-2].Source).To(Equal("SubAccount/default/xiaohong"))
	g.Expect(log[len(log)-1].Source).To(Equal("Role/default/cs"))
}

func TestIdempotentCreateRole(t *testing.T) {
	f := newFixture(t, Options{})
	hdr := sig{header: map[string]string{wire.HeaderIdempotencyKey: "role-req"}}
	var a, b wire.Role
	f.ok(http.StatusCreated, http.MethodPost, wire.PathRoles, wire.RoleSpec{Name: "cs", Permissions: []string{"phone"}}, &a, hdr)
	f.ok(http.StatusCreated, http.MethodPost, wire.PathRoles, wire.RoleSpec{Name: "cs", Permissions: []string{"phone"}}, &b, hdr)
	f.g.Expect(b).To(Equal(a))
	f.g.Expect(f.engine.Roles(platform.Taobao, tbMain)).To(HaveLen(1))
	// Without a key a repeat is a second create: the name is taken.
	expectError(t, f.call(http.MethodPost, wire.PathRoles, wire.RoleSpec{Name: "cs"}, sig{}), http.StatusConflict, wire.CodeNameTaken, "name")
}

func TestChineseMainAccountAndNames(t *testing.T) {
	f := newFixture(t, Options{})
	g := f.g
	pdd := sig{shop: platform.Pinduoduo}
	var shop wire.ShopInfo
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, &shop, pdd)
	g.Expect(shop.MainAccount).To(Equal(pddMain))
	var a, found wire.Account
	f.ok(http.StatusCreated, http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "小红/客服 1", Password: "123456"}, &a, pdd)
	g.Expect(a.Login).To(Equal(pddMain + ":小红/客服 1"))
	f.ok(http.StatusOK, http.MethodGet, at(wire.PathAccountName, "小红/客服 1"), nil, &found, pdd)
	g.Expect(found.ID).To(Equal(a.ID))
	// The shops are separate: Taobao has no such account.
	expectError(t, f.call(http.MethodGet, at(wire.PathAccountName, "小红/客服 1"), nil, sig{}), http.StatusNotFound, wire.CodeNotFound, "name")
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t, Options{})
	wrong := func(mod func(*platform.Credentials)) *platform.Credentials {
		c := tbCreds
		mod(&c)
		return &c
	}
	stale, future := t0.Add(-wire.MaxClockSkew-time.Second), t0.Add(wire.MaxClockSkew+time.Second)
	body := wire.RoleSpec{Name: "cs"}
	tests := []struct {
		name string
		req  func() *http.Request
	}{
		{"tampered body", func() *http.Request {
			return f.withBody(f.request(http.MethodPost, wire.PathRoles, body, sig{}), `{"name":"admin"}`)
		}},
		{"tampered path", func() *http.Request {
			req := f.request(http.MethodGet, at(wire.PathAccount, "10000001"), nil, sig{})
			req.URL.Path = wire.ShopPrefix(platform.Taobao, tbMain) + at(wire.PathAccount, "10000002")
			return req
		}},
		{"tampered query", func() *http.Request {
			req := f.request(http.MethodGet, wire.PathAccounts+"?page=1&pageSize=10", nil, sig{})
			req.URL.RawQuery = "page=2&pageSize=10"
			return req
		}},
		{"tampered method", func() *http.Request {
			req := f.request(http.MethodGet, at(wire.PathRole, "10000001"), nil, sig{})
			req.Method = http.MethodDelete
			return req
		}},
		{"wrong secret", func() *http.Request {
			return f.request(http.MethodGet, wire.PathShop, nil, sig{creds: wrong(func(c *platform.Credentials) { c.AppSecret = "not-the-secret" })})
		}},
		{"wrong token", func() *http.Request {
			return f.request(http.MethodGet, wire.PathShop, nil, sig{creds: wrong(func(c *platform.Credentials) { c.AccessToken = "stolen-token" })})
		}},
		{"wrong app key", func() *http.Request {
			return f.request(http.MethodGet, wire.PathShop, nil, sig{creds: wrong(func(c *platform.Credentials) { c.AppKey = "87654321" })})
		}},
		{"another shop's credentials", func() *http.Request {
			return f.request(http.MethodGet, wire.PathShop, nil, sig{creds: &pddCreds})
		}},
		{"stale timestamp", func() *http.Request {
			return f.request(http.MethodGet, wire.PathShop, nil, sig{at: &stale})
		}},
		{"future timestamp", func() *http.Request {
			return f.request(http.MethodGet, wire.PathShop, nil, sig{at: &future})
		}},
		{"timestamp not a number", func() *http.Request {
			req := f.request(http.MethodGet, wire.PathShop, nil, sig{})
			req.Header.Set(wire.HeaderTimestamp, "yesterday")
			return req
		}},
		{"missing signature", func() *http.Request {
			req := f.request(http.MethodGet, wire.PathShop, nil, sig{})
			req.Header.Del(wire.HeaderSignature)
			return req
		}},
		{"missing nonce", func() *http.Request {
			req := f.request(http.MethodGet, wire.PathShop, nil, sig{})
			req.Header.Del(wire.HeaderNonce)
			return req
		}},
		{"malformed nonce", func() *http.Request {
			req := f.request(http.MethodGet, wire.PathShop, nil, sig{})
			req.Header.Set(wire.HeaderNonce, "not-a-nonce")
			return req
		}},
		{"missing token", func() *http.Request {
			req := f.request(http.MethodGet, wire.PathShop, nil, sig{})
			req.Header.Del(wire.HeaderAuthorization)
			return req
		}},
		{"not a bearer token", func() *http.Request {
			req := f.request(http.MethodGet, wire.PathShop, nil, sig{})
			req.Header.Set(wire.HeaderAuthorization, "Basic "+tbCreds.AccessToken)
			return req
		}},
		{"no headers at all", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, f.ts.URL+wire.ShopPrefix(platform.Taobao, tbMain)+wire.PathShop, nil)
			return req
		}},
		{"unknown path, unauthenticated", func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, f.ts.URL+wire.ShopPrefix(platform.Taobao, tbMain)+"/nothing", nil)
			return req
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req()
			sent := req.Header.Get(wire.HeaderSignature)
			r := f.send(req)
			d := expectError(t, r, http.StatusUnauthorized, wire.CodeUnauthorized, "")
			g := NewWithT(t)
			g.Expect(d.Message).NotTo(BeEmpty())
			for _, secret := range []string{tbCreds.AppSecret, tbCreds.AccessToken, pddCreds.AccessToken, "not-the-secret", "stolen-token"} {
				g.Expect(string(r.body)).NotTo(ContainSubstring(secret))
			}
			if sent != "" {
				g.Expect(string(r.body)).NotTo(ContainSubstring(sent))
			}
		})
	}
	// Nothing was written.
	f.g.Expect(f.engine.Roles(platform.Taobao, tbMain)).To(BeEmpty())
	// Timestamps just inside the window pass.
	for _, d := range []time.Duration{-wire.MaxClockSkew, wire.MaxClockSkew} {
		at := t0.Add(d)
		f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{at: &at})
	}
	// Changed credentials take effect at once.
	newCreds := platform.Credentials{AppKey: "k2", AppSecret: "s2", AccessToken: "t2"}
	f.g.Expect(f.engine.SetCredentials(platform.Taobao, tbMain, newCreds)).To(Succeed())
	expectError(t, f.call(http.MethodGet, wire.PathShop, nil, sig{}), http.StatusUnauthorized, wire.CodeUnauthorized, "")
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{creds: &newCreds})
}

// A captured request sent again is refused while its timestamp is still
// within the skew; the same request signed again (a new nonce) passes, and
// so do identical requests in the same second.
func TestReplayIsRefused(t *testing.T) {
	f := newFixture(t, Options{})
	g := f.g
	body, err := json.Marshal(wire.RoleSpec{Name: "cs", Permissions: []string{"wangwang"}})
	g.Expect(err).NotTo(HaveOccurred())

	idem := sig{header: map[string]string{wire.HeaderIdempotencyKey: "role-cs-1"}}
	first := f.request(http.MethodPost, wire.PathRoles, body, idem)
	captured := f.withBody(first, string(body))
	g.Expect(f.send(first).status).To(Equal(http.StatusCreated))
	f.clock.Advance(time.Minute)
	r := f.send(captured)
	d := expectError(t, r, http.StatusUnauthorized, wire.CodeUnauthorized, "")
	g.Expect(d.Message).To(ContainSubstring("replayed"))
	for _, sent := range []string{captured.Header.Get(wire.HeaderNonce), captured.Header.Get(wire.HeaderSignature)} {
		g.Expect(string(r.body)).NotTo(ContainSubstring(sent))
	}
	g.Expect(f.engine.Roles(platform.Taobao, tbMain)).To(HaveLen(1), "the replay created nothing")

	// The same request, signed again, is a new request (a retry): accepted,
	// and its idempotency key answers with the role created first.
	f.ok(http.StatusCreated, http.MethodPost, wire.PathRoles, body, nil, idem)
	g.Expect(f.engine.Roles(platform.Taobao, tbMain)).To(HaveLen(1))

	// Two identical GETs in the same second: each has its own nonce.
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})

	// A nonce is per app key: another shop may use it.
	get := f.request(http.MethodGet, wire.PathShop, nil, sig{})
	g.Expect(f.send(get).status).To(Equal(http.StatusOK))
	other := f.request(http.MethodGet, wire.PathShop, nil, sig{shop: platform.Pinduoduo})
	other.Header.Set(wire.HeaderNonce, get.Header.Get(wire.HeaderNonce))
	other.Header.Set(wire.HeaderSignature, wire.Sign(pddCreds.AppSecret, other.Method, other.URL.EscapedPath(),
		other.URL.Query(), other.Header.Get(wire.HeaderTimestamp), get.Header.Get(wire.HeaderNonce), nil))
	g.Expect(f.send(other).status).To(Equal(http.StatusOK))
	expectError(t, f.send(get), http.StatusUnauthorized, wire.CodeUnauthorized, "")
}

// withBody replaces a request's body (after signing).
func (f *fixture) withBody(req *http.Request, body string) *http.Request {
	r, err := http.NewRequest(req.Method, req.URL.String(), strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	r.Header = req.Header.Clone()
	return r
}

func TestErrorMapping(t *testing.T) {
	f := newFixture(t, Options{})
	role := f.role("cs", "wangwang")
	f.account("a1", "Pa55word!")

	// 404
	expectError(t, f.call(http.MethodGet, at(wire.PathAccount, "99999999"), nil, sig{}), http.StatusNotFound, wire.CodeNotFound, "id")
	expectError(t, f.call(http.MethodPut, at(wire.PathStatus, "99999999"), wire.AccountStatus{}, sig{}), http.StatusNotFound, wire.CodeNotFound, "id")
	expectError(t, f.call(http.MethodGet, at(wire.PathAccountName, "nobody"), nil, sig{}), http.StatusNotFound, wire.CodeNotFound, "name")
	expectError(t, f.call(http.MethodGet, "/nothing/here", nil, sig{}), http.StatusNotFound, wire.CodeNotFound, "")
	r := f.send(func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, f.ts.URL+wire.ShopPrefix(platform.Taobao, "nobody")+wire.PathShop, nil)
		wire.SignRequest(req, tbCreds.AppKey, tbCreds.AppSecret, tbCreds.AccessToken, nil, t0)
		return req
	}())
	// An unknown shop is refused like a bad signature (TestUnknownShopAnswersLikeABadSignature).
	expectError(t, r, http.StatusUnauthorized, wire.CodeUnauthorized, "")
	r = f.send(func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, f.ts.URL+"/v1/shops/jd/"+tbMain+wire.PathShop, nil)
		return req
	}())
	expectError(t, r, http.StatusUnauthorized, wire.CodeUnauthorized, "")

	// 405 for a known path with another method.
	r = f.call(http.MethodPatch, at(wire.PathAccount, "1"), nil, sig{})
	expectError(t, r, http.StatusMethodNotAllowed, wire.CodeNotSupported, "")
	f.g.Expect(r.header.Get("Allow")).To(Equal("GET, PUT, DELETE"))

	// 409
	expectError(t, f.call(http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "a1", Password: "Pa55word!"}, sig{}),
		http.StatusConflict, wire.CodeNameTaken, "name")
	f.account("a2", "Pa55word!", role.ID)
	expectError(t, f.call(http.MethodDelete, at(wire.PathRole, role.ID), nil, sig{}), http.StatusConflict, wire.CodeConflict, "")

	// 422
	expectError(t, f.call(http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "a3", Password: "short"}, sig{}),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "password")
	expectError(t, f.call(http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "a3", Password: "Pa55word!",
		AccountState: wire.AccountState{RoleIDs: []string{"424242"}}}, sig{}), http.StatusUnprocessableEntity, wire.CodeInvalid, "roleIDs")
	for _, q := range []string{"pageSize=0", "pageSize=201", "pageSize=-1", "page=0&pageSize=10"} {
		field := "pageSize"
		if strings.HasPrefix(q, "page=") {
			field = "page"
		}
		expectError(t, f.call(http.MethodGet, wire.PathAccounts+"?"+q, nil, sig{}), http.StatusUnprocessableEntity, wire.CodeInvalid, field)
	}
	for _, q := range []string{"pageSize=1", "pageSize=200"} {
		f.ok(http.StatusOK, http.MethodGet, wire.PathAccounts+"?"+q, nil, nil, sig{})
	}
	expectError(t, f.call(http.MethodGet, wire.PathAccounts+"?pageSize=ten", nil, sig{}), http.StatusUnprocessableEntity, wire.CodeInvalid, "pageSize")
	expectError(t, f.call(http.MethodGet, wire.PathAudit+"?since=yesterday", nil, sig{}), http.StatusUnprocessableEntity, wire.CodeInvalid, "since")
	expectError(t, f.call(http.MethodPost, wire.PathRoles, []byte(`{"name":"x","permisions":[]}`), sig{}), http.StatusUnprocessableEntity, wire.CodeInvalid, "")
	expectError(t, f.call(http.MethodPost, wire.PathRoles, nil, sig{}), http.StatusUnprocessableEntity, wire.CodeInvalid, "")
	expectError(t, f.call(http.MethodPost, wire.PathRoles, []byte(`{"name":"x"} {}`), sig{}), http.StatusUnprocessableEntity, wire.CodeInvalid, "")
	expectError(t, f.call(http.MethodPut, at(wire.PathSeat, "10000002"), wire.Seat{Capacity: 51, Presence: platform.PresenceOnline}, sig{}),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "seat.capacity")
	long := strings.Repeat("k", MaxIdempotencyKeyLength+1)
	expectError(t, f.call(http.MethodPost, wire.PathRoles, wire.RoleSpec{Name: "x"}, sig{header: map[string]string{wire.HeaderIdempotencyKey: long}}),
		http.StatusUnprocessableEntity, wire.CodeInvalid, wire.HeaderIdempotencyKey)
	expectError(t, f.call(http.MethodPost, wire.PathRoles, wire.RoleSpec{Name: "x"}, sig{header: map[string]string{wire.HeaderSource: strings.Repeat("s", MaxSourceLength+1)}}),
		http.StatusUnprocessableEntity, wire.CodeInvalid, wire.HeaderSource)

	// 413
	big := []byte(`{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`)
	expectError(t, f.call(http.MethodPost, wire.PathRoles, big, sig{}), http.StatusRequestEntityTooLarge, wire.CodeInvalid, "")

	// 402: the quota is 3.
	f.account("a3", "Pa55word!")
	expectError(t, f.call(http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "a4", Password: "Pa55word!"}, sig{}),
		http.StatusPaymentRequired, wire.CodeQuotaExceeded, "")

	// 409 on Douyin phones; 422 on Douyin without a position.
	dy := sig{shop: platform.Douyin}
	var pos wire.Role
	f.ok(http.StatusCreated, http.MethodPost, wire.PathRoles, wire.RoleSpec{Name: "客服", Permissions: []string{}}, &pos, dy)
	expectError(t, f.call(http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "d1", Password: "Pa55word!",
		AccountState: wire.AccountState{RoleIDs: []string{pos.ID}, Profile: wire.Profile{Phone: dyMainPhone}}}, dy),
		http.StatusConflict, wire.CodeConflict, "phone")
	expectError(t, f.call(http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "d1", Password: "Pa55word!",
		AccountState: wire.AccountState{Profile: wire.Profile{Phone: "13911112222"}}}, dy),
		http.StatusUnprocessableEntity, wire.CodeInvalid, "roleIDs")

	// Engine faults map through wire.ErrorFor too: 429 with Retry-After.
	f.engine.SetFault(func(string) error {
		return &platform.Error{Kind: platform.ErrRateLimited, Message: "slow down", RetryAfter: 2500 * time.Millisecond}
	})
	r = f.call(http.MethodGet, wire.PathShop, nil, sig{})
	expectError(t, r, http.StatusTooManyRequests, wire.CodeRateLimited, "")
	f.g.Expect(r.header.Get(wire.HeaderRetryAfter)).To(Equal("3"))
	f.engine.SetFault(func(string) error { return platform.NewError(platform.ErrRateLimited, "", "no wait given") })
	r = f.call(http.MethodGet, wire.PathShop, nil, sig{})
	f.g.Expect(r.status).To(Equal(http.StatusTooManyRequests))
	f.g.Expect(r.header.Get(wire.HeaderRetryAfter)).To(Equal("1"))
	f.engine.SetFault(func(string) error { return fmt.Errorf("boom") })
	expectError(t, f.call(http.MethodGet, wire.PathShop, nil, sig{}), http.StatusInternalServerError, wire.CodeInternal, "")
	f.engine.SetFault(nil)

	// Every error round-trips through wire.ErrorFrom to its sentinel.
	r = f.call(http.MethodGet, at(wire.PathAccount, "99999999"), nil, sig{})
	d := wireError(t, r)
	f.g.Expect(wire.ErrorFrom(r.status, &wire.ErrorBody{Error: d}, 0)).To(MatchError(platform.ErrNotFound))
}
