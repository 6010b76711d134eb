package conformance

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
	"github.com/subaccount-operator/subaccount-operator/pkg/gateway"
)

var (
	tbShop = gateway.Shop{Platform: gateway.Taobao, MainAccount: "hongxing"}
	dyShop = gateway.Shop{Platform: gateway.Douyin, MainAccount: "dyshop"}
	// cfShop is a Douyin shop where the code comes first (BeforeCreate).
	cfShop  = gateway.Shop{Platform: gateway.Douyin, MainAccount: "codefirst"}
	cfCreds = gateway.Credentials{AppKey: "cf-key", AppSecret: "cf-secret-value", AccessToken: "cf-token-value"}
	tbCreds = gateway.Credentials{AppKey: "12345678", AppSecret: "demo-app-secret", AccessToken: "demo-session-token"}
	dyCreds = gateway.Credentials{AppKey: "dy-key", AppSecret: "dy-secret-value", AccessToken: "dy-token-value"}
)

// newEngine has a Taobao and a Douyin shop with room for the paging check.
func newEngine(t *testing.T) *memory.Engine {
	t.Helper()
	engine := memory.NewEngine()
	for _, sh := range []memory.ShopSetup{
		{Platform: tbShop.Platform, MainAccount: tbShop.MainAccount, Credentials: tbCreds, SeatQuota: DefaultAccounts + 20},
		// dyShop creates first (the protocol's first revision), cfShop
		// asks for the code first.
		{Platform: dyShop.Platform, MainAccount: dyShop.MainAccount, MainPhone: "13800000000", Credentials: dyCreds, SeatQuota: DefaultAccounts + 20,
			PhoneVerification: platform.PhoneVerificationAfterCreate},
		{Platform: cfShop.Platform, MainAccount: cfShop.MainAccount, MainPhone: "13800000001", Credentials: cfCreds, SeatQuota: DefaultAccounts + 20,
			PhoneVerification: platform.PhoneVerificationBeforeCreate},
	} {
		if err := engine.AddShop(sh); err != nil {
			t.Fatal(err)
		}
	}
	return engine
}

// codes reads the engine's SMS outbox: the employee's phone.
func codes(engine *memory.Engine) func(context.Context, string) (string, error) {
	return func(_ context.Context, phone string) (string, error) {
		code, _, ok := engine.SMS(phone)
		if !ok {
			return "", platform.NewError(platform.ErrNotFound, "phone", "no code was sent")
		}
		return code, nil
	}
}

// signIns makes an account act as its employee signing in to the back
// office (the engine records a Login), n times.
func signIns(engine *memory.Engine, shop gateway.Shop) func(context.Context, string, string, int) error {
	return func(_ context.Context, name, password string, n int) error {
		for range n {
			if err := engine.SignIn(shop.Platform, shop.MainAccount, name, password); err != nil {
				return err
			}
		}
		return nil
	}
}

// serve runs h and returns its URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

func run(t *testing.T, url string, shop gateway.Shop, creds gateway.Credentials, engine *memory.Engine, accounts int) Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	report := Run(ctx, Target{Endpoint: url, Shop: shop, Credentials: creds, Codes: codes(engine), Accounts: accounts,
		Activity: signIns(engine, shop)})
	var out bytes.Buffer
	_ = report.WriteText(&out)
	t.Log(out.String())
	return report
}

func outcomes(r Report) map[string]Outcome {
	out := map[string]Outcome{}
	for _, res := range r.Results {
		out[res.Check] = res.Outcome
	}
	return out
}

// shopsim passes every check on its shops, paging over 500 accounts; the
// verification flow runs on Douyin, after creation and (the code first)
// before it, and so does the phone change with a code; Taobao verifies no
// phone. The activity feed is paged on every shop. Everything the suite
// created is gone afterwards.
func TestShopsimPasses(t *testing.T) {
	g := NewWithT(t)
	engine := newEngine(t)
	url := serve(t, shopsim.New(engine, shopsim.Options{}).Handler())
	for _, tc := range []struct {
		shop  gateway.Shop
		creds gateway.Credentials
	}{{tbShop, tbCreds}, {dyShop, dyCreds}, {cfShop, cfCreds}} {
		report := run(t, url, tc.shop, tc.creds, engine, DefaultAccounts)
		g.Expect(report.Failed()).To(BeEmpty(), "%s", tc.shop.Key())
		got := outcomes(report)
		g.Expect(got).To(HaveLen(len(Checks())))
		for _, check := range Checks() {
			want := Passed
			switch {
			case check == CheckVerification && tc.shop.Platform == gateway.Taobao,
				check == CheckPhoneChange && tc.shop != cfShop:
				want = Skipped
			}
			g.Expect(got[check]).To(Equal(want), "%s on %s", check, tc.shop.Key())
		}
		client, err := engine.Factory().ClientFor(context.Background(), platform.ShopConfig{Key: tc.shop.Key(),
			Platform: tc.shop.Platform, MainAccount: tc.shop.MainAccount, Credentials: tc.creds})
		g.Expect(err).NotTo(HaveOccurred())
		page, err := client.ListAccounts(context.Background(), platform.ListOptions{Page: 1, PageSize: 10})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(page.Total).To(BeZero(), "accounts left behind on %s", tc.shop.Key())
	}
}

