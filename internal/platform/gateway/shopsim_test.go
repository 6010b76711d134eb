package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

// The driver against the reference server, shopsim over a memory.Engine:
// the two ends of package wire agree on every operation.

const simMain = "小红店"

var (
	simNow   = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	simCreds = platform.Credentials{AppKey: "sim-key", AppSecret: "sim-secret-XYZ", AccessToken: "sim-token-XYZ"}
)

func simClock() time.Time { return simNow }

type sim struct {
	engine *memory.Engine
	srv    *shopsim.Server
	url    string
	// direct is the engine's own client of the shop, to compare with.
	direct platform.Client
}

func newSim(t *testing.T, quota int32) *sim {
	t.Helper()
	e := memory.NewEngine(memory.WithClock(simClock))
	if err := e.AddShop(memory.ShopSetup{Platform: platform.Taobao, MainAccount: simMain, Credentials: simCreds, SeatQuota: quota}); err != nil {
		t.Fatal(err)
	}
	srv := shopsim.New(e, shopsim.Options{Clock: simClock})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	direct, err := e.Factory().ClientFor(context.Background(), simConfig(ts.URL, simCreds))
	if err != nil {
		t.Fatal(err)
	}
	return &sim{engine: e, srv: srv, url: ts.URL, direct: direct}
}

func simConfig(endpoint string, creds platform.Credentials) platform.ShopConfig {
	return platform.ShopConfig{Key: "shops/xiaohong", Platform: platform.Taobao, MainAccount: simMain, Endpoint: endpoint, Credentials: creds}
}

