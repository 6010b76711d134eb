package pinduoduo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/pinduoduo"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

const pddMain = "拼多多小店"

var creds = platform.Credentials{AppKey: "cid-test", AppSecret: "client-secret-value", AccessToken: "access-token-value"}

// simulator serves shopsim with one Pinduoduo shop; its router is the
// client's peer.
func simulator(t *testing.T) (*shopsim.Server, *httptest.Server) {
	t.Helper()
	e := memory.NewEngine()
	if err := e.AddShop(memory.ShopSetup{Platform: platform.Pinduoduo, MainAccount: pddMain, Credentials: creds, SeatQuota: 10}); err != nil {
		t.Fatal(err)
	}
	srv := shopsim.New(e, shopsim.Options{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return srv, ts
}

func app(ts *httptest.Server) pinduoduo.App {
	return pinduoduo.App{Endpoint: ts.URL + pinduoduo.RouterPath, ClientID: creds.AppKey,
		ClientSecret: creds.AppSecret, AccessToken: creds.AccessToken}
}

// noSecrets fails when err's message or detail holds a secret of the app.
func noSecrets(g *WithT, err error, a pinduoduo.App) {
	for _, s := range []string{a.ClientSecret, a.AccessToken} {
		g.Expect(err.Error()).NotTo(ContainSubstring(s))
		g.Expect(platform.DetailOf(err)).NotTo(ContainSubstring(s))
	}
}

func TestMallInfoAgainstShopsim(t *testing.T) {
	g := NewWithT(t)
	srv, ts := simulator(t)
	c := pinduoduo.NewClient(pinduoduo.Options{})

	info, err := c.MallInfo(context.Background(), app(ts))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.MallName).To(Equal(pddMain))
	g.Expect(info.MallID).To(BeNumerically(">", 0))

	// An endpoint without a path gets the router's.
	bare := app(ts)
	bare.Endpoint = ts.URL
	again, err := c.MallInfo(context.Background(), bare)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.MallID).To(Equal(info.MallID))

	// A wrong client secret fails the signature: a refusal, not retried.
	wrong := app(ts)
	wrong.ClientSecret = "not-the-secret"
	_, err = c.MallInfo(context.Background(), wrong)
	g.Expect(errors.Is(err, platform.ErrInvalid)).To(BeTrue(), "%v", err)
	g.Expect(errors.Is(err, pinduoduo.ErrTokenExpired)).To(BeFalse())
	g.Expect(err.Error()).To(ContainSubstring("sign-invalid"))
	noSecrets(g, err, wrong)

	// A token that is not the app's is 10019, as an expired one.
	stranger := app(ts)
	stranger.AccessToken = "some-other-token"
	_, err = c.MallInfo(context.Background(), stranger)
	g.Expect(errors.Is(err, pinduoduo.ErrTokenExpired)).To(BeTrue(), "%v", err)
	noSecrets(g, err, stranger)

	// The shop's token expires; a newly authorised one works.
	g.Expect(srv.ExpirePinduoduoToken(pddMain)).To(Succeed())
	_, err = c.MallInfo(context.Background(), app(ts))
	g.Expect(errors.Is(err, pinduoduo.ErrTokenExpired)).To(BeTrue(), "%v", err)
	g.Expect(errors.Is(err, platform.ErrUnauthorized)).To(BeTrue())
	g.Expect(err.Error()).To(ContainSubstring("Pinduoduo error 10019"))
	noSecrets(g, err, app(ts))
	token, err := srv.AuthorizePinduoduoApp(pddMain)
	g.Expect(err).NotTo(HaveOccurred())
	renewed := app(ts)
	renewed.AccessToken = token
	info, err = c.MallInfo(context.Background(), renewed)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.MallName).To(Equal(pddMain))
}

func TestMallInfoClockSkewRefused(t *testing.T) {
	g := NewWithT(t)
	_, ts := simulator(t)
	late := pinduoduo.NewClient(pinduoduo.Options{Clock: func() time.Time { return time.Now().Add(-11 * time.Minute) }})
	_, err := late.MallInfo(context.Background(), app(ts))
	g.Expect(errors.Is(err, platform.ErrInvalid)).To(BeTrue(), "%v", err)
	g.Expect(err.Error()).To(ContainSubstring("timestamp-invalid"))
}

func TestMallInfoFaults(t *testing.T) {
	g := NewWithT(t)
	srv, ts := simulator(t)
	c := pinduoduo.NewClient(pinduoduo.Options{})

	srv.SetFaults(shopsim.Faults{ErrorRate: 1})
	_, err := c.MallInfo(context.Background(), app(ts))
	g.Expect(errors.Is(err, platform.ErrTransient)).To(BeTrue(), "%v", err)
	g.Expect(err.Error()).To(ContainSubstring("52103"))

	srv.SetFaults(shopsim.Faults{RateLimit: 0.01}) // one call, then none for 100 s
	_, err = c.MallInfo(context.Background(), app(ts))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.MallInfo(context.Background(), app(ts))
	g.Expect(errors.Is(err, platform.ErrRateLimited)).To(BeTrue(), "%v", err)
	after, _ := platform.RetryAfter(err)
	g.Expect(after).To(Equal(pinduoduo.RetryAfterThrottled))
}

