package gateway

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func TestNonceStoreExpiresAndIsBounded(t *testing.T) {
	g := NewWithT(t)
	n := newNonceStore(2)
	g.Expect(n.use("k", "a", t0)).To(Equal(nonceFresh))
	g.Expect(n.use("k", "a", t0.Add(nonceTTL-time.Second))).To(Equal(nonceReplayed))
	g.Expect(n.use("other", "a", t0)).To(Equal(nonceFresh))
	g.Expect(n.use("k", "b", t0.Add(time.Second))).To(Equal(nonceFresh))
	// Full: refused rather than a nonce forgotten early.
	g.Expect(n.use("k", "c", t0.Add(time.Second))).To(Equal(nonceFull))
	g.Expect(n.size()).To(Equal(3))
	// Entries nonceTTL old are forgotten, which frees room.
	g.Expect(n.use("k", "c", t0.Add(nonceTTL))).To(Equal(nonceFresh))
	g.Expect(n.keys["k"].seen).To(HaveLen(2))
	g.Expect(n.keys["k"].order).To(HaveLen(2))
	g.Expect(n.use("k", "a", t0.Add(nonceTTL+time.Second))).To(Equal(nonceFresh))
}

// The cap is per app key: one client that fills its replay window gets
// 429s, while every other app key's requests still pass (with one cap for
// all, the other shops were refused too).
func TestNonceStoreCapIsPerAppKey(t *testing.T) {
	g := NewWithT(t)
	n := newNonceStore(3)
	for i := range 3 {
		g.Expect(n.use("greedy", fmt.Sprint(i), t0)).To(Equal(nonceFresh))
	}
	g.Expect(n.use("greedy", "3", t0)).To(Equal(nonceFull))
	for i := range 3 {
		g.Expect(n.use("other", fmt.Sprint(i), t0)).To(Equal(nonceFresh), "another app key's nonce %d", i)
	}
}
