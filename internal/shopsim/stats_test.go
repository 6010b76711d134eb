package shopsim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// TestStats counts calls per shop, by status and route, the 429s, and the
// calls that came too early after a 429's Retry-After; the signatures
// received are kept, and both are admin-only.
func TestStats(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{RateLimit: 1}, AdminToken: adminToken})
	g := f.g
	signed := f.request(http.MethodGet, wire.PathShop, nil, sig{})
	g.Expect(f.send(signed).status).To(Equal(http.StatusOK))
	r := f.call(http.MethodGet, wire.PathAccounts, nil, sig{})
	g.Expect(r.status).To(Equal(http.StatusTooManyRequests))
	g.Expect(r.header.Get(wire.HeaderRetryAfter)).To(Equal("1"))
	// Within the grace: sent before the client could have read the 429.
	f.clock.Advance(RetryAfterGrace / 2)
	g.Expect(f.call(http.MethodGet, wire.PathShop, nil, sig{}).status).To(Equal(http.StatusTooManyRequests))
	// After the grace, before the Retry-After ran out: early.
	f.clock.Advance(RetryAfterGrace)
	g.Expect(f.call(http.MethodGet, wire.PathShop, nil, sig{}).status).To(Equal(http.StatusTooManyRequests))
	// After it: not early (the bucket has refilled too).
	f.clock.Advance(2 * time.Second)
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	// Another shop has counters of its own.
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{shop: platform.Pinduoduo})

	st := f.srv.Stats()
	tb := st.Shops["taobao/"+tbMain]
	g.Expect(tb.Calls).To(Equal(5))
	g.Expect(tb.ByStatus).To(Equal(map[string]int{"200": 2, "429": 3}))
	g.Expect(tb.ByRoute).To(Equal(map[string]int{"GET " + wire.PathShop: 4, "GET " + wire.PathAccounts: 1}))
	g.Expect(tb.RateLimited).To(Equal(3))
	g.Expect(tb.EarlyCalls).To(Equal(1))
	g.Expect(st.Shops).To(HaveLen(2))
	g.Expect(st.Total()).To(Equal(6))

	// Over HTTP, admin only.
	expectError(t, f.get(AdminPathStats, ""), http.StatusUnauthorized, wire.CodeUnauthorized, "")
	expectError(t, f.get(AdminPathSignatures, "wrong"), http.StatusUnauthorized, wire.CodeUnauthorized, "")
	expectError(t, f.admin(http.MethodPut, AdminPathStats, adminToken, `{}`), http.StatusMethodNotAllowed, wire.CodeNotSupported, "")
	resp := f.get(AdminPathStats, adminToken)
	g.Expect(resp.status).To(Equal(http.StatusOK))
	var got Stats
	g.Expect(json.Unmarshal(resp.body, &got)).To(Succeed())
	g.Expect(got.Shops["taobao/"+tbMain].EarlyCalls).To(Equal(1))
	resp = f.get(AdminPathSignatures, adminToken)
	g.Expect(resp.status).To(Equal(http.StatusOK))
	var sigs Signatures
	g.Expect(json.Unmarshal(resp.body, &sigs)).To(Succeed())
	g.Expect(sigs.Items).To(HaveLen(6))
	g.Expect(sigs.Items[0]).To(Equal(signed.Header.Get(wire.HeaderSignature)))
}
