package shopsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

func TestErrorRate(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{ErrorRate: 1}, AdminToken: adminToken})
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, wire.PathShop},
		{http.MethodGet, wire.PathAccounts},
		{http.MethodPost, wire.PathRoles},
		{http.MethodDelete, at(wire.PathAccount, "1")},
		{http.MethodGet, "/unknown"},
	} {
		r := f.call(c.method, c.path, wire.RoleSpec{Name: "cs"}, sig{})
		expectError(t, r, http.StatusServiceUnavailable, wire.CodeUnavailable, "")
		f.g.Expect(r.header.Get(wire.HeaderRetryAfter)).To(Equal("1"))
	}
	f.g.Expect(f.engine.Calls()).To(BeEmpty(), "no call reached the engine")
	// Never the web page or the admin endpoints.
	f.g.Expect(f.get("/", "").status).To(Equal(http.StatusOK))
	f.g.Expect(f.get(AdminPathFaults, adminToken).status).To(Equal(http.StatusOK))

	f.srv.SetFaults(Faults{})
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{RateLimit: 1}})
	g := f.g
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	r := f.call(http.MethodGet, wire.PathShop, nil, sig{})
	expectError(t, r, http.StatusTooManyRequests, wire.CodeRateLimited, "")
	secs, err := strconv.Atoi(r.header.Get(wire.HeaderRetryAfter))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(secs).To(BeNumerically(">=", 1))
	// The limit is per shop.
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{shop: platform.Pinduoduo})
	// A second later the bucket has a token again.
	f.clock.Advance(time.Second)
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	expectError(t, f.call(http.MethodGet, wire.PathShop, nil, sig{}), http.StatusTooManyRequests, wire.CodeRateLimited, "")
	// The answer maps to a retryable error with the wait.
	r = f.call(http.MethodGet, wire.PathShop, nil, sig{})
	d := wireError(t, r)
	err = wire.ErrorFrom(r.status, &wire.ErrorBody{Error: d}, time.Duration(secs)*time.Second)
	g.Expect(err).To(MatchError(platform.ErrRateLimited))
	wait, retry := platform.RetryAfter(err)
	g.Expect(retry).To(BeTrue())
	g.Expect(wait).To(BeNumerically(">=", time.Second))

	// Half a request per second: the wait is rounded up to whole seconds.
	f.srv.SetFaults(Faults{RateLimit: 0.5})
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	r = f.call(http.MethodGet, wire.PathShop, nil, sig{})
	g.Expect(r.status).To(Equal(http.StatusTooManyRequests))
	g.Expect(r.header.Get(wire.HeaderRetryAfter)).To(Equal("2"))
	f.clock.Advance(1500 * time.Millisecond)
	g.Expect(f.call(http.MethodGet, wire.PathShop, nil, sig{}).header.Get(wire.HeaderRetryAfter)).To(Equal("1"))

	// A burst of floor(rate) calls passes.
	f.srv.SetFaults(Faults{RateLimit: 5})
	for range 5 {
		f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	}
	g.Expect(f.call(http.MethodGet, wire.PathShop, nil, sig{}).status).To(Equal(http.StatusTooManyRequests))
	f.clock.Advance(200 * time.Millisecond)
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})

	// Unlimited again.
	f.srv.SetFaults(Faults{})
	for range 10 {
		f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	}
	// Never the web page.
	f.srv.SetFaults(Faults{RateLimit: 1})
	for range 3 {
		g.Expect(f.get("/", "").status).To(Equal(http.StatusOK))
	}
}

func TestDropRate(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{DropRate: 1}})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req := f.request(method, wire.PathRoles, nil, sig{})
		if method == http.MethodPost {
			req = f.request(method, wire.PathRoles, wire.RoleSpec{Name: "cs"}, sig{})
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		f.g.Expect(err).To(HaveOccurred(), "%s: got an answer %v", method, resp)
	}
	f.g.Expect(f.engine.Roles(platform.Taobao, tbMain)).To(BeEmpty())
	f.g.Expect(f.get("/", "").status).To(Equal(http.StatusOK))
	f.srv.SetFaults(Faults{})
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
}

