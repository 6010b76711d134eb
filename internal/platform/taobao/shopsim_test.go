package taobao_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

// The driver against shopsim's TOP endpoint over a memory.Engine: the
// driver's requests are checked by an independent verifier (signature,
// timestamp, session) and its reads see what the engine holds.

const simMain = "小红店"

var (
	simNow   = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	simCreds = platform.Credentials{AppKey: "23456789", AppSecret: "sim-secret-XYZ", AccessToken: "sim-session-XYZ"}
)

func simClock() time.Time { return simNow }

type sim struct {
	engine *memory.Engine
	srv    *shopsim.Server
	url    string
	// direct is the engine's own client of the shop, to set up accounts
	// (TOP cannot create them) and to compare with.
	direct platform.Client
	// wire records every request body the driver sent.
	wire *recorder
}

// recorder is an http.RoundTripper that keeps the forms sent and can
// tamper with a request or lose an answer.
type recorder struct {
	mu     sync.Mutex
	forms  []url.Values
	tamper func(url.Values)
	// lose drops the answer (after the server handled the request) of the
	// next call to this TOP method.
	lose string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.forms = append(r.forms, form)
	tamper, lose := r.tamper, r.lose == form.Get("method")
	if lose {
		r.lose = ""
	}
	r.mu.Unlock()
	if tamper != nil {
		tamper(form)
		body = []byte(form.Encode())
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err == nil && lose {
		_ = resp.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	return resp, err
}

func (r *recorder) signs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, f := range r.forms {
		out = append(out, f.Get("sign"))
	}
	return out
}

func newSim(t *testing.T) *sim {
	t.Helper()
	e := memory.NewEngine(memory.WithClock(simClock))
	if err := e.AddShop(memory.ShopSetup{Platform: platform.Taobao, MainAccount: simMain, Credentials: simCreds, SeatQuota: 10}); err != nil {
		t.Fatal(err)
	}
	srv := shopsim.New(e, shopsim.Options{Clock: simClock})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	direct, err := e.Factory().ClientFor(context.Background(), simConfig(ts.URL, simCreds))
	if err != nil {
		t.Fatal(err)
	}
	return &sim{engine: e, srv: srv, url: ts.URL, direct: direct, wire: &recorder{}}
}

func simConfig(endpoint string, creds platform.Credentials) platform.ShopConfig {
	return platform.ShopConfig{Key: "shops/xiaohong", Platform: platform.Taobao, MainAccount: simMain, Endpoint: endpoint, Credentials: creds}
}

func (s *sim) client(t *testing.T, opts taobao.Options, creds platform.Credentials) *taobao.Client {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = simClock
	}
	opts.HTTPClient = &http.Client{Transport: s.wire}
	c, err := taobao.NewFactory(opts).ClientFor(context.Background(), simConfig(s.url, creds))
	if err != nil {
		t.Fatal(err)
	}
	return c.(*taobao.Client)
}

