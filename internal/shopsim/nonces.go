package shopsim

import (
	"sync"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// nonceTTL is how long an accepted nonce is remembered. A request is
// accepted while its timestamp is within wire.MaxClockSkew of the clock,
// and it is accepted no earlier than MaxClockSkew before its timestamp, so
// twice that covers its whole window.
const nonceTTL = 2 * wire.MaxClockSkew

// maxNonces caps the nonces remembered (all app keys together); when full,
// a request is refused as rate limited rather than a nonce forgotten early.
const maxNonces = 100_000

type nonceKey struct{ appKey, nonce string }

type seenNonce struct {
	key nonceKey
	at  time.Time
}

// nonceStore remembers the nonces accepted per app key for nonceTTL.
type nonceStore struct {
	mu    sync.Mutex
	seen  map[nonceKey]time.Time
	order []seenNonce // in acceptance order, for expiry
	limit int
}

func newNonceStore(limit int) *nonceStore {
	return &nonceStore{seen: map[nonceKey]time.Time{}, limit: limit}
}

// nonceResult is the verdict of nonceStore.use.
type nonceResult int

const (
	nonceFresh nonceResult = iota
	nonceReplayed
	nonceFull
)

// use records the nonce of appKey at now, unless it was seen within
// nonceTTL or the store is full.
func (n *nonceStore) use(appKey, nonce string, now time.Time) nonceResult {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.expire(now)
	k := nonceKey{appKey, nonce}
	if at, ok := n.seen[k]; ok && now.Sub(at) < nonceTTL {
		return nonceReplayed
	}
	if len(n.seen) >= n.limit {
		return nonceFull
	}
	n.seen[k] = now
	n.order = append(n.order, seenNonce{key: k, at: now})
	return nonceFresh
}

// expire forgets the nonces accepted nonceTTL or more before now.
func (n *nonceStore) expire(now time.Time) {
	i := 0
	for ; i < len(n.order) && now.Sub(n.order[i].at) >= nonceTTL; i++ {
		if n.seen[n.order[i].key].Equal(n.order[i].at) {
			delete(n.seen, n.order[i].key)
		}
	}
	if i > 0 {
		n.order = append(n.order[:0:0], n.order[i:]...)
	}
}