func (s *sim) client(t *testing.T, opts gateway.Options, creds platform.Credentials) platform.Client {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = simClock
	}
	c, err := gateway.NewFactory(opts).ClientFor(context.Background(), simConfig(s.url, creds))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestShopsimEveryOperation(t *testing.T) {
	g := NewWithT(t)
	s := newSim(t, 3)
	c := s.client(t, gateway.Options{}, simCreds)
	ctx := platform.WithSource(context.Background(), "SubAccount/shops/xiaohong")

	info, err := c.ShopInfo(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info).To(Equal(platform.ShopInfo{Platform: platform.Taobao, MainAccount: simMain, SeatsUsed: 0, SeatsTotal: 3, Service: platform.ServiceOn,
		PhoneVerification: platform.PhoneVerificationNone}))

	perms, err := c.Permissions(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	want, err := s.direct.Permissions(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(perms).To(Equal(want))
	g.Expect(perms).NotTo(BeEmpty())

	// Roles: create (idempotent), get, list, update.
	spec := platform.RoleSpec{Name: "客服", Description: "customer service", Permissions: []string{"wangwang"}}
	role, err := c.CreateRole(ctx, spec, "role-req-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(role.ID).NotTo(BeEmpty())
	g.Expect(role.Permissions).To(ConsistOf("wangwang", "wangwang-chat", "wangwang-history"), "expanded by the engine")
	again, err := c.CreateRole(ctx, spec, "role-req-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(Equal(role))
	got, err := c.GetRole(ctx, role.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(role))
	roles, err := c.ListRoles(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(roles).To(Equal([]platform.Role{role}))
	spec.Permissions = []string{"phone", "wangwang"}
	role, err = c.UpdateRole(ctx, role.ID, spec)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(role.Permissions).To(ContainElement("phone"))
	g.Expect(s.engine.Roles(platform.Taobao, simMain)).To(Equal([]platform.Role{role}))

	// Accounts: create (idempotent), get, find, list, update.
	state := platform.AccountState{
		Profile:  platform.Profile{DisplayName: "小红", EmployeeName: "Xiao Hong", Department: "客服部", Phone: "13800000001"},
		RoleIDs:  []string{role.ID},
		Seat:     &platform.Seat{Chat: true, Capacity: 5, Presence: platform.PresenceOnline},
		Security: platform.Security{PhoneProtection: true},
	}
	acct, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: "first-pa55", AccountState: state}, "acct-req-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(acct.Login).To(Equal(simMain + ":xiaohong"))
	g.Expect(acct.RoleIDs).To(Equal([]string{role.ID}))
	g.Expect(acct.EffectivePermissions).To(ContainElements("phone", "wangwang-chat"))
	g.Expect(acct.PasswordChangedAt).To(BeTemporally("==", simNow))
	repeat, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: "first-pa55", AccountState: state}, "acct-req-1")
	g.Expect(err).NotTo(HaveOccurred(), "a repeated create with the same request ID returns the first account")
	g.Expect(repeat.ID).To(Equal(acct.ID))
	g.Expect(s.engine.Accounts(platform.Taobao, simMain)).To(HaveLen(1))

	direct, err := s.direct.GetAccount(ctx, acct.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(acct).To(Equal(direct))
	byID, err := c.GetAccount(ctx, acct.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(byID).To(Equal(direct))
	byName, err := c.FindAccount(ctx, "xiaohong")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(byName).To(Equal(direct))
	page, err := c.ListAccounts(ctx, platform.ListOptions{Page: 1, PageSize: 50})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(page).To(Equal(platform.AccountPage{Accounts: []platform.Account{direct}, Total: 1}))
	page, err = c.ListAccounts(ctx, platform.ListOptions{Page: 2, PageSize: 1})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(page.Accounts).To(BeEmpty())
	g.Expect(page.Total).To(Equal(1))

	state.Profile.Department = "售后部"
	state.Disabled = true
	state.Seat = nil
	updated, err := c.UpdateAccount(ctx, acct.ID, state)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(updated.Profile.Department).To(Equal("售后部"))
	g.Expect(updated.Disabled).To(BeTrue())
	g.Expect(updated.Seat).To(BeNil(), "PUT replaces the whole state")
	state.Disabled = false
	_, err = c.UpdateAccount(ctx, acct.ID, state)
	g.Expect(err).NotTo(HaveOccurred())

	info, err = c.ShopInfo(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.SeatsUsed).To(Equal(int32(1)))

	// Passwords.
	ok, err := c.CheckCredentials(ctx, simMain+":xiaohong", "first-pa55")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue())
	g.Expect(c.SetPassword(ctx, acct.ID, "second-pa55")).To(Succeed())
	ok, err = c.CheckCredentials(ctx, simMain+":xiaohong", "first-pa55")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeFalse())
	ok, err = c.CheckCredentials(ctx, simMain+":xiaohong", "second-pa55")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue())

	// A role still assigned cannot go; once the account is gone it can.
	err = c.DeleteRole(ctx, role.ID)
	g.Expect(err).To(MatchError(platform.ErrConflict))
	g.Expect(c.DeleteAccount(ctx, acct.ID)).To(Succeed())
	_, err = c.GetAccount(ctx, acct.ID)
	g.Expect(err).To(MatchError(platform.ErrNotFound))
	_, err = c.FindAccount(ctx, "xiaohong")
	g.Expect(err).To(MatchError(platform.ErrNotFound))
	g.Expect(c.DeleteRole(ctx, role.ID)).To(Succeed())
	_, err = c.GetRole(ctx, role.ID)
	g.Expect(err).To(MatchError(platform.ErrNotFound))
	g.Expect(c.DeleteRole(ctx, role.ID)).To(MatchError(platform.ErrNotFound))

	// Every write was audited with the source, and without a password.
	audit := s.engine.Audit(platform.Taobao, simMain)
	g.Expect(audit).NotTo(BeEmpty())
	for _, e := range audit {
		g.Expect(e.Source).To(Equal("SubAccount/shops/xiaohong"), e.Action)
		g.Expect(e.Detail).NotTo(ContainSubstring("pa55"))
	}
}

func TestShopsimErrorMappings(t *testing.T) {
	g := NewWithT(t)
	s := newSim(t, 2)
	c := s.client(t, gateway.Options{}, simCreds)
	ctx := context.Background()

	first, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "a", Password: "pa55word"}, "req-a")
	g.Expect(err).NotTo(HaveOccurred())

	// Name taken (a different request ID).
	_, err = c.CreateAccount(ctx, platform.CreateAccount{Name: "a", Password: "pa55word"}, "req-a2")
	g.Expect(err).To(MatchError(platform.ErrNameTaken))
	g.Expect(platform.FieldOf(err)).To(Equal("name"))

	// Password too short, with the field.
	_, err = c.CreateAccount(ctx, platform.CreateAccount{Name: "b", Password: "short"}, "req-b")
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	g.Expect(platform.FieldOf(err)).To(Equal("password"))
	err = c.SetPassword(ctx, first.ID, "tiny")
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	g.Expect(platform.FieldOf(err)).To(Equal("password"))

	// Quota exhausted.
	_, err = c.CreateAccount(ctx, platform.CreateAccount{Name: "b", Password: "pa55word"}, "req-b2")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.CreateAccount(ctx, platform.CreateAccount{Name: "c", Password: "pa55word"}, "req-c")
	g.Expect(err).To(MatchError(platform.ErrQuotaExhausted))
	_, retryable := platform.RetryAfter(err)
	g.Expect(retryable).To(BeFalse())

	// Invalid input with a field, from the server's own checks.
	_, err = c.ListAccounts(ctx, platform.ListOptions{Page: 0, PageSize: 10})
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	g.Expect(platform.FieldOf(err)).To(Equal("page"))
	_, err = c.ListAccounts(ctx, platform.ListOptions{Page: 1, PageSize: 201})
	g.Expect(platform.FieldOf(err)).To(Equal("pageSize"))

	// Role name taken; unknown role in an account's state.
	_, err = c.CreateRole(ctx, platform.RoleSpec{Name: "r", Permissions: []string{"phone"}}, "")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.CreateRole(ctx, platform.RoleSpec{Name: "r", Permissions: []string{"phone"}}, "")
	g.Expect(err).To(MatchError(platform.ErrNameTaken))
	_, err = c.UpdateAccount(ctx, "999999", platform.AccountState{})
	g.Expect(err).To(MatchError(platform.ErrNotFound))

	// Unauthorized with wrong credentials, each part.
	for _, creds := range []platform.Credentials{
		{AppKey: simCreds.AppKey, AppSecret: simCreds.AppSecret, AccessToken: "wrong-token"},
		{AppKey: simCreds.AppKey, AppSecret: "wrong-secret", AccessToken: simCreds.AccessToken},
		{AppKey: "wrong-key", AppSecret: simCreds.AppSecret, AccessToken: simCreds.AccessToken},
	} {
		_, err := s.client(t, gateway.Options{}, creds).ShopInfo(ctx)
		g.Expect(err).To(MatchError(platform.ErrUnauthorized), "%s", creds.AppKey)
		g.Expect(err.Error()).NotTo(ContainSubstring("wrong-"))
		g.Expect(err.Error()).NotTo(ContainSubstring(simCreds.AccessToken))
	}
	// A clock too far off is refused too.
	skewed := s.client(t, gateway.Options{Clock: func() time.Time { return simNow.Add(time.Hour) }}, simCreds)
	_, err = skewed.ShopInfo(ctx)
	g.Expect(err).To(MatchError(platform.ErrUnauthorized))

	// An unknown shop is refused like wrong credentials: shopsim does not
	// tell which shops exist.
	cfg := simConfig(s.url, simCreds)
	cfg.MainAccount = "nobody"
	other, err := gateway.NewFactory(gateway.Options{Clock: simClock}).ClientFor(ctx, cfg)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = other.ShopInfo(ctx)
	g.Expect(err).To(MatchError(platform.ErrUnauthorized))
}

func TestShopsimFaults(t *testing.T) {
	t.Run("rate limit with Retry-After", func(t *testing.T) {
		g := NewWithT(t)
		s := newSim(t, 3)
		c := s.client(t, gateway.Options{}, simCreds)
		// Half a request per second: a burst of one, then a 2 s wait (the
		// server's clock is frozen, so the bucket never refills).
		s.srv.SetFaults(shopsim.Faults{RateLimit: 0.5})
		_, err := c.ShopInfo(context.Background())
		g.Expect(err).NotTo(HaveOccurred())
		_, err = c.ShopInfo(context.Background())
		g.Expect(err).To(MatchError(platform.ErrRateLimited))
		after, retryable := platform.RetryAfter(err)
		g.Expect(retryable).To(BeTrue())
		g.Expect(after).To(Equal(2 * time.Second))
		s.srv.SetFaults(shopsim.Faults{})
		_, err = c.ShopInfo(context.Background())
		g.Expect(err).NotTo(HaveOccurred())
	})

	t.Run("errors are transient with Retry-After", func(t *testing.T) {
		g := NewWithT(t)
		s := newSim(t, 3)
		s.srv.SetFaults(shopsim.Faults{ErrorRate: 1})
		_, err := s.client(t, gateway.Options{}, simCreds).ListRoles(context.Background())
		g.Expect(err).To(MatchError(platform.ErrTransient))
		after, _ := platform.RetryAfter(err)
		g.Expect(after).To(Equal(time.Second))
	})

	t.Run("dropped connections are transient", func(t *testing.T) {
		g := NewWithT(t)
		s := newSim(t, 3)
		s.srv.SetFaults(shopsim.Faults{DropRate: 1})
		_, err := s.client(t, gateway.Options{}, simCreds).CreateAccount(context.Background(),
			platform.CreateAccount{Name: "x", Password: "pa55word"}, "req-x")
		g.Expect(err).To(MatchError(platform.ErrTransient))
		g.Expect(err.Error()).NotTo(ContainSubstring("pa55word"))
		g.Expect(s.engine.Accounts(platform.Taobao, simMain)).To(BeEmpty())
	})

	t.Run("latency beyond the per-call timeout is transient", func(t *testing.T) {
		g := NewWithT(t)
		s := newSim(t, 3)
		s.srv.SetFaults(shopsim.Faults{Latency: time.Hour})
		_, err := s.client(t, gateway.Options{Timeout: 50 * time.Millisecond}, simCreds).ShopInfo(context.Background())
		g.Expect(err).To(MatchError(platform.ErrTransient))
		g.Expect(errors.Is(err, context.DeadlineExceeded)).To(BeFalse())
	})
}

