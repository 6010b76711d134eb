package shopsim

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// storeSizes are the lengths of every store a request can add to.
type storeSizes struct {
	shops, signatures, nonces, buckets int
}

func (f *fixture) storeSizes() storeSizes {
	f.srv.stats.mu.Lock()
	shops, sigs := len(f.srv.stats.shops), len(f.srv.stats.sigs)
	f.srv.stats.mu.Unlock()
	f.srv.mu.Lock()
	buckets := len(f.srv.buckets)
	f.srv.mu.Unlock()
	return storeSizes{shops: shops, signatures: sigs, nonces: f.srv.api.RememberedNonces(), buckets: buckets}
}

// Unauthenticated requests with made-up shop paths and large made-up
// signatures leave no trace in any store but counters (those for an
// existing shop count for it): before, each one added a per-shop
// statistics entry and kept its signature (2,000 of them grew the heap by
// 141 MiB). Measured by the stores' lengths.
func TestUnauthenticatedRequestsAreNotStored(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{RateLimit: 1000}})
	g := f.g
	const n = 300
	for i := range n {
		path := fmt.Sprintf("%s/v1/shops/p%d/m%s%s", f.ts.URL, i, rand.Text(), wire.PathShop)
		if i%3 == 0 {
			// A known shop, with a wrong signature.
			path = f.ts.URL + wire.ShopPrefix(platform.Taobao, tbMain) + wire.PathShop
		}
		req, err := http.NewRequest(http.MethodGet, path, nil)
		g.Expect(err).NotTo(HaveOccurred())
		wire.SignRequest(req, tbCreds.AppKey, "not-the-secret", tbCreds.AccessToken, nil, t0)
		req.Header.Set(wire.HeaderSignature, strings.Repeat(rand.Text(), 150)) // about 4 KiB
		g.Expect(f.send(req).status).To(BeNumerically(">=", http.StatusBadRequest))
	}
	g.Expect(f.storeSizes()).To(Equal(storeSizes{shops: 1}), "only the existing shop's counters")
	st := f.srv.Stats()
	g.Expect(st.Unauthenticated).To(Equal(n))
	g.Expect(st.Shops["taobao/"+tbMain].ByStatus).To(Equal(map[string]int{"401": n / 3}))

	// An authenticated request is counted, under its shop, and its
	// signature and nonce are kept.
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	g.Expect(f.storeSizes()).To(Equal(storeSizes{shops: 1, signatures: 1, nonces: 1, buckets: 1}))

	// An authenticated client's made-up methods share one route counter.
	for i := range 20 {
		r := f.call(fmt.Sprintf("MADEUP%d", i), wire.PathShop, nil, sig{})
		g.Expect(r.status).To(Equal(http.StatusMethodNotAllowed))
	}
	g.Expect(f.srv.Stats().Shops["taobao/"+tbMain].ByRoute).To(Equal(map[string]int{
		"GET " + wire.PathShop: n/3 + 1, "OTHER ?": 20}))
}

// A request that fails authentication does not spend the shop's
// rate-limit token: the next good request passes (it used to get 429).
func TestBadSignatureSpendsNoRateLimitToken(t *testing.T) {
	f := newFixture(t, Options{Faults: Faults{RateLimit: 1}})
	wrong := platform.Credentials{AppKey: tbCreds.AppKey, AppSecret: "guessed", AccessToken: tbCreds.AccessToken}
	for range 3 {
		expectError(t, f.call(http.MethodGet, wire.PathShop, nil, sig{creds: &wrong}), http.StatusUnauthorized, wire.CodeUnauthorized, "")
	}
	f.ok(http.StatusOK, http.MethodGet, wire.PathShop, nil, nil, sig{})
	// The bucket does work: the next one is over the limit.
	expectError(t, f.call(http.MethodGet, wire.PathShop, nil, sig{}), http.StatusTooManyRequests, wire.CodeRateLimited, "")
}

// A bad signature gets the same answer whether the shop exists or not, so
// the API does not tell which shops exist (it used to answer 404 for an
// unknown shop and 401 for a known one).
func TestUnknownShopAnswersLikeABadSignature(t *testing.T) {
	f := newFixture(t, Options{})
	g := f.g
	wrong := platform.Credentials{AppKey: tbCreds.AppKey, AppSecret: "guessed", AccessToken: tbCreds.AccessToken}
	known := f.call(http.MethodGet, wire.PathShop, nil, sig{creds: &wrong})
	answers := map[string]response{}
	for _, path := range []string{
		wire.ShopPrefix(platform.Taobao, "nobody") + wire.PathShop,
		wire.ShopPrefix(platform.Taobao, "nobody") + wire.PathAccounts,
		"/v1/shops/jd/" + tbMain + wire.PathShop,
	} {
		req, err := http.NewRequest(http.MethodGet, f.ts.URL+path, nil)
		g.Expect(err).NotTo(HaveOccurred())
		wire.SignRequest(req, wrong.AppKey, wrong.AppSecret, wrong.AccessToken, nil, t0)
		answers[path] = f.send(req)
	}
	for path, r := range answers {
		g.Expect(r.status).To(Equal(known.status), path)
		g.Expect(string(r.body)).To(Equal(string(known.body)), path)
	}
	// Even with the right signature for another shop's secret: the same.
	req, err := http.NewRequest(http.MethodGet, f.ts.URL+wire.ShopPrefix(platform.Taobao, "nobody")+wire.PathShop, nil)
	g.Expect(err).NotTo(HaveOccurred())
	wire.SignRequest(req, tbCreds.AppKey, tbCreds.AppSecret, tbCreds.AccessToken, nil, t0)
	r := f.send(req)
	g.Expect(r.status).To(Equal(known.status))
	g.Expect(string(r.body)).To(Equal(string(known.body)))
}
