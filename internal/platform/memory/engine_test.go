package memory

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

func TestAddShop(t *testing.T) {
	e := NewEngine()
	ok := ShopSetup{Platform: platform.Taobao, MainAccount: "main", Credentials: creds, SeatQuota: 3}
	if err := e.AddShop(ok); err != nil {
		t.Fatal(err)
	}
	if err := e.AddShop(ShopSetup{Platform: platform.Douyin, MainAccount: "d1", MainPhone: "13900000001"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup ShopSetup
		kind  error
		field string
	}{
		{"unknown platform", ShopSetup{Platform: "jd", MainAccount: "m"}, platform.ErrInvalid, "platform"},
		{"empty main", ShopSetup{Platform: platform.Taobao, MainAccount: " "}, platform.ErrInvalid, "mainAccount"},
		{"colon in main", ShopSetup{Platform: platform.Taobao, MainAccount: "a:b"}, platform.ErrInvalid, "mainAccount"},
		{"negative quota", ShopSetup{Platform: platform.Taobao, MainAccount: "m", SeatQuota: -1}, platform.ErrInvalid, "seatQuota"},
		{"duplicate", ok, platform.ErrConflict, "mainAccount"},
		{"douyin main phone of another shop", ShopSetup{Platform: platform.Douyin, MainAccount: "d2", MainPhone: "13900000001"}, platform.ErrConflict, "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectErr(t, e.AddShop(tt.setup), tt.kind, tt.field, "")
		})
	}
	// Same main account on another platform is a different shop.
	if err := e.AddShop(ShopSetup{Platform: platform.Pinduoduo, MainAccount: "main"}); err != nil {
		t.Errorf("same main on another platform: %v", err)
	}
	// The same phone as a main phone on a non-Douyin shop is no concern.
	if err := e.AddShop(ShopSetup{Platform: platform.Taobao, MainAccount: "t2", MainPhone: "13900000001"}); err != nil {
		t.Errorf("taobao shop with a Douyin main phone: %v", err)
	}
}

func TestFactoryAndShopInfo(t *testing.T) {
	f := newFixture(t)
	_, err := f.e.Factory().ClientFor(ctx, platform.ShopConfig{Platform: platform.Taobao, MainAccount: "nobody", Credentials: creds})
	expectErr(t, err, platform.ErrNotFound, "mainAccount", "")
	_, err = f.e.Factory().ClientFor(ctx, platform.ShopConfig{Platform: platform.Douyin, MainAccount: taobaoMain, Credentials: creds})
	expectErr(t, err, platform.ErrNotFound, "mainAccount", "")

	for p, main := range mains {
		info, err := f.clients[p].ShopInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := platform.ShopInfo{Platform: p, MainAccount: main, SeatsUsed: 0, SeatsTotal: 10, PhoneVerification: platform.PhoneVerificationNone}
		if p == platform.Taobao {
			want.Service = platform.ServiceOn
		}
		if p == platform.Douyin {
			want.PhoneVerification = platform.PhoneVerificationBeforeCreate
		}
		if !reflect.DeepEqual(info, want) {
			t.Errorf("%s ShopInfo = %+v, want %+v", p, info, want)
		}
	}
}

func TestCredentialsChecked(t *testing.T) {
	f := newFixture(t)
	bad := map[string]platform.Credentials{
		"wrong app key":      {AppKey: "x", AppSecret: creds.AppSecret, AccessToken: creds.AccessToken},
		"wrong app secret":   {AppKey: creds.AppKey, AppSecret: "x", AccessToken: creds.AccessToken},
		"wrong access token": {AppKey: creds.AppKey, AppSecret: creds.AppSecret, AccessToken: "x"},
		"empty":              {},
	}
	for name, c := range bad {
		cl := f.client(t, platform.Taobao, taobaoMain, c)
		for _, m := range methods {
			t.Run(name+"/"+m.name, func(t *testing.T) {
				err := m.call(cl)
				expectErr(t, err, platform.ErrUnauthorized, "", "")
				if strings.Contains(err.Error(), creds.AccessToken) || strings.Contains(err.Error(), creds.AppSecret) {
					t.Errorf("error %q leaks a credential", err)
				}
			})
		}
	}
	if got := f.e.Roles(platform.Taobao, taobaoMain); got != nil {
		t.Errorf("unauthorized calls created roles: %v", got)
	}

	// Rotating the shop's credentials locks out existing clients.
	old := f.clients[platform.Taobao]
	rotated := platform.Credentials{AppKey: "app-key", AppSecret: "app-secret", AccessToken: "new-token"}
	if err := f.e.SetCredentials(platform.Taobao, taobaoMain, rotated); err != nil {
		t.Fatal(err)
	}
	_, err := old.ShopInfo(ctx)
	expectErr(t, err, platform.ErrUnauthorized, "", "")
	if _, err := f.client(t, platform.Taobao, taobaoMain, rotated).ShopInfo(ctx); err != nil {
		t.Errorf("client with rotated credentials: %v", err)
	}
	// Other shops are unaffected.
	if _, err := f.clients[platform.Pinduoduo].ShopInfo(ctx); err != nil {
		t.Errorf("other shop: %v", err)
	}
	expectErr(t, f.e.SetCredentials(platform.Taobao, "nobody", rotated), platform.ErrNotFound, "mainAccount", "")
}

func TestFaultInjection(t *testing.T) {
	f := newFixture(t)
	injected := platform.NewError(platform.ErrRateLimited, "", "slow down")
	var seen []string
	f.e.SetFault(func(method string) error {
		seen = append(seen, method)
		// The hook runs outside the engine's lock: it may inspect the engine.
		_ = f.e.Accounts(platform.Taobao, taobaoMain)
		if method == "CreateAccount" || method == "CreateRole" {
			return injected
		}
		return nil
	})
	c := f.clients[platform.Taobao]
	_, err := c.CreateRole(ctx, platform.RoleSpec{Name: "ops", Permissions: []string{"phone"}}, "r1")
	if err != injected {
		t.Fatalf("CreateRole error = %v, want the injected error", err)
	}
	_, err = c.CreateAccount(ctx, validRequest("xiaohong", "1"), "")
	if err != injected {
		t.Fatalf("CreateAccount error = %v, want the injected error", err)
	}
	if d, ok := platform.RetryAfter(err); !ok || d != 0 {
		t.Errorf("RetryAfter = %v, %t", d, ok)
	}
	if len(f.e.Roles(platform.Taobao, taobaoMain)) != 0 || len(f.e.Audit(platform.Taobao, taobaoMain)) != 0 {
		t.Error("a faulted call changed state")
	}
	if _, err := c.ShopInfo(ctx); err != nil {
		t.Errorf("ShopInfo with fault for other methods: %v", err)
	}
	if want := []string{"CreateRole", "CreateAccount", "ShopInfo"}; !slices.Equal(seen, want) {
		t.Errorf("fault saw %v, want %v", seen, want)
	}

	// The fault wins over a credentials check.
	badClient := f.client(t, platform.Taobao, taobaoMain, platform.Credentials{})
	if _, err := badClient.CreateRole(ctx, platform.RoleSpec{Name: "x"}, ""); err != injected {
		t.Errorf("fault with bad credentials = %v", err)
	}

	f.e.SetFault(nil)
	if _, err := c.CreateRole(ctx, platform.RoleSpec{Name: "ops", Permissions: []string{"phone"}}, "r1"); err != nil {
		t.Errorf("after clearing the fault: %v", err)
	}
}

func TestCallsCounted(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Pinduoduo]
	for _, m := range methods {
		_ = m.call(c)
	}
	_ = methods[0].call(c)
	calls := f.e.Calls()
	if len(calls) != len(methods) {
		t.Errorf("Calls has %d methods, want %d: %v", len(calls), len(methods), calls)
	}
	for _, m := range methods {
		want := 1
		if m.name == "ShopInfo" {
			want = 2
		}
		if calls[m.name] != want {
			t.Errorf("Calls[%s] = %d, want %d", m.name, calls[m.name], want)
		}
	}
	calls["ShopInfo"] = 100
	if f.e.Calls()["ShopInfo"] != 2 {
		t.Error("Calls returned the engine's own map")
	}
	// Failed calls count too.
	bad := f.client(t, platform.Pinduoduo, pddMain, platform.Credentials{})
	_, _ = bad.ShopInfo(ctx)
	if got := f.e.Calls()["ShopInfo"]; got != 3 {
		t.Errorf("after a failed call Calls[ShopInfo] = %d, want 3", got)
	}
	f.e.ResetCalls()
	if got := f.e.Calls(); len(got) != 0 {
		t.Errorf("after ResetCalls: %v", got)
	}
}

