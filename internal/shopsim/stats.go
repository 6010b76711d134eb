package shopsim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// AdminPathStats answers GET with Stats: per existing shop, how many API
// calls arrived (authenticated or not), by answer and by route, how many
// were refused with 429, and how many came too early after one; and how
// many requests were refused as unauthenticated (a request for a shop that
// does not exist counts there only: its path is not kept). Needs the admin
// token.
const AdminPathStats = "/admin/stats"

// AdminPathSignatures answers GET with Signatures: the X-Signature of every
// authenticated gateway API request received (the most recent
// MaxSignatures; a verified signature is 64 hex digits), so that a
// test can search logs and statuses for them. Like /admin/sms it exists
// for tests only. Needs the admin token.
const AdminPathSignatures = "/admin/signatures"

// MaxSignatures is how many request signatures are kept.
const MaxSignatures = 200_000

// RetryAfterGrace is how long after a 429 answer a call for the same shop
// still counts as sent before the client could have read it (not early).
const RetryAfterGrace = 250 * time.Millisecond

// Stats are the API call counters since the server started, by shop key
// ("taobao/hongxing").
type Stats struct {
	Shops map[string]ShopStats `json:"shops"`
	// Unauthenticated counts API requests refused before authentication
	// passed (bad or missing signature, unknown shop, wrong app key or
	// access token); those for an existing shop count in its ShopStats too.
	Unauthenticated int `json:"unauthenticated"`
}

// ShopStats are one shop's counters.
type ShopStats struct {
	// Calls counts API requests for the shop (also unauthenticated,
	// refused or dropped ones).
	Calls int `json:"calls"`
	// ByStatus counts answers by HTTP status; "dropped" counts connections
	// closed without an answer.
	ByStatus map[string]int `json:"byStatus"`
	// ByRoute counts requests by "METHOD /path-pattern" (wire.Path*), or
	// "METHOD ?" when no route matched.
	ByRoute map[string]int `json:"byRoute"`
	// RateLimited counts 429 answers.
	RateLimited int `json:"rateLimited"`
	// EarlyCalls counts requests that arrived while a Retry-After this
	// shop was given with a 429 had not run out, more than RetryAfterGrace
	// after the first 429 of that window was answered: a client honouring
	// Retry-After for the whole shop sends none.
	EarlyCalls int `json:"earlyCalls"`
}

// Total adds up every shop's calls.
func (s Stats) Total() int {
	n := 0
	for _, sh := range s.Shops {
		n += sh.Calls
	}
	return n
}

// Signatures is the answer of GET /admin/signatures.
type Signatures struct {
	Items []string `json:"items"`
}

// statsRecorder keeps the counters.
type statsRecorder struct {
	mu              sync.Mutex
	unauthenticated int
	// shops has an entry per existing shop that received a request, so
	// its size is bounded by the shops; ByRoute by the routes (and
	// "METHOD ?" per HTTP method, see routeLabel), ByStatus by the statuses.
	shops map[string]*shopCounters
	sigs  []string
	next  int // ring position once len(sigs) == MaxSignatures
}

type shopCounters struct {
	ShopStats
	limitedAt  time.Time // when the first 429 of the current window was answered
	retryUntil time.Time // when its Retry-After runs out
}

func (r *statsRecorder) shop(key string) *shopCounters {
	if r.shops == nil {
		r.shops = map[string]*shopCounters{}
	}
	c, ok := r.shops[key]
	if !ok {
		c = &shopCounters{ShopStats: ShopStats{ByStatus: map[string]int{}, ByRoute: map[string]int{}}}
		r.shops[key] = c
	}
	return c
}

// refused counts a request refused before authentication passed.
func (r *statsRecorder) refused() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unauthenticated++
}

// arrived counts a request for the existing shop key arriving at now.
func (r *statsRecorder) arrived(key string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.shop(key)
	c.Calls++
	if now.Before(c.retryUntil) && now.Sub(c.limitedAt) > RetryAfterGrace {
		c.EarlyCalls++
	}
}

// keepSignature keeps the signature of an authenticated request.
func (r *statsRecorder) keepSignature(signature string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if signature == "" {
		return
	}
	if len(r.sigs) < MaxSignatures {
		r.sigs = append(r.sigs, signature)
		return
	}
	r.sigs[r.next] = signature
	r.next = (r.next + 1) % MaxSignatures
}

// answered counts the answer to a request for shop key: its status (0 =
// dropped), its route, and for a 429 the Retry-After it carried.
func (r *statsRecorder) answered(key string, now time.Time, status int, route string, retryAfter time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.shop(key)
	if status == 0 {
		c.ByStatus["dropped"]++
	} else {
		c.ByStatus[strconv.Itoa(status)]++
	}
	c.ByRoute[route]++
	if status == http.StatusTooManyRequests {
		c.RateLimited++
		// The client sees whole seconds, rounded up, at least 1.
		secs := max(1, math.Ceil(retryAfter.Seconds()))
		until := now.Add(time.Duration(secs) * time.Second)
		// The grace runs from the first 429 of a window: a client that
		// keeps calling inside it is early however many 429s it gets.
		if !now.Before(c.retryUntil) {
			c.limitedAt = now
		}
		if until.After(c.retryUntil) {
			c.retryUntil = until
		}
	}
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Stats{Shops: map[string]ShopStats{}, Unauthenticated: r.unauthenticated}
	for k, c := range r.shops {
		s := c.ShopStats
		s.ByStatus = clone(c.ByStatus)
		s.ByRoute = clone(c.ByRoute)
		out.Shops[k] = s
	}
	return out
}

func clone(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (r *statsRecorder) signatures() Signatures {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Signatures{Items: append([]string{}, r.sigs...)}
}

// Stats returns the API call counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }
