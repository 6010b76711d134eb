package wire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

const (
	appKey    = "app-key"
	appSecret = "app-secret"
	token     = "access-token"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// signed returns a signed request as a server receives it.
func signed(t *testing.T, method, target string, body []byte, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	wire.SignRequest(req, appKey, appSecret, token, body, at)
	return req
}

const target = "https://gw.example.com/v1/shops/taobao/%E5%B0%8F%E7%BA%A2%E5%BA%97/accounts?pageSize=50&page=2&b=2&b=1&a=x+y"

func TestSignRequestSetsHeadersAndVerifies(t *testing.T) {
	g := NewWithT(t)
	body := []byte(`{"name":"xiaohong"}`)
	req := signed(t, http.MethodPost, target, body, now)

	g.Expect(req.Header.Get(wire.HeaderAppKey)).To(Equal(appKey))
	g.Expect(req.Header.Get(wire.HeaderTimestamp)).To(Equal(strconv.FormatInt(now.Unix(), 10)))
	g.Expect(req.Header.Get(wire.HeaderAuthorization)).To(Equal("Bearer " + token))
	g.Expect(wire.BearerToken(req)).To(Equal(token))
	g.Expect(req.Header.Get(wire.HeaderNonce)).To(MatchRegexp(`^[0-9a-f]{32}$`))
	g.Expect(req.Header.Get(wire.HeaderSignature)).To(MatchRegexp(`^[0-9a-f]{64}$`))
	g.Expect(req.Header.Get(wire.HeaderSignature)).To(Equal(
		wire.Sign(appSecret, "POST", req.URL.EscapedPath(), req.URL.Query(), req.Header.Get(wire.HeaderTimestamp),
			req.Header.Get(wire.HeaderNonce), body)))

	g.Expect(wire.VerifyRequest(req, appSecret, body, now)).To(Succeed())
	// Within the allowed skew either way.
	g.Expect(wire.VerifyRequest(req, appSecret, body, now.Add(wire.MaxClockSkew))).To(Succeed())
	g.Expect(wire.VerifyRequest(req, appSecret, body, now.Add(-wire.MaxClockSkew))).To(Succeed())
}

// Every signing draws a new nonce, so two identical requests in the same
// second differ (and a server can tell a retry from a replay).
func TestSignRequestDrawsAFreshNonceEachTime(t *testing.T) {
	g := NewWithT(t)
	a := signed(t, http.MethodGet, target, nil, now)
	b := signed(t, http.MethodGet, target, nil, now)
	g.Expect(a.Header.Get(wire.HeaderNonce)).NotTo(Equal(b.Header.Get(wire.HeaderNonce)))
	g.Expect(a.Header.Get(wire.HeaderSignature)).NotTo(Equal(b.Header.Get(wire.HeaderSignature)))
	g.Expect(wire.VerifyRequest(a, appSecret, nil, now)).To(Succeed())
	g.Expect(wire.VerifyRequest(b, appSecret, nil, now)).To(Succeed())
	g.Expect(wire.NewNonce()).To(MatchRegexp(`^[0-9a-f]{32}$`))
}

func TestStringToSignIsCanonical(t *testing.T) {
	g := NewWithT(t)
	q := url.Values{"pageSize": {"50"}, "page": {"2"}, "b": {"2", "1"}, "a": {"x y"}}
	s := wire.StringToSign("post", "/v1/shops/taobao/m/accounts", q, "1700000000", "00112233445566778899aabbccddeeff", nil)
	g.Expect(s).To(Equal("POST\n/v1/shops/taobao/m/accounts\na=x+y&b=2&b=1&page=2&pageSize=50\n1700000000\n" +
		"00112233445566778899aabbccddeeff\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
	// Query order in the URL does not matter; value order of a repeated key does.
	g.Expect(wire.Sign("k", "GET", "/p", url.Values{"a": {"1"}, "b": {"2"}}, "1", "n", nil)).
		To(Equal(wire.Sign("k", "GET", "/p", url.Values{"b": {"2"}, "a": {"1"}}, "1", "n", nil)))
	g.Expect(wire.Sign("k", "GET", "/p", url.Values{"a": {"1", "2"}}, "1", "n", nil)).
		NotTo(Equal(wire.Sign("k", "GET", "/p", url.Values{"a": {"2", "1"}}, "1", "n", nil)))
}

func TestVerifyRequestRejectsTampering(t *testing.T) {
	body := []byte(`{"name":"xiaohong"}`)
	for name, tc := range map[string]struct {
		tamper func(r *http.Request) (secret string, body []byte, at time.Time)
		want   error
	}{
		"body": {func(r *http.Request) (string, []byte, time.Time) {
			return appSecret, []byte(`{"name":"xiaoming"}`), now
		}, wire.ErrBadSignature},
		"empty body": {func(r *http.Request) (string, []byte, time.Time) {
			return appSecret, nil, now
		}, wire.ErrBadSignature},
		"path": {func(r *http.Request) (string, []byte, time.Time) {
			r.URL.Path, r.URL.RawPath = "/v1/shops/taobao/other/accounts", ""
			return appSecret, body, now
		}, wire.ErrBadSignature},
		"path escaping": {func(r *http.Request) (string, []byte, time.Time) {
			r.URL.RawPath = "/v1/shops/taobao/%e5%b0%8f%e7%ba%a2%e5%ba%97/accounts"
			return appSecret, body, now
		}, wire.ErrBadSignature},
		"query value": {func(r *http.Request) (string, []byte, time.Time) {
			r.URL.RawQuery = "pageSize=200&page=2&b=2&b=1&a=x+y"
			return appSecret, body, now
		}, wire.ErrBadSignature},
		"query added": {func(r *http.Request) (string, []byte, time.Time) {
			r.URL.RawQuery += "&c=1"
			return appSecret, body, now
		}, wire.ErrBadSignature},
		"query removed": {func(r *http.Request) (string, []byte, time.Time) {
			r.URL.RawQuery = ""
			return appSecret, body, now
		}, wire.ErrBadSignature},
		"method": {func(r *http.Request) (string, []byte, time.Time) {
			r.Method = http.MethodPut
			return appSecret, body, now
		}, wire.ErrBadSignature},
		"nonce": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Set(wire.HeaderNonce, wire.NewNonce())
			return appSecret, body, now
		}, wire.ErrBadSignature},
		"nonce not hex": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Set(wire.HeaderNonce, "zz112233445566778899aabbccddeeff")
			return appSecret, body, now
		}, wire.ErrBadNonce},
		"nonce too short": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Set(wire.HeaderNonce, "00112233")
			return appSecret, body, now
		}, wire.ErrBadNonce},
		"uppercase nonce": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Set(wire.HeaderNonce, strings.ToUpper(r.Header.Get(wire.HeaderNonce)))
			return appSecret, body, now
		}, wire.ErrBadNonce},
		"no nonce": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Del(wire.HeaderNonce)
			return appSecret, body, now
		}, wire.ErrMissingAuth},
		"timestamp within skew": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Set(wire.HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10))
			return appSecret, body, now
		}, wire.ErrBadSignature},
		"signature": {func(r *http.Request) (string, []byte, time.Time) {
			sig := []byte(r.Header.Get(wire.HeaderSignature))
			sig[0] ^= 1
			r.Header.Set(wire.HeaderSignature, string(sig))
			return appSecret, body, now
		}, wire.ErrBadSignature},
		"uppercase signature": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Set(wire.HeaderSignature, string(bytes.ToUpper([]byte(r.Header.Get(wire.HeaderSignature)))))
			return appSecret, body, now
		}, wire.ErrBadSignature},
		"wrong secret": {func(r *http.Request) (string, []byte, time.Time) {
			return "other-secret", body, now
		}, wire.ErrBadSignature},
		"stale": {func(r *http.Request) (string, []byte, time.Time) {
			return appSecret, body, now.Add(wire.MaxClockSkew + time.Second)
		}, wire.ErrClockSkew},
		"future": {func(r *http.Request) (string, []byte, time.Time) {
			return appSecret, body, now.Add(-wire.MaxClockSkew - time.Second)
		}, wire.ErrClockSkew},
		"timestamp not a number": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Set(wire.HeaderTimestamp, "2026-11-22T12:00:00Z")
			return appSecret, body, now
		}, wire.ErrBadTimestamp},
		"timestamp in milliseconds": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Set(wire.HeaderTimestamp, strconv.FormatInt(now.UnixMilli(), 10))
			return appSecret, body, now
		}, wire.ErrClockSkew},
		"no app key": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Del(wire.HeaderAppKey)
			return appSecret, body, now
		}, wire.ErrMissingAuth},
		"no timestamp": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Del(wire.HeaderTimestamp)
			return appSecret, body, now
		}, wire.ErrMissingAuth},
		"no signature": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Del(wire.HeaderSignature)
			return appSecret, body, now
		}, wire.ErrMissingAuth},
		"no authorization": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Del(wire.HeaderAuthorization)
			return appSecret, body, now
		}, wire.ErrMissingAuth},
		"not a bearer token": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Set(wire.HeaderAuthorization, "Basic "+token)
			return appSecret, body, now
		}, wire.ErrMissingAuth},
		"empty bearer token": {func(r *http.Request) (string, []byte, time.Time) {
			r.Header.Set(wire.HeaderAuthorization, "Bearer ")
			return appSecret, body, now
		}, wire.ErrMissingAuth},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			req := signed(t, http.MethodPost, target, body, now)
			g.Expect(wire.VerifyRequest(req, appSecret, body, now)).To(Succeed(), "untampered")
			secret, b, at := tc.tamper(req)
			err := wire.VerifyRequest(req, secret, b, at)
			g.Expect(err).To(MatchError(tc.want))
			// The message is safe to send back: no secret, token or signature.
			g.Expect(err.Error()).NotTo(ContainSubstring(appSecret))
			g.Expect(err.Error()).NotTo(ContainSubstring(token))
			if n := req.Header.Get(wire.HeaderNonce); n != "" {
				g.Expect(err.Error()).NotTo(ContainSubstring(n))
			}
		})
	}
}