func TestContextDone(t *testing.T) {
	f := newFixture(t)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := f.clients[platform.Taobao].CreateRole(cctx, platform.RoleSpec{Name: "ops"}, "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if len(f.e.Roles(platform.Taobao, taobaoMain)) != 0 {
		t.Error("a cancelled call created a role")
	}
}

func TestAccountNameRules(t *testing.T) {
	f := newFixture(t)
	for p := range mains {
		r := f.role(t, p, "cs", csPermission(p))
		f.account(t, p, validRequest("taken", r.ID))
		tests := []struct {
			name    string
			account string
			kind    error
		}{
			{"empty", "", platform.ErrInvalid},
			{"blank", "   ", platform.ErrInvalid},
			{"colon", "a:b", platform.ErrInvalid},
			{"too long", strings.Repeat("客", 33), platform.ErrInvalid},
			{"invalid utf8", "a\xffb", platform.ErrInvalid},
			{"taken", "taken", platform.ErrNameTaken},
			{"max length", strings.Repeat("客", 32), nil},
			{"chinese", "小红", nil},
		}
		for _, tt := range tests {
			t.Run(string(p)+"/"+tt.name, func(t *testing.T) {
				before := len(f.e.Accounts(p, mains[p]))
				req := validRequest(tt.account, r.ID)
				req.Profile.Phone = phoneFor(string(p) + tt.name)
				a, err := f.clients[p].CreateAccount(ctx, req, "")
				if tt.kind == nil {
					if err != nil {
						t.Fatal(err)
					}
					if a.Name != tt.account || a.Login != mains[p]+":"+tt.account {
						t.Errorf("created %q login %q", a.Name, a.Login)
					}
					return
				}
				expectErr(t, err, tt.kind, "name", "")
				if after := len(f.e.Accounts(p, mains[p])); after != before {
					t.Errorf("failed create changed account count %d -> %d", before, after)
				}
			})
		}
	}
}

// csPermission is a low-risk permission code of each platform.
func csPermission(p platform.Name) string {
	return map[platform.Name]string{platform.Taobao: "wangwang-chat", platform.Pinduoduo: "chat.reply", platform.Douyin: "im-chat"}[p]
}

func TestPasswordRules(t *testing.T) {
	tests := []struct {
		platform platform.Name
		password string
		ok       bool
	}{
		{platform.Pinduoduo, "12345", false},
		{platform.Pinduoduo, "123456", true},
		{platform.Pinduoduo, "密码密码密码", true}, // six characters, 18 bytes
		{platform.Pinduoduo, "密码密码密", false}, // five characters, 15 bytes
		{platform.Taobao, "1234567", false},
		{platform.Taobao, "12345678", true},
		{platform.Douyin, "1234567", false},
		{platform.Douyin, "12345678", true},
		{platform.Taobao, "", false},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s/%q", tt.platform, tt.password), func(t *testing.T) {
			f := newFixture(t)
			r := f.role(t, tt.platform, "cs", csPermission(tt.platform))
			req := validRequest(fmt.Sprintf("user%d", i), r.ID)
			req.Password = tt.password
			a, err := f.clients[tt.platform].CreateAccount(ctx, req, "")
			if !tt.ok {
				expectErr(t, err, platform.ErrInvalid, "password", "at least")
				if strings.Contains(err.Error(), tt.password) && tt.password != "" {
					t.Errorf("error %q contains the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			short := []rune(tt.password)
			err = f.clients[tt.platform].SetPassword(ctx, a.ID, string(short[:len(short)-1]))
			expectErr(t, err, platform.ErrInvalid, "password", "")
		})
	}
}

func TestPasswordsHashedAndChecked(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Taobao]
	r := f.role(t, platform.Taobao, "cs", "wangwang-chat")
	req := validRequest("xiaohong", r.ID)
	req.Password = "Very-Secret-1"
	a := f.account(t, platform.Taobao, req)
	if !a.PasswordChangedAt.Equal(t0) {
		t.Errorf("PasswordChangedAt = %v, want %v", a.PasswordChangedAt, t0)
	}
	check := func(name, password string, want bool) {
		t.Helper()
		got, err := c.CheckCredentials(ctx, name, password)
		if err != nil || got != want {
			t.Errorf("CheckCredentials(%q, %q) = %t, %v; want %t", name, password, got, err, want)
		}
	}
	check("xiaohong", "Very-Secret-1", true)
	check(taobaoMain+":xiaohong", "Very-Secret-1", true)
	check("xiaohong", "very-secret-1", false)
	check("xiaohong", "", false)
	check("nobody", "Very-Secret-1", false)
	check("otherShop:xiaohong", "Very-Secret-1", false)

	// The plaintext is nowhere in the state.
	snap, err := f.e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(snap), "Very-Secret-1") {
		t.Error("snapshot contains the plaintext password")
	}
	// Two accounts with one password get different salts and hashes.
	req2 := validRequest("xiaoming", r.ID)
	req2.Password = "Very-Secret-1"
	b := f.account(t, platform.Taobao, req2)
	recA, recB := f.record(platform.Taobao, taobaoMain, a.ID), f.record(platform.Taobao, taobaoMain, b.ID)
	if recA.PasswordSalt == recB.PasswordSalt || recA.PasswordHash == recB.PasswordHash || len(recA.PasswordHash) != 64 {
		t.Errorf("hashes not salted SHA-256: %+v %+v", recA, recB)
	}

	// SetPassword replaces it and moves PasswordChangedAt.
	f.clock.Advance(time.Hour)
	if err := c.SetPassword(ctx, a.ID, "Another-Secret-2"); err != nil {
		t.Fatal(err)
	}
	check("xiaohong", "Very-Secret-1", false)
	check("xiaohong", "Another-Secret-2", true)
	got, _ := c.GetAccount(ctx, a.ID)
	if !got.PasswordChangedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("PasswordChangedAt = %v, want %v", got.PasswordChangedAt, t0.Add(time.Hour))
	}

	// A disabled account does not log in.
	st := got.AccountState
	st.Disabled = true
	if _, err := c.UpdateAccount(ctx, a.ID, st); err != nil {
		t.Fatal(err)
	}
	check("xiaohong", "Another-Secret-2", false)

	for _, entry := range f.e.Audit(platform.Taobao, taobaoMain) {
		s := fmt.Sprintf("%+v", entry)
		if strings.Contains(s, "Secret") {
			t.Errorf("audit entry contains a password: %s", s)
		}
	}
}

func (f *fixture) record(p platform.Name, main, id string) AccountRecord {
	f.e.mu.Lock()
	defer f.e.mu.Unlock()
	return *f.e.state.Shops[ShopKey(p, main)].Accounts[id]
}

