package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

const (
	testKey    = "app-key-1"
	testSecret = "app-secret-S3CR3T"
	testToken  = "access-token-T0K3N"
	testMain   = "小红店"
	// escapedPrefix is wire.ShopPrefix(platform.Taobao, testMain).
	escapedPrefix = "/v1/shops/taobao/%E5%B0%8F%E7%BA%A2%E5%BA%97"
)

// testNow is the clock of both the driver and the fake, so signatures
// verify deterministically.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func testClock() time.Time { return testNow }

// seen is one request as the fake gateway received it.
type seen struct {
	Method string
	Path   string // escaped
	Query  url.Values
	Body   []byte
	Header http.Header
	// Verify is wire.VerifyRequest's verdict (nil: a valid signature).
	Verify error
}

// fake is a small gateway: it verifies every request's signature, app key
// and token like the real one, refuses a repeated nonce (a replay), records
// the request, then answers with reply.
type fake struct {
	mu     sync.Mutex
	seen   []seen
	nonces map[string]bool
	reply  http.HandlerFunc
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	verr := wire.VerifyRequest(r, testSecret, body, testNow)
	if verr == nil && (r.Header.Get(wire.HeaderAppKey) != testKey || wire.BearerToken(r) != testToken) {
		verr = errors.New("unknown app key or access token")
	}
	f.mu.Lock()
	if nonce := r.Header.Get(wire.HeaderNonce); verr == nil && f.nonces[nonce] {
		verr = wire.ErrReplayed
	} else if verr == nil {
		if f.nonces == nil {
			f.nonces = map[string]bool{}
		}
		f.nonces[nonce] = true
	}
	f.seen = append(f.seen, seen{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Body: body, Header: r.Header.Clone(), Verify: verr})
	reply := f.reply
	f.mu.Unlock()
	if verr != nil {
		writeJSON(w, http.StatusUnauthorized, wire.ErrorBody{Error: wire.ErrorDetail{Code: wire.CodeUnauthorized, Message: verr.Error()}})
		return
	}
	if reply == nil {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	reply(w, r)
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.seen...)
}

func (f *fake) last(t *testing.T) seen {
	t.Helper()
	reqs := f.requests()
	if len(reqs) == 0 {
		t.Fatal("the fake gateway received no request")
	}
	return reqs[len(reqs)-1]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func answer(status int, v any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if v == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, v)
	}
}

func shopConfig(endpoint string) platform.ShopConfig {
	return platform.ShopConfig{
		Key: "shops/a", Platform: platform.Taobao, MainAccount: testMain, Endpoint: endpoint,
		Credentials: platform.Credentials{AppKey: testKey, AppSecret: testSecret, AccessToken: testToken},
	}
}

