package taobao_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
)

const (
	fakeMain   = "店主"
	fakeKey    = "12345678"
	fakeSecret = "top-secret-S3CR3T"
	fakeToken  = "session-T0K3N-店"
)

var fakeNow = time.Date(2024, 1, 1, 19, 4, 5, 0, time.UTC) // 2024-01-02 03:04:05 GMT+8

// fakeTOP answers every request with answer(form) and records the forms.
type fakeTOP struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	forms  []url.Values
	header http.Header
	answer func(w http.ResponseWriter, form url.Values)
}

func newFakeTOP(t *testing.T, answer func(w http.ResponseWriter, form url.Values)) *fakeTOP {
	f := &fakeTOP{t: t, answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != top.RouterPath {
			http.Error(w, "not here", http.StatusNotFound)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		f.header = r.Header.Clone()
		f.mu.Unlock()
		f.answer(w, r.PostForm)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTOP) last() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forms) == 0 {
		f.t.Fatal("no request")
	}
	return f.forms[len(f.forms)-1]
}

func (f *fakeTOP) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.forms)
}

func reply(body string) func(http.ResponseWriter, url.Values) {
	return func(w http.ResponseWriter, _ url.Values) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = io.WriteString(w, body)
	}
}

func fakeConfig(endpoint string) platform.ShopConfig {
	return platform.ShopConfig{Key: "shops/tb", Platform: platform.Taobao, MainAccount: fakeMain, Endpoint: endpoint,
		Credentials: platform.Credentials{AppKey: fakeKey, AppSecret: fakeSecret, AccessToken: fakeToken}}
}

func fakeClient(t *testing.T, f *fakeTOP, opts taobao.Options) *taobao.Client {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return fakeNow }
	}
	c, err := taobao.NewFactory(opts).ClientFor(context.Background(), fakeConfig(f.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return c.(*taobao.Client)
}

func TestRequestShape(t *testing.T) {
	for _, m := range []top.SignMethod{"", top.SignMD5, top.SignHMAC, top.SignHMACSHA256} {
		t.Run(string(m), func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeTOP(t, reply(`{"sellercenter_roles_get_response":{"roles":{"role":[{"role_id":5,"role_name":"客服"}]}}}`))
			c := fakeClient(t, f, taobao.Options{SignMethod: m})
			g.Expect(c.Endpoint()).To(Equal(f.srv.URL + "/router/rest"))
			roles, err := c.ListRoles(platform.WithSource(context.Background(), "Role/shops/cs"))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(roles).To(Equal([]platform.Role{{ID: "5", RoleSpec: platform.RoleSpec{Name: "客服"}}}))

			form := f.last()
			want := m
			if want == "" {
				want = top.SignHMACSHA256
			}
			g.Expect(f.header.Get("Content-Type")).To(Equal("application/x-www-form-urlencoded;charset=utf-8"))
			g.Expect(f.header.Get(top.HeaderSource)).To(Equal("Role/shops/cs"))
			for k, v := range map[string]string{
				"method": "taobao.sellercenter.roles.get", "app_key": fakeKey, "session": fakeToken,
				"timestamp": "2024-01-02 03:04:05", "format": "json", "v": "2.0", "sign_method": string(want), "nick": fakeMain,
			} {
				g.Expect(form.Get(k)).To(Equal(v), k)
			}
			g.Expect(form).To(HaveLen(9))
			g.Expect(top.VerifySignature(fakeSecret, form)).To(BeTrue())
			g.Expect(form.Get("sign")).To(MatchRegexp(`^[0-9A-F]+$`))
		})
	}
}