func TestSeatQuota(t *testing.T) {
	clock := &fakeClock{t: t0}
	e := NewEngine(WithClock(clock.Now))
	if err := e.AddShop(ShopSetup{Platform: platform.Pinduoduo, MainAccount: "m", Credentials: creds, SeatQuota: 2}); err != nil {
		t.Fatal(err)
	}
	c, _ := e.Factory().ClientFor(ctx, platform.ShopConfig{Platform: platform.Pinduoduo, MainAccount: "m", Credentials: creds})
	create := func(name string) (platform.Account, error) {
		return c.CreateAccount(ctx, platform.CreateAccount{Name: name, Password: "123456"}, "")
	}
	a1, err := create("a1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := create("a2"); err != nil {
		t.Fatal(err)
	}
	_, err = create("a3")
	expectErr(t, err, platform.ErrQuotaExhausted, "", "2 seats")
	if _, ok := platform.RetryAfter(err); ok {
		t.Error("quota exhaustion is reported as retryable")
	}
	info, _ := c.ShopInfo(ctx)
	if info.SeatsUsed != 2 || info.SeatsTotal != 2 {
		t.Errorf("ShopInfo = %+v", info)
	}
	// Disabled accounts still hold a seat.
	if _, err := c.UpdateAccount(ctx, a1.ID, platform.AccountState{Disabled: true}); err != nil {
		t.Fatal(err)
	}
	_, err = create("a3")
	expectErr(t, err, platform.ErrQuotaExhausted, "", "")
	// Deleting frees one.
	if err := c.DeleteAccount(ctx, a1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := create("a3"); err != nil {
		t.Fatalf("after delete: %v", err)
	}
	// Buying seats.
	if err := e.SetSeatQuota(platform.Pinduoduo, "m", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := create("a4"); err != nil {
		t.Fatalf("after raising the quota: %v", err)
	}
	info, _ = c.ShopInfo(ctx)
	if info.SeatsUsed != 3 || info.SeatsTotal != 3 {
		t.Errorf("ShopInfo = %+v", info)
	}
	expectErr(t, e.SetSeatQuota(platform.Pinduoduo, "m", -1), platform.ErrInvalid, "seatQuota", "")
	expectErr(t, e.SetSeatQuota(platform.Pinduoduo, "x", 1), platform.ErrNotFound, "mainAccount", "")
	// Input errors are reported before quota exhaustion.
	_, err = c.CreateAccount(ctx, platform.CreateAccount{Name: "a5", Password: "1"}, "")
	expectErr(t, err, platform.ErrInvalid, "password", "")
}

func TestRolesAndPermissionsOnAccounts(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Taobao]
	design := f.role(t, platform.Taobao, "designer", "sm-tbd-visit")
	cs := f.role(t, platform.Taobao, "cs", "wangwang-chat", "trade-order-view")
	if want := []string{"sell", "sm", "sm-design", "sm-tbd-visit"}; !slices.Equal(design.Permissions, want) {
		t.Errorf("Taobao role permissions not expanded: %v", design.Permissions)
	}

	tests := []struct {
		name      string
		roleIDs   []string
		extra     []string
		field     string
		msg       string
		wantRoles []string
		wantExtra []string
		wantEff   []string
	}{
		{name: "unknown role", roleIDs: []string{cs.ID, "424242"}, field: "roleIDs", msg: "424242"},
		{name: "unknown permissions", extra: []string{"phone", "nope", "order.view"}, field: "permissions", msg: "nope, order.view"},
		{name: "roles deduplicated and sorted", roleIDs: []string{cs.ID, design.ID, cs.ID},
			wantRoles: []string{design.ID, cs.ID},
			wantEff:   []string{"sell", "sm", "sm-design", "sm-tbd-visit", "trade", "trade-order-view", "wangwang", "wangwang-chat"}},
		{name: "extra expanded and unioned", roleIDs: []string{cs.ID}, extra: []string{"logistics-query", "trade-order-view"},
			wantRoles: []string{cs.ID},
			wantExtra: []string{"logistics", "logistics-query", "trade", "trade-order-view"},
			wantEff:   []string{"logistics", "logistics-query", "trade", "trade-order-view", "wangwang", "wangwang-chat"}},
		{name: "no roles at all", extra: []string{"phone"}, wantExtra: []string{"phone"}, wantEff: []string{"phone"}},
		{name: "nothing", wantRoles: nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := platform.CreateAccount{Name: fmt.Sprintf("u%d", i), Password: "12345678",
				AccountState: platform.AccountState{RoleIDs: tt.roleIDs, ExtraPermissions: tt.extra}}
			a, err := c.CreateAccount(ctx, req, "")
			if tt.field != "" {
				expectErr(t, err, platform.ErrInvalid, tt.field, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.RoleIDs, tt.wantRoles) || !slices.Equal(a.ExtraPermissions, tt.wantExtra) ||
				!slices.Equal(a.EffectivePermissions, tt.wantEff) {
				t.Errorf("roles %v extra %v effective %v; want %v %v %v",
					a.RoleIDs, a.ExtraPermissions, a.EffectivePermissions, tt.wantRoles, tt.wantExtra, tt.wantEff)
			}
			// UpdateAccount applies the same rules.
			_, err = c.UpdateAccount(ctx, a.ID, platform.AccountState{RoleIDs: []string{"999"}})
			expectErr(t, err, platform.ErrInvalid, "roleIDs", "")
			_, err = c.UpdateAccount(ctx, a.ID, platform.AccountState{ExtraPermissions: []string{"bogus"}})
			expectErr(t, err, platform.ErrInvalid, "permissions", "bogus")
		})
	}

	// Pinduoduo grants exactly the codes.
	pr := f.role(t, platform.Pinduoduo, "cs", "order.view", "chat.reply")
	pa := f.account(t, platform.Pinduoduo, platform.CreateAccount{Name: "p", Password: "123456",
		AccountState: platform.AccountState{RoleIDs: []string{pr.ID}, ExtraPermissions: []string{"item", "order.view"}}})
	if want := []string{"chat.reply", "item", "order.view"}; !slices.Equal(pa.EffectivePermissions, want) {
		t.Errorf("Pinduoduo effective = %v, want %v", pa.EffectivePermissions, want)
	}
}

func TestUpdateAccountReplacesState(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Taobao]
	r1 := f.role(t, platform.Taobao, "cs", "wangwang-chat")
	r2 := f.role(t, platform.Taobao, "design", "phone")
	a := f.account(t, platform.Taobao, platform.CreateAccount{Name: "x", Password: "12345678",
		AccountState: platform.AccountState{RoleIDs: []string{r1.ID, r2.ID}, ExtraPermissions: []string{"data-report"},
			Seat:    &platform.Seat{Chat: true, Capacity: 5, Presence: platform.PresenceOnline},
			Profile: platform.Profile{EmployeeName: "Li"}, Security: platform.Security{PhoneProtection: true}}})
	got, err := c.UpdateAccount(ctx, a.ID, platform.AccountState{RoleIDs: []string{r2.ID}})
	if err != nil {
		t.Fatal(err)
	}
	want := platform.Account{ID: a.ID, Name: "x", Login: taobaoMain + ":x",
		AccountState:         platform.AccountState{RoleIDs: []string{r2.ID}},
		EffectivePermissions: []string{"phone"}, PasswordChangedAt: t0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UpdateAccount = %+v\nwant %+v", got, want)
	}
	if fetched, _ := c.GetAccount(ctx, a.ID); !reflect.DeepEqual(fetched, want) {
		t.Errorf("GetAccount = %+v", fetched)
	}

	// Changing a role changes the effective permissions of its holders.
	if _, err := c.UpdateRole(ctx, r2.ID, platform.RoleSpec{Name: "design", Permissions: []string{"sm-design"}}); err != nil {
		t.Fatal(err)
	}
	fetched, _ := c.FindAccount(ctx, "x")
	if w := []string{"sell", "sm", "sm-design", "sm-tbd-publish", "sm-tbd-visit"}; !slices.Equal(fetched.EffectivePermissions, w) {
		t.Errorf("after role update effective = %v, want %v", fetched.EffectivePermissions, w)
	}
}

func TestReturnedValuesAreCopies(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Taobao]
	r := f.role(t, platform.Taobao, "cs", "wangwang-chat")
	req := platform.CreateAccount{Name: "x", Password: "12345678", AccountState: platform.AccountState{
		RoleIDs: []string{r.ID}, ExtraPermissions: []string{"phone"}, Seat: &platform.Seat{Capacity: 3, Presence: platform.PresenceBusy}}}
	a := f.account(t, platform.Taobao, req)
	req.RoleIDs[0] = "mutated"
	req.Seat.Capacity = 99
	a.RoleIDs[0] = "mutated"
	a.ExtraPermissions[0] = "mutated"
	a.EffectivePermissions[0] = "mutated"
	a.Seat.Capacity = 99
	r.Permissions[0] = "mutated"
	list := f.e.Accounts(platform.Taobao, taobaoMain)
	list[0].RoleIDs[0] = "mutated"
	got, _ := c.GetAccount(ctx, a.ID)
	if got.RoleIDs[0] != r.ID || got.ExtraPermissions[0] != "phone" || got.EffectivePermissions[0] != "phone" || got.Seat.Capacity != 3 {
		t.Errorf("engine state was mutated through a returned value: %+v", got)
	}
	role, _ := c.GetRole(ctx, r.ID)
	if role.Permissions[0] != "wangwang" {
		t.Errorf("role mutated: %+v", role)
	}
	perms, _ := c.Permissions(ctx)
	perms[0].Code = "mutated"
	cat, _ := catalog.For(platform.Taobao)
	if cat.Permissions[0].Code == "mutated" {
		t.Error("Permissions returned the shared catalog slice")
	}
}