// setup starts the fake over plain http on loopback and returns a client
// of it; opts.Clock defaults to testClock.
func setup(t *testing.T, opts Options) (platform.Client, *fake) {
	t.Helper()
	f := &fake{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if opts.Clock == nil {
		opts.Clock = testClock
	}
	c, err := NewFactory(opts).ClientFor(context.Background(), shopConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

var (
	wireRole = wire.Role{ID: "7", RoleSpec: wire.RoleSpec{Name: "客服", Description: "chat", Permissions: []string{"chat", "chat.reply"}}}
	wireAcct = wire.Account{
		ID: "1001", Name: "xiaohong", Login: testMain + ":xiaohong",
		AccountState: wire.AccountState{
			Profile:          wire.Profile{DisplayName: "小红", Department: "客服部", Phone: "13800000000"},
			RoleIDs:          []string{"7"},
			ExtraPermissions: []string{"goods.view"},
			Seat:             &wire.Seat{Chat: true, Capacity: 5, Presence: platform.PresenceOnline},
			Security:         wire.Security{PhoneProtection: true},
		},
		EffectivePermissions: []string{"chat", "chat.reply", "goods.view"},
		PasswordChangedAt:    testNow.Add(-time.Hour),
	}
	wirePending  = withVerification(wireAcct, wire.Verification{Phone: "138****0000", SentAt: testNow, ExpiresAt: testNow.Add(5 * time.Minute), AttemptsLeft: 5})
	wireVerified = withVerification(wireAcct, wire.Verification{Verified: true, Phone: "138****0000", SentAt: testNow, ExpiresAt: testNow.Add(5 * time.Minute), AttemptsLeft: 4})
	domainState  = platform.AccountState{
		Profile:          platform.Profile{DisplayName: "小红", Department: "客服部", Phone: "13800000000"},
		RoleIDs:          []string{"7"},
		ExtraPermissions: []string{"goods.view"},
		Seat:             &platform.Seat{Chat: true, Capacity: 5, Presence: platform.PresenceOnline},
		Security:         platform.Security{PhoneProtection: true},
	}
	stateJSON = `{"profile":{"displayName":"小红","department":"客服部","phone":"13800000000"},"roleIds":["7"],` +
		`"extraPermissions":["goods.view"],"disabled":false,"seat":{"chat":true,"capacity":5,"presence":"Online"},` +
		`"security":{"phoneProtection":true,"digitalCertificate":false}}`
)

// Every method sends the documented method, path, query, body and headers,
// signed so that wire.VerifyRequest accepts it, and decodes the answer.
func TestEveryMethodsRequestAndAnswer(t *testing.T) {
	spec := platform.RoleSpec{Name: "客服", Description: "chat", Permissions: []string{"chat", "chat.reply"}}
	specJSON := `{"name":"客服","description":"chat","permissions":["chat","chat.reply"]}`
	for _, tc := range []struct {
		name     string
		call     func(context.Context, platform.Client) (any, error)
		reply    http.HandlerFunc
		method   string
		path     string
		query    url.Values
		body     string // JSON, "" for none
		idemKey  string
		want     any
		wantHead map[string]string
	}{{
		name: "ShopInfo",
		call: func(ctx context.Context, c platform.Client) (any, error) { return c.ShopInfo(ctx) },
		reply: answer(200, wire.ShopInfo{Platform: platform.Taobao, MainAccount: testMain, SeatsUsed: 3, SeatsTotal: 10,
			PhoneVerification: platform.PhoneVerificationNone}),
		method: "GET", path: "/shop",
		want: platform.ShopInfo{Platform: platform.Taobao, MainAccount: testMain, SeatsUsed: 3, SeatsTotal: 10,
			PhoneVerification: platform.PhoneVerificationNone},
	}, {
		name:   "Permissions",
		call:   func(ctx context.Context, c platform.Client) (any, error) { return c.Permissions(ctx) },
		reply:  answer(200, wire.PermissionList{Items: []wire.Permission{{Code: "chat", Name: "聊天"}, {Code: "chat.reply", Name: "回复", Parent: "chat", HighRisk: true}}}),
		method: "GET", path: "/permissions",
		want: []platform.Permission{{Code: "chat", Name: "聊天"}, {Code: "chat.reply", Name: "回复", Parent: "chat", HighRisk: true}},
	}, {
		name:   "ListRoles",
		call:   func(ctx context.Context, c platform.Client) (any, error) { return c.ListRoles(ctx) },
		reply:  answer(200, wire.RoleList{Items: []wire.Role{wireRole}}),
		method: "GET", path: "/roles",
		want: []platform.Role{wireRole.ToRole()},
	}, {
		name:   "GetRole",
		call:   func(ctx context.Context, c platform.Client) (any, error) { return c.GetRole(ctx, "7") },
		reply:  answer(200, wireRole),
		method: "GET", path: "/roles/7",
		want: wireRole.ToRole(),
	}, {
		name: "CreateRole",
		call: func(ctx context.Context, c platform.Client) (any, error) {
			return c.CreateRole(ctx, spec, "req-role-1")
		},
		reply:  answer(201, wireRole),
		method: "POST", path: "/roles", body: specJSON, idemKey: "req-role-1",
		want: wireRole.ToRole(),
	}, {
		name:   "UpdateRole",
		call:   func(ctx context.Context, c platform.Client) (any, error) { return c.UpdateRole(ctx, "7", spec) },
		reply:  answer(200, wireRole),
		method: "PUT", path: "/roles/7", body: specJSON,
		want: wireRole.ToRole(),
	}, {
		name:  "DeleteRole",
		call:  func(ctx context.Context, c platform.Client) (any, error) { return nil, c.DeleteRole(ctx, "7") },
		reply: answer(204, nil), method: "DELETE", path: "/roles/7",
	}, {
		name: "ListAccounts",
		call: func(ctx context.Context, c platform.Client) (any, error) {
			return c.ListAccounts(ctx, platform.ListOptions{Page: 2, PageSize: 50})
		},
		reply:  answer(200, wire.AccountList{Items: []wire.Account{wireAcct}, Total: 51}),
		method: "GET", path: "/accounts", query: url.Values{"page": {"2"}, "pageSize": {"50"}},
		want: platform.AccountPage{Accounts: []platform.Account{wireAcct.ToAccount()}, Total: 51},
	}, {
		name:   "GetAccount",
		call:   func(ctx context.Context, c platform.Client) (any, error) { return c.GetAccount(ctx, "1001") },
		reply:  answer(200, wireAcct),
		method: "GET", path: "/accounts/1001",
		want: wireAcct.ToAccount(),
	}, {
		name:   "FindAccount",
		call:   func(ctx context.Context, c platform.Client) (any, error) { return c.FindAccount(ctx, "小 红/?#%") },
		reply:  answer(200, wireAcct),
		method: "GET", path: "/accounts/by-name/%E5%B0%8F%20%E7%BA%A2%2F%3F%23%25",
		want: wireAcct.ToAccount(),
	}, {
		name: "CreateAccount",
		call: func(ctx context.Context, c platform.Client) (any, error) {
			return c.CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: "pa55word!", AccountState: domainState}, "req-acct-1")
		},
		reply:  answer(201, wireAcct),
		method: "POST", path: "/accounts", idemKey: "req-acct-1",
		body: `{"name":"xiaohong","password":"pa55word!",` + stateJSON[1:],
		want: wireAcct.ToAccount(),
	}, {
		name: "UpdateAccount",
		call: func(ctx context.Context, c platform.Client) (any, error) {
			return c.UpdateAccount(ctx, "1001", domainState)
		},
		reply:  answer(200, wireAcct),
		method: "PUT", path: "/accounts/1001", body: stateJSON,
		want: wireAcct.ToAccount(),
	}, {
		name: "SetPassword",
		call: func(ctx context.Context, c platform.Client) (any, error) {
			return nil, c.SetPassword(ctx, "1001", "n3w-pa55")
		},
		reply: answer(204, nil), method: "PUT", path: "/accounts/1001/password", body: `{"password":"n3w-pa55"}`,
	}, {
		name:  "DeleteAccount",
		call:  func(ctx context.Context, c platform.Client) (any, error) { return nil, c.DeleteAccount(ctx, "1001") },
		reply: answer(204, nil), method: "DELETE", path: "/accounts/1001",
	}, {
		name: "CheckCredentials",
		call: func(ctx context.Context, c platform.Client) (any, error) {
			return c.CheckCredentials(ctx, testMain+":xiaohong", "pa55word!")
		},
		reply:  answer(200, wire.LoginResult{OK: true}),
		method: "POST", path: "/login", body: `{"name":"小红店:xiaohong","password":"pa55word!"}`,
		want: true,
	}, {
		name: "RequestCode",
		call: func(ctx context.Context, c platform.Client) (any, error) {
			return c.RequestCode(ctx, platform.CodeRequest{Phone: "13800000000", AccountID: "1001"}, "uid-1")
		},
		reply:  answer(201, wire.Verification{ID: "v1", Phone: "138****0000", SentAt: testNow, ExpiresAt: testNow.Add(5 * time.Minute), AttemptsLeft: 5}),
		method: "POST", path: "/verifications", body: `{"phone":"13800000000","accountId":"1001"}`, idemKey: "uid-1",
		want: platform.Verification{ID: "v1", Phone: "138****0000", SentAt: testNow, ExpiresAt: testNow.Add(5 * time.Minute), AttemptsLeft: 5},
	}, {
		name: "CreateAccountWithCode",
		call: func(ctx context.Context, c platform.Client) (any, error) {
			return c.CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: "pa55word!", AccountState: domainState,
				Code: &platform.VerificationCode{ID: "v1", Code: "012345"}}, "uid-1")
		},
		reply:  answer(201, wireVerified),
		method: "POST", path: "/accounts", idemKey: "uid-1",
		body: `{"name":"xiaohong","password":"pa55word!",` + stateJSON[1:len(stateJSON)-1] + `,"code":{"id":"v1","code":"012345"}}`,
		want: wireVerified.ToAccount(),
	}, {
		name: "ChangePhone",
		call: func(ctx context.Context, c platform.Client) (any, error) {
			return c.ChangePhone(ctx, "1001", platform.VerificationCode{ID: "v1", Code: "012345"})
		},
		reply:  answer(200, wireVerified),
		method: "PUT", path: "/accounts/1001/phone", body: `{"id":"v1","code":"012345"}`,
		want: wireVerified.ToAccount(),
	}, {
		name: "VerifyAccount",
		call: func(ctx context.Context, c platform.Client) (any, error) {
			return c.VerifyAccount(ctx, "1001", "012345")
		},
		reply:  answer(200, wireVerified),
		method: "POST", path: "/accounts/1001/verify", body: `{"code":"012345"}`,
		want: wireVerified.ToAccount(),
	}, {
		name:   "ResendVerification",
		call:   func(ctx context.Context, c platform.Client) (any, error) { return c.ResendVerification(ctx, "1001") },
		reply:  answer(200, wirePending),
		method: "POST", path: "/accounts/1001/verification-code",
		want: wirePending.ToAccount(),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c, f := setup(t, Options{UserAgent: "test-agent/1"})
			f.reply = tc.reply
			ctx := platform.WithSource(context.Background(), "SubAccount/shops/xiaohong")
			got, err := tc.call(ctx, c)
			g.Expect(err).NotTo(HaveOccurred())
			if tc.want != nil {
				g.Expect(got).To(Equal(tc.want))
			}

			reqs := f.requests()
			g.Expect(reqs).To(HaveLen(1))
			r := reqs[0]
			g.Expect(r.Verify).NotTo(HaveOccurred(), "signature")
			g.Expect(r.Method).To(Equal(tc.method))
			g.Expect(r.Path).To(Equal(escapedPrefix + tc.path))
			if tc.query == nil {
				tc.query = url.Values{}
			}
			g.Expect(r.Query).To(Equal(tc.query))
			if tc.body == "" {
				g.Expect(r.Body).To(BeEmpty())
				g.Expect(r.Header.Get("Content-Type")).To(BeEmpty())
			} else {
				g.Expect(string(r.Body)).To(MatchJSON(tc.body))
				g.Expect(r.Header.Get("Content-Type")).To(Equal("application/json"))
			}
			g.Expect(r.Header.Values(wire.HeaderIdempotencyKey)).To(Equal(nonEmpty(tc.idemKey)))
			g.Expect(r.Header.Get(wire.HeaderAppKey)).To(Equal(testKey))
			g.Expect(r.Header.Get(wire.HeaderAuthorization)).To(Equal("Bearer " + testToken))
			g.Expect(r.Header.Get(wire.HeaderTimestamp)).To(Equal(fmt.Sprint(testNow.Unix())))
			g.Expect(r.Header.Get(wire.HeaderNonce)).To(MatchRegexp(`^[0-9a-f]{32}$`))
			g.Expect(r.Header.Get(wire.HeaderSignature)).To(MatchRegexp(`^[0-9a-f]{64}$`))
			g.Expect(r.Header.Get(wire.HeaderSource)).To(Equal("SubAccount/shops/xiaohong"))
			g.Expect(r.Header.Get("User-Agent")).To(Equal("test-agent/1"))
			g.Expect(r.Header.Get("Accept")).To(Equal("application/json"))
		})
	}
}

