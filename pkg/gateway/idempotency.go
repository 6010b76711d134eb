package gateway

import (
	"sync"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// DefaultMaxStoredAnswers bounds the create answers kept per shop for
// Idempotency-Key.
const DefaultMaxStoredAnswers = 10_000

// storedAnswerTTL is how long a create's answer is kept: far longer than
// any client retries a create whose answer it lost.
const storedAnswerTTL = 24 * time.Hour

// answer is a create's answer, kept for its Idempotency-Key.
type answer struct {
	status int
	body   any
	id     string // the object created, forgotten with it
	at     time.Time
}

type answerKey struct {
	collection string // "accounts", "roles", "departments"
	key        string // the Idempotency-Key
}

type shopAnswers struct {
	byKey map[answerKey]answer
	order []answerKey // oldest first, for the bound and expiry
}

// answerStore keeps create answers per shop, so that a create repeated
// with the same Idempotency-Key (its answer was lost) is answered the same
// without a second object. It is in memory: a provider that must survive a
// restart honours the requestID its Client is given as well.
type answerStore struct {
	mu    sync.Mutex
	shops map[string]*shopAnswers
	limit int
}

func newAnswerStore(limit int) *answerStore {
	return &answerStore{shops: map[string]*shopAnswers{}, limit: limit}
}

func (s *answerStore) get(shop Shop, collection, key string) (answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[shop.Key()]
	if sh == nil {
		return answer{}, false
	}
	a, ok := sh.byKey[answerKey{collection, key}]
	return a, ok
}

func (s *answerStore) put(shop Shop, collection, key string, status int, body any, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[shop.Key()]
	if sh == nil {
		sh = &shopAnswers{byKey: map[answerKey]answer{}}
		s.shops[shop.Key()] = sh
	}
	k := answerKey{collection, key}
	// Expired and surplus answers go first, oldest first.
	drop := 0
	for drop < len(sh.order) && (len(sh.order)-drop >= s.limit || now.Sub(sh.byKey[sh.order[drop]].at) >= storedAnswerTTL) {
		delete(sh.byKey, sh.order[drop])
		drop++
	}
	sh.order = append(sh.order[:0:0], sh.order[drop:]...)
	sh.byKey[k] = answer{status: status, body: body, id: idOf(body), at: now}
	sh.order = append(sh.order, k)
}

// forget drops the answers that created the object id of collection: once
// it is deleted, the key creates again (as the protocol says: the first
// answer is replayed while the object exists).
func (s *answerStore) forget(shop Shop, collection, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[shop.Key()]
	if sh == nil {
		return
	}
	kept := sh.order[:0]
	for _, k := range sh.order {
		if a := sh.byKey[k]; k.collection == collection && a.id == id {
			delete(sh.byKey, k)
			continue
		}
		kept = append(kept, k)
	}
	sh.order = kept
}

// size is how many answers are kept for shop.
func (s *answerStore) size(shop Shop) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shops[shop.Key()]; sh != nil {
		return len(sh.byKey)
	}
	return 0
}

func idOf(body any) string {
	switch v := body.(type) {
	case wire.Account:
		return v.ID
	case wire.Role:
		return v.ID
	case wire.Department:
		return v.ID
	}
	return ""
}