func TestPermissionsIsCatalog(t *testing.T) {
	f := newFixture(t)
	for p := range mains {
		got, err := f.clients[p].Permissions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cat, _ := catalog.For(p)
		if !reflect.DeepEqual(got, cat.Permissions) {
			t.Errorf("%s Permissions differs from the catalog", p)
		}
	}
}

func TestSeatRules(t *testing.T) {
	tests := []struct {
		name  string
		seat  *platform.Seat
		field string
		// want is the seat stored, when it differs from seat.
		want *platform.Seat
	}{
		{"nil", nil, "", nil},
		{"capacity 1", &platform.Seat{Chat: true, Capacity: 1, Presence: platform.PresenceOnline}, "", nil},
		{"capacity 50", &platform.Seat{Capacity: 50, Presence: platform.PresenceBreak}, "", nil},
		{"busy", &platform.Seat{Capacity: 10, Presence: platform.PresenceBusy}, "", nil},
		// 0 keeps the capacity: a new seat gets the default, and the
		// existing account keeps the 10 of the case before.
		{"capacity 0", &platform.Seat{Capacity: 0, Presence: platform.PresenceOnline}, "",
			&platform.Seat{Capacity: DefaultSeatCapacity, Presence: platform.PresenceOnline}},
		{"capacity 51", &platform.Seat{Capacity: 51, Presence: platform.PresenceOnline}, "seat.capacity", nil},
		{"capacity negative", &platform.Seat{Capacity: -1, Presence: platform.PresenceOnline}, "seat.capacity", nil},
		// "" keeps the presence (the agent's): a new seat is Online, and
		// the existing account keeps the Online of the case before.
		{"no presence", &platform.Seat{Capacity: 5}, "", &platform.Seat{Capacity: 5, Presence: platform.PresenceOnline}},
		{"offline", &platform.Seat{Capacity: 5, Presence: "Offline"}, "seat.presence", nil},
		{"lowercase", &platform.Seat{Capacity: 5, Presence: "online"}, "seat.presence", nil},
	}
	for _, p := range []platform.Name{platform.Douyin, platform.Pinduoduo} {
		f := newFixture(t)
		r := f.role(t, p, "cs", csPermission(p))
		existing := f.account(t, p, validRequest("existing", r.ID))
		for i, tt := range tests {
			t.Run(string(p)+"/"+tt.name, func(t *testing.T) {
				req := validRequest(fmt.Sprintf("agent%d", i), r.ID)
				req.Seat = tt.seat
				a, err := f.clients[p].CreateAccount(ctx, req, "")
				upd := existing.AccountState
				upd.Seat = tt.seat
				u, uerr := f.clients[p].UpdateAccount(ctx, existing.ID, upd)
				want := tt.seat
				if tt.want != nil {
					want = tt.want
				}
				switch {
				case tt.field != "":
					expectErr(t, err, platform.ErrInvalid, tt.field, "")
					expectErr(t, uerr, platform.ErrInvalid, tt.field, "")
					return
				case p == platform.Douyin && want != nil && want.Capacity != DefaultSeatCapacity:
					// Only the sub-account itself may set it (TestDouyinCapacity).
					expectErr(t, err, platform.ErrForbidden, "seat.capacity", "only the sub-account itself")
					expectErr(t, uerr, platform.ErrForbidden, "seat.capacity", "only the sub-account itself")
					return
				case err != nil || uerr != nil:
					t.Fatalf("create: %v, update: %v", err, uerr)
				}
				if !reflect.DeepEqual(a.Seat, want) || !reflect.DeepEqual(u.Seat, want) {
					t.Errorf("seat = %+v (created) and %+v (updated), want %+v", a.Seat, u.Seat, want)
				}
			})
		}
	}
}

// TestDouyinCapacity: on Douyin only the sub-account itself changes its
// reception capacity, signed in with its own login once its phone is
// verified; the main account's writes keep it (0) or are refused.
func TestDouyinCapacity(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Douyin]
	r := f.role(t, platform.Douyin, "cs", csPermission(platform.Douyin))
	req := validRequest("agent", r.ID)
	req.Seat = &platform.Seat{Chat: true, Presence: platform.PresenceOnline} // capacity left to the platform
	a := f.account(t, platform.Douyin, req)
	if a.Seat.Capacity != DefaultSeatCapacity {
		t.Fatalf("capacity = %d, want the default %d", a.Seat.Capacity, DefaultSeatCapacity)
	}
	login := platform.SubAccountLogin{Name: douyinMain + ":agent", Password: req.Password}

	// Created with its code, the account is authorised at once.
	_, err := c.SetSeatCapacity(ctx, a.ID, 20, platform.SubAccountLogin{Name: "agent", Password: "wrong-password"})
	expectErr(t, err, platform.ErrUnauthorized, "actAs", "login name or password is wrong")
	_, err = c.SetSeatCapacity(ctx, a.ID, 51, login)
	expectErr(t, err, platform.ErrInvalid, "seat.capacity", "1-50")

	got, err := c.SetSeatCapacity(ctx, a.ID, 20, login)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seat.Capacity != 20 || !got.Seat.Chat || got.Seat.Presence != platform.PresenceOnline {
		t.Errorf("seat = %+v, want capacity 20 and the rest kept", got.Seat)
	}
	// The main account keeps it (0 or the same value) but cannot change it.
	st := got.AccountState
	st.Seat = &platform.Seat{Chat: true, Presence: platform.PresenceBreak}
	kept, err := c.UpdateAccount(ctx, a.ID, st)
	if err != nil || kept.Seat.Capacity != 20 || kept.Seat.Presence != platform.PresenceBreak {
		t.Fatalf("main-account update with capacity 0: %+v, %v; want capacity 20 kept", kept.Seat, err)
	}
	st.Seat.Capacity = 30
	_, err = c.UpdateAccount(ctx, a.ID, st)
	expectErr(t, err, platform.ErrForbidden, "seat.capacity", "(now 20)")

	// Another sub-account's login may not change it.
	other := validRequest("other", r.ID)
	o := f.account(t, platform.Douyin, other)
	_, err = c.SetSeatCapacity(ctx, a.ID, 5, platform.SubAccountLogin{Name: "other", Password: other.Password})
	expectErr(t, err, platform.ErrForbidden, "actAs", "only its own")
	// An account without a seat has nothing to change.
	_, err = c.SetSeatCapacity(ctx, o.ID, 5, platform.SubAccountLogin{Name: "other", Password: other.Password})
	expectErr(t, err, platform.ErrConflict, "seat", "no customer-service seat")

	// The audit log has the change and its source, never the password.
	audit := f.e.Audit(platform.Douyin, douyinMain)
	for _, e := range audit {
		if strings.Contains(fmt.Sprint(e), req.Password) || strings.Contains(fmt.Sprint(e), other.Password) {
			t.Errorf("audit entry %+v contains a password", e)
		}
	}
	var found bool
	for _, e := range audit {
		if e.Action == "account.seat.capacity" && e.TargetID == a.ID && e.Detail == "reception capacity 10 -> 20, set by the API caller on the sub-account's behalf, signed in with its login" {
			found = true
		}
	}
	if !found {
		t.Errorf("no account.seat.capacity audit entry for %s in %+v", a.ID, audit)
	}
	// On the other platforms the main account sets it directly.
	pr := f.role(t, platform.Pinduoduo, "cs", csPermission(platform.Pinduoduo))
	preq := validRequest("pdd-agent", pr.ID)
	preq.Seat = &platform.Seat{Chat: true, Capacity: 30, Presence: platform.PresenceOnline}
	if pa := f.account(t, platform.Pinduoduo, preq); pa.Seat.Capacity != 30 {
		t.Errorf("Pinduoduo capacity = %d, want 30", pa.Seat.Capacity)
	}
}