func withVerification(a wire.Account, v wire.Verification) wire.Account {
	a.Verification = &v
	return a
}

// The answers' verification reaches the domain account.
func TestVerificationDecoded(t *testing.T) {
	g := NewWithT(t)
	c, f := setup(t, Options{})
	f.reply = answer(200, wirePending)
	a, err := c.GetAccount(context.Background(), "1001")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.Verification).To(Equal(&platform.Verification{Phone: "138****0000", SentAt: testNow,
		ExpiresAt: testNow.Add(5 * time.Minute), AttemptsLeft: 5}))
	f.reply = answer(200, wireAcct)
	a, err = c.GetAccount(context.Background(), "1001")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.Verification).To(BeNil())
}

// The gateway's verification errors reach the caller as the contract says:
// a wrong code is ErrInvalid on "code", too early a resend ErrRateLimited
// with the Retry-After, a verified account ErrConflict.
func TestVerificationErrors(t *testing.T) {
	g := NewWithT(t)
	c, f := setup(t, Options{})
	ctx := context.Background()

	f.reply = errorReply(422, wire.CodeInvalid, "code", "wrong code; 4 attempts left")
	_, err := c.VerifyAccount(ctx, "1001", "000000")
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	g.Expect(platform.FieldOf(err)).To(Equal("code"))
	g.Expect(err.(*platform.Error).Message).To(Equal("wrong code; 4 attempts left"))
	_, retryable := platform.RetryAfter(err)
	g.Expect(retryable).To(BeFalse())

	f.reply = errorReply(429, wire.CodeRateLimited, "", "a code was sent less than a minute ago; a new one can be requested in 42s", "Retry-After", "42")
	_, err = c.ResendVerification(ctx, "1001")
	g.Expect(err).To(MatchError(platform.ErrRateLimited))
	after, retryable := platform.RetryAfter(err)
	g.Expect(retryable).To(BeTrue())
	g.Expect(after).To(Equal(42 * time.Second))

	f.reply = errorReply(409, wire.CodeConflict, "", `sub-account "xiaohong" is already verified`)
	_, err = c.ResendVerification(ctx, "1001")
	g.Expect(err).To(MatchError(platform.ErrConflict))
	_, err = c.VerifyAccount(ctx, "1001", "123456")
	g.Expect(err).To(MatchError(platform.ErrConflict))
	g.Expect(f.requests()).To(HaveLen(4), "no retries")
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// The same call made again in the same second (a retry by the controller)
// is signed with a new nonce, so a gateway that refuses replays accepts it.
func TestRepeatedCallsAreNotReplays(t *testing.T) {
	g := NewWithT(t)
	c, f := setup(t, Options{})
	ctx := context.Background()
	for range 3 {
		_, err := c.ShopInfo(ctx)
		g.Expect(err).NotTo(HaveOccurred())
	}
	nonces := map[string]bool{}
	for _, r := range f.requests() {
		g.Expect(r.Verify).To(Succeed())
		nonces[r.Header.Get(wire.HeaderNonce)] = true
	}
	g.Expect(nonces).To(HaveLen(3))
}

func TestCreateWithoutRequestIDSendsNoIdempotencyKeyAndNoSourceWithoutOne(t *testing.T) {
	g := NewWithT(t)
	c, f := setup(t, Options{})
	f.reply = answer(201, wireRole)
	_, err := c.CreateRole(context.Background(), platform.RoleSpec{Name: "r"}, "")
	g.Expect(err).NotTo(HaveOccurred())
	r := f.last(t)
	g.Expect(r.Header.Values(wire.HeaderIdempotencyKey)).To(BeEmpty())
	g.Expect(r.Header.Values(wire.HeaderSource)).To(BeEmpty())
	g.Expect(r.Header.Get("User-Agent")).To(Equal(DefaultUserAgent))
	// Nil permissions go out as [], as the protocol wants.
	g.Expect(string(r.Body)).To(MatchJSON(`{"name":"r","permissions":[]}`))
}

// Ids and names that cannot be one path segment are answered locally.
func TestUnaddressableIDsAreNotFoundWithoutARequest(t *testing.T) {
	g := NewWithT(t)
	c, f := setup(t, Options{})
	ctx := context.Background()
	for _, id := range []string{"", ".", ".."} {
		_, err := c.GetAccount(ctx, id)
		g.Expect(err).To(MatchError(platform.ErrNotFound))
		_, err = c.FindAccount(ctx, id)
		g.Expect(err).To(MatchError(platform.ErrNotFound))
		g.Expect(c.DeleteRole(ctx, id)).To(MatchError(platform.ErrNotFound))
		g.Expect(c.SetPassword(ctx, id, "x")).To(MatchError(platform.ErrNotFound))
		_, err = c.VerifyAccount(ctx, id, "123456")
		g.Expect(err).To(MatchError(platform.ErrNotFound))
		_, err = c.ResendVerification(ctx, id)
		g.Expect(err).To(MatchError(platform.ErrNotFound))
	}
	g.Expect(f.requests()).To(BeEmpty())
}

func errorReply(status int, code, field, message string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		writeJSON(w, status, wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: message, Field: field}})
	}
}