// The report of a failure names the request and never a secret.
func TestReportHoldsNoSecrets(t *testing.T) {
	g := NewWithT(t)
	engine := newEngine(t)
	url := serve(t, withoutRetryAfter(shopsim.New(engine, shopsim.Options{}).Handler()))
	report := run(t, url, dyShop, dyCreds, engine, 10)
	g.Expect(report.Failed()).To(Equal([]string{CheckRetryAfter}))
	var text, js bytes.Buffer
	g.Expect(report.WriteText(&text)).To(Succeed())
	g.Expect(report.WriteJSON(&js)).To(Succeed())
	g.Expect(text.String()).To(ContainSubstring("FAILED   " + CheckRetryAfter))
	g.Expect(text.String()).To(ContainSubstring("request: POST /v1/shops/douyin/dyshop/contacts/"))
	for _, out := range []string{text.String(), js.String()} {
		for _, secret := range []string{dyCreds.AppSecret, dyCreds.AccessToken, "Cf-"} {
			g.Expect(out).NotTo(ContainSubstring(secret))
		}
	}
	g.Expect(redact([]byte(`{"name":"x","password":"p","actAs":{"password":"q"},"code":"123456"}`))).
		To(Equal(`{"actAs":{"password":"(redacted)"},"code":"(redacted)","name":"x","password":"(redacted)"}`))
}

// Deliberately broken gateways fail the checks of what they break, and no
// other.
func TestBrokenGatewaysFailTheRightChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wrap  func(http.Handler) http.Handler
		fails []string
	}{
		{"creates twice on retry", withoutIdempotencyKey, []string{CheckIdempotentCreate}},
		{"accepts a replayed nonce", acceptingReplays, []string{CheckReplayedNonce}},
		{"accepts a stale timestamp", acceptingStaleTimestamps, []string{CheckStaleTimestamp}},
		{"answers 429 without Retry-After", withoutRetryAfter, []string{CheckRetryAfter}},
		{"accepts any signature", acceptingAnySignature, []string{CheckBadSignature, CheckStaleTimestamp, CheckReplayedNonce}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			engine := newEngine(t)
			url := serve(t, tc.wrap(shopsim.New(engine, shopsim.Options{}).Handler()))
			report := run(t, url, dyShop, dyCreds, engine, 20)
			g.Expect(report.Failed()).To(Equal(tc.fails))
			for _, res := range report.Results {
				if res.Outcome == Failed {
					g.Expect(res.Request).NotTo(BeNil(), "the failed request of %s", res.Check)
				}
			}
		})
	}
}

// Gateways on the kit whose back office is wrong fail the check of what
// it gets wrong: every page is the first; a short password is padded to
// the minimum instead of refused.
func TestBrokenBackOfficesFailTheRightChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shop  gateway.Shop
		creds gateway.Credentials
		wrap  func(gateway.Client, *memory.Engine) gateway.Client
		fails []string
	}{
		{"pages always the first", tbShop, tbCreds,
			func(c gateway.Client, _ *memory.Engine) gateway.Client { return firstPage{c} }, []string{CheckPaging}},
		{"pads short passwords", tbShop, tbCreds,
			func(c gateway.Client, _ *memory.Engine) gateway.Client { return paddedPassword{c} }, []string{CheckPasswordMinimum}},
		// On a shop where the code comes first.
		{"takes any code", cfShop, cfCreds,
			func(c gateway.Client, e *memory.Engine) gateway.Client { return anyCode{c, e} }, []string{CheckVerification}},
		{"changes a phone with any code", cfShop, cfCreds,
			func(c gateway.Client, e *memory.Engine) gateway.Client { return anyPhoneCode{c, e} }, []string{CheckPhoneChange}},
		// The activity feed.
		{"pages the feed always from the start", tbShop, tbCreds,
			func(c gateway.Client, _ *memory.Engine) gateway.Client { return firstActivityPage{c} }, []string{CheckActivity}},
		{"ignores the feed's time bounds", tbShop, tbCreds,
			func(c gateway.Client, _ *memory.Engine) gateway.Client { return unboundedActivity{c} }, []string{CheckActivity}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			engine := newEngine(t)
			wrap := func(c gateway.Client) gateway.Client { return tc.wrap(c, engine) }
			url := serve(t, gateway.New(kitProvider{engine, wrap}, gateway.Options{}))
			report := run(t, url, tc.shop, tc.creds, engine, 60)
			g.Expect(report.Failed()).To(Equal(tc.fails))
		})
	}
}

