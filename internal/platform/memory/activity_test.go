package memory

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// The activity feed: sign-ins, injected entries and a sub-account's own
// capacity change are recorded; ListActivity pages them in time order
// within bounds, per account, and survives a snapshot.
func TestActivityFeed(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	c := f.clients[platform.Taobao]
	role := f.role(t, platform.Taobao, "客服")
	a := f.account(t, platform.Taobao, validRequest("xiaohong", role.ID))
	b := f.account(t, platform.Taobao, validRequest("xiaolan", role.ID))

	page, err := c.ListActivity(ctx, platform.ActivityQuery{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(page.Entries).To(BeEmpty(), "the operator's own writes are not the accounts' activity")

	g.Expect(f.e.SignIn(platform.Taobao, taobaoMain, "xiaohong", "wrong")).To(MatchError(platform.ErrUnauthorized))
	f.clock.Advance(time.Minute)
	g.Expect(f.e.SignIn(platform.Taobao, taobaoMain, taobaoMain+":xiaohong", "s3cret-pass")).To(Succeed())
	f.clock.Advance(time.Minute)
	op, err := f.e.RecordActivity(platform.Taobao, taobaoMain, platform.Activity{AccountName: "xiaolan", Kind: platform.ActivityOperation,
		Operation: "item.update", Target: "item 6123"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(op).To(And(HaveField("AccountID", b.ID), HaveField("Time", t0.Add(2*time.Minute)), HaveField("ID", Not(BeEmpty()))))
	// Back-dated: it comes first in the feed although recorded last.
	_, err = f.e.RecordActivity(platform.Taobao, taobaoMain, platform.Activity{AccountID: a.ID, Kind: platform.ActivityPresence,
		Presence: "Break", Time: t0.Add(-time.Hour)})
	g.Expect(err).NotTo(HaveOccurred())

	page, err = c.ListActivity(ctx, platform.ActivityQuery{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(page.Next).To(BeEmpty())
	g.Expect(page.Entries).To(HaveExactElements(
		And(HaveField("Kind", platform.ActivityPresence), HaveField("Presence", "Break"), HaveField("AccountName", "xiaohong")),
		And(HaveField("Kind", platform.ActivityLogin), HaveField("AccountID", a.ID), HaveField("Time", t0.Add(time.Minute))),
		And(HaveField("Kind", platform.ActivityOperation), HaveField("Operation", "item.update"), HaveField("Target", "item 6123")),
	))

	// Paging: one entry a page, the cursor continues where the last ended.
	var seen []string
	q := platform.ActivityQuery{Limit: 1}
	for range 5 {
		p, err := c.ListActivity(ctx, q)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(len(p.Entries)).To(BeNumerically("<=", 1))
		for _, e := range p.Entries {
			seen = append(seen, e.ID)
		}
		if q.Cursor = p.Next; q.Cursor == "" {
			break
		}
	}
	g.Expect(seen).To(Equal([]string{page.Entries[0].ID, page.Entries[1].ID, page.Entries[2].ID}))

	// Time bounds and the account filter.
	p, err := c.ListActivity(ctx, platform.ActivityQuery{Since: t0, Until: t0.Add(2 * time.Minute)})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.Entries).To(HaveExactElements(HaveField("Kind", platform.ActivityLogin)), "since inclusive, until exclusive")
	p, err = c.ListActivity(ctx, platform.ActivityQuery{AccountIDs: []string{b.ID}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.Entries).To(HaveExactElements(HaveField("AccountID", b.ID)))

	// Bad queries and entries.
	for _, q := range []platform.ActivityQuery{{Limit: -1}, {Limit: platform.MaxActivityPageSize + 1}, {Cursor: "x"},
		{Since: t0, Until: t0.Add(-time.Second)}} {
		_, err := c.ListActivity(ctx, q)
		g.Expect(err).To(MatchError(platform.ErrInvalid), "%+v", q)
	}
	for _, e := range []platform.Activity{{AccountName: "nobody", Kind: platform.ActivityLogin}, {AccountID: a.ID, Kind: "Dance"},
		{AccountID: a.ID, Kind: platform.ActivityPresence, Presence: "Asleep"}, {AccountID: a.ID, Kind: platform.ActivityOperation}} {
		_, err := f.e.RecordActivity(platform.Taobao, taobaoMain, e)
		g.Expect(err).To(HaveOccurred(), "%+v", e)
	}

	// Another shop's feed is its own; a snapshot keeps the feed.
	other, err := f.clients[platform.Pinduoduo].ListActivity(ctx, platform.ActivityQuery{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(other.Entries).To(BeEmpty())
	snap, err := f.e.Snapshot()
	g.Expect(err).NotTo(HaveOccurred())
	restored := NewEngine()
	g.Expect(restored.Restore(snap)).To(Succeed())
	rc, err := restored.Factory().ClientFor(ctx, platform.ShopConfig{Platform: platform.Taobao, MainAccount: taobaoMain, Credentials: creds})
	g.Expect(err).NotTo(HaveOccurred())
	again, err := rc.ListActivity(ctx, platform.ActivityQuery{Until: t0.Add(time.Hour)})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(Equal(page))
}

// A sub-account that signs in to change its own reception capacity is
// seen signing in and acting.
func TestActivityOfSeatCapacityBySubAccount(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	c := f.clients[platform.Pinduoduo]
	req := validRequest("agent", f.role(t, platform.Pinduoduo, "客服").ID)
	req.Seat = &platform.Seat{Chat: true, Presence: platform.PresenceOnline}
	a := f.account(t, platform.Pinduoduo, req)
	_, err := c.SetSeatCapacity(ctx, a.ID, 20, platform.SubAccountLogin{Name: "agent", Password: "s3cret-pass"})
	g.Expect(err).NotTo(HaveOccurred())
	page, err := c.ListActivity(ctx, platform.ActivityQuery{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(page.Entries).To(HaveExactElements(HaveField("Kind", platform.ActivityLogin),
		And(HaveField("Kind", platform.ActivityOperation), HaveField("Operation", "seat.capacity"), HaveField("Target", "reception capacity 20"))))
}