func rawReply(status int, contentType, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// Every error code and status maps to its sentinel, with the field,
// message and Retry-After the gateway sent.
func TestErrorMapping(t *testing.T) {
	httpDate := testNow.Add(90 * time.Second).Format(http.TimeFormat)
	for _, tc := range []struct {
		name      string
		reply     http.HandlerFunc
		kind      error
		field     string
		message   string
		retry     time.Duration
		retryable bool
	}{
		{"404 not_found", errorReply(404, wire.CodeNotFound, "id", "no sub-account with ID \"9\""), platform.ErrNotFound, "id", `no sub-account with ID "9"`, 0, false},
		{"409 name_taken", errorReply(409, wire.CodeNameTaken, "name", "xiaohong is taken"), platform.ErrNameTaken, "name", "xiaohong is taken", 0, false},
		{"409 conflict", errorReply(409, wire.CodeConflict, "phone", "phone bound to another shop"), platform.ErrConflict, "phone", "phone bound to another shop", 0, false},
		{"422 invalid with field", errorReply(422, wire.CodeInvalid, "password", "password must have at least 8 characters"), platform.ErrInvalid, "password", "password must have at least 8 characters", 0, false},
		{"401 unauthorized", errorReply(401, wire.CodeUnauthorized, "", "invalid app key, app secret or access token"), platform.ErrUnauthorized, "", "invalid app key", 0, false},
		{"403 forbidden", errorReply(403, wire.CodeForbidden, "", "the app may not manage sub-accounts"), platform.ErrForbidden, "", "may not manage", 0, false},
		{"402 quota", errorReply(402, wire.CodeQuotaExceeded, "", "all 5 seats are used"), platform.ErrQuotaExhausted, "", "all 5 seats", 0, false},
		{"429 Retry-After seconds", errorReply(429, wire.CodeRateLimited, "", "slow down", "Retry-After", "7"), platform.ErrRateLimited, "", "slow down", 7 * time.Second, true},
		{"429 Retry-After HTTP date", errorReply(429, wire.CodeRateLimited, "", "slow down", "Retry-After", httpDate), platform.ErrRateLimited, "", "slow down", 90 * time.Second, true},
		{"429 Retry-After past date", errorReply(429, wire.CodeRateLimited, "", "slow down", "Retry-After", testNow.Add(-time.Minute).Format(http.TimeFormat)), platform.ErrRateLimited, "", "slow down", 0, true},
		{"429 Retry-After garbage", errorReply(429, wire.CodeRateLimited, "", "slow down", "Retry-After", "soon"), platform.ErrRateLimited, "", "slow down", 0, true},
		{"429 Retry-After huge", errorReply(429, wire.CodeRateLimited, "", "slow down", "Retry-After", "99999999999999999999999"), platform.ErrRateLimited, "", "slow down", MaxRetryAfter, true},
		{"429 without a body", rawReply(429, "text/plain", "", "Retry-After", "3"), platform.ErrRateLimited, "", "Too Many Requests", 3 * time.Second, true},
		{"501 not supported", errorReply(501, wire.CodeNotSupported, "", "Pinduoduo has no roles"), platform.ErrNotSupported, "", "no roles", 0, false},
		{"503 unavailable with Retry-After", errorReply(503, wire.CodeUnavailable, "", "maintenance", "Retry-After", "120"), platform.ErrTransient, "", "maintenance", 2 * time.Minute, true},
		{"500 internal", errorReply(500, wire.CodeInternal, "", "boom"), platform.ErrTransient, "", "boom", 0, true},
		{"500 non-JSON", rawReply(500, "text/plain", "panic: runtime error\n\tgoroutine 1"), platform.ErrTransient, "", "panic: runtime error goroutine 1", 0, true},
		{"502 proxy HTML", rawReply(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"), platform.ErrTransient, "", "Bad Gateway", 0, true},
		{"404 mux text", rawReply(404, "text/plain", "404 page not found\n"), platform.ErrNotFound, "", "404 page not found", 0, false},
		{"409 without code is a conflict", rawReply(409, "application/json", `{"error":{"message":"busy"}}`), platform.ErrConflict, "", "Conflict", 0, false},
		{"400 unknown code", errorReply(400, "bad_request", "pageSize", "too big"), platform.ErrInvalid, "pageSize", "too big", 0, false},
		{"truncated JSON", rawReply(422, "application/json", `{"error":{"code":"invalid","mess`), platform.ErrInvalid, "", "Unprocessable Entity", 0, false},
		{"redirect is not followed", rawReply(302, "text/plain", "", "Location", "https://elsewhere.example.com/"), platform.ErrInvalid, "", "Found", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c, f := setup(t, Options{})
			f.reply = tc.reply
			_, err := c.GetAccount(context.Background(), "9")
			g.Expect(err).To(MatchError(tc.kind))
			var pe *platform.Error
			g.Expect(errors.As(err, &pe)).To(BeTrue(), "%T", err)
			g.Expect(pe.Field).To(Equal(tc.field))
			// An answer that is not the gateway's is excerpted for the log
			// only (Detail).
			g.Expect(pe.Message + "\n" + pe.Detail).To(ContainSubstring(tc.message))
			g.Expect(pe.RetryAfter).To(Equal(tc.retry))
			after, retryable := platform.RetryAfter(err)
			g.Expect(retryable).To(Equal(tc.retryable))
			g.Expect(after).To(Equal(tc.retry))
			g.Expect(f.requests()).To(HaveLen(1), "no retries, no redirects followed")
		})
	}
}

func TestMalformedSuccessBodyIsTransient(t *testing.T) {
	g := NewWithT(t)
	c, f := setup(t, Options{})
	f.reply = rawReply(200, "application/json", `{"id": 12`)
	_, err := c.GetRole(context.Background(), "7")
	g.Expect(err).To(MatchError(platform.ErrTransient))
	g.Expect(err.Error()).To(ContainSubstring("not the gateway protocol's"))
	g.Expect(platform.DetailOf(err)).To(ContainSubstring("decoding"))
}

// A gateway that never answers: the per-call timeout ends the call with a
// transient error; the caller's own cancellation or deadline stays a
// context error.
func TestTimeoutsAndCancellation(t *testing.T) {
	blocking := func(entered chan<- struct{}) http.HandlerFunc {
		return func(_ http.ResponseWriter, r *http.Request) {
			if entered != nil {
				entered <- struct{}{}
			}
			<-r.Context().Done()
		}
	}

	t.Run("per-call timeout", func(t *testing.T) {
		g := NewWithT(t)
		c, f := setup(t, Options{Timeout: 50 * time.Millisecond})
		f.reply = blocking(nil)
		_, err := c.ShopInfo(context.Background())
		g.Expect(err).To(MatchError(platform.ErrTransient))
		g.Expect(err.Error()).To(ContainSubstring(platform.UnreachableMessage))
		g.Expect(platform.DetailOf(err)).To(Equal("no answer within 50ms"))
		g.Expect(errors.Is(err, context.DeadlineExceeded)).To(BeFalse())
		_, retryable := platform.RetryAfter(err)
		g.Expect(retryable).To(BeTrue())
	})

	t.Run("caller cancels", func(t *testing.T) {
		g := NewWithT(t)
		c, f := setup(t, Options{Timeout: time.Minute})
		entered := make(chan struct{}, 1)
		f.reply = blocking(entered)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-entered
			cancel()
		}()
		_, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "x", Password: "pa55word!"}, "req-1")
		g.Expect(errors.Is(err, context.Canceled)).To(BeTrue(), "%v", err)
		g.Expect(errors.Is(err, platform.ErrTransient)).To(BeFalse())
	})

	t.Run("caller deadline", func(t *testing.T) {
		g := NewWithT(t)
		c, f := setup(t, Options{Timeout: time.Minute})
		f.reply = blocking(nil)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.ListRoles(ctx)
		g.Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue(), "%v", err)
	})

	t.Run("already cancelled", func(t *testing.T) {
		g := NewWithT(t)
		c, f := setup(t, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := c.DeleteAccount(ctx, "1")
		g.Expect(errors.Is(err, context.Canceled)).To(BeTrue(), "%v", err)
		g.Expect(f.requests()).To(BeEmpty())
	})
}