func TestEndpoints(t *testing.T) {
	g := NewWithT(t)
	f := taobao.NewFactory(taobao.Options{})
	for endpoint, want := range map[string]string{
		"": "https://eco.taobao.com/router/rest",
		"https://gw.api.tbsandbox.com/router/rest": "https://gw.api.tbsandbox.com/router/rest",
		"HTTPS://top.example.com":                  "https://top.example.com/router/rest",
		"http://127.0.0.1:8089/":                   "http://127.0.0.1:8089/router/rest",
		"http://localhost:8089/custom/rest":        "http://localhost:8089/custom/rest",
		"http://[::1]:8089":                        "http://[::1]:8089/router/rest",
	} {
		c, err := f.ClientFor(context.Background(), fakeConfig(endpoint))
		g.Expect(err).NotTo(HaveOccurred(), endpoint)
		g.Expect(c.(*taobao.Client).Endpoint()).To(Equal(want), endpoint)
	}
	for _, bad := range []string{
		"http://eco.taobao.com/router/rest", "https://user:" + fakeSecret + "@top.example.com", "https://top.example.com/?session=x",
		"https://top.example.com/#f", "ftp://top.example.com", "top.example.com", "https://", "://bad", "mailto:x@y",
	} {
		_, err := f.ClientFor(context.Background(), fakeConfig(bad))
		g.Expect(err).To(MatchError(platform.ErrInvalid), bad)
		g.Expect(platform.FieldOf(err)).To(Equal("endpoint"), bad)
		g.Expect(err.Error()).NotTo(ContainSubstring(fakeSecret))
	}
	cfg := fakeConfig("")
	cfg.Platform = platform.Douyin
	_, err := f.ClientFor(context.Background(), cfg)
	g.Expect(platform.FieldOf(err)).To(Equal("platform"))
	cfg = fakeConfig("")
	cfg.MainAccount = " "
	_, err = f.ClientFor(context.Background(), cfg)
	g.Expect(platform.FieldOf(err)).To(Equal("mainAccount"))
	_, err = taobao.New(taobao.Options{SignMethod: "sha1"}, fakeConfig(""))
	g.Expect(platform.FieldOf(err)).To(Equal("signMethod"))
}

func TestCapabilitiesAndNotSupported(t *testing.T) {
	g := NewWithT(t)
	f := newFakeTOP(t, reply(`{}`))
	c := fakeClient(t, f, taobao.Options{})
	want := platform.Capabilities{AccountDisabled: true, AccountSeat: true, ActivityFeed: true, ActivityNeedsAccountIDs: true,
		Observe: platform.Observation{AccountRoles: true, AccountExtraPermissions: true, RolePermissions: true, RolePermissionsByAccount: true}}
	g.Expect(platform.CapabilitiesOf(c)).To(Equal(want))
	limited, err := platform.NewLimitedFactory(taobao.NewFactory(taobao.Options{})).ClientFor(context.Background(), fakeConfig(""))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(platform.CapabilitiesOf(limited)).To(Equal(want), "passed on through the rate limiter")
	ctx := context.Background()
	_, err = c.CreateAccount(ctx, platform.CreateAccount{Name: "x", Password: "pa55word"}, "r")
	g.Expect(err).To(MatchError(platform.ErrNotSupported))
	g.Expect(c.DeleteAccount(ctx, "1")).To(MatchError(platform.ErrNotSupported))
	g.Expect(c.SetPassword(ctx, "1", "pa55word")).To(MatchError(platform.ErrNotSupported))
	_, err = c.CheckCredentials(ctx, "x", "pa55word")
	g.Expect(err).To(MatchError(platform.ErrNotSupported))
	_, err = c.UpdateRole(ctx, "1", platform.RoleSpec{Name: "x"})
	g.Expect(err).To(MatchError(platform.ErrNotSupported))
	g.Expect(c.DeleteRole(ctx, "1")).To(MatchError(platform.ErrNotSupported))
	_, ok := platform.RetryAfter(err)
	g.Expect(ok).To(BeFalse(), "not worth retrying")
	g.Expect(f.calls()).To(BeZero(), "answered without a call")
}