// dyMain is the Douyin shop of newDouyinSim.
const dyMain = "抖店旗舰店"

// newDouyinSim serves a Douyin shop (main phone 13700000000, 5 seats) from
// a fresh engine through shopsim, with the clock and admin token given, and
// returns the engine, the server and a gateway client of the shop.
func newDouyinSim(t *testing.T, clock func() time.Time, admin string, pv platform.PhoneVerification) (*memory.Engine, *httptest.Server, platform.Client) {
	t.Helper()
	e := memory.NewEngine(memory.WithClock(clock))
	if err := e.AddShop(memory.ShopSetup{Platform: platform.Douyin, MainAccount: dyMain, MainPhone: "13700000000",
		Credentials: simCreds, SeatQuota: 5, PhoneVerification: pv}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(shopsim.New(e, shopsim.Options{Clock: clock, AdminToken: admin}).Handler())
	t.Cleanup(ts.Close)
	c, err := gateway.NewFactory(gateway.Options{Clock: clock}).ClientFor(context.Background(), platform.ShopConfig{
		Key: "shops/dy", Platform: platform.Douyin, MainAccount: dyMain, Endpoint: ts.URL, Credentials: simCreds})
	if err != nil {
		t.Fatal(err)
	}
	return e, ts, c
}

// lockedClock starts at simNow and is set with setNow. The server reads
// the clock on its own goroutines (also after answering), so it is read
// and set under a lock.
func lockedClock() (clock func() time.Time, setNow func(time.Time)) {
	var mu sync.Mutex
	now := simNow
	clock = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	setNow = func(t time.Time) {
		mu.Lock()
		defer mu.Unlock()
		now = t
	}
	return clock, setNow
}

// Phone verification after creation, through the driver and a shopsim
// shop that verifies as gateways of the protocol's first revision do: the
// pending state, the contract's errors (with Retry-After), the code fetched
// from shopsim's admin SMS endpoint standing in for the employee's phone.
func TestShopsimPhoneVerification(t *testing.T) {
	g := NewWithT(t)
	clock, setNow := lockedClock()
	const (
		phone = "13800138000"
		admin = "admin-token"
	)
	e, ts, c := newDouyinSim(t, clock, admin, platform.PhoneVerificationAfterCreate)
	ctx := platform.WithSource(context.Background(), "SubAccount/shops/xiaohong")
	smsCode := func() string {
		req, err := http.NewRequest(http.MethodGet, ts.URL+shopsim.AdminPathSMS+"?phone="+phone, nil)
		g.Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := ts.Client().Do(req)
		g.Expect(err).NotTo(HaveOccurred())
		defer func() { _ = resp.Body.Close() }()
		g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
		var m shopsim.SMSMessage
		g.Expect(json.NewDecoder(resp.Body).Decode(&m)).To(Succeed())
		return m.Code
	}

	pos, err := c.CreateRole(ctx, platform.RoleSpec{Name: "客服", Permissions: []string{"im-chat"}}, "")
	g.Expect(err).NotTo(HaveOccurred())
	acct, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: "first-pa55", AccountState: platform.AccountState{
		RoleIDs: []string{pos.ID}, Profile: platform.Profile{Phone: phone}}}, "req-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(acct.Verification).To(Equal(&platform.Verification{Phone: "138****8000", SentAt: simNow,
		ExpiresAt: simNow.Add(5 * time.Minute), AttemptsLeft: 5}))
	ok, err := c.CheckCredentials(ctx, "xiaohong", "first-pa55")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeFalse(), "not authorised before verification")
	code := smsCode()
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}

	// A wrong code: ErrInvalid on "code", the attempts in the message, and
	// neither code in it.
	_, err = c.VerifyAccount(ctx, acct.ID, wrong)
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	g.Expect(platform.FieldOf(err)).To(Equal("code"))
	g.Expect(err.(*platform.Error).Message).To(Equal("wrong code; 4 attempts left"))
	got, err := c.GetAccount(ctx, acct.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Verification.AttemptsLeft).To(Equal(4))

	// Too early a new code: ErrRateLimited with the rest of the minute.
	setNow(simNow.Add(15 * time.Second))
	_, err = c.ResendVerification(ctx, acct.ID)
	g.Expect(err).To(MatchError(platform.ErrRateLimited))
	after, retryable := platform.RetryAfter(err)
	g.Expect(retryable).To(BeTrue())
	g.Expect(after).To(Equal(45 * time.Second))

	// Expired: the time in the message, no attempt used.
	setNow(simNow.Add(5 * time.Minute))
	_, err = c.VerifyAccount(ctx, acct.ID, code)
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	g.Expect(err.(*platform.Error).Message).To(Equal("the code expired at 12:05:00; request a new code"))

	// A new code, then the right one (as a Secret might hold it).
	got, err = c.ResendVerification(ctx, acct.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Verification).To(Equal(&platform.Verification{Phone: "138****8000", SentAt: clock(),
		ExpiresAt: clock().Add(5 * time.Minute), AttemptsLeft: 5}))
	code = smsCode()
	got, err = c.VerifyAccount(ctx, acct.ID, code+"\n")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Verification.Verified).To(BeTrue())
	g.Expect(e.Accounts(platform.Douyin, dyMain)).To(Equal([]platform.Account{got}))
	ok, err = c.CheckCredentials(ctx, "xiaohong", "first-pa55")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue())

	// Verified: ErrConflict for both.
	_, err = c.VerifyAccount(ctx, acct.ID, code)
	g.Expect(err).To(MatchError(platform.ErrConflict))
	g.Expect(err.Error()).To(ContainSubstring("already verified"))
	_, err = c.ResendVerification(ctx, acct.ID)
	g.Expect(err).To(MatchError(platform.ErrConflict))
	_, err = c.VerifyAccount(ctx, "99999999", code)
	g.Expect(err).To(MatchError(platform.ErrNotFound))

	// Audited with the source, without the code.
	var actions []string
	for _, e := range e.Audit(platform.Douyin, dyMain) {
		actions = append(actions, e.Action+": "+e.Detail)
		g.Expect(e.Source).To(Equal("SubAccount/shops/xiaohong"))
	}
	g.Expect(actions).To(ContainElements("account.verification: verification code sent", "account.verify: phone verified"))
}

