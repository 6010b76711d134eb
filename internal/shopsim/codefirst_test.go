package shopsim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// Douyin's order over the API: GET /shop says BeforeCreate; POST
// /verifications texts a code and creates nothing; POST /accounts without
// the code, with a wrong one or an expired one creates nothing (422
// invalid, 422 invalid with the attempts, 422 code_expired); with the
// right one the account is created, authorised. A phone change goes
// through PUT /accounts/{id}/phone the same way; PUT /accounts/{id} may
// not change it.
func TestCodeFirstEndpoints(t *testing.T) {
	f := newFixture(t, Options{AdminToken: adminToken})
	g := f.g
	dy := sig{shop: platform.Douyin}
	var shop wire.ShopInfo
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, &shop, dy)
	g.Expect(shop.PhoneVerification).To(Equal(platform.PhoneVerificationBeforeCreate))

	var pos wire.Role
	f.ok(http.StatusCreated, http.MethodPost, wire.PathRoles, wire.RoleSpec{Name: "客服", Permissions: []string{"im-chat"}}, &pos, dy)
	create := wire.CreateAccount{Name: "xm", Password: "Pa55word!",
		AccountState: wire.AccountState{RoleIDs: []string{pos.ID}, Profile: wire.Profile{Phone: "13912345678"}}}
	noAccounts := func() {
		t.Helper()
		var list wire.AccountList
		f.ok(http.StatusOK, http.MethodGet, wire.PathAccounts, nil, &list, dy)
		g.Expect(list.Items).To(BeEmpty())
		f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, &shop, dy)
		g.Expect(shop.SeatsUsed).To(BeZero())
	}

	key := sig{shop: platform.Douyin, header: map[string]string{wire.HeaderIdempotencyKey: "uid-1", wire.HeaderSource: "SubAccount/shop/xm"}}
	var v, again wire.Verification
	f.ok(http.StatusCreated, http.MethodPost, wire.PathVerifications, wire.CodeRequest{Phone: "13912345678"}, &v, key)
	g.Expect(v.ID).NotTo(BeEmpty())
	g.Expect(v).To(Equal(wire.Verification{ID: v.ID, Phone: "139****5678", SentAt: t0, ExpiresAt: t0.Add(5 * time.Minute), AttemptsLeft: 5}))
	f.ok(http.StatusCreated, http.MethodPost, wire.PathVerifications, wire.CodeRequest{Phone: "13912345678"}, &again, key)
	g.Expect(again).To(Equal(v), "a repeated Idempotency-Key answers the same verification")
	noAccounts()
	code := f.sms("13912345678").Code

	expectError(t, f.call(http.MethodPost, wire.PathAccounts, create, dy), http.StatusUnprocessableEntity, wire.CodeInvalid, "code")
	create.Code = &wire.VerificationCode{ID: v.ID, Code: otherCode(code)}
	d := expectError(t, f.call(http.MethodPost, wire.PathAccounts, create, dy), http.StatusUnprocessableEntity, wire.CodeInvalid, "code")
	g.Expect(d.Message).To(Equal("wrong code; 4 attempts left"))
	noAccounts()

	f.clock.Advance(5 * time.Minute)
	create.Code.Code = code
	d = expectError(t, f.call(http.MethodPost, wire.PathAccounts, create, dy), http.StatusUnprocessableEntity, wire.CodeCodeExpired, "code")
	g.Expect(d.Message).To(Equal("the code expired at 03:09:05; request a new code"))
	noAccounts()

	f.ok(http.StatusCreated, http.MethodPost, wire.PathVerifications, wire.CodeRequest{Phone: "13912345678"}, &v, dy)
	create.Code = &wire.VerificationCode{ID: v.ID, Code: f.sms("13912345678").Code}
	var a wire.Account
	f.ok(http.StatusCreated, http.MethodPost, wire.PathAccounts, create, &a, key)
	g.Expect(a.Verification).NotTo(BeNil())
	g.Expect(a.Verification.Verified).To(BeTrue())
	var login wire.LoginResult
	f.ok(http.StatusOK, http.MethodPost, wire.PathLogin, wire.LoginCheck{Name: "xm", Password: "Pa55word!"}, &login, dy)
	g.Expect(login.OK).To(BeTrue(), "authorised (已授权) at once")

	// A phone change needs the new phone's code.
	st := create.AccountState
	st.Profile.Phone = "13912340000"
	expectError(t, f.call(http.MethodPut, at(wire.PathAccount, a.ID), st, dy), http.StatusForbidden, wire.CodeForbidden, "phone")
	f.clock.Advance(time.Minute)
	f.ok(http.StatusCreated, http.MethodPost, wire.PathVerifications, wire.CodeRequest{Phone: "13912340000", AccountID: a.ID}, &v, dy)
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathPhone, a.ID), wire.VerificationCode{ID: v.ID, Code: f.sms("13912340000").Code}, &a, dy)
	g.Expect(a.Profile.Phone).To(Equal("13912340000"))
	expectError(t, f.call(http.MethodPut, at(wire.PathPhone, a.ID), wire.VerificationCode{ID: v.ID, Code: "1"}, dy),
		http.StatusNotFound, wire.CodeNotFound, "verification")

	// Taobao texts no code.
	expectError(t, f.call(http.MethodPost, wire.PathVerifications, wire.CodeRequest{Phone: "13912345679"}, sig{}),
		http.StatusNotImplemented, wire.CodeNotSupported, "")
	// Never a code in the audit log.
	for _, e := range f.engine.Audit(platform.Douyin, dyMain) {
		g.Expect(containsCode(fmt.Sprint(e), code)).To(BeFalse(), "audit entry %+v", e)
		g.Expect(strings.Contains(fmt.Sprint(e), "13912345678")).To(BeFalse(), "audit entry %+v has the full phone", e)
	}
}
