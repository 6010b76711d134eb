package platform_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

func limitedSetup(t *testing.T) (*platform.LimitedFactory, platform.ShopConfig) {
	t.Helper()
	e := memory.NewEngine()
	creds := platform.Credentials{AppKey: "k", AppSecret: "s", AccessToken: "t"}
	if err := e.AddShop(memory.ShopSetup{Platform: platform.Taobao, MainAccount: "m", Credentials: creds, SeatQuota: 5}); err != nil {
		t.Fatal(err)
	}
	cfg := platform.ShopConfig{Key: "ns/m", Platform: platform.Taobao, MainAccount: "m", Credentials: creds, RequestsPerSecond: 1, Burst: 2}
	return platform.NewLimitedFactory(e.Factory()), cfg
}

// A new bucket starts empty (see TestLimitedFactoryStartsEmpty); once it
// has filled, the burst passes at once; the next call waits for a token,
// and a caller whose deadline comes first gets a rate-limited error, not a
// hang.
func TestLimitedFactoryEnforcesBurstAndRate(t *testing.T) {
	f, cfg := limitedSetup(t)
	cfg.RequestsPerSecond, cfg.Burst = 10, 2 // full after 200ms
	c, err := f.ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The bucket starts empty and fills with time: wait until it holds the
	// burst.
	waitUntil(t, time.Second, func() bool { return f.TokensFor(cfg.Key) >= 2 })
	start := time.Now()
	for i := range 2 {
		if _, err := c.ShopInfo(context.Background()); err != nil {
			t.Fatalf("call %d within the burst: %v", i, err)
		}
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("the burst of a full bucket took %v, want at once", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = c.ShopInfo(ctx)
	if !errors.Is(err, platform.ErrRateLimited) {
		t.Fatalf("third call at 10 rps with burst 2 = %v, want ErrRateLimited", err)
	}
}

// A restarted manager (or a new leader) cannot know what its predecessor
// spent in its last second, so a new bucket starts empty: in its first
// 300ms at 10/s with a burst of 10 it lets about 3 calls through, not the
// burst's 10 on top (issue 7: the limit is never exceeded, restarts
// included).
func TestLimitedFactoryStartsEmpty(t *testing.T) {
	f, cfg := limitedSetup(t)
	cfg.RequestsPerSecond, cfg.Burst = 10, 10
	c, err := f.ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	calls := 0
	for {
		if _, err := c.ShopInfo(ctx); err != nil {
			if ctx.Err() == nil && !errors.Is(err, platform.ErrRateLimited) {
				t.Fatal(err)
			}
			break
		}
		calls++
	}
	if calls < 1 || calls > 4 {
		t.Fatalf("%d calls passed in the first 300ms of a new bucket at 10/s, want 2-3 (a full bucket would pass 12)", calls)
	}
}

// Clients built for the same shop share one bucket; another shop has its own.
func TestLimitedFactorySharesBucketPerShop(t *testing.T) {
	f, cfg := limitedSetup(t)
	for i := range 2 {
		c, err := f.ClientFor(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ShopInfo(context.Background()); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	c, _ := f.ClientFor(context.Background(), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.ShopInfo(ctx); !errors.Is(err, platform.ErrRateLimited) {
		t.Fatalf("a new client of the same shop got a fresh bucket: %v", err)
	}
	other := cfg
	other.Key = "ns/other"
	c2, _ := f.ClientFor(context.Background(), other)
	if _, err := c2.ShopInfo(context.Background()); err != nil {
		t.Fatalf("another shop was limited by the first: %v", err)
	}
}

// OnWait sees every wait with the shop's key: about one token's time each
// (the bucket starts empty), and a failed wait too.
func TestLimitedFactoryOnWait(t *testing.T) {
	f, cfg := limitedSetup(t)
	cfg.RequestsPerSecond, cfg.Burst = 20, 1 // a token every 50ms
	type wait struct {
		shop string
		d    time.Duration
	}
	var waits []wait
	f.OnWait = func(shop string, d time.Duration) { waits = append(waits, wait{shop, d}) }
	c, err := f.ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := c.ShopInfo(context.Background()); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := c.ShopInfo(ctx); !errors.Is(err, platform.ErrRateLimited) {
		t.Fatalf("call without a token before the deadline = %v, want ErrRateLimited", err)
	}
	if len(waits) != 3 {
		t.Fatalf("OnWait called %d times, want 3: %v", len(waits), waits)
	}
	for _, w := range waits {
		if w.shop != cfg.Key {
			t.Errorf("OnWait got shop %q, want %q", w.shop, cfg.Key)
		}
	}
	for i, w := range waits[:2] {
		if w.d < 20*time.Millisecond || w.d > 500*time.Millisecond {
			t.Errorf("call %d (a new bucket starts empty, a token every 50ms) waited %v, want about 50ms", i, w.d)
		}
	}
}

// OnUrgentWait sees the waits of urgent calls only; OnWait sees them all.
func TestLimitedFactoryOnUrgentWait(t *testing.T) {
	f, cfg := limitedSetup(t)
	cfg.RequestsPerSecond, cfg.Burst = 100, 1 // a token every 10ms
	var all, urgent []string
	f.OnWait = func(shop string, _ time.Duration) { all = append(all, shop) }
	f.OnUrgentWait = func(shop string, _ time.Duration) { urgent = append(urgent, shop) }
	c, err := f.ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ShopInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ShopInfo(platform.WithUrgent(context.Background())); err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || len(urgent) != 1 || urgent[0] != cfg.Key {
		t.Fatalf("OnWait saw %v and OnUrgentWait %v; want two waits, and one urgent of %q", all, urgent, cfg.Key)
	}
}

// APIFactory sends each shop to its API's factory, the rest to the default.
func TestAPIFactoryDispatches(t *testing.T) {
	var got []string
	named := func(name string) platform.Factory {
		return platform.FactoryFunc(func(context.Context, platform.ShopConfig) (platform.Client, error) {
			got = append(got, name)
			return nil, nil
		})
	}
	f := platform.APIFactory{Default: named("gateway"), ByAPI: map[string]platform.Factory{"TOP": named("top")}}
	for _, api := range []string{"TOP", "Gateway", "", "TOP"} {
		if _, err := f.ClientFor(context.Background(), platform.ShopConfig{API: api}); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"top", "gateway", "gateway", "top"}; !slices.Equal(got, want) {
		t.Errorf("dispatched to %v, want %v", got, want)
	}
}

// An urgent call (an offboarding) is not queued behind a backlog's calls:
// ordinary calls book at most QueueHorizon ahead, so it is served before
// most of them, and the bucket's rate still holds.
func TestLimitedFactoryServesUrgentCallsFirst(t *testing.T) {
	f, cfg := limitedSetup(t)
	cfg.RequestsPerSecond, cfg.Burst = 10, 1 // a token every 100ms
	c, err := f.ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	const ordinary = 8
	done := make(chan string, ordinary+1)
	for range ordinary {
		go func() {
			_, err := c.ShopInfo(context.Background())
			if err != nil {
				done <- "error: " + err.Error()
				return
			}
			done <- "ordinary"
		}()
	}
	first := <-done // the burst's token: the others now wait behind it
	if first != "ordinary" {
		t.Fatal(first)
	}
	go func() {
		if _, err := c.ShopInfo(platform.WithUrgent(context.Background())); err != nil {
			done <- "error: " + err.Error()
			return
		}
		done <- "urgent"
	}()
	var order []string
	for range ordinary {
		order = append(order, <-done)
	}
	at := slices.Index(order, "urgent")
	t.Logf("order %v", order)
	if at < 0 || at > 3 {
		t.Fatalf("completion order after the first call %v: the urgent call should be among the first few (QueueHorizon %s at 10/s books 2-3 ahead)", order, platform.QueueHorizon)
	}
}

// rateLimitedClient answers every call with a 429 carrying Retry-After
// until told otherwise, and counts the calls that reach it.
type rateLimitedClient struct {
	platform.Client
	limited bool
	calls   int
}

func (c *rateLimitedClient) ShopInfo(ctx context.Context) (platform.ShopInfo, error) {
	c.calls++
	if c.limited {
		return platform.ShopInfo{}, &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: 2 * time.Second, Message: "slow down"}
	}
	return c.Client.ShopInfo(ctx)
}

type rateLimitedFactory struct{ c *rateLimitedClient }

func (f rateLimitedFactory) ClientFor(context.Context, platform.ShopConfig) (platform.Client, error) {
	return f.c, nil
}

// A Retry-After pauses the whole shop: every client of it fails fast with
// the time left, without calling the platform, until it has run out;
// another shop is not paused.
func TestLimitedFactoryHonoursRetryAfterForTheShop(t *testing.T) {
	base, cfg := limitedSetup(t)
	inner, err := base.Inner.ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rl := &rateLimitedClient{Client: inner, limited: true}
	f := platform.NewLimitedFactory(rateLimitedFactory{rl})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Now = func() time.Time { return now }
	cfg.RequestsPerSecond, cfg.Burst = 100, 100
	c1, _ := f.ClientFor(context.Background(), cfg)
	c2, _ := f.ClientFor(context.Background(), cfg)

	if _, err := c1.ShopInfo(context.Background()); !errors.Is(err, platform.ErrRateLimited) {
		t.Fatalf("first call = %v, want the platform's ErrRateLimited", err)
	}
	rl.limited = false
	now = now.Add(500 * time.Millisecond)
	_, err = c2.ShopInfo(context.Background())
	if !errors.Is(err, platform.ErrRateLimited) {
		t.Fatalf("call during the Retry-After = %v, want ErrRateLimited", err)
	}
	if d, _ := platform.RetryAfter(err); d != 1500*time.Millisecond {
		t.Fatalf("Retry-After left = %s, want 1.5s", d)
	}
	if rl.calls != 1 {
		t.Fatalf("%d calls reached the platform during the Retry-After, want only the first", rl.calls)
	}
	other := cfg
	other.Key = "ns/other"
	co, _ := f.ClientFor(context.Background(), other)
	if _, err := co.ShopInfo(context.Background()); err != nil {
		t.Fatalf("another shop is paused too: %v", err)
	}
	now = now.Add(1500 * time.Millisecond)
	if _, err := c1.ShopInfo(context.Background()); err != nil {
		t.Fatalf("call after the Retry-After: %v", err)
	}
	if rl.calls != 3 {
		t.Fatalf("%d calls reached the platform, want 3", rl.calls)
	}
}

func (c *rateLimitedClient) ResendVerification(context.Context, string) (platform.Account, error) {
	c.calls++
	return platform.Account{}, &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: time.Minute, Message: "a code was sent less than a minute ago"}
}

// The one-code-a-minute limit of SMS codes is the phone's: its Retry-After
// does not pause the shop (found by the contacts test: a refused resend
// stopped every call to the shop for a minute).
func TestLimitedFactorySMSCodeLimitDoesNotPauseTheShop(t *testing.T) {
	base, cfg := limitedSetup(t)
	inner, err := base.Inner.ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rl := &rateLimitedClient{Client: inner}
	f := platform.NewLimitedFactory(rateLimitedFactory{rl})
	cfg.RequestsPerSecond, cfg.Burst = 100, 100
	c, _ := f.ClientFor(context.Background(), cfg)
	if _, err := c.ResendVerification(context.Background(), "1"); !errors.Is(err, platform.ErrRateLimited) {
		t.Fatalf("resend = %v, want the platform's ErrRateLimited", err)
	}
	if _, err := c.ShopInfo(context.Background()); err != nil {
		t.Fatalf("the shop is paused after a refused SMS resend: %v", err)
	}
	if rl.calls != 2 {
		t.Fatalf("%d calls reached the platform, want 2", rl.calls)
	}
}

// countingClient records when each ShopInfo call passed the limiter.
type countingClient struct {
	platform.Client
	mu    sync.Mutex
	calls []time.Time
}

func (c *countingClient) ShopInfo(context.Context) (platform.ShopInfo, error) {
	c.mu.Lock()
	c.calls = append(c.calls, time.Now())
	c.mu.Unlock()
	return platform.ShopInfo{}, nil
}

type countingFactory struct{ c *countingClient }

func (f countingFactory) ClientFor(context.Context, platform.ShopConfig) (platform.Client, error) {
	return f.c, nil
}

// Many callers of one shop, ordinary ones beyond the booking horizon and
// urgent ones among them, never get more calls through than the bucket
// allows: every grant replayed through a bucket of the shop's rate and
// burst keeps its balance at or above zero. Booking and cancelling under
// contention used to overdraw it by about a token (issue 7's 10,000 run at
// 20ms: -1.00).
//
// The replay uses the times the limiter granted the tokens (the OnGrant
// hook), not clock readings taken when the calls ran: on a loaded machine
// a goroutine whose token was due at t may run long after, next to the
// calls granted after it, and a replay of those readings showed overdraws
// of up to 9 tokens that the limiter never granted (load average 12). The
// grant times are the bucket's own, so the allowance is only float
// rounding; the balance of the run times is logged, not checked.
//
// The second run's booking clock gives every fifth reading 20ms old, as
// when a caller read the clock and the scheduler of a loaded machine ran
// others before it booked: a booking with a time older than the bucket's
// last one used to move the bucket's clock back, and the next booking was
// credited that time again (see the limiter's bucket).
func TestLimitedFactoryNeverExceedsTheLimitUnderContention(t *testing.T) {
	t.Run("the real clock", func(t *testing.T) { contend(t, nil) })
	t.Run("a reader delayed after its reading", func(t *testing.T) {
		var mu sync.Mutex
		readings := 0
		contend(t, func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			readings++
			if readings%5 == 0 {
				return time.Now().Add(-20 * time.Millisecond)
			}
			return time.Now()
		})
	})
}

// contend runs 60 callers of one shop for 1.5s, one in ten urgent, with
// clock as the bookings' clock (nil: time.Now), and checks the grants.
func contend(t *testing.T, clock func() time.Time) {
	const rps, burst = 50, 5
	counted := &countingClient{}
	f := platform.NewLimitedFactory(countingFactory{counted})
	if clock != nil {
		f.BookingClock(clock)
	}
	var mu sync.Mutex
	var grants []time.Time
	f.OnGrant(func(_ string, at time.Time) {
		mu.Lock()
		grants = append(grants, at)
		mu.Unlock()
	})
	cfg := platform.ShopConfig{Key: "ns/busy", RequestsPerSecond: rps, Burst: burst}
	created := time.Now() // the bucket starts empty about now
	c, err := f.ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			callCtx := ctx
			if i%10 == 0 {
				callCtx = platform.WithUrgent(ctx)
			}
			for ctx.Err() == nil {
				_, _ = c.ShopInfo(callCtx)
			}
		}()
	}
	wg.Wait()
	counted.mu.Lock()
	calls := slices.Clone(counted.calls)
	counted.mu.Unlock()
	mu.Lock()
	granted := slices.Clone(grants)
	mu.Unlock()
	if len(granted) != len(calls) {
		t.Fatalf("%d grants reported for %d calls: every call must report its grant", len(granted), len(calls))
	}
	lowest := lowestBalance(granted, created, rps, burst)
	t.Logf("%d calls in 1.5s at %d/s (burst %d); lowest balance %.4f tokens by grant time, %.2f by the time the calls ran",
		len(calls), rps, burst, lowest, lowestBalance(calls, created, rps, burst))
	if len(calls) < rps {
		t.Errorf("only %d calls passed in 1.5s at %d/s: the limiter starves its callers", len(calls), rps)
	}
	if lowest < -0.001 {
		t.Errorf("the limiter granted more than the shop's bucket holds: overdrawn by %.3f tokens", -lowest)
	}
}

// lowestBalance replays the times through a bucket of rate rps and burst
// burst, empty at start, and returns the lowest balance it reached.
func lowestBalance(times []time.Time, start time.Time, rps, burst float64) float64 {
	times = slices.Clone(times)
	slices.SortFunc(times, time.Time.Compare)
	tokens, lowest, last := 0.0, 0.0, start
	for _, at := range times {
		tokens = min(burst, tokens+rps*at.Sub(last).Seconds()) - 1
		last = at
		lowest = min(lowest, tokens)
	}
	return lowest
}

// waitUntil polls cond every few milliseconds and fails the test when it
// does not hold within limit.
func waitUntil(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(limit)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("condition not met within %v", limit)
		}
	}
}