// What is not the router: a proxy's error page, a missing path, a dead
// port. None leaks a secret; the address stays in the log-only detail.
func TestMallInfoNotTheRouter(t *testing.T) {
	var calls atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if err := r.ParseForm(); err == nil && r.Form.Get("sign") != "" {
			// Echo the secrets back, as a misconfigured proxy might.
			switch r.URL.Path {
			case "/gone":
				http.Error(w, "not found "+r.Form.Get("access_token"), http.StatusNotFound)
			default:
				http.Error(w, "bad gateway "+r.Form.Get("access_token")+" "+r.Form.Get("sign"), http.StatusBadGateway)
			}
		}
	}))
	t.Cleanup(proxy.Close)
	c := pinduoduo.NewClient(pinduoduo.Options{})
	for _, tc := range []struct {
		path  string
		kind  error
		field string
	}{
		{pinduoduo.RouterPath, platform.ErrTransient, ""},
		{"/gone", platform.ErrInvalid, "endpoint"},
	} {
		g := NewWithT(t)
		a := pinduoduo.App{Endpoint: proxy.URL + tc.path, ClientID: "cid", ClientSecret: "secret-xyz", AccessToken: "token-xyz"}
		_, err := c.MallInfo(context.Background(), a)
		g.Expect(errors.Is(err, tc.kind)).To(BeTrue(), "%s: %v", tc.path, err)
		g.Expect(platform.FieldOf(err)).To(Equal(tc.field))
		noSecrets(g, err, a)
	}
	g := NewWithT(t)
	g.Expect(calls.Load()).To(BeEquivalentTo(2))

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	a := pinduoduo.App{Endpoint: dead.URL, ClientID: "cid", ClientSecret: "secret-xyz", AccessToken: "token-xyz"}
	_, err := c.MallInfo(context.Background(), a)
	g.Expect(errors.Is(err, platform.ErrTransient)).To(BeTrue(), "%v", err)
	g.Expect(err.Error()).To(ContainSubstring(platform.UnreachableMessage))
	g.Expect(err.Error()).NotTo(ContainSubstring(strings.TrimPrefix(dead.URL, "http://")))
	g.Expect(platform.DetailOf(err)).NotTo(BeEmpty())
}

// Endpoints refused before any request: plain http off loopback, user
// info, and hosts the manager's allowed list does not name.
func TestMallInfoEndpointRefused(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	t.Cleanup(ts.Close)
	allowed, err := platform.ParseEndpointHosts("gw-api.pinduoduo.com")
	if err != nil {
		t.Fatal(err)
	}
	restricted := pinduoduo.NewClient(pinduoduo.Options{AllowedHosts: allowed})
	open := pinduoduo.NewClient(pinduoduo.Options{})
	for _, tc := range []struct {
		client    *pinduoduo.Client
		endpoint  string
		notOnList bool
	}{
		{restricted, ts.URL, true},
		{open, "http://gw-api.example.com/api/router", false},
		{open, "https://user:secret-xyz@gw-api.example.com/api/router", false},
		{open, "ftp://gw-api.example.com/api/router", false},
	} {
		g := NewWithT(t)
		a := pinduoduo.App{Endpoint: tc.endpoint, ClientID: "cid", ClientSecret: "secret-xyz", AccessToken: "token-xyz"}
		_, err := tc.client.MallInfo(context.Background(), a)
		g.Expect(errors.Is(err, platform.ErrInvalid)).To(BeTrue(), "%s: %v", tc.endpoint, err)
		g.Expect(platform.FieldOf(err)).To(Equal("endpoint"))
		g.Expect(platform.IsEndpointNotAllowed(err)).To(Equal(tc.notOnList), "%s: %v", tc.endpoint, err)
		noSecrets(g, err, a)
	}
	NewWithT(t).Expect(calls.Load()).To(BeZero())
}

// Printing an App never shows its secret or token.
func TestAppRedacted(t *testing.T) {
	g := NewWithT(t)
	a := pinduoduo.App{Endpoint: "https://gw-api.pinduoduo.com/api/router", ClientID: "cid", ClientSecret: "secret-xyz", AccessToken: "token-xyz"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out := fmt.Sprintf(verb, a)
		g.Expect(out).To(ContainSubstring("cid"), verb)
		g.Expect(out).NotTo(Or(ContainSubstring("secret-xyz"), ContainSubstring("token-xyz")), verb)
	}
}