func TestLatency(t *testing.T) {
	const latency = 40 * time.Millisecond
	f := newFixture(t, Options{Faults: Faults{Latency: latency}})
	start := time.Now()
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	f.g.Expect(time.Since(start)).To(BeNumerically(">=", latency))

	// A client that gives up does not hold the handler for the whole
	// latency.
	f.srv.SetFaults(Faults{Latency: time.Hour})
	client := &http.Client{Timeout: 50 * time.Millisecond}
	start = time.Now()
	_, err := client.Do(f.request(http.MethodGet, wire.PathShop, nil, sig{}))
	f.g.Expect(err).To(HaveOccurred())
	f.g.Expect(time.Since(start)).To(BeNumerically("<", time.Minute))
	f.srv.SetFaults(Faults{})
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
}

func TestFaultsClampedAndValidated(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t, Options{Faults: Faults{ErrorRate: 2, DropRate: -1, RateLimit: -3, Latency: -time.Second}})
	g.Expect(f.srv.Faults()).To(Equal(Faults{ErrorRate: 1}))
	for _, bad := range []Faults{{Latency: -1}, {ErrorRate: 1.5}, {DropRate: -0.1}, {RateLimit: -1}} {
		g.Expect(bad.Validate()).To(MatchError(platform.ErrInvalid), "%+v", bad)
	}
	g.Expect(Faults{Latency: time.Second, ErrorRate: 0.5, DropRate: 1, RateLimit: 3}.Validate()).To(Succeed())

	// JSON: latency is a duration string; a round trip keeps everything.
	in := Faults{Latency: 250 * time.Millisecond, ErrorRate: 0.1, DropRate: 0.2, RateLimit: 5}
	data, err := json.Marshal(in)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(Equal(`{"latency":"250ms","errorRate":0.1,"dropRate":0.2,"rateLimit":5}`))
	var out Faults
	g.Expect(json.Unmarshal(data, &out)).To(Succeed())
	g.Expect(out).To(Equal(in))
	g.Expect(json.Unmarshal([]byte(`{"latency":"soon"}`), &out)).To(MatchError(ContainSubstring("latency")))
}

// get sends an unsigned GET, with the admin token when given.
func (f *fixture) get(path, token string) response {
	f.t.Helper()
	return f.admin(http.MethodGet, path, token, "")
}

func (f *fixture) admin(method, path, token, body string) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return f.send(req)
}

func TestAdminFaults(t *testing.T) {
	f := newFixture(t, Options{AdminToken: adminToken})
	g := f.g
	expectError(t, f.get(AdminPathFaults, ""), http.StatusUnauthorized, wire.CodeUnauthorized, "")
	expectError(t, f.get(AdminPathFaults, "wrong"), http.StatusUnauthorized, wire.CodeUnauthorized, "")
	expectError(t, f.admin(http.MethodPut, AdminPathFaults, "", `{"errorRate":1}`), http.StatusUnauthorized, wire.CodeUnauthorized, "")
	g.Expect(f.srv.Faults()).To(Equal(Faults{}))

	r := f.get(AdminPathFaults, adminToken)
	g.Expect(r.status).To(Equal(http.StatusOK))
	g.Expect(string(bytes.TrimSpace(r.body))).To(Equal(`{"latency":"0s","errorRate":0,"dropRate":0,"rateLimit":0}`))

	r = f.admin(http.MethodPut, AdminPathFaults, adminToken, `{"errorRate":1,"rateLimit":2.5,"latency":"1ms"}`)
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	g.Expect(f.srv.Faults()).To(Equal(Faults{ErrorRate: 1, RateLimit: 2.5, Latency: time.Millisecond}))
	expectError(t, f.call(http.MethodGet, wire.PathShop, nil, sig{}), http.StatusServiceUnavailable, wire.CodeUnavailable, "")
	// The admin endpoints are not subject to the faults.
	r = f.admin(http.MethodPut, AdminPathFaults, adminToken, `{}`)
	g.Expect(r.status).To(Equal(http.StatusOK))
	g.Expect(f.srv.Faults()).To(Equal(Faults{}))

	expectError(t, f.admin(http.MethodPut, AdminPathFaults, adminToken, `{"errorRate":3}`), http.StatusUnprocessableEntity, wire.CodeInvalid, "errorRate")
	expectError(t, f.admin(http.MethodPut, AdminPathFaults, adminToken, `{"errorRat":1}`), http.StatusUnprocessableEntity, wire.CodeInvalid, "")
	expectError(t, f.admin(http.MethodPut, AdminPathFaults, adminToken, `{"latency":"x"}`), http.StatusUnprocessableEntity, wire.CodeInvalid, "latency")
	expectError(t, f.admin(http.MethodDelete, AdminPathFaults, adminToken, ``), http.StatusMethodNotAllowed, wire.CodeNotSupported, "")
	expectError(t, f.get("/admin/other", adminToken), http.StatusNotFound, wire.CodeNotFound, "")
}