// The token is not covered by the signature (the server looks it up), so
// swapping it keeps the signature valid; the server must check it.
func TestVerifyRequestLeavesTokenAndKeyToTheCaller(t *testing.T) {
	g := NewWithT(t)
	req := signed(t, http.MethodGet, target, nil, now)
	req.Header.Set(wire.HeaderAuthorization, "Bearer other")
	req.Header.Set(wire.HeaderAppKey, "other")
	g.Expect(wire.VerifyRequest(req, appSecret, nil, now)).To(Succeed())
	g.Expect(wire.BearerToken(req)).To(Equal("other"))
}

func TestShopPrefixEscapesTheMainAccount(t *testing.T) {
	g := NewWithT(t)
	g.Expect(wire.ShopPrefix(platform.Taobao, "小红店")).To(Equal("/v1/shops/taobao/%E5%B0%8F%E7%BA%A2%E5%BA%97"))
	g.Expect(wire.ShopPrefix(platform.Douyin, "a/b c")).To(Equal("/v1/shops/douyin/a%2Fb%20c"))
}

var sentinels = []error{
	platform.ErrNotFound, platform.ErrNameTaken, platform.ErrInvalid, platform.ErrUnauthorized,
	platform.ErrForbidden, platform.ErrRateLimited, platform.ErrQuotaExhausted, platform.ErrConflict,
	platform.ErrNotSupported, platform.ErrTransient, platform.ErrCodeExpired,
}