// seed creates two accounts in the engine directly: one with a profile,
// a role and a seat, one bare.
func (s *sim) seed(t *testing.T) (platform.Account, platform.Account, platform.Role) {
	t.Helper()
	ctx := context.Background()
	role, err := s.direct.CreateRole(ctx, platform.RoleSpec{Name: "运营", Permissions: []string{"item-edit"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	dep, err := s.direct.CreateDepartment(ctx, platform.DepartmentSpec{Name: "客服部"}, "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.direct.CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: "Pa55word!", AccountState: platform.AccountState{
		Profile: platform.Profile{DisplayName: "小红", EmployeeName: "王小红", EmployeeNumber: "E7", Department: "客服部", DepartmentID: dep.ID, Phone: "13800000001"},
		RoleIDs: []string{role.ID}, ExtraPermissions: []string{"phone"},
		Seat:     &platform.Seat{Chat: true, Capacity: 8, Presence: platform.PresenceOnline},
		Security: platform.Security{PhoneProtection: true},
	}}, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.direct.CreateAccount(ctx, platform.CreateAccount{Name: "daming", Password: "Pa55word!"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return a, b, role
}

func TestShopsimEverySupportedMethod(t *testing.T) {
	for _, m := range []top.SignMethod{top.SignMD5, top.SignHMAC, top.SignHMACSHA256} {
		t.Run(string(m), func(t *testing.T) {
			g := NewWithT(t)
			s := newSim(t)
			a, b, seededRole := s.seed(t)
			c := s.client(t, taobao.Options{SignMethod: m}, simCreds)
			ctx := platform.WithSource(context.Background(), "SubAccount/shops/xiaohong")

			info, err := c.ShopInfo(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(info).To(Equal(platform.ShopInfo{Platform: platform.Taobao, MainAccount: simMain, SeatsUsed: 2, SeatsTotal: 0, PhoneVerification: platform.PhoneVerificationNone}))

			perms, err := c.Permissions(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			cat, err := catalog.For(platform.Taobao)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(perms).To(Equal(cat.Permissions))

			// Roles: list (no permissions), create, get.
			roles, err := c.ListRoles(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(roles).To(Equal([]platform.Role{{ID: seededRole.ID, RoleSpec: platform.RoleSpec{Name: "运营"}}}))
			role, err := c.CreateRole(ctx, platform.RoleSpec{Name: "客服", Description: "customer service", Permissions: []string{"wangwang-chat"}}, "role-uid-1")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(role.Name).To(Equal("客服"))
			g.Expect(role.Permissions).To(Equal([]string{"wangwang", "wangwang-chat"}), "as TOP reports them, parent included")
			inEngine := s.engine.Roles(platform.Taobao, simMain)
			g.Expect(inEngine).To(HaveLen(2))
			g.Expect(inEngine[1].ID).To(Equal(role.ID))
			got, err := c.GetRole(ctx, role.ID)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(platform.Role{ID: role.ID, RoleSpec: platform.RoleSpec{Name: "客服", Description: "customer service"}}))
			_, err = c.GetRole(ctx, "424242")
			g.Expect(err).To(MatchError(platform.ErrNotFound))
			_, err = c.CreateRole(ctx, platform.RoleSpec{Name: "客服"}, "role-uid-2")
			g.Expect(err).To(MatchError(platform.ErrNameTaken), "someone else's name clash")
			_, err = c.CreateRole(ctx, platform.RoleSpec{Name: "坏", Permissions: []string{"no-such-code"}}, "role-uid-3")
			g.Expect(err).To(MatchError(platform.ErrInvalid))
			g.Expect(platform.FieldOf(err)).To(Equal("permissions"))

			// Accounts: list (paged), get, find.
			page, err := c.ListAccounts(ctx, platform.ListOptions{Page: 1, PageSize: 199})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(page.Total).To(Equal(2))
			g.Expect(page.Accounts).To(Equal([]platform.Account{
				{ID: a.ID, Name: "xiaohong", Login: simMain + ":xiaohong", AccountState: platform.AccountState{Seat: &platform.Seat{Chat: true}}},
				{ID: b.ID, Name: "daming", Login: simMain + ":daming", AccountState: platform.AccountState{Seat: &platform.Seat{}}},
			}))
			page, err = c.ListAccounts(ctx, platform.ListOptions{Page: 1, PageSize: 2})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(page.Accounts).To(HaveLen(2), "2, TOP's smallest page size")
			page, err = c.ListAccounts(ctx, platform.ListOptions{Page: 2, PageSize: 2})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(page.Accounts).To(BeEmpty())
			g.Expect(page.Total).To(Equal(2))

			// The account's roles, with their permissions, and its direct
			// permissions: observed (permissions.roles.get), not settable.
			seeded, err := s.direct.GetRole(ctx, seededRole.ID)
			g.Expect(err).NotTo(HaveOccurred())
			wantA := platform.Account{ID: a.ID, Name: "xiaohong", Login: simMain + ":xiaohong", AccountState: platform.AccountState{
				Profile: platform.Profile{DisplayName: "小红", EmployeeName: "王小红", EmployeeNumber: "E7", Department: "客服部",
					DepartmentID: a.Profile.DepartmentID},
				Seat:             &platform.Seat{Chat: true},
				RoleIDs:          []string{seededRole.ID},
				ExtraPermissions: []string{"phone"},
			}, Roles: []platform.Role{{ID: seededRole.ID, RoleSpec: platform.RoleSpec{Name: "运营", Permissions: seeded.Permissions}}}}
			g.Expect(seeded.Permissions).To(ContainElement("item-edit"))
			got2, err := c.GetAccount(ctx, a.ID)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got2).To(Equal(wantA))
			found, err := c.FindAccount(ctx, "xiaohong")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(found).To(Equal(wantA))
			_, err = c.FindAccount(ctx, "nobody")
			g.Expect(err).To(MatchError(platform.ErrNotFound))
			_, err = c.GetAccount(ctx, "424242")
			g.Expect(err).To(MatchError(platform.ErrNotFound))

			// UpdateAccount applies Disabled and dispatch only.
			desired := found.AccountState
			desired.Disabled = true
			desired.Seat = nil
			desired.Profile.Department = "ignored"
			desired.RoleIDs = []string{role.ID}
			updated, err := c.UpdateAccount(ctx, a.ID, desired)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(updated.Disabled).To(BeTrue())
			g.Expect(updated.Seat).To(Equal(&platform.Seat{Chat: false}))
			g.Expect(updated.Profile.Department).To(Equal("客服部"), "TOP cannot change the profile")
			engineA, err := s.direct.GetAccount(ctx, a.ID)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(engineA.Disabled).To(BeTrue())
			g.Expect(engineA.Seat).To(Equal(&platform.Seat{Chat: false, Capacity: 8, Presence: platform.PresenceOnline}), "the seat is kept, not chatting")
			g.Expect(engineA.RoleIDs).To(Equal([]string{seededRole.ID}), "roles untouched")
			g.Expect(engineA.ExtraPermissions).To(Equal([]string{"phone"}))
			g.Expect(engineA.Profile.Phone).To(Equal("13800000001"))
			g.Expect(engineA.Security.PhoneProtection).To(BeTrue())
			audit := s.engine.Audit(platform.Taobao, simMain)
			g.Expect(audit[len(audit)-1].Action).To(Equal("account.update"))
			g.Expect(audit[len(audit)-1].Source).To(Equal("SubAccount/shops/xiaohong"), "the source travels as X-Source")

			updated, err = c.UpdateAccount(ctx, b.ID, platform.AccountState{Seat: &platform.Seat{Chat: true}})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(updated.Disabled).To(BeFalse())
			g.Expect(updated.Seat).To(Equal(&platform.Seat{Chat: true}))
			page, err = c.ListAccounts(ctx, platform.ListOptions{Page: 1, PageSize: 10})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(page.Accounts[0].Disabled).To(BeTrue())
			g.Expect(page.Accounts[1].Seat.Chat).To(BeTrue())
			_, err = c.UpdateAccount(ctx, "424242", platform.AccountState{})
			g.Expect(err).To(MatchError(platform.ErrNotFound))

			// Departments, duties, presence.
			deps, err := c.Departments(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(deps).To(HaveLen(1))
			g.Expect(deps[0].Name).To(Equal("客服部"))
			g.Expect(deps[0].ID).NotTo(BeEmpty())
			g.Expect(deps[0].AccountIDs).To(Equal([]string{a.ID}))
			listed, err := c.ListDepartments(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(listed).To(Equal([]platform.Department{{ID: a.Profile.DepartmentID,
				DepartmentSpec: platform.DepartmentSpec{Name: "客服部"}, Members: 1}}))
			_, err = c.CreateDepartment(ctx, platform.DepartmentSpec{Name: "财务部"}, "")
			g.Expect(err).To(MatchError(platform.ErrNotSupported))
			g.Expect(c.DeleteDepartment(ctx, a.Profile.DepartmentID)).To(MatchError(platform.ErrNotSupported))
			_, err = c.AddContact(ctx, platform.ContactSpec{Name: "值班", Phone: "13700000001"})
			g.Expect(err).To(MatchError(platform.ErrNotSupported))
			_, err = c.ListContacts(ctx)
			g.Expect(err).To(MatchError(platform.ErrNotSupported))
			duties, err := c.Duties(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(duties).To(BeEmpty())
			// The online-status log is the activity feed's presence
			// changes (shopsim used to make one record per account from
			// its seat). ListActivity reads it 5 accounts a call.
			for _, e := range []platform.Activity{
				{AccountID: b.ID, Kind: platform.ActivityPresence, Presence: "Online", Time: simNow.Add(-30 * time.Minute)},
				{AccountID: a.ID, Kind: platform.ActivityPresence, Presence: "Break", Time: simNow.Add(-10 * time.Minute)},
				{AccountID: a.ID, Kind: platform.ActivityLogin, Time: simNow.Add(-20 * time.Minute)},
				{AccountID: a.ID, Kind: platform.ActivityPresence, Presence: "Offline", Time: simNow.Add(-3 * time.Hour)},
			} {
				_, err := s.engine.RecordActivity(platform.Taobao, simMain, e)
				g.Expect(err).NotTo(HaveOccurred())
			}
			recs, err := c.PresenceLog(ctx, []string{a.ID, b.ID}, simNow.Add(-time.Hour), simNow)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(recs).To(Equal([]taobao.PresenceRecord{
				{AccountID: a.ID, Status: top.PresenceOffline, Type: 8, Time: simNow.Add(-3 * time.Hour)},
				{AccountID: b.ID, Status: top.PresenceOnline, Type: 8, Time: simNow.Add(-30 * time.Minute)},
				{AccountID: a.ID, Status: top.PresenceSuspended, Type: 5, Time: simNow.Add(-10 * time.Minute)},
			}), "TOP reads whole days")
			six := []string{"900001", "900002", "900003", "900004", a.ID, b.ID}
			q := platform.ActivityQuery{Since: simNow.Add(-time.Hour), Until: simNow, AccountIDs: six}
			first, err := c.ListActivity(ctx, q)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(first.Entries).To(HaveExactElements(And(HaveField("AccountID", a.ID), HaveField("Presence", "Suspended"))),
				"the first five accounts, within the hour")
			g.Expect(first.Next).NotTo(BeEmpty())
			q.Cursor = first.Next
			second, err := c.ListActivity(ctx, q)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(second.Entries).To(HaveExactElements(And(HaveField("AccountID", b.ID), HaveField("Kind", platform.ActivityPresence),
				HaveField("Presence", "Online"), HaveField("Time", simNow.Add(-30*time.Minute)))))
			g.Expect(second.Next).To(BeEmpty())
			_, err = c.ListActivity(ctx, platform.ActivityQuery{Since: simNow.Add(-time.Hour)})
			g.Expect(err).To(MatchError(platform.ErrInvalid), "TOP must be told the accounts")
		})
	}
}

func TestShopsimNotSupported(t *testing.T) {
	g := NewWithT(t)
	s := newSim(t)
	a, _, role := s.seed(t)
	c := s.client(t, taobao.Options{}, simCreds)
	ctx := context.Background()
	s.engine.ResetCalls()

	_, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "new", Password: "Pa55word!"}, "req")
	g.Expect(err).To(MatchError(platform.ErrNotSupported))
	g.Expect(c.DeleteAccount(ctx, a.ID)).To(MatchError(platform.ErrNotSupported))
	g.Expect(c.SetPassword(ctx, a.ID, "N3w-Pa55word")).To(MatchError(platform.ErrNotSupported))
	_, err = c.CheckCredentials(ctx, "xiaohong", "Pa55word!")
	g.Expect(err).To(MatchError(platform.ErrNotSupported))
	_, err = c.UpdateRole(ctx, role.ID, platform.RoleSpec{Name: "x"})
	g.Expect(err).To(MatchError(platform.ErrNotSupported))
	g.Expect(c.DeleteRole(ctx, role.ID)).To(MatchError(platform.ErrNotSupported))
	_, err = c.VerifyAccount(ctx, a.ID, "123456")
	g.Expect(err).To(MatchError(platform.ErrNotSupported))
	_, err = c.ResendVerification(ctx, a.ID)
	g.Expect(err).To(MatchError(platform.ErrNotSupported))
	g.Expect(s.engine.Calls()).To(BeEmpty(), "nothing reached the platform")
	g.Expect(s.engine.Accounts(platform.Taobao, simMain)).To(HaveLen(2))
	g.Expect(s.engine.Roles(platform.Taobao, simMain)).To(HaveLen(1))
}

func TestShopsimBanGivesRetryAfter(t *testing.T) {
	g := NewWithT(t)
	s := newSim(t)
	s.srv.SetFaults(shopsim.Faults{RateLimit: 0.2}) // one call per 5 seconds
	c := s.client(t, taobao.Options{}, simCreds)
	ctx := context.Background()
	_, err := c.ShopInfo(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.ListRoles(ctx)
	g.Expect(err).To(MatchError(platform.ErrRateLimited))
	wait, retry := platform.RetryAfter(err)
	g.Expect(retry).To(BeTrue())
	g.Expect(wait).To(Equal(5*time.Second), "This ban will last for 5 more seconds")
	g.Expect(err.Error()).To(ContainSubstring("accesscontrol.limited-by-app-access-count"))
}

func TestShopsimAuthenticationFailures(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	wrongSession := simCreds
	wrongSession.AccessToken = "expired-session-ABC"
	wrongSecret := simCreds
	wrongSecret.AppSecret = "not-the-secret-DEF"
	wrongKey := simCreds
	wrongKey.AppKey = "99999999"
	noSession := simCreds
	noSession.AccessToken = ""
	skewed := func() time.Time { return simNow.Add(11 * time.Minute) }
	var errs []error
	for _, tc := range []struct {
		name   string
		opts   taobao.Options
		creds  platform.Credentials
		tamper func(url.Values)
	}{
		{"wrong session", taobao.Options{}, wrongSession, nil},
		{"no session", taobao.Options{}, noSession, nil},
		{"wrong secret", taobao.Options{}, wrongSecret, nil},
		{"wrong app key", taobao.Options{}, wrongKey, nil},
		{"clock skew", taobao.Options{Clock: skewed}, simCreds, nil},
		{"tampered sign", taobao.Options{}, simCreds, func(f url.Values) { f.Set("sign", strings.ToLower(f.Get("sign"))[1:]+"0") }},
		{"tampered parameter", taobao.Options{}, simCreds, func(f url.Values) { f.Set("page_size", "200") }},
		{"sign method switched", taobao.Options{SignMethod: top.SignHMAC}, simCreds, func(f url.Values) { f.Set("sign_method", "md5") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			s.wire.mu.Lock()
			s.wire.tamper = tc.tamper
			s.wire.mu.Unlock()
			_, err := s.client(t, tc.opts, tc.creds).ShopInfo(ctx)
			g.Expect(err).To(MatchError(platform.ErrUnauthorized))
			_, retry := platform.RetryAfter(err)
			g.Expect(retry).To(BeFalse())
			errs = append(errs, err)
		})
	}
	s.wire.tamper = nil

	// Nothing secret in any error string: app secrets, sessions, signatures.
	g := NewWithT(t)
	secrets := []string{simCreds.AppSecret, simCreds.AccessToken, wrongSession.AccessToken, wrongSecret.AppSecret}
	for _, sign := range s.wire.signs() {
		secrets = append(secrets, sign, strings.ToLower(sign))
	}
	for _, err := range errs {
		for _, secret := range secrets {
			if secret != "" {
				g.Expect(err.Error()).NotTo(ContainSubstring(secret))
			}
		}
	}
	g.Expect(s.engine.Calls()).To(BeEmpty(), "no failed request reached the engine")
}

func TestShopsimCreateRoleAfterLostAnswer(t *testing.T) {
	g := NewWithT(t)
	s := newSim(t)
	c := s.client(t, taobao.Options{}, simCreds)
	ctx := context.Background()
	spec := platform.RoleSpec{Name: "美工", Permissions: []string{"sm-design"}}

	s.wire.lose = top.MethodRoleAdd
	_, err := c.CreateRole(ctx, spec, "role-uid")
	g.Expect(err).To(MatchError(platform.ErrTransient), "the answer was lost")
	g.Expect(s.engine.Roles(platform.Taobao, simMain)).To(HaveLen(1), "but the role was created")

	// The controller's retry with the same request ID gets that role.
	role, err := c.CreateRole(ctx, spec, "role-uid")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(role.ID).To(Equal(s.engine.Roles(platform.Taobao, simMain)[0].ID))
	g.Expect(s.engine.Roles(platform.Taobao, simMain)).To(HaveLen(1))
}

// The three sub_status values through shopsim: a penalty freeze is read
// as PlatformFrozen (also in the listing, which says only "frozen"), is
// never "re-enabled" (shopsim refuses that as TOP would), and survives
// the seller's own updates; an unpaid seat fee reads as SeatFeeOwed; and
// an update sends only the flag that changes, leaving the other as it is.
func TestShopsimPenaltyFreezeAndOnlyWhatChanges(t *testing.T) {
	g := NewWithT(t)
	s := newSim(t)
	a, b, _ := s.seed(t)
	c := s.client(t, taobao.Options{}, simCreds)
	ctx := context.Background()
	g.Expect(s.engine.SetAccountStanding(platform.Taobao, simMain, b.ID, true, true)).To(Succeed())

	got, err := c.GetAccount(ctx, b.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.PlatformFrozen).To(BeTrue())
	g.Expect(got.Disabled).To(BeFalse())
	g.Expect(got.SeatFeeOwed).To(BeTrue())
	page, err := c.ListAccounts(ctx, platform.ListOptions{Page: 1, PageSize: 199})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(page.Accounts).To(ContainElement(And(HaveField("ID", b.ID), HaveField("PlatformFrozen", true), HaveField("Disabled", false))))
	g.Expect(page.Accounts).To(ContainElement(And(HaveField("ID", a.ID), HaveField("PlatformFrozen", false))))

	_, err = c.UpdateAccount(ctx, b.ID, platform.AccountState{Seat: &platform.Seat{Chat: true}})
	g.Expect(err).NotTo(HaveOccurred(), "turning dispatch on does not try to lift the freeze")
	after, err := s.direct.GetAccount(ctx, b.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(after.PlatformFrozen).To(BeTrue())
	g.Expect(after.Seat).NotTo(BeNil())
	g.Expect(after.Seat.Chat).To(BeTrue())
	last := s.wire.forms[len(s.wire.forms)-2] // the update, then the read after it
	g.Expect(last.Get("method")).To(Equal(top.MethodSubuserUpdate))
	g.Expect(last.Has(top.ParamIsDisableSubaccount)).To(BeFalse(), "the frozen account is never sent is_disable_subaccount=false")

	// Disabling a dispatching account sends is_disable_subaccount only:
	// dispatch, the other flag, is left as it is.
	_, err = c.UpdateAccount(ctx, a.ID, platform.AccountState{Disabled: true, Seat: &platform.Seat{Chat: true}})
	g.Expect(err).NotTo(HaveOccurred())
	last = s.wire.forms[len(s.wire.forms)-2]
	g.Expect(last.Get("method")).To(Equal(top.MethodSubuserUpdate))
	g.Expect(last.Get(top.ParamIsDisableSubaccount)).To(Equal("true"))
	g.Expect(last.Has(top.ParamIsDispatch)).To(BeFalse())
	after, err = s.direct.GetAccount(ctx, a.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(after.Disabled).To(BeTrue())
	g.Expect(after.Seat.Chat).To(BeTrue(), "dispatch untouched")
	g.Expect(after.Seat.Capacity).To(Equal(int32(8)), "and the seat's capacity with it")
}

// An account's roles and direct permissions are observed, not set: TOP
// reads them (taobao.sellercenter.subuser.permissions.roles.get, with each
// role's permissions, which taobao.sellercenter.roles.get leaves out), a
// change made in the back office shows at the next read, and no update
// sends them. Capabilities says so.
func TestShopsimObservedRolesAndPermissions(t *testing.T) {
	g := NewWithT(t)
	s := newSim(t)
	a, b, seededRole := s.seed(t)
	c := s.client(t, taobao.Options{}, simCreds)
	ctx := context.Background()

	caps := c.Capabilities()
	g.Expect(caps.AccountRoles).To(BeFalse(), "not settable")
	g.Expect(caps.AccountExtraPermissions).To(BeFalse())
	g.Expect(caps.UpdateRole).To(BeFalse())
	g.Expect(caps.ObservedOnly()).To(Equal(platform.Observation{AccountRoles: true, AccountExtraPermissions: true,
		RolePermissions: true, RolePermissionsByAccount: true}))
	g.Expect(platform.FullCapabilities().ObservedOnly()).To(Equal(platform.Observation{}), "a driver that sets them observes nothing it cannot set")

	bare, err := c.GetAccount(ctx, b.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(bare.RoleIDs).To(BeNil())
	g.Expect(bare.ExtraPermissions).To(BeNil())
	g.Expect(bare.Roles).To(BeNil())
	n := len(s.wire.forms)
	g.Expect(s.wire.forms[n-1].Get("method")).To(Equal(top.MethodSubuserPermRoles))
	g.Expect(s.wire.forms[n-1].Get("nick")).To(Equal(simMain+":daming"), "the sub-account's own nick")
	g.Expect(s.wire.forms[n-2].Get("method")).To(Equal(top.MethodSubuserFullInfo))

	// Someone in the back office gives daming a second role and a direct
	// permission.
	cs, err := s.direct.CreateRole(ctx, platform.RoleSpec{Name: "客服", Permissions: []string{"wangwang-chat"}}, "")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = s.direct.UpdateAccount(ctx, b.ID, platform.AccountState{RoleIDs: []string{cs.ID, seededRole.ID}, ExtraPermissions: []string{"phone"}})
	g.Expect(err).NotTo(HaveOccurred())
	found, err := c.FindAccount(ctx, "daming")
	g.Expect(err).NotTo(HaveOccurred())
	want := []string{cs.ID, seededRole.ID}
	slices.Sort(want)
	g.Expect(found.RoleIDs).To(Equal(want))
	g.Expect(found.ExtraPermissions).To(Equal([]string{"phone"}))
	g.Expect(found.Roles).To(ContainElement(platform.Role{ID: cs.ID, RoleSpec: platform.RoleSpec{Name: "客服",
		Permissions: []string{"wangwang", "wangwang-chat"}}}), "the role's permissions, from the account's read")
	listed, err := c.GetRole(ctx, cs.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(listed.Permissions).To(BeEmpty(), "the role listing leaves them out")

	// An update writes what TOP can set and nothing of the roles.
	before := len(s.wire.forms)
	_, err = c.UpdateAccount(ctx, a.ID, platform.AccountState{Disabled: true, Seat: &platform.Seat{Chat: true}, RoleIDs: []string{cs.ID}})
	g.Expect(err).NotTo(HaveOccurred())
	var methods []string
	for _, f := range s.wire.forms[before:] {
		methods = append(methods, f.Get("method"))
		g.Expect(f.Has("role_ids")).To(BeFalse())
		g.Expect(f.Has(top.ParamPermissionCodes)).To(BeFalse())
	}
	g.Expect(methods).To(Equal([]string{top.MethodSubuserFullInfo, top.MethodSubuserUpdate, top.MethodSubuserFullInfo}),
		"an update reads the account's status, not its roles: nothing it sends changes them")
	after, err := s.direct.GetAccount(ctx, a.ID)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(after.RoleIDs).To(Equal([]string{seededRole.ID}), "roles untouched")
}
