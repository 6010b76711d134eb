package memory

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// douyinAccount creates a Douyin account (a position is created on first
// use) and returns it with the code sent to its phone.
func (f *fixture) douyinAccount(t *testing.T, name string) (platform.Account, string) {
	t.Helper()
	roles := f.e.Roles(platform.Douyin, douyinMain)
	var roleID string
	if len(roles) == 0 {
		roleID = f.role(t, platform.Douyin, "客服", "im-chat").ID
	} else {
		roleID = roles[0].ID
	}
	a := f.account(t, platform.Douyin, validRequest(name, roleID))
	code, _, ok := f.e.SMS(phoneFor(name))
	if !ok {
		t.Fatalf("no SMS sent to %s", phoneFor(name))
	}
	return a, code
}

// verify enters the code last sent to the account's phone.
func (f *fixture) verify(t *testing.T, a platform.Account) {
	t.Helper()
	code, _, ok := f.e.SMS(a.Profile.Phone)
	if !ok {
		t.Fatalf("no SMS sent to %s", a.Profile.Phone)
	}
	if _, err := f.clients[platform.Douyin].VerifyAccount(ctx, a.ID, code); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) verification(t *testing.T, id string) platform.Verification {
	t.Helper()
	a, err := f.clients[platform.Douyin].GetAccount(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Verification == nil {
		t.Fatalf("account %s has no verification", id)
	}
	return *a.Verification
}

// wrongCode is a code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000":    "138****8000",
		"+8613800138000": "+86****8000",
		"12345678":       "123****5678",
		"1234567":        "****",
		"":               "****",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVerificationOnlyOnDouyin(t *testing.T) {
	f := newAfterCreateFixture(t)
	for _, p := range []platform.Name{platform.Taobao, platform.Pinduoduo} {
		r := f.role(t, p, "cs")
		a := f.account(t, p, validRequest("xh", r.ID))
		if a.Verification != nil {
			t.Errorf("%s account has a verification: %+v", p, a.Verification)
		}
		if _, _, ok := f.e.SMS(phoneFor("xh")); ok {
			t.Errorf("%s sent an SMS", p)
		}
		c := f.clients[p]
		if ok, err := c.CheckCredentials(ctx, "xh", "s3cret-pass"); !ok || err != nil {
			t.Errorf("%s login: %t %v", p, ok, err)
		}
		_, err := c.VerifyAccount(ctx, a.ID, "123456")
		expectErr(t, err, platform.ErrConflict, "", `sub-account "xh" needs no phone verification`)
		_, err = c.ResendVerification(ctx, a.ID)
		expectErr(t, err, platform.ErrConflict, "", `sub-account "xh" needs no phone verification`)
		for _, e := range f.e.Audit(p, mains[p]) {
			if strings.HasPrefix(e.Action, "account.verif") {
				t.Errorf("%s audited %+v", p, e)
			}
		}
	}
}

func TestDouyinCreateSendsCode(t *testing.T) {
	f := newAfterCreateFixture(t)
	c := f.clients[platform.Douyin]
	r := f.role(t, platform.Douyin, "客服", "im-chat")
	req := validRequest("xh", r.ID)
	req.Profile.Phone = "13800138000"
	a, err := c.CreateAccount(platform.WithSource(ctx, "SubAccount/shop/xh"), req, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	want := &platform.Verification{Phone: "138****8000", SentAt: t0, ExpiresAt: t0.Add(5 * time.Minute), AttemptsLeft: 5}
	if !reflect.DeepEqual(a.Verification, want) {
		t.Errorf("verification = %+v, want %+v", a.Verification, want)
	}
	code, sentAt, ok := f.e.SMS("13800138000")
	if !ok || !sentAt.Equal(t0) || !regexp.MustCompile(`^[0-9]{6}$`).MatchString(code) {
		t.Errorf("SMS = %q %v %t", code, sentAt, ok)
	}
	if _, _, ok := f.e.SMS("13900000000"); ok {
		t.Error("SMS to a phone nothing was sent to")
	}
	// Not authorised until verified.
	if ok, err := c.CheckCredentials(ctx, "xh", req.Password); ok || err != nil {
		t.Errorf("pending account logs in: %t %v", ok, err)
	}
	// The list, the lookup by name and the accessor report it too.
	got, _ := c.FindAccount(ctx, "xh")
	if !reflect.DeepEqual(got.Verification, want) || !reflect.DeepEqual(f.e.Accounts(platform.Douyin, douyinMain)[0].Verification, want) {
		t.Errorf("FindAccount/Accounts verification = %+v", got.Verification)
	}
	// A repeated create sends no second code.
	f.clock.Advance(2 * time.Minute)
	again, err := c.CreateAccount(ctx, req, "req-1")
	if err != nil || again.ID != a.ID || !again.Verification.SentAt.Equal(t0) {
		t.Errorf("repeat: %+v %v", again.Verification, err)
	}
	if _, sentAt, _ := f.e.SMS("13800138000"); !sentAt.Equal(t0) {
		t.Errorf("repeat sent a code at %v", sentAt)
	}

	audit := f.e.Audit(platform.Douyin, douyinMain)
	wantAudit := []AuditEntry{
		{Time: t0, Action: "role.create", TargetID: r.ID, TargetName: "客服", Detail: "permissions=[im-chat]"},
		{Time: t0, Action: "account.create", TargetID: a.ID, TargetName: "xh", Detail: "roles=[" + r.ID + "] extraPermissions=[] disabled=false", Source: "SubAccount/shop/xh"},
		{Time: t0, Action: "account.verification", TargetID: a.ID, TargetName: "xh", Detail: "verification code sent", Source: "SubAccount/shop/xh"},
	}
	if !reflect.DeepEqual(audit, wantAudit) {
		t.Errorf("audit =\n%+v\nwant\n%+v", audit, wantAudit)
	}
}

func TestVerifyAccount(t *testing.T) {
	f := newAfterCreateFixture(t)
	c := f.clients[platform.Douyin]
	a, code := f.douyinAccount(t, "xh")
	bad := wrongCode(code)

	_, err := c.VerifyAccount(ctx, "99999999", code)
	expectErr(t, err, platform.ErrNotFound, "id", `no sub-account with ID "99999999"`)

	// Wrong codes use up the attempts, one each.
	for _, want := range []string{
		"wrong code; 4 attempts left",
		"wrong code; 3 attempts left",
		"wrong code; 2 attempts left",
		"wrong code; 1 attempt left",
		"wrong code; no attempts left; request a new code",
	} {
		_, err := c.VerifyAccount(ctx, a.ID, bad)
		expectErr(t, err, platform.ErrInvalid, "code", "")
		if msg := err.(*platform.Error).Message; msg != want {
			t.Errorf("message %q, want %q", msg, want)
		}
		if _, retry := platform.RetryAfter(err); retry {
			t.Error("a wrong code is retryable")
		}
	}
	if v := f.verification(t, a.ID); v.AttemptsLeft != 0 || v.Verified {
		t.Errorf("after 5 wrong codes: %+v", v)
	}
	// Then even the right code is refused, and costs nothing.
	for _, try := range []string{code, bad} {
		_, err = c.VerifyAccount(ctx, a.ID, try)
		expectErr(t, err, platform.ErrInvalid, "code", "")
		if msg := err.(*platform.Error).Message; msg != "no attempts left; request a new code" {
			t.Errorf("message %q", msg)
		}
	}
	if v := f.verification(t, a.ID); v.AttemptsLeft != 0 {
		t.Errorf("attempts went below zero: %+v", v)
	}

	// A new code restores the attempts; the right one (white space around
	// it is ignored) verifies.
	f.clock.Advance(time.Minute)
	if _, err := c.ResendVerification(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	code, _, _ = f.e.SMS(phoneFor("xh"))
	_, err = c.VerifyAccount(ctx, a.ID, wrongCode(code))
	expectErr(t, err, platform.ErrInvalid, "code", "wrong code; 4 attempts left")
	src := platform.WithSource(ctx, "SubAccount/shop/xh")
	got, err := c.VerifyAccount(src, a.ID, " "+code+"\n")
	if err != nil {
		t.Fatal(err)
	}
	want := &platform.Verification{Verified: true, Phone: MaskPhone(phoneFor("xh")), SentAt: t0.Add(time.Minute),
		ExpiresAt: t0.Add(6 * time.Minute), AttemptsLeft: 4}
	if !reflect.DeepEqual(got.Verification, want) {
		t.Errorf("verified = %+v, want %+v", got.Verification, want)
	}
	if ok, err := c.CheckCredentials(ctx, "xh", "s3cret-pass"); !ok || err != nil {
		t.Errorf("verified account cannot log in: %t %v", ok, err)
	}
	audit := f.e.Audit(platform.Douyin, douyinMain)
	last := audit[len(audit)-1]
	if wantEntry := (AuditEntry{Time: t0.Add(time.Minute), Action: "account.verify", TargetID: a.ID, TargetName: "xh",
		Detail: "phone verified", Source: "SubAccount/shop/xh"}); last != wantEntry {
		t.Errorf("audit entry %+v, want %+v", last, wantEntry)
	}
	// Failed attempts are not audited.
	var actions []string
	for _, e := range audit {
		actions = append(actions, e.Action)
	}
	if want := []string{"role.create", "account.create", "account.verification", "account.verification", "account.verify"}; !reflect.DeepEqual(actions, want) {
		t.Errorf("audit actions %v, want %v", actions, want)
	}

	// Verified: nothing more to verify or send.
	_, err = c.VerifyAccount(ctx, a.ID, code)
	expectErr(t, err, platform.ErrConflict, "", `sub-account "xh" is already verified`)
	f.clock.Advance(time.Hour)
	_, err = c.ResendVerification(ctx, a.ID)
	expectErr(t, err, platform.ErrConflict, "", `sub-account "xh" is already verified`)
}

func TestVerificationCodeExpires(t *testing.T) {
	f := newAfterCreateFixture(t)
	c := f.clients[platform.Douyin]
	early, earlyCode := f.douyinAccount(t, "early")
	late, lateCode := f.douyinAccount(t, "late")

	// Just inside the 5 minutes the code works.
	f.clock.Advance(5*time.Minute - time.Nanosecond)
	if _, err := c.VerifyAccount(ctx, early.ID, earlyCode); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	// At ExpiresAt it no longer does, right or wrong, and no attempt is used.
	f.clock.Advance(time.Nanosecond)
	for _, try := range []string{lateCode, wrongCode(lateCode)} {
		_, err := c.VerifyAccount(ctx, late.ID, try)
		expectErr(t, err, platform.ErrInvalid, "code", "")
		if msg := err.(*platform.Error).Message; msg != "the code expired at 03:09:05; request a new code" {
			t.Errorf("message %q", msg)
		}
	}
	if v := f.verification(t, late.ID); v.AttemptsLeft != 5 || v.Verified {
		t.Errorf("after expiry: %+v", v)
	}
	// A new code works for 5 more minutes; the old one no longer does.
	if _, err := c.ResendVerification(ctx, late.ID); err != nil {
		t.Fatal(err)
	}
	newCode, sentAt, _ := f.e.SMS(phoneFor("late"))
	if !sentAt.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("sent at %v", sentAt)
	}
	if v := f.verification(t, late.ID); !v.ExpiresAt.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("new expiry %v", v.ExpiresAt)
	}
	if newCode != lateCode {
		_, err := c.VerifyAccount(ctx, late.ID, lateCode)
		expectErr(t, err, platform.ErrInvalid, "code", "wrong code; 4 attempts left")
	}
	f.clock.Advance(4 * time.Minute)
	if _, err := c.VerifyAccount(ctx, late.ID, newCode); err != nil {
		t.Errorf("new code: %v", err)
	}
}

func TestResendVerification(t *testing.T) {
	f := newAfterCreateFixture(t)
	c := f.clients[platform.Douyin]
	a, code := f.douyinAccount(t, "xh")

	_, err := c.ResendVerification(ctx, "99999999")
	expectErr(t, err, platform.ErrNotFound, "id", "")

	// At most one code a minute, counted from the last send; RetryAfter is
	// the rest of the minute rounded up to a second.
	for _, tc := range []struct {
		at   time.Duration
		wait time.Duration
	}{
		{0, time.Minute},
		{10*time.Second + 300*time.Millisecond, 50 * time.Second},
		{59*time.Second + time.Millisecond, time.Second},
	} {
		f.clock.t = t0.Add(tc.at)
		_, err = c.ResendVerification(ctx, a.ID)
		expectErr(t, err, platform.ErrRateLimited, "", "a code was sent less than a minute ago")
		if d, ok := platform.RetryAfter(err); !ok || d != tc.wait {
			t.Errorf("at +%v RetryAfter = %v, %t; want %v", tc.at, d, ok, tc.wait)
		}
	}
	if got := err.(*platform.Error).Message; got != "a code was sent less than a minute ago; a new one can be requested in 1s" {
		t.Errorf("message %q", got)
	}
	if _, sentAt, _ := f.e.SMS(phoneFor("xh")); !sentAt.Equal(t0) {
		t.Errorf("a refused resend sent a code at %v", sentAt)
	}

	// Two wrong codes, then a resend a minute later resets everything.
	for range 2 {
		_, _ = c.VerifyAccount(ctx, a.ID, wrongCode(code))
	}
	f.clock.t = t0.Add(time.Minute)
	src := platform.WithSource(ctx, "SubAccount/shop/xh")
	got, err := c.ResendVerification(src, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	m1 := t0.Add(time.Minute)
	want := &platform.Verification{Phone: MaskPhone(phoneFor("xh")), SentAt: m1, ExpiresAt: m1.Add(5 * time.Minute), AttemptsLeft: 5}
	if !reflect.DeepEqual(got.Verification, want) {
		t.Errorf("after resend %+v, want %+v", got.Verification, want)
	}
	if _, sentAt, _ := f.e.SMS(phoneFor("xh")); !sentAt.Equal(m1) {
		t.Errorf("SMS sent at %v", sentAt)
	}
	audit := f.e.Audit(platform.Douyin, douyinMain)
	if last := audit[len(audit)-1]; last != (AuditEntry{Time: m1, Action: "account.verification", TargetID: a.ID, TargetName: "xh",
		Detail: "verification code sent", Source: "SubAccount/shop/xh"}) {
		t.Errorf("audit entry %+v", last)
	}
	// The limit counts from this send.
	f.clock.Advance(30 * time.Second)
	_, err = c.ResendVerification(ctx, a.ID)
	if d, _ := platform.RetryAfter(err); d != 30*time.Second {
		t.Errorf("RetryAfter = %v (%v)", d, err)
	}

	// A code goes to the account's current phone.
	st := got.AccountState
	st.Profile.Phone = "13800138000"
	if _, err := c.UpdateAccount(ctx, a.ID, st); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.e.SMS("13800138000"); ok {
		t.Error("changing the phone sent a code")
	}
	f.clock.Advance(30 * time.Second)
	got, err = c.ResendVerification(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Verification.Phone != "138****8000" {
		t.Errorf("phone %q", got.Verification.Phone)
	}
	newCode, _, ok := f.e.SMS("13800138000")
	if !ok {
		t.Fatal("no code for the new phone")
	}
	if _, err := c.VerifyAccount(ctx, a.ID, newCode); err != nil {
		t.Errorf("code sent to the new phone: %v", err)
	}
}

// The code is never in an error message, an audit entry or an account.
func TestVerificationCodeNeverShown(t *testing.T) {
	f := newAfterCreateFixture(t)
	c := f.clients[platform.Douyin]
	a, code := f.douyinAccount(t, "xh")
	var errs []error
	_, err := c.VerifyAccount(ctx, a.ID, wrongCode(code))
	errs = append(errs, err)
	_, err = c.ResendVerification(ctx, a.ID)
	errs = append(errs, err)
	f.clock.Advance(10 * time.Minute)
	_, err = c.VerifyAccount(ctx, a.ID, code)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil || strings.Contains(err.Error(), code) {
			t.Errorf("error %v", err)
		}
	}
	if _, err := c.ResendVerification(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	code, _, _ = f.e.SMS(phoneFor("xh"))
	got, err := c.VerifyAccount(ctx, a.ID, code)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range f.e.Audit(platform.Douyin, douyinMain) {
		if e.Action == "account.verification" || e.Action == "account.verify" {
			if e.Detail != "verification code sent" && e.Detail != "phone verified" {
				t.Errorf("audit detail %q", e.Detail)
			}
		}
	}
	if got.Verification.Phone == phoneFor("xh") {
		t.Error("the phone is not masked")
	}
	// Once verified, the record keeps no hash of the code.
	snap, err := f.e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(snap), `"codeHash"`) {
		t.Error("a verified account keeps its code hash")
	}
}

func TestVerificationSurvivesSnapshot(t *testing.T) {
	f := newAfterCreateFixture(t)
	c := f.clients[platform.Douyin]
	a, code := f.douyinAccount(t, "xh")
	b, bCode := f.douyinAccount(t, "done")
	if _, err := c.VerifyAccount(ctx, b.ID, bCode); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, _ = c.VerifyAccount(ctx, a.ID, wrongCode(code))
	}
	f.clock.Advance(20 * time.Second)
	snap, err := f.e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}

	e2 := NewEngine(WithClock(f.clock.Now))
	if err := e2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e2.Accounts(platform.Douyin, douyinMain), f.e.Accounts(platform.Douyin, douyinMain)) {
		t.Error("accounts differ after restore")
	}
	if got, _, ok := e2.SMS(phoneFor("xh")); !ok || got != code {
		t.Error("the SMS outbox was not restored")
	}
	c2, err := e2.Factory().ClientFor(ctx, platform.ShopConfig{Platform: platform.Douyin, MainAccount: douyinMain, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := c2.CheckCredentials(ctx, "done", "s3cret-pass"); !ok {
		t.Error("verified account cannot log in after restore")
	}
	if ok, _ := c2.CheckCredentials(ctx, "xh", "s3cret-pass"); ok {
		t.Error("pending account logs in after restore")
	}
	// The attempts used, the rate limit and the code all carried over.
	_, err = c2.VerifyAccount(ctx, a.ID, wrongCode(code))
	expectErr(t, err, platform.ErrInvalid, "code", "wrong code; 2 attempts left")
	_, err = c2.ResendVerification(ctx, a.ID)
	if d, _ := platform.RetryAfter(err); d != 40*time.Second {
		t.Errorf("RetryAfter after restore = %v (%v)", d, err)
	}
	if _, err := c2.VerifyAccount(ctx, a.ID, code); err != nil {
		t.Errorf("verifying after restore: %v", err)
	}

	// A state with impossible attempts is refused.
	bad := strings.Replace(string(snap), `"attemptsLeft": 3`, `"attemptsLeft": -1`, 1)
	if bad == string(snap) {
		t.Fatal("test setup: no attemptsLeft in the snapshot")
	}
	if err := e2.Restore([]byte(bad)); err == nil {
		t.Error("restored negative attempts")
	}
}
