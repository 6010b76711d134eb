package memory

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

var (
	t0    = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	creds = platform.Credentials{AppKey: "app-key", AppSecret: "app-secret", AccessToken: "access-token"}
	ctx   = context.Background()
)

// fakeClock is a settable clock.
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

// fixture is an engine with one shop per platform (quota 10) and a client
// for each.
type fixture struct {
	e       *Engine
	clock   *fakeClock
	clients map[platform.Name]platform.Client
}

const (
	taobaoMain      = "tbshop"
	pddMain         = "pddshop"
	douyinMain      = "dyshop"
	douyinMainPhone = "13800000000"
)

var mains = map[platform.Name]string{platform.Taobao: taobaoMain, platform.Pinduoduo: pddMain, platform.Douyin: douyinMain}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, platform.PhoneVerificationBeforeCreate)
}

// newAfterCreateFixture is newFixture with a Douyin shop that creates
// accounts first and verifies their phones afterwards, as gateways of the
// protocol's first revision do.
func newAfterCreateFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, platform.PhoneVerificationAfterCreate)
}

func newFixtureWith(t *testing.T, douyin platform.PhoneVerification) *fixture {
	t.Helper()
	clock := &fakeClock{t: t0}
	f := &fixture{e: NewEngine(WithClock(clock.Now)), clock: clock, clients: map[platform.Name]platform.Client{}}
	for p, main := range mains {
		setup := ShopSetup{Platform: p, MainAccount: main, Credentials: creds, SeatQuota: 10}
		if p == platform.Douyin {
			setup.MainPhone = douyinMainPhone
			setup.PhoneVerification = douyin
		}
		if err := f.e.AddShop(setup); err != nil {
			t.Fatalf("AddShop(%s): %v", p, err)
		}
		f.clients[p] = f.client(t, p, main, creds)
	}
	return f
}

func (f *fixture) client(t *testing.T, p platform.Name, main string, c platform.Credentials) platform.Client {
	t.Helper()
	cl, err := f.e.Factory().ClientFor(ctx, platform.ShopConfig{Key: "ns/" + main, Platform: p, MainAccount: main, Credentials: c})
	if err != nil {
		t.Fatalf("ClientFor(%s, %s): %v", p, main, err)
	}
	if p == platform.Douyin {
		return autoCode{Client: cl, f: f}
	}
	return cl
}

// autoCode is a client of a shop that creates accounts only with the code
// sent to their phone (Douyin). A CreateAccount without a code first asks
// for one and takes it from the engine's outbox, as an owner standing
// next to the employee would, so that the tests of everything but the
// code stay as they are; the code's own tests use raw. A code asked for
// within a minute of the last to the same phone waits that minute on the
// fixture's clock.
type autoCode struct {
	platform.Client
	f *fixture
}

// raw is the client without the automatic code.
func raw(c platform.Client) platform.Client {
	if a, ok := c.(autoCode); ok {
		return a.Client
	}
	return c
}

func (a autoCode) CreateAccount(ctx context.Context, req platform.CreateAccount, requestID string) (platform.Account, error) {
	if req.Code == nil && req.Profile.Phone != "" {
		v, err := a.RequestCode(ctx, platform.CodeRequest{Phone: req.Profile.Phone}, "")
		if wait, _ := platform.RetryAfter(err); errors.Is(err, platform.ErrRateLimited) && wait > 0 {
			a.f.clock.Advance(wait)
			v, err = a.RequestCode(ctx, platform.CodeRequest{Phone: req.Profile.Phone}, "")
		}
		if err == nil {
			code, _, _ := a.f.e.SMS(req.Profile.Phone)
			req.Code = &platform.VerificationCode{ID: v.ID, Code: code}
		}
	}
	return a.Client.CreateAccount(ctx, req, requestID)
}