func TestPhoneOneSubAccountPerShop(t *testing.T) {
	for _, p := range []platform.Name{platform.Taobao, platform.Pinduoduo} {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(t)
			c := f.clients[p]
			mk := func(name, phone string) (platform.Account, error) {
				return c.CreateAccount(ctx, platform.CreateAccount{Name: name, Password: "12345678",
					AccountState: platform.AccountState{Profile: platform.Profile{Phone: phone}}}, "")
			}
			a, err := mk("a", "13911112222")
			if err != nil {
				t.Fatal(err)
			}
			_, err = mk("b", "13911112222")
			expectErr(t, err, platform.ErrConflict, "phone", `sub-account "a"`)
			// Accounts without a phone never conflict.
			if _, err := mk("c", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := mk("d", ""); err != nil {
				t.Fatal(err)
			}
			// Updating an account keeps its own phone.
			if _, err := c.UpdateAccount(ctx, a.ID, a.AccountState); err != nil {
				t.Errorf("update with own phone: %v", err)
			}
			b, err := mk("b", "13933334444")
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.UpdateAccount(ctx, b.ID, platform.AccountState{Profile: platform.Profile{Phone: "13911112222"}})
			expectErr(t, err, platform.ErrConflict, "phone", "")
			// Another shop of the same platform may use the phone.
			main2 := "second"
			if err := f.e.AddShop(ShopSetup{Platform: p, MainAccount: main2, Credentials: creds, SeatQuota: 1}); err != nil {
				t.Fatal(err)
			}
			c2 := f.client(t, p, main2, creds)
			if _, err := c2.CreateAccount(ctx, platform.CreateAccount{Name: "a", Password: "12345678",
				AccountState: platform.AccountState{Profile: platform.Profile{Phone: "13911112222"}}}, ""); err != nil {
				t.Errorf("same phone in another %s shop: %v", p, err)
			}
			// Deleting frees the phone.
			if err := c.DeleteAccount(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := mk("e", "13911112222"); err != nil {
				t.Errorf("after delete: %v", err)
			}
		})
	}
}

