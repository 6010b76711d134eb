package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

var (
	testShop  = Shop{Platform: Taobao, MainAccount: "hongxing"}
	testCreds = Credentials{AppKey: "12345678", AppSecret: "demo-app-secret", AccessToken: "demo-session-token"}
)

// engineProvider serves one shop of a memory engine, counting the
// Client's creates, and optionally replacing its Client.
type engineProvider struct {
	engine  *memory.Engine
	creates atomic.Int32
	client  func(Client) Client
}

func (p *engineProvider) Credentials(_ context.Context, shop Shop) (Credentials, bool) {
	return p.engine.ShopCredentials(shop.Platform, shop.MainAccount)
}

func (p *engineProvider) Client(ctx context.Context, shop Shop, creds Credentials) (Client, error) {
	c, err := p.engine.Factory().ClientFor(ctx, platform.ShopConfig{Key: shop.Key(), Platform: shop.Platform,
		MainAccount: shop.MainAccount, Credentials: creds})
	if err != nil {
		return nil, err
	}
	c = countingClient{Client: c, creates: &p.creates}
	if p.client != nil {
		c = p.client(c)
	}
	return c, nil
}

type countingClient struct {
	Client
	creates *atomic.Int32
}

func (c countingClient) CreateAccount(ctx context.Context, req CreateAccount, requestID string) (Account, error) {
	c.creates.Add(1)
	return c.Client.CreateAccount(ctx, req, requestID)
}

type testGateway struct {
	t   *testing.T
	p   *engineProvider
	srv *Server
	url string
	log *bytes.Buffer
}

