package shopsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// The demo shops of the tests. The Pinduoduo one has a Chinese main
// account, to exercise path escaping.
const (
	tbMain      = "hongxing"
	pddMain     = "拼多多小店"
	dyMain      = "dyshop"
	dyMainPhone = "13800000000"
	adminToken  = "admin-token-for-tests"
)

var (
	tbCreds  = platform.Credentials{AppKey: "12345678", AppSecret: "demo-app-secret", AccessToken: "demo-session-token"}
	pddCreds = platform.Credentials{AppKey: "pdd-key", AppSecret: "pdd-secret-value", AccessToken: "pdd-token-value"}
	dyCreds  = platform.Credentials{AppKey: "dy-key", AppSecret: "dy-secret-value", AccessToken: "dy-token-value"}
)

// fakeClock is a settable clock shared by the engine and the server.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	t      *testing.T
	g      *WithT
	clock  *fakeClock
	engine *memory.Engine
	srv    *Server
	ts     *httptest.Server
}

// newFixture serves an engine with three shops (Taobao quota 3, the others
// 10) through httptest. opts may set anything but the clock.
func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	return newFixtureWith(t, opts, platform.PhoneVerificationBeforeCreate)
}

// newAfterCreateFixture is newFixture with a Douyin shop that creates the
// account first and verifies its phone afterwards, as gateways of the
// protocol's first revision do.
func newAfterCreateFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	return newFixtureWith(t, opts, platform.PhoneVerificationAfterCreate)
}

func newFixtureWith(t *testing.T, opts Options, douyin platform.PhoneVerification) *fixture {
	t.Helper()
	clock := &fakeClock{t: t0}
	e := memory.NewEngine(memory.WithClock(clock.Now))
	for _, s := range []memory.ShopSetup{
		{Platform: platform.Taobao, MainAccount: tbMain, Credentials: tbCreds, SeatQuota: 3},
		{Platform: platform.Pinduoduo, MainAccount: pddMain, Credentials: pddCreds, SeatQuota: 10},
		{Platform: platform.Douyin, MainAccount: dyMain, MainPhone: dyMainPhone, Credentials: dyCreds, SeatQuota: 10, PhoneVerification: douyin},
	} {
		if err := e.AddShop(s); err != nil {
			t.Fatal(err)
		}
	}
	opts.Clock = clock.Now
	srv := New(e, opts)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &fixture{t: t, g: NewWithT(t), clock: clock, engine: e, srv: srv, ts: ts}
}

// sig says how to sign a request; the zero value signs correctly for the
// Taobao shop at the fixture's clock.
type sig struct {
	shop   platform.Name // default Taobao
	creds  *platform.Credentials
	at     *time.Time
	header map[string]string
}

func (f *fixture) shopOf(s sig) (string, platform.Credentials) {
	switch s.shop {
	case platform.Pinduoduo:
		return pddMain, pddCreds
	case platform.Douyin:
		return dyMain, dyCreds
	}
	return tbMain, tbCreds
}

// request builds a signed request for path (relative to the shop prefix,
// escaped, optionally with a query) with in as JSON body (nil: none;
// []byte: sent as is).
func (f *fixture) request(method, path string, in any, s sig) *http.Request {
	f.t.Helper()
	p := s.shop
	if p == "" {
		p = platform.Taobao
	}
	main, creds := f.shopOf(s)
	if s.creds != nil {
		creds = *s.creds
	}
	var body []byte
	switch v := in.(type) {
	case nil:
	case []byte:
		body = v
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			f.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, f.ts.URL+wire.ShopPrefix(p, main)+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	at := f.clock.Now()
	if s.at != nil {
		at = *s.at
	}
	wire.SignRequest(req, creds.AppKey, creds.AppSecret, creds.AccessToken, body, at)
	return req
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (f *fixture) send(req *http.Request) response {
	f.t.Helper()
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// call signs and sends a request.
func (f *fixture) call(method, path string, in any, s sig) response {
	f.t.Helper()
	return f.send(f.request(method, path, in, s))
}

// ok calls and expects status, decoding the answer into out (if non-nil).
func (f *fixture) ok(status int, method, path string, in, out any, s sig) {
	f.t.Helper()
	r := f.call(method, path, in, s)
	if r.status != status {
		f.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, status, r.body)
	}
	if out != nil {
		reflect.ValueOf(out).Elem().SetZero() // no merging into a previous answer
		if err := json.Unmarshal(r.body, out); err != nil {
			f.t.Fatalf("%s %s: decoding %s: %v", method, path, r.body, err)
		}
	}
}

// wireError decodes an error answer.
func wireError(t *testing.T, r response) wire.ErrorDetail {
	t.Helper()
	var eb wire.ErrorBody
	if err := json.Unmarshal(r.body, &eb); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return eb.Error
}

// expectError checks the status, the wire code and (if given) the field.
func expectError(t *testing.T, r response, status int, code, field string) wire.ErrorDetail {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	d := wireError(t, r)
	if d.Code != code || (field != "" && d.Field != field) {
		t.Fatalf("error %+v, want code %q field %q", d, code, field)
	}
	return d
}

// role creates a Taobao role.
func (f *fixture) role(name string, perms ...string) wire.Role {
	f.t.Helper()
	var r wire.Role
	f.ok(http.StatusCreated, http.MethodPost, wire.PathRoles, wire.RoleSpec{Name: name, Permissions: perms}, &r, sig{})
	return r
}

// account creates a Taobao account.
func (f *fixture) account(name, password string, roleIDs ...string) wire.Account {
	f.t.Helper()
	var a wire.Account
	in := wire.CreateAccount{Name: name, Password: password, AccountState: wire.AccountState{RoleIDs: roleIDs}}
	f.ok(http.StatusCreated, http.MethodPost, wire.PathAccounts, in, &a, sig{})
	return a
}

// at returns the path of a wire.Path* pattern with its {x} filled in
// (path-escaped).
func at(pattern string, values ...string) string {
	out := pattern
	for _, v := range values {
		i, j := strings.Index(out, "{"), strings.Index(out, "}")
		if i < 0 || j < i {
			break
		}
		out = out[:i] + url.PathEscape(v) + out[j+1:]
	}
	return out
}

func newTestServer(t *testing.T, s *Server) *httptest.Server {
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}