func TestDouyinPhoneOneShop(t *testing.T) {
	f := newFixture(t)
	if err := f.e.AddShop(ShopSetup{Platform: platform.Douyin, MainAccount: "dy2", MainPhone: "13700000000", Credentials: creds, SeatQuota: 5}); err != nil {
		t.Fatal(err)
	}
	c1 := f.clients[platform.Douyin]
	c2 := f.client(t, platform.Douyin, "dy2", creds)
	r1 := f.role(t, platform.Douyin, "客服", "im-chat")
	r2, err := c2.CreateRole(ctx, platform.RoleSpec{Name: "客服", Permissions: []string{"im-chat"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(c platform.Client, role, name, phone string) (platform.Account, error) {
		return c.CreateAccount(ctx, platform.CreateAccount{Name: name, Password: "12345678",
			AccountState: platform.AccountState{RoleIDs: []string{role}, Profile: platform.Profile{Phone: phone}}}, "")
	}
	a, err := mk(c1, r1.ID, "a", "13911112222")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		c     platform.Client
		role  string
		phone string
		msg   string
	}{
		{"same shop", c1, r1.ID, "13911112222", "already a sub-account of this shop"},
		{"other shop's sub-account", c2, r2.ID, "13911112222", "bound to another shop"},
		{"this shop's main", c1, r1.ID, douyinMainPhone, "is this shop's main account"},
		{"other shop's main", c1, r1.ID, "13700000000", "bound to another shop"},
		{"own main from other shop", c2, r2.ID, douyinMainPhone, "bound to another shop"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mk(tt.c, tt.role, fmt.Sprintf("n%d", i), tt.phone)
			expectErr(t, err, platform.ErrConflict, "phone", tt.msg)
		})
	}
	// Update paths: keeping one's own phone is fine, taking the main's is not.
	if _, err := c1.UpdateAccount(ctx, a.ID, a.AccountState); err != nil {
		t.Errorf("update keeping own phone: %v", err)
	}
	st := a.AccountState
	st.Profile.Phone = douyinMainPhone
	_, err = c1.UpdateAccount(ctx, a.ID, st)
	expectErr(t, err, platform.ErrConflict, "phone", "is this shop's main account")
	// Douyin phones do not clash with other platforms.
	if _, err := f.clients[platform.Pinduoduo].CreateAccount(ctx, platform.CreateAccount{Name: "p", Password: "123456",
		AccountState: platform.AccountState{Profile: platform.Profile{Phone: "13911112222"}}}, ""); err != nil {
		t.Errorf("Pinduoduo account with a Douyin phone: %v", err)
	}
	// Deleting releases the phone for another shop.
	if err := c1.DeleteAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := mk(c2, r2.ID, "moved", "13911112222"); err != nil {
		t.Errorf("after delete in the first shop: %v", err)
	}
}

func TestDouyinNeedsOnePositionAndPhone(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Douyin]
	r1 := f.role(t, platform.Douyin, "cs", "im-chat")
	r2 := f.role(t, platform.Douyin, "ops", "product-edit")
	tests := []struct {
		name  string
		roles []string
		phone string
		field string
	}{
		{"no role", nil, "13911110001", "roleIDs"},
		{"two roles", []string{r1.ID, r2.ID}, "13911110002", "roleIDs"},
		{"no phone", []string{r1.ID}, "", "phone"},
		{"duplicate role counts once", []string{r1.ID, r1.ID}, "13911110003", ""},
		{"ok", []string{r2.ID}, "13911110004", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := c.CreateAccount(ctx, platform.CreateAccount{Name: fmt.Sprintf("u%d", i), Password: "12345678",
				AccountState: platform.AccountState{RoleIDs: tt.roles, Profile: platform.Profile{Phone: tt.phone}}}, "")
			if tt.field != "" {
				expectErr(t, err, platform.ErrInvalid, tt.field, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(a.RoleIDs) != 1 {
				t.Errorf("roles = %v", a.RoleIDs)
			}
			_, err = c.UpdateAccount(ctx, a.ID, platform.AccountState{Profile: a.Profile})
			expectErr(t, err, platform.ErrInvalid, "roleIDs", "exactly one")
			_, err = c.UpdateAccount(ctx, a.ID, platform.AccountState{RoleIDs: a.RoleIDs})
			expectErr(t, err, platform.ErrInvalid, "phone", "")
		})
	}
	// Taobao and Pinduoduo need neither.
	for _, p := range []platform.Name{platform.Taobao, platform.Pinduoduo} {
		if _, err := f.clients[p].CreateAccount(ctx, platform.CreateAccount{Name: "bare", Password: "12345678"}, ""); err != nil {
			t.Errorf("%s bare account: %v", p, err)
		}
	}
}

func TestRoleRules(t *testing.T) {
	tests := []struct {
		platform platform.Name
		name     string
		perms    []string
		kind     error
		field    string
	}{
		{platform.Taobao, "", nil, platform.ErrInvalid, "name"},
		{platform.Taobao, "  ", nil, platform.ErrInvalid, "name"},
		{platform.Taobao, strings.Repeat("运", 20), nil, nil, ""},
		{platform.Taobao, strings.Repeat("运", 21), nil, platform.ErrInvalid, "name"},
		{platform.Pinduoduo, strings.Repeat("a", 20), nil, nil, ""},
		{platform.Pinduoduo, strings.Repeat("a", 21), nil, platform.ErrInvalid, "name"},
		{platform.Douyin, strings.Repeat("岗", 30), nil, nil, ""},
		{platform.Douyin, strings.Repeat("岗", 31), nil, platform.ErrInvalid, "name"},
		{platform.Taobao, "taken", nil, platform.ErrNameTaken, "name"},
		{platform.Taobao, "Taken", nil, nil, ""},
		{platform.Taobao, "bad perms", []string{"phone", "order.view"}, platform.ErrInvalid, "permissions"},
		{platform.Pinduoduo, "bad perms", []string{"sm"}, platform.ErrInvalid, "permissions"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.platform, tt.name), func(t *testing.T) {
			f := newFixture(t)
			f.role(t, tt.platform, "taken")
			r, err := f.clients[tt.platform].CreateRole(ctx, platform.RoleSpec{Name: tt.name, Permissions: tt.perms}, "")
			if tt.kind != nil {
				expectErr(t, err, tt.kind, tt.field, "")
				if n := len(f.e.Roles(tt.platform, mains[tt.platform])); n != 1 {
					t.Errorf("%d roles after a failed create", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != tt.name {
				t.Errorf("name = %q", r.Name)
			}
		})
	}
}

func TestUpdateAndDeleteRole(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Pinduoduo]
	r1 := f.role(t, platform.Pinduoduo, "cs", "chat.reply")
	r2 := f.role(t, platform.Pinduoduo, "ops", "item.edit")

	// Renaming to itself is fine, to another role's name is not.
	got, err := c.UpdateRole(ctx, r1.ID, platform.RoleSpec{Name: "cs", Description: "客服", Permissions: []string{"order.view", "chat.reply"}})
	if err != nil {
		t.Fatal(err)
	}
	want := platform.Role{ID: r1.ID, RoleSpec: platform.RoleSpec{Name: "cs", Description: "客服", Permissions: []string{"chat.reply", "order.view"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UpdateRole = %+v, want %+v", got, want)
	}
	_, err = c.UpdateRole(ctx, r1.ID, platform.RoleSpec{Name: "ops"})
	expectErr(t, err, platform.ErrNameTaken, "name", "")
	_, err = c.UpdateRole(ctx, r1.ID, platform.RoleSpec{Name: "cs", Permissions: []string{"x"}})
	expectErr(t, err, platform.ErrInvalid, "permissions", "x")
	_, err = c.UpdateRole(ctx, r1.ID, platform.RoleSpec{Name: strings.Repeat("x", 21)})
	expectErr(t, err, platform.ErrInvalid, "name", "")
	if fetched, _ := c.GetRole(ctx, r1.ID); !reflect.DeepEqual(fetched, want) {
		t.Errorf("failed updates changed the role: %+v", fetched)
	}
	roles, _ := c.ListRoles(ctx)
	if len(roles) != 2 || roles[0].ID != r1.ID || roles[1].ID != r2.ID {
		t.Errorf("ListRoles = %+v", roles)
	}

	// A role in use cannot be deleted.
	a := f.account(t, platform.Pinduoduo, platform.CreateAccount{Name: "a", Password: "123456",
		AccountState: platform.AccountState{RoleIDs: []string{r1.ID, r2.ID}}})
	b := f.account(t, platform.Pinduoduo, platform.CreateAccount{Name: "b", Password: "123456",
		AccountState: platform.AccountState{RoleIDs: []string{r1.ID}}})
	expectErr(t, c.DeleteRole(ctx, r1.ID), platform.ErrConflict, "", "2 account(s)")
	expectErr(t, c.DeleteRole(ctx, r2.ID), platform.ErrConflict, "", "1 account(s)")
	if _, err := c.UpdateAccount(ctx, a.ID, platform.AccountState{}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAccount(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRole(ctx, r1.ID); err != nil {
		t.Fatalf("DeleteRole after unassigning: %v", err)
	}
	_, err = c.GetRole(ctx, r1.ID)
	expectErr(t, err, platform.ErrNotFound, "id", "")
	// The name is free again.
	if _, err := c.CreateRole(ctx, platform.RoleSpec{Name: "cs"}, ""); err != nil {
		t.Errorf("reusing a deleted role's name: %v", err)
	}
}

func TestNotFound(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Taobao]
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"GetAccount", func() error { _, err := c.GetAccount(ctx, "99"); return err }, "id"},
		{"FindAccount", func() error { _, err := c.FindAccount(ctx, "ghost"); return err }, "name"},
		{"UpdateAccount", func() error { _, err := c.UpdateAccount(ctx, "99", platform.AccountState{}); return err }, "id"},
		{"SetPassword", func() error { return c.SetPassword(ctx, "99", "12345678") }, "id"},
		{"DeleteAccount", func() error { return c.DeleteAccount(ctx, "99") }, "id"},
		{"GetRole", func() error { _, err := c.GetRole(ctx, "99"); return err }, "id"},
		{"UpdateRole", func() error { _, err := c.UpdateRole(ctx, "99", platform.RoleSpec{Name: "x"}); return err }, "id"},
		{"DeleteRole", func() error { return c.DeleteRole(ctx, "99") }, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectErr(t, tt.call(), platform.ErrNotFound, tt.field, "")
		})
	}
	// An ID of another shop is not found either.
	r := f.role(t, platform.Pinduoduo, "cs")
	a := f.account(t, platform.Pinduoduo, platform.CreateAccount{Name: "p", Password: "123456"})
	_, err := c.GetRole(ctx, r.ID)
	expectErr(t, err, platform.ErrNotFound, "id", "")
	_, err = c.GetAccount(ctx, a.ID)
	expectErr(t, err, platform.ErrNotFound, "id", "")
	_, err = c.FindAccount(ctx, "p")
	expectErr(t, err, platform.ErrNotFound, "name", "")
}

func TestIDsAndLogin(t *testing.T) {
	f := newFixture(t)
	r := f.role(t, platform.Taobao, "cs")
	a := f.account(t, platform.Taobao, platform.CreateAccount{Name: "xiaohong", Password: "12345678"})
	b := f.account(t, platform.Pinduoduo, platform.CreateAccount{Name: "xiaohong", Password: "123456"})
	if r.ID != "10000001" || a.ID != "10000002" || b.ID != "10000003" {
		t.Errorf("IDs = %s %s %s, want sequential from 10000001", r.ID, a.ID, b.ID)
	}
	if a.Login != "tbshop:xiaohong" || b.Login != "pddshop:xiaohong" {
		t.Errorf("logins = %q %q", a.Login, b.Login)
	}
	// IDs are never reused.
	if err := f.clients[platform.Taobao].DeleteAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	c := f.account(t, platform.Taobao, platform.CreateAccount{Name: "xiaohong", Password: "12345678"})
	if c.ID != "10000004" {
		t.Errorf("ID after delete = %s", c.ID)
	}
}

func TestIdempotentCreate(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Taobao]
	first, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "a", Password: "12345678"}, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	// A repeat, even with a different request, returns the first account.
	again, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "b", Password: "x"}, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, first) {
		t.Errorf("repeat = %+v, want %+v", again, first)
	}
	if n := len(f.e.Accounts(platform.Taobao, taobaoMain)); n != 1 {
		t.Errorf("%d accounts after a repeat", n)
	}
	audits := len(f.e.Audit(platform.Taobao, taobaoMain))
	if audits != 1 {
		t.Errorf("%d audit entries after a repeat, want 1", audits)
	}
	// Without a request ID there is no idempotency: the name is taken.
	_, err = c.CreateAccount(ctx, platform.CreateAccount{Name: "a", Password: "12345678"}, "")
	expectErr(t, err, platform.ErrNameTaken, "name", "")
	// Another key creates another account.
	second, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "b", Password: "12345678"}, "req-2")
	if err != nil || second.ID == first.ID {
		t.Fatalf("second = %+v, %v", second, err)
	}
	// Keys are scoped to the shop.
	other, err := f.clients[platform.Pinduoduo].CreateAccount(ctx, platform.CreateAccount{Name: "a", Password: "123456"}, "req-1")
	if err != nil || other.ID == first.ID {
		t.Fatalf("other shop = %+v, %v", other, err)
	}
	// Once the first account is gone the key no longer applies.
	if err := c.DeleteAccount(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	fresh, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "c", Password: "12345678"}, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if fresh.ID == first.ID || fresh.Name != "c" {
		t.Errorf("after delete got %+v", fresh)
	}
	if again, _ := c.CreateAccount(ctx, platform.CreateAccount{Name: "d", Password: "12345678"}, "req-1"); again.ID != fresh.ID {
		t.Errorf("key not rebound to the new account: %+v", again)
	}
	// A failed create does not bind the key.
	_, err = c.CreateAccount(ctx, platform.CreateAccount{Name: "e", Password: "short"}, "req-3")
	expectErr(t, err, platform.ErrInvalid, "password", "")
	if e, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "e", Password: "12345678"}, "req-3"); err != nil || e.Name != "e" {
		t.Errorf("retry after a failed create = %+v, %v", e, err)
	}
}