// Taobao accounts need no verification: ErrConflict through the gateway.
func TestShopsimVerificationNotNeeded(t *testing.T) {
	g := NewWithT(t)
	s := newSim(t, 3)
	c := s.client(t, gateway.Options{}, simCreds)
	ctx := context.Background()
	acct, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "a", Password: "pa55word"}, "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(acct.Verification).To(BeNil())
	_, err = c.VerifyAccount(ctx, acct.ID, "123456")
	g.Expect(err).To(MatchError(platform.ErrConflict))
	g.Expect(err.Error()).To(ContainSubstring(`sub-account "a" needs no phone verification`))
	_, err = c.ResendVerification(ctx, acct.ID)
	g.Expect(err).To(MatchError(platform.ErrConflict))
}

// A Douyin seat's reception capacity through the driver and shopsim: the
// main account cannot change it (403 on seat.capacity), the sub-account
// can with its own login in actAs; a refused login is ErrUnauthorized on
// actAs without the password in the message; the change is audited with
// its source.
func TestShopsimSeatCapacityAsSubAccount(t *testing.T) {
	g := NewWithT(t)
	const (
		phone    = "13800138000"
		password = "agent-pa55word"
	)
	e, _, c := newDouyinSim(t, simClock, "", platform.PhoneVerificationBeforeCreate)
	ctx := platform.WithSource(context.Background(), "SubAccount/shops/xiaohong")

	pos, err := c.CreateRole(ctx, platform.RoleSpec{Name: "客服", Permissions: []string{"im-chat"}}, "")
	g.Expect(err).NotTo(HaveOccurred())
	v, err := c.RequestCode(ctx, platform.CodeRequest{Phone: phone}, "")
	g.Expect(err).NotTo(HaveOccurred())
	code, _, ok := e.SMS(phone)
	g.Expect(ok).To(BeTrue())
	acct, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: password, AccountState: platform.AccountState{
		RoleIDs: []string{pos.ID}, Profile: platform.Profile{Phone: phone},
		Seat: &platform.Seat{Chat: true, Presence: platform.PresenceOnline}},
		Code: &platform.VerificationCode{ID: v.ID, Code: code}}, "req-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(acct.Seat.Capacity).To(BeEquivalentTo(memory.DefaultSeatCapacity))
	login := platform.SubAccountLogin{Name: dyMain + ":xiaohong", Password: password}

	// The main account: forbidden.
	st := acct.AccountState
	st.Seat = &platform.Seat{Chat: true, Capacity: 20, Presence: platform.PresenceOnline}
	_, err = c.UpdateAccount(ctx, acct.ID, st)
	g.Expect(err).To(MatchError(platform.ErrForbidden))
	g.Expect(platform.FieldOf(err)).To(Equal("seat.capacity"))
	g.Expect(err.Error()).To(ContainSubstring("only the sub-account itself may change its reception capacity"))

	// A wrong password: refused, and never echoed.
	_, err = c.SetSeatCapacity(ctx, acct.ID, 20, platform.SubAccountLogin{Name: "xiaohong", Password: "wrong-Secret-1"})
	g.Expect(err).To(MatchError(platform.ErrUnauthorized))
	g.Expect(err.Error()).NotTo(ContainSubstring("wrong-Secret-1"))

	got, err := c.SetSeatCapacity(ctx, acct.ID, 20, login)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Seat).To(Equal(&platform.Seat{Chat: true, Capacity: 20, Presence: platform.PresenceOnline}))
	g.Expect(e.Accounts(platform.Douyin, dyMain)[0].Seat.Capacity).To(BeEquivalentTo(20))

	audit := e.Audit(platform.Douyin, dyMain)
	last := audit[len(audit)-1]
	g.Expect(last.Action).To(Equal("account.seat.capacity"))
	g.Expect(last.Detail).To(Equal("reception capacity 10 -> 20, set by the API caller on the sub-account's behalf, signed in with its login"))
	g.Expect(last.Source).To(Equal("SubAccount/shops/xiaohong"))
	for _, a := range audit {
		g.Expect(fmt.Sprint(a)).NotTo(ContainSubstring(password))
	}
}