// A gateway that drops the connection without answering.
func TestDroppedConnectionIsTransient(t *testing.T) {
	for _, call := range []func(platform.Client) error{
		func(c platform.Client) error { _, err := c.ShopInfo(context.Background()); return err },
		func(c platform.Client) error {
			_, err := c.CreateAccount(context.Background(), platform.CreateAccount{Name: "x", Password: "pa55word!"}, "req-1")
			return err
		},
		func(c platform.Client) error { return c.SetPassword(context.Background(), "1", "pa55word!") },
	} {
		g := NewWithT(t)
		c, f := setup(t, Options{})
		f.reply = func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err)
			}
			_ = conn.Close()
		}
		err := call(c)
		t.Logf("dropped: %v", err)
		g.Expect(err).To(MatchError(platform.ErrTransient))
		g.Expect(platform.DetailOf(err)).To(ContainSubstring("EOF"))
		g.Expect(err.Error() + platform.DetailOf(err)).NotTo(ContainSubstring("pa55word!"))
	}
}

func TestConnectionRefusedIsTransientAndScrubbed(t *testing.T) {
	g := NewWithT(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close()
	// Contrived, to prove the guard: the main account (which is in the
	// URL, and so in url.Error's message) equals the access token.
	cfg := shopConfig(endpoint)
	cfg.MainAccount = "tok/en+T0K3N 秘"
	cfg.Credentials.AccessToken = cfg.MainAccount
	c, err := NewFactory(Options{Clock: testClock}).ClientFor(context.Background(), cfg)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.ShopInfo(context.Background())
	g.Expect(err).To(MatchError(platform.ErrTransient))
	detail := platform.DetailOf(err)
	t.Logf("refused: %v (detail %s)", err, detail)
	g.Expect(detail).To(ContainSubstring("[redacted]"))
	g.Expect(detail).To(ContainSubstring("refused"))
	g.Expect(detail).NotTo(ContainSubstring("T0K3N"))
	g.Expect(err.Error()).NotTo(ContainSubstring("T0K3N"))
}

// A gateway that echoes everything it was sent in its error messages: no
// token, secret, signature or password comes back in the error.
func TestErrorMessagesAreScrubbed(t *testing.T) {
	echo := func(status int, asJSON bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			msg := fmt.Sprintf("auth=%q sig=%s secret=%s escaped=%s body=%s",
				r.Header.Get(wire.HeaderAuthorization), r.Header.Get(wire.HeaderSignature),
				testSecret, url.QueryEscape(testToken), body)
			if asJSON {
				writeJSON(w, status, wire.ErrorBody{Error: wire.ErrorDetail{Code: wire.CodeInvalid, Message: msg, Field: testToken}})
				return
			}
			rawReply(status, "text/plain", msg)(w, r)
		}
	}
	for _, asJSON := range []bool{true, false} {
		g := NewWithT(t)
		c, f := setup(t, Options{})
		f.reply = echo(422, asJSON)
		ctx := context.Background()
		errs := []error{}
		_, err := c.CreateAccount(ctx, platform.CreateAccount{Name: "x", Password: "Pa55-w0rd\"<&>"}, "r")
		errs = append(errs, err)
		errs = append(errs, c.SetPassword(ctx, "1", "Pa55-w0rd\"<&>"))
		_, err = c.CheckCredentials(ctx, "x", "Pa55-w0rd\"<&>")
		errs = append(errs, err)
		_, err = c.VerifyAccount(ctx, "1", " 987654\n")
		errs = append(errs, err)
		_, err = c.ShopInfo(ctx)
		errs = append(errs, err)

		sigs := []string{}
		for _, r := range f.requests() {
			sigs = append(sigs, r.Header.Get(wire.HeaderSignature))
		}
		for i, err := range errs {
			t.Logf("json=%v: %v (detail %s)", asJSON, err, platform.DetailOf(err))
			g.Expect(err).To(MatchError(platform.ErrInvalid))
			msg := err.Error() + "\n" + platform.DetailOf(err)
			g.Expect(msg).To(ContainSubstring("[redacted]"))
			for _, secret := range append([]string{testToken, testSecret, "Pa55-w0rd", "987654", url.QueryEscape(testToken)}, sigs...) {
				g.Expect(msg).NotTo(ContainSubstring(secret), "call %d (json %v): %s", i, asJSON, msg)
			}
			g.Expect(platform.FieldOf(err)).NotTo(ContainSubstring(testToken))
		}
	}
}