func newTestGateway(t *testing.T, opts Options) *testGateway {
	t.Helper()
	engine := memory.NewEngine()
	if err := engine.AddShop(memory.ShopSetup{Platform: testShop.Platform, MainAccount: testShop.MainAccount,
		Credentials: testCreds, SeatQuota: 20}); err != nil {
		t.Fatal(err)
	}
	g := &testGateway{t: t, p: &engineProvider{engine: engine}, log: &bytes.Buffer{}}
	opts.Logger = slog.New(slog.NewJSONHandler(g.log, nil))
	g.srv = New(g.p, opts)
	ts := httptest.NewServer(g.srv)
	t.Cleanup(ts.Close)
	g.url = ts.URL
	return g
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (g *testGateway) do(method, path string, body any, header map[string]string) reply {
	g.t.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			g.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, g.url+wire.ShopPrefix(testShop.Platform, testShop.MainAccount)+path, bytes.NewReader(data))
	if err != nil {
		g.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	wire.SignRequest(req, testCreds.AppKey, testCreds.AppSecret, testCreds.AccessToken, data, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: out}
}

// A create repeated with its Idempotency-Key is answered from the stored
// answer without calling the Client again, while the account exists; once
// it is deleted the key creates again.
func TestIdempotentCreateIsAnsweredFromTheStore(t *testing.T) {
	g := NewWithT(t)
	gw := newTestGateway(t, Options{})
	create := wire.CreateAccount{Name: "xiaohong", Password: "Pa55word!"}
	key := map[string]string{wire.HeaderIdempotencyKey: "req-1"}

	first := gw.do(http.MethodPost, wire.PathAccounts, create, key)
	g.Expect(first.status).To(Equal(http.StatusCreated), string(first.body))
	again := gw.do(http.MethodPost, wire.PathAccounts, create, key)
	g.Expect(again.status).To(Equal(http.StatusCreated))
	g.Expect(again.body).To(Equal(first.body))
	g.Expect(gw.p.creates.Load()).To(Equal(int32(1)), "the repeat reached the Client")

	var a wire.Account
	g.Expect(json.Unmarshal(first.body, &a)).To(Succeed())
	g.Expect(gw.do(http.MethodDelete, "/accounts/"+a.ID, nil, nil).status).To(Equal(http.StatusNoContent))
	g.Expect(gw.srv.answers.size(testShop)).To(BeZero())
	g.Expect(gw.do(http.MethodPost, wire.PathAccounts, create, key).status).To(Equal(http.StatusCreated))
	g.Expect(gw.p.creates.Load()).To(Equal(int32(2)))

	// Without a key every POST reaches the Client.
	g.Expect(gw.do(http.MethodPost, wire.PathAccounts, create, nil).status).To(Equal(http.StatusConflict))
	g.Expect(gw.p.creates.Load()).To(Equal(int32(3)))
}

func TestAnswerStoreIsBounded(t *testing.T) {
	g := NewWithT(t)
	s := newAnswerStore(2)
	now := time.Now()
	for i, k := range []string{"a", "b", "c"} {
		s.put(testShop, "accounts", k, http.StatusCreated, wire.Account{ID: k}, now.Add(time.Duration(i)))
	}
	g.Expect(s.size(testShop)).To(Equal(2))
	_, ok := s.get(testShop, "accounts", "a")
	g.Expect(ok).To(BeFalse(), "the oldest answer is dropped first")
	_, ok = s.get(testShop, "roles", "c")
	g.Expect(ok).To(BeFalse(), "keys are per collection")
	// Expired answers go at the next put.
	s.put(testShop, "accounts", "d", http.StatusCreated, wire.Account{ID: "d"}, now.Add(storedAnswerTTL+time.Hour))
	g.Expect(s.size(testShop)).To(Equal(1))
}

type failingClient struct {
	Client
	err error
}

func (c failingClient) ListRoles(context.Context) ([]Role, error) { return nil, c.err }

// A Client error of no known kind is a 500 that does not repeat the
// provider's text; a kind picks status, code, field and Retry-After.
func TestClientErrorsAreMapped(t *testing.T) {
	for _, tc := range []struct {
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{errors.New("dial tcp 10.0.0.7:5432: password=hunter2 refused"), http.StatusInternalServerError, wire.CodeInternal, ""},
		{NewError(ErrNameTaken, "name", "taken"), http.StatusConflict, wire.CodeNameTaken, ""},
		{&Error{Kind: ErrRateLimited, RetryAfter: 1500 * time.Millisecond, Message: "slow down"}, http.StatusTooManyRequests, wire.CodeRateLimited, "2"},
		{&Error{Kind: ErrTransient, RetryAfter: 3 * time.Second, Message: "back office down"}, http.StatusServiceUnavailable, wire.CodeUnavailable, "3"},
		{NewError(ErrTransient, "", "back office down"), http.StatusServiceUnavailable, wire.CodeUnavailable, ""},
	} {
		t.Run(tc.code, func(t *testing.T) {
			g := NewWithT(t)
			gw := newTestGateway(t, Options{})
			gw.p.client = func(c Client) Client { return failingClient{Client: c, err: tc.err} }
			a := gw.do(http.MethodGet, wire.PathRoles, nil, nil)
			g.Expect(a.status).To(Equal(tc.status))
			var body wire.ErrorBody
			g.Expect(json.Unmarshal(a.body, &body)).To(Succeed())
			g.Expect(body.Error.Code).To(Equal(tc.code))
			g.Expect(string(a.body)).NotTo(ContainSubstring("hunter2"))
			g.Expect(a.header.Get(wire.HeaderRetryAfter)).To(Equal(tc.retryAfter))
		})
	}
}

type bareClient struct{ Unsupported }

// A Client that embeds Unsupported answers 501 for what it lacks, [] for
// departments, and GET /audit is 501 without an AuditLog.
func TestUnsupportedOperations(t *testing.T) {
	g := NewWithT(t)
	gw := newTestGateway(t, Options{})
	gw.p.client = func(Client) Client { return bareClient{} }
	g.Expect(gw.do(http.MethodGet, wire.PathRoles, nil, nil).status).To(Equal(http.StatusNotImplemented))
	g.Expect(gw.do(http.MethodGet, wire.PathAudit, nil, nil).status).To(Equal(http.StatusNotImplemented))
	deps := gw.do(http.MethodGet, wire.PathDepartments, nil, nil)
	g.Expect(deps.status).To(Equal(http.StatusOK))
	g.Expect(strings.TrimSpace(string(deps.body))).To(Equal(`{"items":[]}`))
}

// The request log has one line per request and none of the request's
// secrets: not the token, signature, nonce, password or app secret.
func TestLogsHoldNoSecrets(t *testing.T) {
	g := NewWithT(t)
	var obs []Observation
	gw := newTestGateway(t, Options{Observe: func(o Observation) { obs = append(obs, o) }})
	a := gw.do(http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "xiaohong", Password: "Secret-Pa55"}, nil)
	g.Expect(a.status).To(Equal(http.StatusCreated))
	g.Expect(gw.do(http.MethodPut, "/accounts/nope/password", wire.PasswordChange{Password: "Other-Secret-1"}, nil).status).To(Equal(http.StatusNotFound))
	logs := gw.log.String()
	g.Expect(strings.Count(logs, `"msg":"api"`)).To(Equal(2))
	for _, secret := range []string{"Secret-Pa55", "Other-Secret-1", testCreds.AccessToken, testCreds.AppSecret, obs[0].Signature} {
		g.Expect(logs).NotTo(ContainSubstring(secret))
	}
	g.Expect(obs).To(HaveLen(2))
	g.Expect(obs[0].Route).To(Equal("POST " + wire.PathAccounts))
	g.Expect(obs[0].Authenticated).To(BeTrue())
}

func TestPaginate(t *testing.T) {
	g := NewWithT(t)
	all := []Account{{ID: "1"}, {ID: "2"}, {ID: "3"}, {ID: "4"}, {ID: "5"}}
	g.Expect(Paginate(all, ListOptions{Page: 2, PageSize: 2})).To(Equal(AccountPage{Accounts: all[2:4], Total: 5}))
	g.Expect(Paginate(all, ListOptions{Page: 3, PageSize: 2})).To(Equal(AccountPage{Accounts: all[4:], Total: 5}))
	g.Expect(Paginate(all, ListOptions{Page: 4, PageSize: 2})).To(Equal(AccountPage{Accounts: []Account{}, Total: 5}))
}
