package memory

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// douyinCodeFirst is the fixture's Douyin client without the automatic
// code, a position for its accounts, and a request for phone.
func douyinCodeFirst(t *testing.T, f *fixture, name, phone string) (platform.Client, platform.CreateAccount) {
	t.Helper()
	r := f.role(t, platform.Douyin, "客服", "im-chat")
	req := validRequest(name, r.ID)
	req.Profile.Phone = phone
	return raw(f.clients[platform.Douyin]), req
}

// The code comes first: asking for one creates nothing; a missing or wrong
// code creates nothing (a wrong one costs an attempt); the right one
// creates the account authorised, and is used up.
func TestCodeFirstCreatesOnlyWithTheCode(t *testing.T) {
	f := newFixture(t)
	c, req := douyinCodeFirst(t, f, "xm", "13812348000")

	v, err := c.RequestCode(ctx, platform.CodeRequest{Phone: req.Profile.Phone}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := platform.Verification{ID: v.ID, Phone: "138****8000", SentAt: t0, ExpiresAt: t0.Add(5 * time.Minute), AttemptsLeft: 5}
	if v.ID == "" || v != want {
		t.Fatalf("RequestCode = %+v, want %+v with an ID", v, want)
	}
	noAccount := func(when string) {
		t.Helper()
		if n := len(f.e.Accounts(platform.Douyin, douyinMain)); n != 0 {
			t.Fatalf("%s: %d accounts on the platform, want none", when, n)
		}
		if info, _ := c.ShopInfo(ctx); info.SeatsUsed != 0 {
			t.Fatalf("%s: %d seats used, want none", when, info.SeatsUsed)
		}
	}
	noAccount("after the code was asked for")

	_, err = c.CreateAccount(ctx, req, "")
	expectErr(t, err, platform.ErrInvalid, "code", "request a code")
	code, _, _ := f.e.SMS(req.Profile.Phone)
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1_000_000)
	req.Code = &platform.VerificationCode{ID: v.ID, Code: wrong}
	_, err = c.CreateAccount(ctx, req, "")
	expectErr(t, err, platform.ErrInvalid, "code", "wrong code; 4 attempts left")
	if errors.Is(err, platform.ErrCodeExpired) {
		t.Errorf("a wrong code is reported as expired: %v", err)
	}
	noAccount("after a wrong code")

	req.Code.Code = " " + code + "\n"
	a, err := c.CreateAccount(ctx, req, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Verification == nil || !a.Verification.Verified || a.Verification.Phone != "138****8000" || a.Verification.ID != "" {
		t.Errorf("new account's verification = %+v, want verified (已授权) for 138****8000", a.Verification)
	}
	if ok, err := c.CheckCredentials(ctx, req.Name, req.Password); !ok || err != nil {
		t.Errorf("the new account does not log in: %t %v", ok, err)
	}
	// Used up: the same code creates nothing more.
	again := validRequest("xm2", req.RoleIDs[0])
	again.Profile.Phone, again.Code = req.Profile.Phone, req.Code
	_, err = c.CreateAccount(ctx, again, "")
	expectErr(t, err, platform.ErrConflict, "phone", "")
	for _, e := range f.e.Audit(platform.Douyin, douyinMain) {
		if strings.Contains(fmt.Sprint(e), code) || strings.Contains(fmt.Sprint(e), "13812348000") {
			t.Errorf("audit entry %+v shows the code or the full phone", e)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Fatalf("code %q: %v", s, err)
	}
	return n
}

// An expired code is its own error, costs no attempt and leaves nothing
// on the platform; a new code (after the one-a-minute limit) replaces it.
func TestCodeFirstExpiredCode(t *testing.T) {
	f := newFixture(t)
	c, req := douyinCodeFirst(t, f, "xm", "13812348000")
	v, err := c.RequestCode(ctx, platform.CodeRequest{Phone: req.Profile.Phone}, "")
	if err != nil {
		t.Fatal(err)
	}
	code, _, _ := f.e.SMS(req.Profile.Phone)
	_, err = c.RequestCode(ctx, platform.CodeRequest{Phone: req.Profile.Phone}, "")
	if wait, _ := platform.RetryAfter(err); !errors.Is(err, platform.ErrRateLimited) || wait != time.Minute {
		t.Fatalf("a second code at once: %v (retry after %s), want rate limited for a minute", err, wait)
	}

	f.clock.Advance(5 * time.Minute)
	req.Code = &platform.VerificationCode{ID: v.ID, Code: code}
	_, err = c.CreateAccount(ctx, req, "")
	expectErr(t, err, platform.ErrCodeExpired, "code", "expired at 03:09:05")
	if n := len(f.e.Accounts(platform.Douyin, douyinMain)); n != 0 {
		t.Fatalf("%d accounts after an expired code, want none", n)
	}

	fresh, err := c.RequestCode(ctx, platform.CodeRequest{Phone: req.Profile.Phone}, "")
	if err != nil {
		t.Fatal(err)
	}
	if fresh.ID == v.ID || fresh.AttemptsLeft != 5 || !fresh.ExpiresAt.Equal(f.clock.Now().Add(5*time.Minute)) {
		t.Fatalf("new code = %+v, want a new ID, 5 attempts and 5 minutes", fresh)
	}
	_, err = c.CreateAccount(ctx, req, "")
	expectErr(t, err, platform.ErrNotFound, "verification", "request a new code")
	code, _, _ = f.e.SMS(req.Profile.Phone)
	req.Code = &platform.VerificationCode{ID: fresh.ID, Code: code}
	if _, err := c.CreateAccount(ctx, req, ""); err != nil {
		t.Fatalf("creating with the new code: %v", err)
	}
}

// Asking again with the same request ID answers the same verification
// (no second SMS); a full shop, a phone already bound, no phone, and a
// platform that texts no code are refused before anything is sent.
func TestRequestCodeRules(t *testing.T) {
	f := newFixture(t)
	c, req := douyinCodeFirst(t, f, "xm", "13812348000")
	first, err := c.RequestCode(ctx, platform.CodeRequest{Phone: req.Profile.Phone}, "uid-1")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)
	again, err := c.RequestCode(ctx, platform.CodeRequest{Phone: req.Profile.Phone}, "uid-1")
	if err != nil || again.ID != first.ID {
		t.Fatalf("repeat with the same request ID = %+v, %v; want verification %s", again, err, first.ID)
	}

	_, err = c.RequestCode(ctx, platform.CodeRequest{}, "")
	expectErr(t, err, platform.ErrInvalid, "phone", "")
	_, err = c.RequestCode(ctx, platform.CodeRequest{Phone: douyinMainPhone}, "")
	expectErr(t, err, platform.ErrConflict, "phone", "main account")
	_, err = f.clients[platform.Taobao].RequestCode(ctx, platform.CodeRequest{Phone: "13812348001"}, "")
	expectErr(t, err, platform.ErrNotSupported, "", "")

	if err := f.e.SetSeatQuota(platform.Douyin, douyinMain, 0); err != nil {
		t.Fatal(err)
	}
	_, err = c.RequestCode(ctx, platform.CodeRequest{Phone: "13812348002"}, "")
	expectErr(t, err, platform.ErrQuotaExhausted, "", "")
	if _, _, sent := f.e.SMS("13812348002"); sent {
		t.Error("a code was texted although the shop has no free seat")
	}
}

// A code goes with the phone it was sent to and the purpose it was asked
// for.
func TestCodeFirstCodeBelongsToItsPhone(t *testing.T) {
	f := newFixture(t)
	c, req := douyinCodeFirst(t, f, "xm", "13812348000")
	v, err := c.RequestCode(ctx, platform.CodeRequest{Phone: "13812349999"}, "")
	if err != nil {
		t.Fatal(err)
	}
	code, _, _ := f.e.SMS("13812349999")
	req.Code = &platform.VerificationCode{ID: v.ID, Code: code}
	_, err = c.CreateAccount(ctx, req, "")
	expectErr(t, err, platform.ErrInvalid, "phone", "sent to 138****9999")
}

// A phone change needs a code for the new phone: UpdateAccount refuses it;
// RequestCode for the account, then ChangePhone with the code, changes it.
func TestCodeFirstPhoneChange(t *testing.T) {
	f := newFixture(t)
	a := f.account(t, platform.Douyin, validRequestWithRole(t, f, "xm"))
	c := raw(f.clients[platform.Douyin])
	newPhone := "13812347777"

	st := a.AccountState
	st.Profile.Phone = newPhone
	_, err := c.UpdateAccount(ctx, a.ID, st)
	expectErr(t, err, platform.ErrForbidden, "phone", "needs the code sent to it")

	v, err := c.RequestCode(ctx, platform.CodeRequest{Phone: newPhone, AccountID: a.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	code, _, _ := f.e.SMS(newPhone)
	// Not a code for a new account.
	create := validRequest("other", a.RoleIDs[0])
	create.Profile.Phone, create.Code = newPhone, &platform.VerificationCode{ID: v.ID, Code: code}
	_, err = c.CreateAccount(ctx, create, "")
	expectErr(t, err, platform.ErrInvalid, "verification", "change an account's phone")

	_, err = c.ChangePhone(ctx, a.ID, platform.VerificationCode{ID: v.ID, Code: "000000x"})
	expectErr(t, err, platform.ErrInvalid, "code", "4 attempts left")
	if got, _ := c.GetAccount(ctx, a.ID); got.Profile.Phone != a.Profile.Phone {
		t.Fatalf("phone is %s after a wrong code, want %s kept", got.Profile.Phone, a.Profile.Phone)
	}
	got, err := c.ChangePhone(ctx, a.ID, platform.VerificationCode{ID: v.ID, Code: code})
	if err != nil {
		t.Fatal(err)
	}
	if got.Profile.Phone != newPhone || got.Verification == nil || !got.Verification.Verified || got.Verification.Phone != "138****7777" {
		t.Errorf("after ChangePhone: phone %s, verification %+v; want %s verified", got.Profile.Phone, got.Verification, newPhone)
	}
	// The same phone again is no change.
	_, err = c.RequestCode(ctx, platform.CodeRequest{Phone: newPhone, AccountID: a.ID}, "")
	expectErr(t, err, platform.ErrConflict, "phone", "already")
}

func validRequestWithRole(t *testing.T, f *fixture, name string) platform.CreateAccount {
	t.Helper()
	r := f.role(t, platform.Douyin, "pos-"+name, "im-chat")
	return validRequest(name, r.ID)
}