func TestScrub(t *testing.T) {
	g := NewWithT(t)
	g.Expect(scrub("nothing to hide", "", "")).To(Equal("nothing to hide"))
	g.Expect(scrub("token abc and abc", "abc")).To(Equal("token [redacted] and [redacted]"))
	// The longer secret is removed whole even when it contains the shorter.
	g.Expect(scrub("x secret-long y secret", "secret", "secret-long")).To(Equal("x [redacted] y [redacted]"))
	// Escaped forms.
	g.Expect(scrub(`q=a+b%2Fc p=a%20b%2Fc j="a b/c\u003c" g="a b/c<\t"`, "a b/c", `a b/c<`, "a b/c<\t")).
		NotTo(ContainSubstring("a b"))
	g.Expect(scrub(`"pa\"ss"`, `pa"ss`)).To(Equal(`"[redacted]"`))
	// A replacement is not scanned again.
	g.Expect(scrub("red", "red", "[redacted]")).To(Equal("[redacted]"))
}

func TestParseRetryAfter(t *testing.T) {
	g := NewWithT(t)
	for in, want := range map[string]time.Duration{
		"":                     0,
		"0":                    0,
		"5":                    5 * time.Second,
		" 42 ":                 42 * time.Second,
		"-1":                   0,
		"1.5":                  0,
		"later":                0,
		"3600":                 time.Hour,
		"3601":                 MaxRetryAfter,
		"18446744073709551616": MaxRetryAfter,
		testNow.Add(30 * time.Second).Format(http.TimeFormat):     30 * time.Second,
		testNow.Add(-30 * time.Second).Format(http.TimeFormat):    0,
		testNow.Add(48 * time.Hour).Format(http.TimeFormat):       MaxRetryAfter,
		testNow.Add(10 * time.Second).Format(time.RFC850):         10 * time.Second,
		testNow.Add(10 * time.Second).Format(time.ANSIC):          10 * time.Second,
		"Sun, 22 Nov 2026 12:00:30 GMT":                           30 * time.Second,
		"Sun, 22 Nov 2026 12:00:30 +0800 (not an HTTP date form)": 0,
	} {
		g.Expect(parseRetryAfter(in, testNow)).To(Equal(want), "%q", in)
	}
	// Rounded up when the clock is mid-second.
	g.Expect(parseRetryAfter("Sun, 22 Nov 2026 12:00:30 GMT", testNow.Add(300*time.Millisecond))).To(Equal(30 * time.Second))
}