func TestErrorForAndFromRoundTripEverySentinel(t *testing.T) {
	want := map[error]struct {
		status int
		code   string
	}{
		platform.ErrNotFound:       {404, wire.CodeNotFound},
		platform.ErrNameTaken:      {409, wire.CodeNameTaken},
		platform.ErrConflict:       {409, wire.CodeConflict},
		platform.ErrInvalid:        {422, wire.CodeInvalid},
		platform.ErrCodeExpired:    {422, wire.CodeCodeExpired},
		platform.ErrUnauthorized:   {401, wire.CodeUnauthorized},
		platform.ErrForbidden:      {403, wire.CodeForbidden},
		platform.ErrQuotaExhausted: {402, wire.CodeQuotaExceeded},
		platform.ErrRateLimited:    {429, wire.CodeRateLimited},
		platform.ErrNotSupported:   {501, wire.CodeNotSupported},
		platform.ErrTransient:      {503, wire.CodeUnavailable},
	}
	g := NewWithT(t)
	g.Expect(want).To(HaveLen(len(sentinels)))
	for _, kind := range sentinels {
		in := platform.NewError(kind, "name", "account %q: %s", "xiaohong", kind)
		status, body := wire.ErrorFor(in)
		g.Expect(status).To(Equal(want[kind].status), "%v", kind)
		g.Expect(body.Error).To(Equal(wire.ErrorDetail{Code: want[kind].code, Message: in.Message, Field: "name"}), "%v", kind)

		// Through JSON, as on the wire.
		data, err := json.Marshal(body)
		g.Expect(err).NotTo(HaveOccurred())
		var back wire.ErrorBody
		g.Expect(json.Unmarshal(data, &back)).To(Succeed())

		out := wire.ErrorFrom(status, &back, 7*time.Second)
		g.Expect(errors.Is(out, kind)).To(BeTrue(), "%v -> %v", kind, out)
		var pe *platform.Error
		g.Expect(errors.As(out, &pe)).To(BeTrue())
		g.Expect(pe.Kind).To(Equal(kind))
		g.Expect(pe.Field).To(Equal("name"))
		g.Expect(pe.Message).To(Equal(in.Message))
		g.Expect(pe.RetryAfter).To(Equal(7 * time.Second))
		g.Expect(platform.FieldOf(out)).To(Equal("name"))

		// A wrapped error maps the same way.
		wrappedStatus, wrapped := wire.ErrorFor(errors.Join(errors.New("context"), in))
		g.Expect(wrappedStatus).To(Equal(status))
		g.Expect(wrapped.Error.Code).To(Equal(want[kind].code))
	}
}

