package shopsim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// Faults are injected into API calls only, /v1, TOP's /router/rest and
// Pinduoduo's /api/router (never / or /admin). On /api/router an injected
// failure is error 52103 and the rate limit error 52101.
//
// In JSON (GET and PUT /admin/faults) Latency is a Go duration string:
//
//	{"latency": "250ms", "errorRate": 0.1, "dropRate": 0, "rateLimit": 5}
type Faults struct {
	Latency   time.Duration // added to every API call
	ErrorRate float64       // 0..1: fraction of API calls answered 503 unavailable (TOP: code 15, isp.remote-service-unavailable); spread evenly, see Server.faultDraw
	DropRate  float64       // 0..1: fraction of API calls whose connection is closed without an answer; spread evenly
	RateLimit float64       // per shop, requests per second; 0 = unlimited; over it: 429 rate_limited with Retry-After (whole seconds, at least 1); TOP: code 7, "This ban will last for N more seconds"
}

// faultsJSON is the JSON shape of Faults.
type faultsJSON struct {
	Latency   string  `json:"latency"`
	ErrorRate float64 `json:"errorRate"`
	DropRate  float64 `json:"dropRate"`
	RateLimit float64 `json:"rateLimit"`
}

// MarshalJSON renders Latency as a duration string.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{Latency: f.Latency.String(), ErrorRate: f.ErrorRate, DropRate: f.DropRate, RateLimit: f.RateLimit})
}

// UnmarshalJSON reads the shape MarshalJSON writes and validates it.
func (f *Faults) UnmarshalJSON(data []byte) error {
	var j faultsJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	out, err := j.faults()
	if err != nil {
		return err
	}
	*f = out
	return nil
}

func (j faultsJSON) faults() (Faults, error) {
	var f Faults
	if j.Latency != "" {
		d, err := time.ParseDuration(j.Latency)
		if err != nil {
			return f, platform.NewError(platform.ErrInvalid, "latency", "latency must be a duration such as \"250ms\"")
		}
		f.Latency = d
	}
	f.ErrorRate, f.DropRate, f.RateLimit = j.ErrorRate, j.DropRate, j.RateLimit
	return f, f.Validate()
}

// Validate reports a fault setting out of range.
func (f Faults) Validate() error {
	switch {
	case f.Latency < 0:
		return platform.NewError(platform.ErrInvalid, "latency", "latency must not be negative")
	case !(f.ErrorRate >= 0 && f.ErrorRate <= 1):
		return platform.NewError(platform.ErrInvalid, "errorRate", "errorRate must be between 0 and 1")
	case !(f.DropRate >= 0 && f.DropRate <= 1):
		return platform.NewError(platform.ErrInvalid, "dropRate", "dropRate must be between 0 and 1")
	case !(f.RateLimit >= 0) || math.IsInf(f.RateLimit, 0):
		return platform.NewError(platform.ErrInvalid, "rateLimit", "rateLimit must be a finite number of requests per second, 0 for none")
	}
	return nil
}

// normalized clamps every setting into its range (NaN counts as 0).
func (f Faults) normalized() Faults {
	clamp := func(v, hi float64) float64 {
		if !(v > 0) {
			return 0
		}
		return math.Min(v, hi)
	}
	f.Latency = max(f.Latency, 0)
	f.ErrorRate = clamp(f.ErrorRate, 1)
	f.DropRate = clamp(f.DropRate, 1)
	f.RateLimit = clamp(f.RateLimit, math.MaxFloat64)
	return f
}

// String describes the faults for logs.
func (f Faults) String() string {
	return fmt.Sprintf("latency=%s errorRate=%g dropRate=%g rateLimit=%g/s", f.Latency, f.ErrorRate, f.DropRate, f.RateLimit)
}

// SetFaults replaces the fault injection; values out of range are clamped
// (use Faults.Validate to refuse them instead). Changing the rate limit
// refills every shop's bucket.
func (s *Server) SetFaults(f Faults) {
	f = f.normalized()
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.RateLimit != s.faults.RateLimit {
		s.buckets = map[string]*bucket{}
	}
	s.faults = f
	s.log.Info("faults set", "faults", f.String())
}

// Faults returns the current fault injection.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// injectFaults applies latency, dropped connections and injected
// failures to an API call, in that order; unavailable writes the failure
// in the API's own shape. It returns true when the call was answered (or
// dropped) and must not go on.
func (s *Server) injectFaults(w http.ResponseWriter, r *http.Request, unavailable func(http.ResponseWriter)) bool {
	f := s.Faults()
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true // the client is gone; nobody reads an answer
		}
	}
	u := s.faultDraw()
	if u < f.DropRate {
		s.log.Info("fault: dropping the connection", "method", r.Method, "path", r.URL.EscapedPath())
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
			return true
		}
		// HTTP/2 cannot hijack; aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	if u < f.DropRate+f.ErrorRate { // below DropRate the call was dropped above
		unavailable(w)
		return true
	}
	return false
}

// goldenFraction is the fractional part of the golden ratio, (√5−1)/2.
const goldenFraction = 0.6180339887498949

// faultDraw is the draw of the server's next API call for a fault:
// spread(n) for its n-th call. A call is dropped when the draw is below
// DropRate and answered unavailable when it falls in the ErrorRate above
// that, so the two never take the same call.
func (s *Server) faultDraw() float64 { return spread(s.faultCalls.Add(1)) }

// spread is frac(n·φ), a sequence in [0, 1) that fills it evenly: any 13
// consecutive values put one or two in each tenth of it. Where rand would
// leave a run of 40 calls without a single one of its 10% (1.5% of the
// time), a rate drawn from spread is injected in every short stretch of
// calls, so a test that needs a fault to happen gets it.
func spread(n uint64) float64 {
	_, frac := math.Modf(float64(n) * goldenFraction)
	return frac
}

// bucket is one shop's token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token from the shop's bucket (capacity max(1, floor(rate)),
// refilled at rate per second on the server's clock). When none is left it
// reports how long until one is.
func (s *Server) allow(shopKey string) (bool, time.Duration) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rate := s.faults.RateLimit
	if rate <= 0 {
		return true, 0
	}
	burst := math.Max(1, math.Floor(rate))
	b, ok := s.buckets[shopKey]
	if !ok {
		b = &bucket{tokens: burst, last: now}
		s.buckets[shopKey] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(burst, b.tokens+elapsed.Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
}