func TestTransportAndAnswerFailures(t *testing.T) {
	ctx := context.Background()
	secrets := []string{fakeSecret, fakeToken, url.QueryEscape(fakeToken)}
	echo := func(status int, prefix string) func(http.ResponseWriter, url.Values) {
		return func(w http.ResponseWriter, form url.Values) {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, prefix+form.Encode())
		}
	}
	for _, tc := range []struct {
		name   string
		answer func(http.ResponseWriter, url.Values)
		kind   error
		field  string
	}{
		{"not json", echo(http.StatusOK, "<html>"), platform.ErrTransient, ""},
		{"wrong envelope", reply(`{"other_response":{}}`), platform.ErrTransient, ""},
		{"bad field", reply(`{"sellercenter_roles_get_response":{"roles":{"role":[{"role_id":"x"}]}}}`), platform.ErrTransient, ""},
		{"502 echo", echo(http.StatusBadGateway, "bad gateway "), platform.ErrTransient, ""},
		{"404", echo(http.StatusNotFound, "nothing "), platform.ErrInvalid, "endpoint"},
		{"302", echo(http.StatusFound, ""), platform.ErrInvalid, "endpoint"},
		{"400", echo(http.StatusBadRequest, ""), platform.ErrInvalid, ""},
		{"401", echo(http.StatusUnauthorized, ""), platform.ErrUnauthorized, ""},
		{"403", echo(http.StatusForbidden, ""), platform.ErrForbidden, ""},
		{"error envelope echoing the request", func(w http.ResponseWriter, form url.Values) {
			_, _ = io.WriteString(w, `{"error_response":{"code":41,"msg":"Invalid arguments:`+form.Get("sign")+`","sub_msg":"`+
				form.Get("session")+` `+url.QueryEscape(form.Get("session"))+` `+fakeSecret+`","request_id":"r"}}`)
		}, platform.ErrInvalid, ""},
		{"error envelope in a 500", func(w http.ResponseWriter, _ url.Values) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error_response":{"code":27,"msg":"Invalid session"}}`)
		}, platform.ErrUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeTOP(t, tc.answer)
			c := fakeClient(t, f, taobao.Options{})
			_, err := c.ListRoles(ctx)
			g.Expect(err).To(MatchError(tc.kind))
			g.Expect(platform.FieldOf(err)).To(Equal(tc.field))
			for _, s := range append(secrets, f.last().Get("sign")) {
				g.Expect(err.Error()).NotTo(ContainSubstring(s))
				g.Expect(platform.DetailOf(err)).NotTo(ContainSubstring(s))
			}
		})
	}
}