func TestErrorForUnknownIsInternalAndTransient(t *testing.T) {
	g := NewWithT(t)
	status, body := wire.ErrorFor(errors.New("disk on fire"))
	g.Expect(status).To(Equal(http.StatusInternalServerError))
	g.Expect(body.Error).To(Equal(wire.ErrorDetail{Code: wire.CodeInternal, Message: "disk on fire"}))
	err := wire.ErrorFrom(status, &body, 0)
	g.Expect(err).To(MatchError(platform.ErrTransient))
	g.Expect(err.Error()).To(ContainSubstring("disk on fire"))
}

// Without a body (or with a code it does not know) the client judges by
// the status; 409 without a code is a conflict, never name_taken.
func TestErrorFromByStatus(t *testing.T) {
	for status, kind := range map[int]error{
		400: platform.ErrInvalid, 401: platform.ErrUnauthorized, 402: platform.ErrQuotaExhausted,
		403: platform.ErrForbidden, 404: platform.ErrNotFound, 405: platform.ErrInvalid,
		409: platform.ErrConflict, 418: platform.ErrInvalid, 422: platform.ErrInvalid,
		429: platform.ErrRateLimited, 500: platform.ErrTransient, 501: platform.ErrNotSupported,
		502: platform.ErrTransient, 503: platform.ErrTransient, 504: platform.ErrTransient,
	} {
		g := NewWithT(t)
		err := wire.ErrorFrom(status, nil, time.Second)
		g.Expect(err).To(MatchError(kind), "status %d", status)
		var pe *platform.Error
		g.Expect(errors.As(err, &pe)).To(BeTrue())
		g.Expect(pe.RetryAfter).To(Equal(time.Second))

		unknown := wire.ErrorFrom(status, &wire.ErrorBody{Error: wire.ErrorDetail{Code: "martian", Message: "what", Field: "f"}}, 0)
		g.Expect(unknown).To(MatchError(kind), "status %d, unknown code", status)
		g.Expect(platform.FieldOf(unknown)).To(Equal("f"))
		g.Expect(unknown.Error()).To(ContainSubstring("what"))
	}
	// 422 without a code is invalid input, not an expired code: a client
	// reads an older gateway's expired code as invalid.
	NewWithT(t).Expect(wire.ErrorFrom(422, nil, 0)).NotTo(MatchError(platform.ErrCodeExpired))
	// The code wins over the status.
	NewWithT(t).Expect(wire.ErrorFrom(500, &wire.ErrorBody{Error: wire.ErrorDetail{Code: wire.CodeNameTaken}}, 0)).
		To(MatchError(platform.ErrNameTaken))
}