func TestIdempotentCreateRole(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Douyin]
	first, err := c.CreateRole(ctx, platform.RoleSpec{Name: "客服", Permissions: []string{"im-chat"}}, "k")
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateRole(ctx, platform.RoleSpec{Name: "other"}, "k")
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("repeat = %+v, %v; want %+v", again, err, first)
	}
	// The repeat returns the role as it is now.
	if _, err := c.UpdateRole(ctx, first.ID, platform.RoleSpec{Name: "客服主管"}); err != nil {
		t.Fatal(err)
	}
	if again, _ := c.CreateRole(ctx, platform.RoleSpec{Name: "x"}, "k"); again.Name != "客服主管" || again.ID != first.ID {
		t.Errorf("repeat after update = %+v", again)
	}
	if _, err := c.CreateRole(ctx, platform.RoleSpec{Name: "x"}, ""); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateRole(ctx, platform.RoleSpec{Name: "x"}, "")
	expectErr(t, err, platform.ErrNameTaken, "name", "")
	if err := c.DeleteRole(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	fresh, err := c.CreateRole(ctx, platform.RoleSpec{Name: "new"}, "k")
	if err != nil || fresh.ID == first.ID || fresh.Name != "new" {
		t.Errorf("after delete = %+v, %v", fresh, err)
	}
}

func TestListAccounts(t *testing.T) {
	f := newFixture(t)
	// Start IDs just below a digit boundary so string order and numeric
	// order differ.
	f.e.mu.Lock()
	f.e.state.NextID = 99999998
	f.e.mu.Unlock()
	c := f.clients[platform.Pinduoduo]
	var ids []string
	for i := range 5 {
		a := f.account(t, platform.Pinduoduo, platform.CreateAccount{Name: fmt.Sprintf("u%d", 5-i), Password: "123456"})
		ids = append(ids, a.ID)
	}
	if ids[0] != "99999998" || ids[2] != "100000000" {
		t.Fatalf("ids = %v", ids)
	}
	tests := []struct {
		page, size int
		want       []string
		field      string
	}{
		{1, 2, ids[0:2], ""},
		{2, 2, ids[2:4], ""},
		{3, 2, ids[4:5], ""},
		{4, 2, nil, ""},
		{1, 200, ids, ""},
		{1, 1, ids[0:1], ""},
		{0, 10, nil, "page"},
		{-1, 10, nil, "page"},
		{1, 0, nil, "pageSize"},
		{1, 201, nil, "pageSize"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("page%d/size%d", tt.page, tt.size), func(t *testing.T) {
			got, err := c.ListAccounts(ctx, platform.ListOptions{Page: tt.page, PageSize: tt.size})
			if tt.field != "" {
				expectErr(t, err, platform.ErrInvalid, tt.field, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != 5 {
				t.Errorf("Total = %d", got.Total)
			}
			var gotIDs []string
			for _, a := range got.Accounts {
				gotIDs = append(gotIDs, a.ID)
			}
			if !slices.Equal(gotIDs, tt.want) {
				t.Errorf("IDs = %v, want %v", gotIDs, tt.want)
			}
		})
	}
	var engineIDs []string
	for _, a := range f.e.Accounts(platform.Pinduoduo, pddMain) {
		engineIDs = append(engineIDs, a.ID)
	}
	if !slices.Equal(engineIDs, ids) {
		t.Errorf("Engine.Accounts order = %v, want %v", engineIDs, ids)
	}
}

func TestAuditLog(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Taobao]
	r := f.role(t, platform.Taobao, "cs", "wangwang-chat")
	f.clock.Advance(time.Minute)
	a := f.account(t, platform.Taobao, platform.CreateAccount{Name: "xh", Password: "Pa55word!",
		AccountState: platform.AccountState{RoleIDs: []string{r.ID}}})
	f.clock.Advance(time.Minute)
	_, _ = c.UpdateAccount(ctx, a.ID, platform.AccountState{Disabled: true})
	_ = c.SetPassword(ctx, a.ID, "N3w-Pa55word!")
	_, _ = c.UpdateRole(ctx, r.ID, platform.RoleSpec{Name: "cs2"})
	_ = c.DeleteAccount(ctx, a.ID)
	_ = c.DeleteRole(ctx, r.ID)
	// Reads and failed writes are not audited.
	_, _ = c.ListRoles(ctx)
	_, _ = c.CreateAccount(ctx, platform.CreateAccount{Name: "", Password: "Pa55word!"}, "")

	m1, m2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	want := []AuditEntry{
		{Time: t0, Action: "role.create", TargetID: r.ID, TargetName: "cs", Detail: "permissions=[wangwang wangwang-chat]"},
		{Time: m1, Action: "account.create", TargetID: a.ID, TargetName: "xh", Detail: "roles=[" + r.ID + "] extraPermissions=[] disabled=false"},
		{Time: m2, Action: "account.update", TargetID: a.ID, TargetName: "xh", Detail: "roles=[] extraPermissions=[] disabled=true"},
		{Time: m2, Action: "account.password", TargetID: a.ID, TargetName: "xh", Detail: "password changed"},
		{Time: m2, Action: "role.update", TargetID: r.ID, TargetName: "cs2", Detail: "permissions=[]"},
		{Time: m2, Action: "account.delete", TargetID: a.ID, TargetName: "xh"},
		{Time: m2, Action: "role.delete", TargetID: r.ID, TargetName: "cs2"},
	}
	got := f.e.Audit(platform.Taobao, taobaoMain)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("audit =\n%+v\nwant\n%+v", got, want)
	}
	for _, e := range got {
		if s := fmt.Sprint(e); strings.Contains(s, "Pa55word") {
			t.Errorf("audit leaks a password: %s", s)
		}
	}
	if other := f.e.Audit(platform.Pinduoduo, pddMain); len(other) != 0 {
		t.Errorf("other shop's audit = %v", other)
	}
}

func TestAuditBounded(t *testing.T) {
	sh := &ShopState{}
	for i := range MaxAuditEntries + 5 {
		sh.audit(t0, "", "x", fmt.Sprint(i), "", "")
	}
	if len(sh.Audit) != MaxAuditEntries || sh.Audit[0].TargetID != "5" {
		t.Errorf("len %d first %q", len(sh.Audit), sh.Audit[0].TargetID)
	}
}

func TestInspectionOfUnknownShop(t *testing.T) {
	e := NewEngine()
	if e.Accounts(platform.Taobao, "x") != nil || e.Roles(platform.Taobao, "x") != nil || e.Audit(platform.Taobao, "x") != nil {
		t.Error("unknown shop returned data")
	}
}