// role creates a role with the given permissions.
func (f *fixture) role(t *testing.T, p platform.Name, name string, perms ...string) platform.Role {
	t.Helper()
	r, err := f.clients[p].CreateRole(ctx, platform.RoleSpec{Name: name, Permissions: perms}, "")
	if err != nil {
		t.Fatalf("CreateRole(%s, %s): %v", p, name, err)
	}
	return r
}

// validRequest is a request every platform accepts, given a role (needed on
// Douyin) and a phone unique to the name.
func validRequest(name, roleID string) platform.CreateAccount {
	return platform.CreateAccount{
		Name:     name,
		Password: "s3cret-pass",
		AccountState: platform.AccountState{
			Profile: platform.Profile{DisplayName: name, Phone: phoneFor(name)},
			RoleIDs: []string{roleID},
		},
	}
}

func phoneFor(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("139%08d", h.Sum32()%100000000)
}

func (f *fixture) account(t *testing.T, p platform.Name, req platform.CreateAccount) platform.Account {
	t.Helper()
	a, err := f.clients[p].CreateAccount(ctx, req, "")
	if err != nil {
		t.Fatalf("CreateAccount(%s, %s): %v", p, req.Name, err)
	}
	return a
}

// expectErr checks that err is a *platform.Error of the kind, with the
// field, and (if given) a message containing msg.
func expectErr(t *testing.T, err error, kind error, field, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v (field %q)", kind, field)
	}
	var pe *platform.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *platform.Error", err, err)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %v is not %v", err, kind)
	}
	if pe.Field != field {
		t.Fatalf("error %v has field %q, want %q", err, pe.Field, field)
	}
	if msg != "" && !strings.Contains(pe.Message, msg) {
		t.Fatalf("error message %q does not contain %q", pe.Message, msg)
	}
}

// methods calls every Client method once with plausible arguments.
var methods = []struct {
	name string
	call func(c platform.Client) error
}{
	{"ShopInfo", func(c platform.Client) error { _, err := c.ShopInfo(ctx); return err }},
	{"Permissions", func(c platform.Client) error { _, err := c.Permissions(ctx); return err }},
	{"ListRoles", func(c platform.Client) error { _, err := c.ListRoles(ctx); return err }},
	{"GetRole", func(c platform.Client) error { _, err := c.GetRole(ctx, "1"); return err }},
	{"CreateRole", func(c platform.Client) error {
		_, err := c.CreateRole(ctx, platform.RoleSpec{Name: "r", Permissions: []string{"phone"}}, "req")
		return err
	}},
	{"UpdateRole", func(c platform.Client) error {
		_, err := c.UpdateRole(ctx, "1", platform.RoleSpec{Name: "r"})
		return err
	}},
	{"DeleteRole", func(c platform.Client) error { return c.DeleteRole(ctx, "1") }},
	{"ListAccounts", func(c platform.Client) error {
		_, err := c.ListAccounts(ctx, platform.ListOptions{Page: 1, PageSize: 10})
		return err
	}},
	{"GetAccount", func(c platform.Client) error { _, err := c.GetAccount(ctx, "1"); return err }},
	{"FindAccount", func(c platform.Client) error { _, err := c.FindAccount(ctx, "x"); return err }},
	{"CreateAccount", func(c platform.Client) error {
		_, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "x", Password: "password1"}, "req")
		return err
	}},
	{"UpdateAccount", func(c platform.Client) error {
		_, err := c.UpdateAccount(ctx, "1", platform.AccountState{})
		return err
	}},
	{"SetPassword", func(c platform.Client) error { return c.SetPassword(ctx, "1", "password1") }},
	{"DeleteAccount", func(c platform.Client) error { return c.DeleteAccount(ctx, "1") }},
	{"CheckCredentials", func(c platform.Client) error { _, err := c.CheckCredentials(ctx, "x", "password1"); return err }},
	{"VerifyAccount", func(c platform.Client) error { _, err := c.VerifyAccount(ctx, "1", "123456"); return err }},
	{"ResendVerification", func(c platform.Client) error { _, err := c.ResendVerification(ctx, "1"); return err }},
}