func TestAdminDisabledWithoutToken(t *testing.T) {
	f := newFixture(t, Options{})
	for _, token := range []string{"", "anything"} {
		expectError(t, f.get(AdminPathFaults, token), http.StatusForbidden, wire.CodeForbidden, "")
		expectError(t, f.admin(http.MethodPut, AdminPathFaults, token, `{"errorRate":1}`), http.StatusForbidden, wire.CodeForbidden, "")
	}
	f.g.Expect(f.srv.Faults()).To(Equal(Faults{}))
}

// A request whose connection was dropped never ran, so the same request
// sent again (net/http repeats one whose connection closed before any
// answer, with the same nonce) is served, not refused as a replay.
func TestDroppedRequestCanBeSentAgain(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{DropRate: 1}})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	body := []byte(`{"name":"cs","permissions":["wangwang"]}`)
	req := f.request(http.MethodPost, wire.PathRoles, body, sig{})
	again := f.withBody(req, string(body))
	if resp, err := client.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("the dropped request got an answer: %d", resp.StatusCode)
	}
	f.srv.SetFaults(Faults{})
	r := f.send(again)
	f.g.Expect(r.status).To(Equal(http.StatusCreated), "%s", r.body)
}

func TestSpreadFillsEveryTenthInAnyThirteenDraws(t *testing.T) {
	for start := uint64(1); start <= 200_000; start++ {
		var tenths [10]int
		for n := start; n < start+13; n++ {
			u := spread(n)
			if u < 0 || u >= 1 {
				t.Fatalf("spread(%d) = %v, outside [0, 1)", n, u)
			}
			tenths[int(u*10)]++
		}
		for i, c := range tenths {
			if c < 1 || c > 2 {
				t.Fatalf("draws %d..%d put %d in [%.1f, %.1f): %v", start, start+12, c, float64(i)/10, float64(i+1)/10, tenths)
			}
		}
	}
}

// Thirteen calls at 10% errors and 10% drops: each fault happens, once or
// twice, and never on the same call.
func TestFaultRatesHappenInAShortStretchOfCalls(t *testing.T) {
	f := newFixture(t, Options{})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 3 { // wherever the sequence stands
		f.srv.SetFaults(Faults{ErrorRate: 0.1, DropRate: 0.1})
		got := map[string]int{}
		for range 13 {
			resp, err := client.Do(f.request(http.MethodGet, wire.PathShop, nil, sig{}))
			if err != nil {
				got["dropped"]++
				continue
			}
			_ = resp.Body.Close()
			got[strconv.Itoa(resp.StatusCode)]++
		}
		f.g.Expect(got["dropped"]).To(BeNumerically(">=", 1), "answers %v", got)
		f.g.Expect(got["dropped"]).To(BeNumerically("<=", 2), "answers %v", got)
		f.g.Expect(got["503"]).To(BeNumerically(">=", 1), "answers %v", got)
		f.g.Expect(got["503"]).To(BeNumerically("<=", 2), "answers %v", got)
		f.g.Expect(got["200"]).To(Equal(13-got["dropped"]-got["503"]), "answers %v", got)
	}
}