// anyCode creates the account whatever code it is given: it puts in the
// code the phone received.
type anyCode struct {
	gateway.Client
	engine *memory.Engine
}

func (c anyCode) CreateAccount(ctx context.Context, req gateway.CreateAccount, requestID string) (gateway.Account, error) {
	if code, _, ok := c.engine.SMS(req.Profile.Phone); ok && req.Code != nil {
		req.Code.Code = code
	}
	return c.Client.CreateAccount(ctx, req, requestID)
}

// anyPhoneCode changes a phone whatever code it is given: it puts in the
// code the verification's phone received.
type anyPhoneCode struct {
	gateway.Client
	engine *memory.Engine
}

// verificationPhones is the phone of each verification anyPhoneCode saw
// asked for (its clients are made per request).
var verificationPhones sync.Map

func (c anyPhoneCode) RequestCode(ctx context.Context, req gateway.CodeRequest, requestID string) (gateway.Verification, error) {
	v, err := c.Client.RequestCode(ctx, req, requestID)
	if err == nil {
		verificationPhones.Store(v.ID, req.Phone)
	}
	return v, err
}

func (c anyPhoneCode) ChangePhone(ctx context.Context, id string, code gateway.VerificationCode) (gateway.Account, error) {
	if phone, ok := verificationPhones.Load(code.ID); ok {
		if sent, _, ok := c.engine.SMS(phone.(string)); ok {
			code.Code = sent
		}
	}
	return c.Client.ChangePhone(ctx, id, code)
}

// firstActivityPage ignores the cursor: every page is the first.
type firstActivityPage struct{ gateway.Client }

func (c firstActivityPage) ListActivity(ctx context.Context, q gateway.ActivityQuery) (gateway.ActivityPage, error) {
	q.Cursor = ""
	return c.Client.ListActivity(ctx, q)
}

// unboundedActivity ignores since and until.
type unboundedActivity struct{ gateway.Client }

func (c unboundedActivity) ListActivity(ctx context.Context, q gateway.ActivityQuery) (gateway.ActivityPage, error) {
	if !q.Until.IsZero() && q.Until.Before(q.Since) {
		return c.Client.ListActivity(ctx, q) // the refusal still works
	}
	q.Since, q.Until = time.Time{}, time.Time{}
	return c.Client.ListActivity(ctx, q)
}

// withoutPhoneChangeOrFeed is a gateway on the kit of the protocol's
// earlier revision: no phone change with a code and no activity feed,
// answered as the kit's Unsupported answers (501 not_supported).
type withoutPhoneChangeOrFeed struct{ gateway.Client }

func (withoutPhoneChangeOrFeed) ChangePhone(context.Context, string, gateway.VerificationCode) (gateway.Account, error) {
	return gateway.Unsupported{}.ChangePhone(context.Background(), "", gateway.VerificationCode{})
}

func (withoutPhoneChangeOrFeed) ListActivity(context.Context, gateway.ActivityQuery) (gateway.ActivityPage, error) {
	return gateway.Unsupported{}.ListActivity(context.Background(), gateway.ActivityQuery{})
}

// A gateway without the phone change and the activity feed, answering
// 501 not_supported for them as the protocol asks, passes: both checks
// are skipped with the reason, nothing fails. One that answers 501 with
// another error code fails the activity check.
func TestOlderGatewayPasses(t *testing.T) {
	g := NewWithT(t)
	engine := newEngine(t)
	url := serve(t, gateway.New(kitProvider{engine, func(c gateway.Client) gateway.Client { return withoutPhoneChangeOrFeed{c} }},
		gateway.Options{}))
	report := run(t, url, cfShop, cfCreds, engine, 20)
	g.Expect(report.Failed()).To(BeEmpty())
	got := outcomes(report)
	g.Expect(got[CheckPhoneChange]).To(Equal(Skipped))
	g.Expect(got[CheckActivity]).To(Equal(Skipped))
	for _, res := range report.Results {
		if res.Check == CheckActivity {
			g.Expect(res.Reason).To(ContainSubstring("501 not_supported"))
		}
	}

	sim := shopsim.New(engine, shopsim.Options{}).Handler()
	wrongCode := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, wire.PathActivity) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotImplemented)
			_, _ = w.Write([]byte(`{"error":{"code":"internal","message":"no"}}`))
			return
		}
		sim.ServeHTTP(w, r)
	}))
	report = run(t, wrongCode, tbShop, tbCreds, engine, 20)
	g.Expect(report.Failed()).To(Equal([]string{CheckActivity}))
}