// The code first, through the driver and shopsim: GET /shop declares it;
// a code is asked for and creates nothing; a wrong code leaves attempts;
// an expired one is ErrCodeExpired; the right one creates the account,
// authorised; a phone change takes a code for the new phone. No code is
// ever in an error message.
func TestShopsimCodeFirst(t *testing.T) {
	g := NewWithT(t)
	clock, setNow := lockedClock()
	advance := func(d time.Duration) { setNow(clock().Add(d)) }
	const phone = "13800138000"
	e, _, c := newDouyinSim(t, clock, "", platform.PhoneVerificationBeforeCreate)
	ctx := platform.WithSource(context.Background(), "SubAccount/shops/xiaohong")
	info, err := c.ShopInfo(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.PhoneVerification).To(Equal(platform.PhoneVerificationBeforeCreate))
	g.Expect(platform.CapabilitiesOf(c).RequestCode).To(BeTrue())

	pos, err := c.CreateRole(ctx, platform.RoleSpec{Name: "客服", Permissions: []string{"im-chat"}}, "")
	g.Expect(err).NotTo(HaveOccurred())
	v, err := c.RequestCode(ctx, platform.CodeRequest{Phone: phone}, "uid-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(v.ID).NotTo(BeEmpty())
	g.Expect(v.ExpiresAt).To(Equal(simNow.Add(5 * time.Minute)))
	g.Expect(e.Accounts(platform.Douyin, dyMain)).To(BeEmpty())
	code, _, _ := e.SMS(phone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	req := platform.CreateAccount{Name: "xiaohong", Password: "first-pa55", AccountState: platform.AccountState{
		RoleIDs: []string{pos.ID}, Profile: platform.Profile{Phone: phone}}, Code: &platform.VerificationCode{ID: v.ID, Code: wrong}}
	_, err = c.CreateAccount(ctx, req, "uid-1")
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	g.Expect(err).NotTo(MatchError(platform.ErrCodeExpired))
	g.Expect(err.(*platform.Error).Message).To(Equal("wrong code; 4 attempts left"))
	g.Expect(e.Accounts(platform.Douyin, dyMain)).To(BeEmpty())

	advance(5 * time.Minute)
	req.Code.Code = code
	_, err = c.CreateAccount(ctx, req, "uid-1")
	g.Expect(err).To(MatchError(platform.ErrCodeExpired))
	g.Expect(platform.FieldOf(err)).To(Equal("code"))
	g.Expect(err.Error()).NotTo(ContainSubstring(code))
	g.Expect(e.Accounts(platform.Douyin, dyMain)).To(BeEmpty())

	v, err = c.RequestCode(ctx, platform.CodeRequest{Phone: phone}, "uid-2")
	g.Expect(err).NotTo(HaveOccurred())
	code, _, _ = e.SMS(phone)
	req.Code = &platform.VerificationCode{ID: v.ID, Code: code + "\n"}
	acct, err := c.CreateAccount(ctx, req, "uid-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(acct.Verification.Verified).To(BeTrue())

	advance(time.Minute)
	st := acct.AccountState
	st.Profile.Phone = "13800138001"
	_, err = c.UpdateAccount(ctx, acct.ID, st)
	g.Expect(err).To(MatchError(platform.ErrForbidden))
	g.Expect(platform.FieldOf(err)).To(Equal("phone"))
	v, err = c.RequestCode(ctx, platform.CodeRequest{Phone: "13800138001", AccountID: acct.ID}, "")
	g.Expect(err).NotTo(HaveOccurred())
	code, _, _ = e.SMS("13800138001")
	got, err := c.ChangePhone(ctx, acct.ID, platform.VerificationCode{ID: v.ID, Code: code})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Profile.Phone).To(Equal("13800138001"))
}