func TestEndpointValidation(t *testing.T) {
	f := NewFactory(Options{})
	for _, ok := range []string{
		"https://gw.example.com",
		"https://gw.example.com:8443/base/",
		"https://10.0.0.1",
		"HTTPS://GW.EXAMPLE.COM",
		"http://127.0.0.1:8080",
		"http://127.5.6.7",
		"http://[::1]:9000",
		"http://localhost:8080",
		"http://LocalHost",
	} {
		_, err := f.ClientFor(context.Background(), shopConfig(ok))
		NewWithT(t).Expect(err).NotTo(HaveOccurred(), ok)
	}
	for endpoint, msg := range map[string]string{
		"":                                "empty",
		"gw.example.com":                  "absolute URL",
		"//gw.example.com":                "scheme",
		"http://gw.example.com":           "plain http",
		"http://10.0.0.1:8080":            "loopback host",
		"http://0.0.0.0":                  "plain http",
		"http://localhost.evil.example":   "plain http",
		"http://127.0.0.1.nip.io":         "plain http",
		"http://[::ffff:10.0.0.1]":        "plain http",
		"ftp://gw.example.com":            `scheme "ftp"`,
		"mailto:ops@example.com":          "absolute URL",
		"https://user:hunter2@gw.example": "user info",
		"https://gw.example.com?x=1":      "query or fragment",
		"https://gw.example.com/#frag":    "query or fragment",
		"https://[::1":                    "not a valid URL",
		"https://gw.example.com/%zz":      "not a valid URL",
		"https://:443":                    "with a host",
	} {
		g := NewWithT(t)
		_, err := f.ClientFor(context.Background(), shopConfig(endpoint))
		g.Expect(err).To(MatchError(platform.ErrInvalid), endpoint)
		var pe *platform.Error
		g.Expect(errors.As(err, &pe)).To(BeTrue())
		g.Expect(pe.Field).To(Equal("endpoint"), endpoint)
		g.Expect(pe.Message).To(ContainSubstring(msg), endpoint)
		g.Expect(pe.Message).NotTo(ContainSubstring("hunter2"))
		_, retryable := platform.RetryAfter(err)
		g.Expect(retryable).To(BeFalse())
	}
	g := NewWithT(t)
	cfg := shopConfig("https://gw.example.com")
	cfg.MainAccount = " "
	_, err := f.ClientFor(context.Background(), cfg)
	g.Expect(platform.FieldOf(err)).To(Equal("mainAccount"))

	base, err := baseURL(shopConfig("https://gw.example.com:8443/base/"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(base).To(Equal("https://gw.example.com:8443/base" + escapedPrefix))
}

// https works only with the server's CA in the client: the default client
// verifies the certificate against the system roots and refuses the test
// server's self-signed one.
func TestTLSIsVerified(t *testing.T) {
	f := &fake{reply: answer(200, wire.ShopInfo{Platform: platform.Taobao, MainAccount: testMain, SeatsTotal: 5})}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	g := NewWithT(t)
	g.Expect(srv.URL).To(HavePrefix("https://127.0.0.1:"))

	c, err := NewFactory(Options{Clock: testClock}).ClientFor(context.Background(), shopConfig(srv.URL))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.ShopInfo(context.Background())
	g.Expect(err).To(MatchError(platform.ErrTransient))
	g.Expect(platform.DetailOf(err)).To(ContainSubstring("certificate"))
	g.Expect(err.Error()).NotTo(ContainSubstring("certificate"))
	g.Expect(f.requests()).To(BeEmpty())

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	c, err = NewFactory(Options{Clock: testClock, HTTPClient: trusting}).ClientFor(context.Background(), shopConfig(srv.URL))
	g.Expect(err).NotTo(HaveOccurred())
	info, err := c.ShopInfo(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.SeatsTotal).To(Equal(int32(5)))
	g.Expect(f.last(t).Verify).NotTo(HaveOccurred())
}

func TestDefaultHTTPClient(t *testing.T) {
	g := NewWithT(t)
	hc := platform.NewHTTPClient()
	tr, ok := hc.Transport.(*http.Transport)
	g.Expect(ok).To(BeTrue())
	g.Expect(tr.TLSClientConfig.InsecureSkipVerify).To(BeFalse())
	g.Expect(tr.TLSClientConfig.MinVersion).To(BeNumerically(">=", tls.VersionTLS12))
	g.Expect(tr.TLSHandshakeTimeout).To(BeNumerically(">", 0))
	g.Expect(tr.Proxy).NotTo(BeNil())
	g.Expect(hc.CheckRedirect(nil, nil)).To(MatchError(http.ErrUseLastResponse))

	fc := NewFactory(Options{}).(*factory)
	g.Expect(fc.opts.Timeout).To(Equal(DefaultTimeout))
	g.Expect(fc.opts.HTTPClient).NotTo(BeNil())
	g.Expect(fc.opts.Clock).NotTo(BeNil())
}

// The driver composes with the per-shop rate limiter.
func TestLimitedFactoryWrapsTheGateway(t *testing.T) {
	g := NewWithT(t)
	fk := &fake{reply: answer(200, wire.RoleList{})}
	srv := httptest.NewServer(fk)
	t.Cleanup(srv.Close)
	lf := platform.NewLimitedFactory(NewFactory(Options{Clock: testClock}))
	c, err := lf.ClientFor(context.Background(), shopConfig(srv.URL))
	g.Expect(err).NotTo(HaveOccurred())
	roles, err := c.ListRoles(context.Background())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(roles).To(BeEmpty())
	_, err = lf.ClientFor(context.Background(), shopConfig("http://gw.example.com"))
	g.Expect(err).To(MatchError(platform.ErrInvalid))
}

// FuzzErrorResponse: the driver's parsing of any error answer (status,
// Retry-After, body) never panics, yields a sentinel with a bounded
// Retry-After, and never lets the secret through.
func FuzzErrorResponse(f *testing.F) {
	const secret = "s3cr3t-T0K"
	f.Add(422, "", []byte(`{"error":{"code":"invalid","message":"bad s3cr3t-T0K","field":"s3cr3t-T0K"}}`))
	f.Add(429, "5", []byte(`{"error":{"code":"rate_limited"}}`))
	f.Add(503, "Sun, 22 Nov 2026 12:00:30 GMT", []byte("<html>s3cr\x00\x013t-T0K</html>"))
	f.Add(302, "-7", []byte{0xff, 0xfe})
	f.Add(0, "99999999999999999999999", []byte(`{"error":{"code":"","message":"s3cr3t\u002dT0K"}}`))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		h := http.Header{}
		h.Set(wire.HeaderRetryAfter, retryAfter)
		err := errorFromResponse(status, h, body, testNow, secret)
		var pe *platform.Error
		if !errors.As(err, &pe) || pe.Kind == nil {
			t.Fatalf("got %T %v", err, err)
		}
		if pe.RetryAfter < 0 || pe.RetryAfter > MaxRetryAfter {
			t.Fatalf("RetryAfter %v", pe.RetryAfter)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("the secret leaked: %q", err.Error())
		}
	})
}