// kitProvider serves the engine's shops on the kit, each Client wrapped.
type kitProvider struct {
	engine *memory.Engine
	wrap   func(gateway.Client) gateway.Client
}

func (p kitProvider) Credentials(_ context.Context, shop gateway.Shop) (gateway.Credentials, bool) {
	return p.engine.ShopCredentials(shop.Platform, shop.MainAccount)
}

func (p kitProvider) Client(ctx context.Context, shop gateway.Shop, creds gateway.Credentials) (gateway.Client, error) {
	c, err := p.engine.Factory().ClientFor(ctx, platform.ShopConfig{Key: shop.Key(), Platform: shop.Platform,
		MainAccount: shop.MainAccount, Credentials: creds})
	return p.wrap(c), err
}

type firstPage struct{ gateway.Client }

func (c firstPage) ListAccounts(ctx context.Context, opts gateway.ListOptions) (gateway.AccountPage, error) {
	opts.Page = 1
	return c.Client.ListAccounts(ctx, opts)
}

type paddedPassword struct{ gateway.Client }

func (c paddedPassword) CreateAccount(ctx context.Context, req gateway.CreateAccount, requestID string) (gateway.Account, error) {
	for len(req.Password) < 8 {
		req.Password += "x"
	}
	return c.Client.CreateAccount(ctx, req, requestID)
}

// withoutIdempotencyKey drops the Idempotency-Key (it is not signed), so
// every retried create creates again.
func withoutIdempotencyKey(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del(wire.HeaderIdempotencyKey)
		h.ServeHTTP(w, r)
	})
}

// resign checks a request's signature as a gateway should, then signs it
// again with change applied to its timestamp and nonce, so the server
// behind sees a fresh request.
func resign(h http.Handler, check func(r *http.Request, body []byte) error, change func(r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := check(r, body); err == nil {
			change(r)
			r.Header.Set(wire.HeaderSignature, wire.Sign(dyCreds.AppSecret, r.Method, r.URL.EscapedPath(), r.URL.Query(),
				r.Header.Get(wire.HeaderTimestamp), r.Header.Get(wire.HeaderNonce), body))
		}
		h.ServeHTTP(w, r)
	})
}

// acceptingReplays gives every well-signed request a new nonce.
func acceptingReplays(h http.Handler) http.Handler {
	return resign(h, func(r *http.Request, body []byte) error {
		return wire.VerifyRequest(r, dyCreds.AppSecret, body, time.Now())
	}, func(r *http.Request) { r.Header.Set(wire.HeaderNonce, wire.NewNonce()) })
}

// acceptingStaleTimestamps checks the signature at the request's own time
// and gives it the current one.
func acceptingStaleTimestamps(h http.Handler) http.Handler {
	return resign(h, func(r *http.Request, body []byte) error {
		secs, _ := strconv.ParseInt(r.Header.Get(wire.HeaderTimestamp), 10, 64)
		return wire.VerifyRequest(r, dyCreds.AppSecret, body, time.Unix(secs, 0))
	}, func(r *http.Request) { r.Header.Set(wire.HeaderTimestamp, strconv.FormatInt(time.Now().Unix(), 10)) })
}

// acceptingAnySignature signs every request again, now, with a new nonce,
// whatever it carried.
func acceptingAnySignature(h http.Handler) http.Handler {
	return resign(h, func(*http.Request, []byte) error { return nil }, func(r *http.Request) {
		r.Header.Set(wire.HeaderTimestamp, strconv.FormatInt(time.Now().Unix(), 10))
		r.Header.Set(wire.HeaderNonce, wire.NewNonce())
	})
}

// withoutRetryAfter removes Retry-After from every answer.
func withoutRetryAfter(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(dropHeader{ResponseWriter: w, name: wire.HeaderRetryAfter}, r)
	})
}

type dropHeader struct {
	http.ResponseWriter
	name string
}

func (d dropHeader) WriteHeader(status int) {
	d.Header().Del(d.name)
	d.ResponseWriter.WriteHeader(status)
}

func (d dropHeader) Write(b []byte) (int, error) {
	d.Header().Del(d.name)
	return d.ResponseWriter.Write(b)
}