func TestConversionsRoundTrip(t *testing.T) {
	g := NewWithT(t)
	acct := platform.Account{
		ID: "1001", Name: "xiaohong", Login: "m:xiaohong",
		AccountState: platform.AccountState{
			Profile:          platform.Profile{DisplayName: "小红", Phone: "13800000000"},
			RoleIDs:          []string{"1", "2"},
			ExtraPermissions: []string{"a.b"},
			Seat:             &platform.Seat{Chat: true, Capacity: 5, Presence: platform.PresenceBusy},
			Security:         platform.Security{PhoneProtection: true},
		},
		EffectivePermissions: []string{"a", "a.b"},
		PasswordChangedAt:    now,
	}
	data, err := json.Marshal(wire.FromAccount(acct))
	g.Expect(err).NotTo(HaveOccurred())
	var back wire.Account
	g.Expect(json.Unmarshal(data, &back)).To(Succeed())
	g.Expect(back.ToAccount()).To(Equal(acct))

	// Empty lists are [] on the wire and nil in the domain.
	data, err = json.Marshal(wire.FromAccountState(platform.AccountState{}))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(ContainSubstring(`"roleIds":[]`))
	g.Expect(string(data)).NotTo(ContainSubstring(`"seat"`))

	role := platform.Role{ID: "7", RoleSpec: platform.RoleSpec{Name: "客服", Permissions: []string{"x"}}}
	g.Expect(wire.FromRole(role).ToRole()).To(Equal(role))

	// No verification: no field on the wire, nil in the domain.
	g.Expect(string(data)).NotTo(ContainSubstring("verification"))
	data, err = json.Marshal(wire.FromAccount(acct))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).NotTo(ContainSubstring("verification"))

	// A verification round-trips, with the documented JSON names.
	acct.Verification = &platform.Verification{Verified: false, Phone: "138****0000", SentAt: now,
		ExpiresAt: now.Add(5 * time.Minute), AttemptsLeft: 4}
	w := wire.FromAccount(acct)
	data, err = json.Marshal(w)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(ContainSubstring(`"verification":{"verified":false,"phone":"138****0000",` +
		`"sentAt":"2026-11-22T12:00:00Z","expiresAt":"2026-11-22T12:05:00Z","attemptsLeft":4}`))
	back = wire.Account{}
	g.Expect(json.Unmarshal(data, &back)).To(Succeed())
	g.Expect(back.ToAccount()).To(Equal(acct))
	// The conversions copy: changing one side leaves the other alone.
	w.Verification.AttemptsLeft = 0
	g.Expect(acct.Verification.AttemptsLeft).To(Equal(4))
	d := back.ToAccount()
	d.Verification.Verified = true
	g.Expect(back.Verification.Verified).To(BeFalse())

	data, err = json.Marshal(wire.VerifyCode{Code: "012345"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(Equal(`{"code":"012345"}`))
}

// FuzzErrorFrom: mapping any status and any body bytes (as the driver
// parses them) never panics, always yields one of the sentinels with the
// given Retry-After, and a known code always wins and round-trips through
// ErrorFor.
func FuzzErrorFrom(f *testing.F) {
	f.Add(404, []byte(`{"error":{"code":"not_found","message":"no role","field":"id"}}`), int64(0))
	f.Add(409, []byte(`{"error":{"code":"name_taken","message":"taken","field":"name"}}`), int64(0))
	f.Add(429, []byte(`{"error":{"code":"rate_limited"}}`), int64(3))
	f.Add(502, []byte(`<html>bad gateway</html>`), int64(0))
	f.Add(200, []byte(`{"error":null}`), int64(-1))
	f.Add(-1, []byte(``), int64(1<<62))
	f.Add(999, []byte(`{"error":{"code":"martian"}}`), int64(0))
	f.Fuzz(func(t *testing.T, status int, data []byte, retry int64) {
		var body *wire.ErrorBody
		var eb wire.ErrorBody
		if json.Unmarshal(data, &eb) == nil {
			body = &eb
		}
		err := wire.ErrorFrom(status, body, time.Duration(retry))
		var pe *platform.Error
		if !errors.As(err, &pe) {
			t.Fatalf("ErrorFrom(%d) = %T %v, want *platform.Error", status, err, err)
		}
		known := false
		for _, s := range sentinels {
			if pe.Kind == s {
				known = true
			}
		}
		if !known {
			t.Fatalf("ErrorFrom(%d) kind %v is not a sentinel", status, pe.Kind)
		}
		if pe.RetryAfter != time.Duration(retry) {
			t.Fatalf("RetryAfter %v, want %v", pe.RetryAfter, time.Duration(retry))
		}
		_ = err.Error()
		_, _ = platform.RetryAfter(err)
		if body == nil {
			return
		}
		againStatus, again := wire.ErrorFor(err)
		if again.Error.Message != pe.Message || again.Error.Field != pe.Field {
			t.Fatalf("ErrorFor lost the detail: %+v vs %+v", again.Error, pe)
		}
		switch body.Error.Code {
		case wire.CodeNotFound, wire.CodeNameTaken, wire.CodeConflict, wire.CodeInvalid, wire.CodeUnauthorized,
			wire.CodeForbidden, wire.CodeQuotaExceeded, wire.CodeRateLimited, wire.CodeNotSupported, wire.CodeUnavailable:
			if again.Error.Code != body.Error.Code {
				t.Fatalf("code %q came back as %q (status %d)", body.Error.Code, again.Error.Code, againStatus)
			}
		}
	})
}

// FuzzVerifyRequest: verification of arbitrary requests never panics and
// never accepts a signature it did not compute; a request signed with
// SignRequest always verifies, and changing its body never does.
func FuzzVerifyRequest(f *testing.F) {
	f.Add("POST", "/v1/shops/taobao/m/accounts", "page=1&pageSize=50", []byte(`{"name":"x"}`), "s", "1795348800",
		"00112233445566778899aabbccddeeff", "deadbeef")
	f.Add("GET", "/v1/shops/taobao/%E5%B0%8F/roles/1", "", []byte(nil), "", "", "", "")
	f.Add("delete", "/a%2Fb", "a=1&a=2&%zz", []byte{0xff}, "secret", "-1", "not-hex", "")
	f.Add("PUT", "", "b=%20&a", []byte("{}"), "x", "99999999999999999999", "00112233445566778899AABBCCDDEEFF", "zz")
	f.Add("GET", "/v1/shops/taobao/m/shop", "", []byte(nil), "s", "1795348800", "00112233445566778899aabbccddeef\n", "deadbeef")
	f.Fuzz(func(t *testing.T, method, rawPath, rawQuery string, body []byte, secret, ts, nonce, sig string) {
		u, err := url.Parse("https://gw.example.com" + rawPath)
		if err != nil {
			return
		}
		u.RawQuery = rawQuery
		req := &http.Request{Method: method, URL: u, Header: http.Header{}}
		req.Header.Set(wire.HeaderAppKey, appKey)
		req.Header.Set(wire.HeaderAuthorization, "Bearer "+token)
		req.Header.Set(wire.HeaderTimestamp, ts)
		req.Header.Set(wire.HeaderNonce, nonce)
		req.Header.Set(wire.HeaderSignature, sig)
		if err := wire.VerifyRequest(req, secret, body, now); err == nil {
			if sig != wire.Sign(secret, method, u.EscapedPath(), u.Query(), ts, nonce, body) {
				t.Fatalf("accepted a signature it did not compute")
			}
		}

		wire.SignRequest(req, appKey, secret, token, body, now)
		if err := wire.VerifyRequest(req, secret, body, now); err != nil {
			t.Fatalf("a signed request does not verify: %v", err)
		}
		if n := req.Header.Get(wire.HeaderNonce); n == nonce || len(n) != wire.NonceLen {
			t.Fatalf("SignRequest kept or malformed the nonce: %q", n)
		}
		tampered := append(bytes.Clone(body), 'x')
		if err := wire.VerifyRequest(req, secret, tampered, now); !errors.Is(err, wire.ErrBadSignature) {
			t.Fatalf("a tampered body gave %v, want ErrBadSignature", err)
		}
	})
}

// FuzzStringToSignIsInjective: two different requests never give the same
// string to sign, so a signature for one is never valid for another. Two
// requests are the same when they send the same bytes: the method (signed
// in upper case, so "get" and "GET" are one method here; shopsim routes
// only upper-case ones), the escaped path, the query's values per key in
// order (the key order and keys without values are not sent), timestamp,
// nonce and body. Paths are built as a client builds them, from an
// unescaped path (EscapedPath never has a line break).
func FuzzStringToSignIsInjective(f *testing.F) {
	f.Add("GET", "/v1/shops/taobao/m/shop", "a=1&b=2", "1795348800", "00112233445566778899aabbccddeeff", []byte(nil),
		"GET", "/v1/shops/taobao/m/shop", "b=2&a=1", "1795348800", "00112233445566778899aabbccddeeff", []byte(nil))
	f.Add("POST", "/a\nb", "", "1", "n", []byte("x"), "POST", "/a", "b", "1", "n", []byte("x"))
	f.Add("PUT", "/a b", "k=v&k=w", "12", "n", []byte("{}"), "PUT", "/a%20b", "k=w&k=v", "1", "2n", []byte("{}"))
	f.Add("DELETE", "/x", "a=&b", "", "", []byte{}, "DELETE", "/x", "a&b=", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, m1, p1, q1, ts1, n1 string, b1 []byte, m2, p2, q2, ts2, n2 string, b2 []byte) {
		type req struct {
			method, path, ts, nonce string
			query                   url.Values
			body                    []byte
		}
		build := func(method, path, rawQuery, ts, nonce string, body []byte) (req, bool) {
			// A method is an HTTP token; a timestamp is decimal digits with
			// an optional sign (strconv.ParseInt) and a nonce 32 hex digits
			// (VerifyRequest refuses anything else before the signature).
			if method == "" || strings.ContainsFunc(method, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) }) {
				return req{}, false
			}
			if _, err := strconv.ParseInt(ts, 10, 64); err != nil || strings.Contains(nonce, "\n") {
				return req{}, false
			}
			q, err := url.ParseQuery(rawQuery)
			if err != nil {
				return req{}, false
			}
			u := url.URL{Path: path}
			return req{method: strings.ToUpper(method), path: u.EscapedPath(), ts: ts, nonce: nonce, query: q, body: body}, true
		}
		r1, ok1 := build(m1, p1, q1, ts1, n1, b1)
		r2, ok2 := build(m2, p2, q2, ts2, n2, b2)
		if !ok1 || !ok2 {
			return
		}
		s1 := wire.StringToSign(r1.method, r1.path, r1.query, r1.ts, r1.nonce, r1.body)
		s2 := wire.StringToSign(r2.method, r2.path, r2.query, r2.ts, r2.nonce, r2.body)
		same := r1.method == r2.method && r1.path == r2.path && r1.ts == r2.ts && r1.nonce == r2.nonce &&
			bytes.Equal(r1.body, r2.body) && sameQuery(r1.query, r2.query)
		if (s1 == s2) != same {
			t.Fatalf("requests %+v and %+v: strings equal %v, requests the same %v", r1, r2, s1 == s2, same)
		}
	})
}

// sameQuery compares queries as sent: keys without values are not sent.
func sameQuery(a, b url.Values) bool {
	strip := func(q url.Values) url.Values {
		out := url.Values{}
		for k, vs := range q {
			if len(vs) > 0 {
				out[k] = vs
			}
		}
		return out
	}
	return reflect.DeepEqual(strip(a), strip(b))
}