// A 60 KB error message from the gateway comes back cut to
// platform.MaxMessageBytes, marked as cut, with the field bounded too.
func TestLongErrorMessageIsBounded(t *testing.T) {
	g := NewWithT(t)
	c, f := setup(t, Options{})
	f.reply = errorReply(422, wire.CodeInvalid, strings.Repeat("f", 1000), strings.Repeat("錯", 20<<10))
	_, err := c.GetAccount(context.Background(), "9")
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	var pe *platform.Error
	g.Expect(errors.As(err, &pe)).To(BeTrue())
	g.Expect(len(pe.Message)).To(BeNumerically("<=", platform.MaxMessageBytes))
	g.Expect(pe.Message).To(HaveSuffix(platform.CutMarker))
	g.Expect(len(pe.Field)).To(BeNumerically("<=", platform.MaxFieldBytes))
	g.Expect(len(err.Error())).To(BeNumerically("<", 2*platform.MaxMessageBytes))
}

// A gateway of the protocol's first revision leaves phoneVerification out
// of GET /shop: on Douyin that means the account first, elsewhere none.
func TestShopInfoFromAFirstRevisionGateway(t *testing.T) {
	g := NewWithT(t)
	for p, want := range map[platform.Name]platform.PhoneVerification{
		platform.Douyin: platform.PhoneVerificationAfterCreate, platform.Pinduoduo: platform.PhoneVerificationNone,
	} {
		c, f := setup(t, Options{})
		f.reply = answer(200, map[string]any{"platform": p, "mainAccount": testMain, "seatsUsed": 1, "seatsTotal": 5})
		info, err := c.ShopInfo(context.Background())
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(info.PhoneVerification).To(Equal(want), "%s", p)
	}
}
