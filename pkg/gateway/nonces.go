package gateway

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

// DefaultMaxNoncesPerAppKey caps the nonces remembered for one app key; when
// full, that app key's requests are refused as rate limited rather than a
// nonce forgotten early. The cap is per app key so that one client filling
// its window cannot refuse every other shop's requests. Only authenticated
// requests record a nonce, so the app keys are those of the shops.
const DefaultMaxNoncesPerAppKey = 100_000

type seenNonce struct {
	nonce string
	at    time.Time
}

// appKeyNonces are one app key's nonces.
type appKeyNonces struct {
	seen  map[string]time.Time
	order []seenNonce // in acceptance order, for expiry
}

// nonceStore remembers the nonces accepted per app key for nonceTTL.
type nonceStore struct {
	mu    sync.Mutex
	keys  map[string]*appKeyNonces
	limit int // per app key
}

func newNonceStore(limit int) *nonceStore {
	return &nonceStore{keys: map[string]*appKeyNonces{}, limit: limit}
}

// nonceResult is the verdict of nonceStore.use.
type nonceResult int

const (
	nonceFresh nonceResult = iota
	nonceReplayed
	nonceFull
)

// use records the nonce of appKey at now, unless it was seen within
// nonceTTL or the app key's store is full.
func (n *nonceStore) use(appKey, nonce string, now time.Time) nonceResult {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := n.keys[appKey]
	if k == nil {
		k = &appKeyNonces{seen: map[string]time.Time{}}
		n.keys[appKey] = k
	}
	k.expire(now)
	if at, ok := k.seen[nonce]; ok && now.Sub(at) < nonceTTL {
		return nonceReplayed
	}
	if len(k.seen) >= n.limit {
		return nonceFull
	}
	k.seen[nonce] = now
	k.order = append(k.order, seenNonce{nonce: nonce, at: now})
	return nonceFresh
}

// size is how many nonces are remembered, all app keys together.
func (n *nonceStore) size() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, k := range n.keys {
		total += len(k.seen)
	}
	return total
}

// expire forgets the nonces accepted nonceTTL or more before now.
func (k *appKeyNonces) expire(now time.Time) {
	i := 0
	for ; i < len(k.order) && now.Sub(k.order[i].at) >= nonceTTL; i++ {
		if k.seen[k.order[i].nonce].Equal(k.order[i].at) {
			delete(k.seen, k.order[i].nonce)
		}
	}
	if i > 0 {
		k.order = append(k.order[:0:0], k.order[i:]...)
	}
}
