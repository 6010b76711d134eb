package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// The driver reads the activity feed through shopsim page by page, with
// the bounds and account filter on the wire.
func TestShopsimActivity(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	s := newSim(t, 10)
	c := s.client(t, gateway.Options{}, simCreds)
	a, err := s.direct.CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: "s3cret-pass"}, "")
	g.Expect(err).NotTo(HaveOccurred())
	b, err := s.direct.CreateAccount(ctx, platform.CreateAccount{Name: "xiaolan", Password: "s3cret-pass"}, "")
	g.Expect(err).NotTo(HaveOccurred())
	for i, e := range []platform.Activity{
		{AccountID: a.ID, Kind: platform.ActivityLogin},
		{AccountID: b.ID, Kind: platform.ActivityPresence, Presence: "Busy"},
		{AccountID: a.ID, Kind: platform.ActivityOperation, Operation: "trade.refund", Target: "order 88"},
	} {
		e.Time = simNow.Add(time.Duration(i-3) * time.Minute)
		_, err := s.engine.RecordActivity(platform.Taobao, simMain, e)
		g.Expect(err).NotTo(HaveOccurred())
	}
	want, err := s.direct.ListActivity(ctx, platform.ActivityQuery{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(want.Entries).To(HaveLen(3))

	var got []platform.Activity
	q := platform.ActivityQuery{Since: simNow.Add(-time.Hour), Limit: 2}
	for page := 0; page < 3; page++ {
		p, err := c.ListActivity(ctx, q)
		g.Expect(err).NotTo(HaveOccurred())
		got = append(got, p.Entries...)
		if q.Cursor = p.Next; q.Cursor == "" {
			break
		}
	}
	g.Expect(got).To(Equal(want.Entries), "the same entries as the engine, in two pages")

	p, err := c.ListActivity(ctx, platform.ActivityQuery{AccountIDs: []string{a.ID}, Until: simNow.Add(-90 * time.Second)})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.Entries).To(HaveExactElements(HaveField("Kind", platform.ActivityLogin)))
	_, err = c.ListActivity(ctx, platform.ActivityQuery{Cursor: "nonsense"})
	g.Expect(err).To(MatchError(platform.ErrInvalid))
	g.Expect(platform.FieldOf(err)).To(Equal("cursor"))
}

// A gateway that predates the feed answers 404 for /activity: that is
// ErrNotSupported, not a missing object to retry.
func TestOlderGatewayHasNoActivityFeed(t *testing.T) {
	g := NewWithT(t)
	s := newSim(t, 10)
	inner := s.srv.Handler()
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, wire.PathActivity) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no such path"}}`))
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(old.Close)
	c, err := gateway.NewFactory(gateway.Options{Clock: simClock}).ClientFor(context.Background(), simConfig(old.URL, simCreds))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.ShopInfo(context.Background())
	g.Expect(err).NotTo(HaveOccurred(), "everything else works")
	_, err = c.ListActivity(context.Background(), platform.ActivityQuery{})
	g.Expect(err).To(MatchError(platform.ErrNotSupported))
	g.Expect(err.Error()).To(ContainSubstring("no activity feed"))
}