func TestRateLimitedStatus(t *testing.T) {
	g := NewWithT(t)
	f := newFakeTOP(t, func(w http.ResponseWriter, _ url.Values) {
		w.Header().Set("Retry-After", "4")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err := fakeClient(t, f, taobao.Options{}).ShopInfo(context.Background())
	g.Expect(err).To(MatchError(platform.ErrRateLimited))
	wait, ok := platform.RetryAfter(err)
	g.Expect(ok).To(BeTrue())
	g.Expect(wait).To(Equal(4 * time.Second))
}

func TestTimeoutAndCancel(t *testing.T) {
	g := NewWithT(t)
	release := make(chan struct{})
	arrived := make(chan struct{}, 8)
	f := newFakeTOP(t, func(http.ResponseWriter, url.Values) {
		arrived <- struct{}{}
		<-release
	})
	var once sync.Once
	done := func() { once.Do(func() { close(release) }) }
	defer done()
	c := fakeClient(t, f, taobao.Options{Timeout: 50 * time.Millisecond})
	_, err := c.ListRoles(context.Background())
	g.Expect(err).To(MatchError(platform.ErrTransient))
	g.Expect(err.Error()).To(ContainSubstring(platform.UnreachableMessage))
	g.Expect(platform.DetailOf(err)).To(ContainSubstring("no answer within"))

	<-arrived // the timed-out call
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }() // cancel once the call is in flight
	c = fakeClient(t, f, taobao.Options{Timeout: time.Minute})
	_, err = c.ListRoles(ctx)
	g.Expect(errors.Is(err, context.Canceled)).To(BeTrue(), "%v", err)

	done()
	f.srv.Close()
	_, err = c.ListRoles(context.Background())
	g.Expect(err).To(MatchError(platform.ErrTransient))
}

func TestLocalValidation(t *testing.T) {
	g := NewWithT(t)
	f := newFakeTOP(t, reply(`{}`))
	c := fakeClient(t, f, taobao.Options{})
	ctx := context.Background()
	for _, o := range []platform.ListOptions{{Page: 0, PageSize: 10}, {Page: 1, PageSize: 0}, {Page: 1, PageSize: 201}} {
		_, err := c.ListAccounts(ctx, o)
		g.Expect(err).To(MatchError(platform.ErrInvalid))
	}
	for _, id := range []string{"", "abc", "-1", "0", "01"} {
		_, err := c.GetAccount(ctx, id)
		g.Expect(err).To(MatchError(platform.ErrNotFound), id)
		_, err = c.UpdateAccount(ctx, id, platform.AccountState{})
		g.Expect(err).To(MatchError(platform.ErrNotFound), id)
	}
	for _, name := range []string{"", " ", "a:b"} {
		_, err := c.FindAccount(ctx, name)
		g.Expect(err).To(MatchError(platform.ErrNotFound), name)
	}
	for spec, field := range map[*platform.RoleSpec]string{
		{Name: ""}:                      "name",
		{Name: strings.Repeat("角", 21)}: "name",
		{Name: "ok", Description: strings.Repeat("d", 21)}:             "description",
		{Name: "ok", Permissions: []string{strings.Repeat("p", 2001)}}: "permissions",
	} {
		_, err := c.CreateRole(ctx, *spec, "")
		g.Expect(err).To(MatchError(platform.ErrInvalid))
		g.Expect(platform.FieldOf(err)).To(Equal(field))
	}
	for _, ids := range [][]string{nil, {"1", "2", "3", "4", "5", "6"}, {"x"}} {
		_, err := c.PresenceLog(ctx, ids, fakeNow, fakeNow)
		g.Expect(err).To(MatchError(platform.ErrInvalid))
	}
	_, err := c.PresenceLog(ctx, []string{"1"}, fakeNow, fakeNow.Add(-time.Hour))
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	g.Expect(f.calls()).To(BeZero())
}

// The session crossing the 200-byte cut of an excerpt, or the message
// bound, leaves no part of itself in the error: scrubbed, cut, scrubbed
// again. (The excerpt used to be cut first: 23 of a 54-character session
// were left in the message.)
func TestSessionStraddlingTheCutDoesNotLeak(t *testing.T) {
	const session = "6201a21f5c0b9f1e7d3a4b5c6d7e8f90123456789abcdefZZTOPSS" // 54 characters
	creds := platform.Credentials{AppKey: fakeKey, AppSecret: fakeSecret, AccessToken: session}
	errorFor := func(t *testing.T, answer func(http.ResponseWriter, url.Values)) string {
		f := newFakeTOP(t, answer)
		c, err := taobao.New(taobao.Options{Clock: func() time.Time { return fakeNow }},
			platform.ShopConfig{Key: "ns/shop", Platform: platform.Taobao, MainAccount: fakeMain, Endpoint: f.srv.URL, Credentials: creds})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ListRoles(context.Background())
		if err == nil {
			t.Fatal("no error")
		}
		return err.Error() + "\n" + platform.DetailOf(err)
	}
	t.Run("excerpt of a proxy page", func(t *testing.T) {
		g := NewWithT(t)
		text := errorFor(t, func(w http.ResponseWriter, _ url.Values) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, strings.Repeat("p", 177)+session+strings.Repeat("q", 100))
		})
		g.Expect(text).To(ContainSubstring(platform.Redacted))
		g.Expect(text).NotTo(ContainSubstring(session[:8]))
	})
	t.Run("error envelope over the message bound", func(t *testing.T) {
		// The session at every offset around the cut: some of them cross it.
		g := NewWithT(t)
		redacted := 0
		for pad := platform.MaxMessageBytes - 180; pad < platform.MaxMessageBytes; pad += 5 {
			text := errorFor(t, reply(`{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isp.x","sub_msg":"`+
				strings.Repeat("m", pad)+session+strings.Repeat("n", 60<<10)+`"}}`))
			g.Expect(text).NotTo(ContainSubstring(session[:8]), "pad %d", pad)
			redacted += strings.Count(text, platform.Redacted)
		}
		g.Expect(redacted).To(BeNumerically(">", 0), "the session was inside the bound at some offset")
	})
}

// A 60 KB platform message comes back cut to platform.MaxMessageBytes,
// marked as cut.
func TestLongErrorMessageIsBounded(t *testing.T) {
	g := NewWithT(t)
	f := newFakeTOP(t, reply(`{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isv.invalid-parameter","sub_msg":"`+
		strings.Repeat("長", 20<<10)+`"}}`)) // 60 KiB of UTF-8
	_, err := fakeClient(t, f, taobao.Options{}).ListRoles(context.Background())
	g.Expect(err).To(HaveOccurred())
	var pe *platform.Error
	g.Expect(errors.As(err, &pe)).To(BeTrue())
	g.Expect(len(pe.Message)).To(BeNumerically("<=", platform.MaxMessageBytes))
	g.Expect(pe.Message).To(HaveSuffix(platform.CutMarker))
	g.Expect(utf8.ValidString(pe.Message)).To(BeTrue(), "cut at a character boundary")
}