func TestSnapshotRestore(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Douyin]
	r := f.role(t, platform.Douyin, "客服", "im-chat")
	a, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "小红", Password: "Pa55word!", AccountState: platform.AccountState{
		RoleIDs: []string{r.ID}, Profile: platform.Profile{Phone: "13911112222", EmployeeName: "李红"},
		Seat: &platform.Seat{Chat: true, Capacity: DefaultSeatCapacity, Presence: platform.PresenceBusy}}}, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	pending, err := c.RequestCode(ctx, platform.CodeRequest{Phone: "13911114444"}, "")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(snap), "Pa55word!") {
		t.Error("snapshot contains a plaintext password")
	}

	clock := &fakeClock{t: t0.Add(24 * time.Hour)}
	e2 := NewEngine(WithClock(clock.Now))
	if err := e2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for p, main := range mains {
		if !reflect.DeepEqual(e2.Accounts(p, main), f.e.Accounts(p, main)) ||
			!reflect.DeepEqual(e2.Roles(p, main), f.e.Roles(p, main)) ||
			!reflect.DeepEqual(e2.Audit(p, main), f.e.Audit(p, main)) {
			t.Errorf("%s differs after restore", p)
		}
	}
	snap2, _ := e2.Snapshot()
	if string(snap2) != string(snap) {
		t.Error("snapshot of a restored engine differs")
	}

	restored, err := e2.Factory().ClientFor(ctx, platform.ShopConfig{Platform: platform.Douyin, MainAccount: douyinMain, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	c2 := autoCode{Client: restored, f: &fixture{e: e2, clock: clock}}
	// A code asked for before the snapshot still creates its account
	// (within its 5 minutes on the new clock), and the password logs in.
	code, _, ok := e2.SMS("13911114444")
	if !ok {
		t.Fatal("SMS outbox lost in restore")
	}
	clock.t = t0.Add(4 * time.Minute)
	if _, err := raw(c2).CreateAccount(ctx, platform.CreateAccount{Name: "pending", Password: "Pa55word!",
		AccountState: platform.AccountState{RoleIDs: []string{r.ID}, Profile: platform.Profile{Phone: "13911114444"}},
		Code:         &platform.VerificationCode{ID: pending.ID, Code: code}}, ""); err != nil {
		t.Fatalf("creating with a code sent before the snapshot: %v", err)
	}
	if ok, err := c2.CheckCredentials(ctx, "小红", "Pa55word!"); !ok || err != nil {
		t.Errorf("password lost in restore: %t %v", ok, err)
	}
	clock.t = t0.Add(24 * time.Hour)
	// Idempotency keys, name and phone rules survive.
	again, err := c2.CreateAccount(ctx, platform.CreateAccount{Name: "x"}, "req-1")
	if err != nil || again.ID != a.ID {
		t.Errorf("idempotency lost: %+v %v", again, err)
	}
	_, err = c2.CreateAccount(ctx, platform.CreateAccount{Name: "小红", Password: "Pa55word!",
		AccountState: platform.AccountState{RoleIDs: []string{r.ID}, Profile: platform.Profile{Phone: "13911110000"}}}, "")
	expectErr(t, err, platform.ErrNameTaken, "name", "")
	// New IDs continue after the restored ones and use the new clock.
	b, err := c2.CreateAccount(ctx, platform.CreateAccount{Name: "b", Password: "Pa55word!",
		AccountState: platform.AccountState{RoleIDs: []string{r.ID}, Profile: platform.Profile{Phone: "13911113333"}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if compareIDs(b.ID, a.ID) <= 0 || !b.PasswordChangedAt.Equal(clock.Now()) {
		t.Errorf("new account %s at %v after %s", b.ID, b.PasswordChangedAt, a.ID)
	}
	// The original engine is independent of the restored one.
	if n := len(f.e.Accounts(platform.Douyin, douyinMain)); n != 1 {
		t.Errorf("original engine has %d accounts", n)
	}
}

func TestRestoreRejectsBadState(t *testing.T) {
	f := newFixture(t)
	f.role(t, platform.Taobao, "cs")
	good, _ := f.e.Snapshot()
	tests := []struct {
		name string
		data string
		msg  string
	}{
		{"not json", "{", "unexpected end"},
		{"wrong key", `{"nextID":1,"shops":{"taobao/x":{"platform":"taobao","mainAccount":"y"}}}`, "does not match"},
		{"unknown platform", `{"nextID":1,"shops":{"jd/x":{"platform":"jd","mainAccount":"x"}}}`, "unknown platform"},
		{"null shop", `{"shops":{"taobao/x":null}}`, "null"},
		{"account ID mismatch", `{"shops":{"taobao/x":{"platform":"taobao","mainAccount":"x","accounts":{"5":{"id":"6"}}}}}`, "different ID"},
		{"non-numeric ID", `{"shops":{"taobao/x":{"platform":"taobao","mainAccount":"x","roles":{"abc":{"ID":"abc"}}}}}`, "non-numeric"},
		{"duplicate ID", `{"shops":{"taobao/x":{"platform":"taobao","mainAccount":"x","roles":{"7":{"ID":"7"}},"accounts":{"7":{"id":"7"}}}}}`, "ID 7 used by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.e.Restore([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Restore error = %v, want %q", err, tt.msg)
			}
			if now, _ := f.e.Snapshot(); string(now) != string(good) {
				t.Error("a failed Restore changed the state")
			}
		})
	}

	// A minimal state gets its maps and NextID filled in.
	e := NewEngine()
	if err := e.Restore([]byte(`{"shops":{"taobao/x":{"platform":"taobao","mainAccount":"x","seatQuota":1,
		"roles":{"20000000":{"ID":"20000000","Name":"cs"}}}}}`)); err != nil {
		t.Fatal(err)
	}
	c, err := e.Factory().ClientFor(ctx, platform.ShopConfig{Platform: platform.Taobao, MainAccount: "x"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "a", Password: "12345678"}, "k")
	if err != nil || a.ID != "20000001" {
		t.Errorf("after minimal restore: %+v %v", a, err)
	}
	if err := e.Restore([]byte(`{}`)); err != nil {
		t.Fatalf("empty state: %v", err)
	}
	if _, err := c.ShopInfo(ctx); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("client of a shop gone after restore: %v", err)
	}
}

func TestConcurrentCreatesRespectQuota(t *testing.T) {
	e := NewEngine()
	if err := e.AddShop(ShopSetup{Platform: platform.Pinduoduo, MainAccount: "m", Credentials: creds, SeatQuota: 50}); err != nil {
		t.Fatal(err)
	}
	c, _ := e.Factory().ClientFor(ctx, platform.ShopConfig{Platform: platform.Pinduoduo, MainAccount: "m", Credentials: creds})
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range errs {
		wg.Go(func() {
			// Every other goroutine shares a name with its neighbour.
			_, errs[i] = c.CreateAccount(ctx, platform.CreateAccount{Name: fmt.Sprintf("u%d", i/2), Password: "123456"}, "")
		})
	}
	wg.Wait()
	var ok, taken, quota int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, platform.ErrNameTaken):
			taken++
		case errors.Is(err, platform.ErrQuotaExhausted):
			quota++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 50 || taken != 50 || quota != 0 {
		t.Errorf("ok %d taken %d quota %d; want 50 50 0", ok, taken, quota)
	}
	if got := e.Calls()["CreateAccount"]; got != 100 {
		t.Errorf("Calls = %d", got)
	}
	seen := map[string]bool{}
	for _, a := range e.Accounts(platform.Pinduoduo, "m") {
		if seen[a.ID] {
			t.Errorf("duplicate ID %s", a.ID)
		}
		seen[a.ID] = true
	}
	if _, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "one-more", Password: "123456"}, ""); !errors.Is(err, platform.ErrQuotaExhausted) {
		t.Errorf("51st account: %v", err)
	}
}

// TestAgentSeatIsKept: presence and reception capacity are the agent's own
// settings (Douyin's help page for Feige). The agent changes them in the
// chat client (SetSeatAsAgent); a main-account write that leaves them empty
// (presence "", capacity 0) keeps what the agent chose, on every platform.
func TestAgentSeatIsKept(t *testing.T) {
	for _, p := range []platform.Name{platform.Taobao, platform.Pinduoduo, platform.Douyin} {
		t.Run(string(p), func(t *testing.T) {
			f := newFixture(t)
			c := f.clients[p]
			r := f.role(t, p, "cs", csPermission(p))
			req := validRequest("agent", r.ID)
			req.Seat = &platform.Seat{Chat: true}
			a := f.account(t, p, req)
			if *a.Seat != (platform.Seat{Chat: true, Capacity: DefaultSeatCapacity, Presence: platform.PresenceOnline}) {
				t.Fatalf("a new seat = %+v, want the defaults (capacity %d, Online)", *a.Seat, DefaultSeatCapacity)
			}
			if _, err := f.e.SetSeatAsAgent(p, mains[p], a.ID, platform.PresenceBusy, 30); err != nil {
				t.Fatal(err)
			}
			st := a.AccountState
			st.Seat = &platform.Seat{Chat: true}
			st.Profile.DisplayName = "renamed"
			u, err := c.UpdateAccount(ctx, a.ID, st)
			if err != nil {
				t.Fatal(err)
			}
			if *u.Seat != (platform.Seat{Chat: true, Capacity: 30, Presence: platform.PresenceBusy}) {
				t.Errorf("after a main-account write: seat = %+v, want the agent's Busy and 30 kept", *u.Seat)
			}
			audit := f.e.Audit(p, mains[p])
			var agent []AuditEntry
			for _, e := range audit {
				if e.Action == ActionSeatByAgent {
					agent = append(agent, e)
				}
			}
			want := "presence Online -> Busy (忙碌, cannot receive messages); reception capacity 10 -> 30, by the agent"
			if len(agent) != 1 || agent[0].Source != SourceAgent || agent[0].Detail != want {
				t.Errorf("agent audit entries = %+v, want one from %q: %q", agent, SourceAgent, want)
			}
			_, err = f.e.SetSeatAsAgent(p, mains[p], a.ID, "Away", 0)
			expectErr(t, err, platform.ErrInvalid, "seat.presence", "Online, Busy or Break")
			_, err = f.e.SetSeatAsAgent(p, mains[p], a.ID, "", 51)
			expectErr(t, err, platform.ErrInvalid, "seat.capacity", "1-50")
		})
	}
}
