package platform

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LimitedFactory wraps a Factory so that every client of one shop shares a
// token bucket sized from the shop's ShopConfig: one busy shop waits on its
// own limit and cannot starve the others.
//
// It also honours the platform's Retry-After for the whole shop: once a
// call is refused as rate limited with a Retry-After, every client of that
// shop fails fast with ErrRateLimited (and the time still to wait) until it
// has run out, without calling the platform, so that the controllers
// requeue instead of hammering a platform that asked them to slow down.
// The SMS code operations (verify, resend) are limited per phone, not per
// shop: their Retry-After pauses nothing else.
type LimitedFactory struct {
	Inner Factory
	// Now is the clock of the Retry-After pauses; nil means time.Now.
	Now func() time.Time
	// OnWait, when set, is called after every wait for a token with the
	// shop's Key and how long the call waited (also when the wait failed).
	// Set it before the first ClientFor; clients keep the hook they were
	// built with.
	OnWait func(shop string, d time.Duration)
	// OnUrgentWait, when set, is also called after the wait of an urgent
	// call (WithUrgent), so that how long offboardings wait for a token can
	// be told from the shop's ordinary calls (the bench's offboarding
	// measure).
	OnUrgentWait func(shop string, d time.Duration)
	// onGrant, set by the tests only (export_test.go), is told when each
	// call was granted its token: the time the bucket booked it for, which
	// load cannot shift, unlike a clock read once the call runs.
	onGrant func(shop string, at time.Time)
	// clock, set by the tests only, is the clock of the token bookings;
	// nil means time.Now.
	clock func() time.Time

	mu       sync.Mutex
	limiters map[string]*bucket
	paused   map[string]time.Time // shop key -> end of its Retry-After
}

// NewLimitedFactory wraps inner with per-shop rate limits.
func NewLimitedFactory(inner Factory) *LimitedFactory {
	return &LimitedFactory{Inner: inner, limiters: map[string]*bucket{}, paused: map[string]time.Time{}}
}

// Defaults used when a ShopConfig sets no limit.
const (
	DefaultRequestsPerSecond = 10
	DefaultBurst             = 20
)

// ClientFor returns the inner client behind the shop's limiter.
func (f *LimitedFactory) ClientFor(ctx context.Context, shop ShopConfig) (Client, error) {
	c, err := f.Inner.ClientFor(ctx, shop)
	if err != nil {
		return nil, err
	}
	return &limitedClient{inner: c, limiter: f.limiter(shop), shop: shop.Key, onWait: f.OnWait, onUrgentWait: f.OnUrgentWait, onGrant: f.onGrant, factory: f}, nil
}

// limiter returns the shop's limiter, resized if the Shop's limit changed.
// bucket is a shop's token bucket. Its mutex orders the clock readings the
// limiter is given: rate.Limiter takes the time of each booking as an
// argument and sets its last update to it even when it is earlier than the
// one before (x/time v0.15's reserveN), so a caller that read the clock,
// was preempted, and booked after a later reader moved the bucket's clock
// back; the next booking was then credited that time a second time and
// overdrew the shop's limit by as many tokens as the delay was worth (on a
// loaded machine, tens of milliseconds: a token or more at 50/s). Under the
// mutex, at returns the clock's reading, never earlier than the last time
// given to the limiter, so the times it sees never go back.
type bucket struct {
	mu   sync.Mutex
	last time.Time
	*rate.Limiter
}

// at is the time of a booking: now, or the bucket's last time if now is
// earlier. Hold b.mu.
func (b *bucket) at(now time.Time) time.Time {
	if now.Before(b.last) {
		return b.last
	}
	b.last = now
	return now
}

func (f *LimitedFactory) limiter(shop ShopConfig) *bucket {
	rps, burst := shop.RequestsPerSecond, shop.Burst
	if rps <= 0 {
		rps = DefaultRequestsPerSecond
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.limiters[shop.Key]
	if !ok {
		// A new bucket starts empty, not full: this process cannot know
		// what a predecessor (the manager before a restart, the leader
		// before a failover) spent in its last second, and a full bucket
		// on top of that would let one burst too many through. Empty, the
		// shop's calls over any window stay within burst + rate × window
		// across the restart; the cost is one token's wait (1/rate) before
		// the first call.
		b = &bucket{Limiter: rate.NewLimiter(rate.Limit(rps), burst)}
		b.AllowN(b.at(f.bookingTime()), burst)
		f.limiters[shop.Key] = b
		return b
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Limit() != rate.Limit(rps) {
		b.SetLimitAt(b.at(f.bookingTime()), rate.Limit(rps))
	}
	if b.Burst() != burst {
		b.SetBurstAt(b.at(f.bookingTime()), burst)
	}
	return b
}

// bookingTime is the clock of the token bookings. Read it under the
// bucket's mutex and pass it through bucket.at.
func (f *LimitedFactory) bookingTime() time.Time {
	if f.clock != nil {
		return f.clock()
	}
	return time.Now()
}

func (f *LimitedFactory) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// pausedFor is how long the shop must still wait after a Retry-After.
func (f *LimitedFactory) pausedFor(shop string) time.Duration {
	f.mu.Lock()
	until, ok := f.paused[shop]
	f.mu.Unlock()
	if !ok {
		return 0
	}
	return until.Sub(f.now())
}

// pause records a Retry-After for the shop (the later end wins).
func (f *LimitedFactory) pause(shop string, d time.Duration) {
	until := f.now().Add(d)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.paused == nil {
		f.paused = map[string]time.Time{}
	}
	if until.After(f.paused[shop]) {
		f.paused[shop] = until
	}
}

type limitedClient struct {
	inner   Client
	limiter *bucket
	shop    string
	onWait  func(shop string, d time.Duration)
	// onUrgentWait is LimitedFactory.OnUrgentWait.
	onUrgentWait func(shop string, d time.Duration)
	onGrant      func(shop string, at time.Time)
	factory      *LimitedFactory
}

// Capabilities passes on the inner client's.
func (c *limitedClient) Capabilities() Capabilities { return CapabilitiesOf(c.inner) }

func (c *limitedClient) wait(ctx context.Context) error {
	if err := c.paused(); err != nil {
		return err
	}
	start := time.Now()
	var granted time.Time
	var err error
	urgent := Urgent(ctx)
	if urgent {
		granted, err = c.waitUrgent(ctx)
	} else {
		granted, err = c.waitBehindHorizon(ctx)
	}
	if c.onWait != nil {
		c.onWait(c.shop, time.Since(start))
	}
	if urgent && c.onUrgentWait != nil {
		c.onUrgentWait(c.shop, time.Since(start))
	}
	if err != nil {
		return &Error{Kind: ErrRateLimited, Message: fmt.Sprintf("waiting for the shop's rate limit: %v", err)}
	}
	// A Retry-After may have come while this call waited for its token.
	if err := c.paused(); err != nil {
		return err
	}
	if c.onGrant != nil {
		c.onGrant(c.shop, granted)
	}
	return nil
}

// paused fails fast while the shop's Retry-After runs.
func (c *limitedClient) paused() error {
	if c.factory == nil {
		return nil
	}
	if d := c.factory.pausedFor(c.shop); d > 0 {
		return &Error{Kind: ErrRateLimited, RetryAfter: d,
			Message: fmt.Sprintf("the platform asked to slow down; no call to this shop for another %s (Retry-After)", d.Round(time.Millisecond))}
	}
	return nil
}

// QueueHorizon bounds how far ahead an ordinary call books its shop's
// tokens. Calls beyond it wait unbooked and try again, so an urgent call (an
// offboarding, a disable; WithUrgent) finds at most this much booked ahead
// of it however long the shop's backlog, while the bucket stays in use.
const QueueHorizon = 200 * time.Millisecond

// waitBehindHorizon takes a token if one is due within QueueHorizon, and
// otherwise waits, unbooked, until one may be. It looks at the bucket
// (TokensAt) before booking instead of booking and cancelling: under
// contention Reservation.Cancel can hand back more tokens than it took
// (golang/go#69419), and a shop with a backlog and many waiting workers
// then got more calls through than its limit
// (TestLimitedFactoryNeverExceedsTheLimitUnderContention).
func (c *limitedClient) waitBehindHorizon(ctx context.Context) (time.Time, error) {
	for {
		due := c.tokenDueIn(time.Now())
		if due > QueueHorizon {
			// Wait unbooked, then look again: an urgent call may have
			// taken the token meanwhile.
			if err := sleepCtx(ctx, due-QueueHorizon); err != nil {
				return time.Time{}, err
			}
			continue
		}
		return c.take(ctx, due)
	}
}

// waitUrgent books the shop's next token whatever is queued behind the
// horizon and waits for it.
func (c *limitedClient) waitUrgent(ctx context.Context) (time.Time, error) {
	return c.take(ctx, c.tokenDueIn(time.Now()))
}

// take books the shop's next token and sleeps until it is due. It returns
// the time the bucket booked the token for: one clock reading, passed to
// the limiter and used for the delay, so the grant time is the bucket's own
// (a second reading for Delay would be later than the booking). due is the
// caller's estimate of the wait, checked against ctx's deadline before
// booking so that a call that cannot get a token in time books none.
func (c *limitedClient) take(ctx context.Context, due time.Duration) (time.Time, error) {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < due {
		return time.Time{}, fmt.Errorf("no token before the deadline (%s)", due.Round(time.Millisecond))
	}
	c.limiter.mu.Lock()
	now := c.limiter.at(c.factory.bookingTime())
	r := c.limiter.ReserveN(now, 1)
	c.limiter.mu.Unlock()
	if !r.OK() {
		return time.Time{}, fmt.Errorf("burst %d admits no call", c.limiter.Burst())
	}
	d := r.DelayFrom(now)
	if d == 0 {
		return now, nil
	}
	if err := sleepCtx(ctx, d); err != nil {
		// Rare: the caller gave up on a booked token.
		c.limiter.mu.Lock()
		r.CancelAt(c.limiter.at(c.factory.bookingTime()))
		c.limiter.mu.Unlock()
		return time.Time{}, err
	}
	return now.Add(d), nil
}

// tokenDueIn is how long until the bucket holds a whole token, counting
// the tokens already booked by waiting calls.
func (c *limitedClient) tokenDueIn(now time.Time) time.Duration {
	tokens := c.limiter.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(c.limiter.Limit()) * float64(time.Second))
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type urgentKey struct{}

// WithUrgent marks ctx's platform calls as taking access away (an
// offboarding, a disable): the per-shop limiter serves them ahead of the
// calls a backlog has queued (see QueueHorizon).
func WithUrgent(ctx context.Context) context.Context {
	return context.WithValue(ctx, urgentKey{}, true)
}

// Urgent reports whether ctx was marked by WithUrgent.
func Urgent(ctx context.Context) bool {
	u, _ := ctx.Value(urgentKey{}).(bool)
	return u
}

// call waits for a token, then runs fn; a rate-limited answer with a
// Retry-After pauses the whole shop.
func call[T any](ctx context.Context, c *limitedClient, fn func() (T, error)) (T, error) {
	if err := c.wait(ctx); err != nil {
		var zero T
		return zero, err
	}
	out, err := fn()
	c.pauseOn(err)
	return out, err
}

// callOwnLimit is call for the SMS code operations: their rate limit (one
// code a minute per phone) is the phone's, not the shop API's, so their
// Retry-After does not pause the shop.
func callOwnLimit[T any](ctx context.Context, c *limitedClient, fn func() (T, error)) (T, error) {
	if err := c.wait(ctx); err != nil {
		var zero T
		return zero, err
	}
	return fn()
}

// pauseOn pauses the shop for the Retry-After of a rate-limited answer.
func (c *limitedClient) pauseOn(err error) {
	if err != nil && c.factory != nil && errors.Is(err, ErrRateLimited) {
		if d, _ := RetryAfter(err); d > 0 {
			c.factory.pause(c.shop, d)
		}
	}
}

func (c *limitedClient) ShopInfo(ctx context.Context) (ShopInfo, error) {
	return call(ctx, c, func() (ShopInfo, error) { return c.inner.ShopInfo(ctx) })
}

func (c *limitedClient) Permissions(ctx context.Context) ([]Permission, error) {
	return call(ctx, c, func() ([]Permission, error) { return c.inner.Permissions(ctx) })
}

func (c *limitedClient) ListRoles(ctx context.Context) ([]Role, error) {
	return call(ctx, c, func() ([]Role, error) { return c.inner.ListRoles(ctx) })
}

func (c *limitedClient) GetRole(ctx context.Context, id string) (Role, error) {
	return call(ctx, c, func() (Role, error) { return c.inner.GetRole(ctx, id) })
}

func (c *limitedClient) CreateRole(ctx context.Context, spec RoleSpec, requestID string) (Role, error) {
	return call(ctx, c, func() (Role, error) { return c.inner.CreateRole(ctx, spec, requestID) })
}

func (c *limitedClient) UpdateRole(ctx context.Context, id string, spec RoleSpec) (Role, error) {
	return call(ctx, c, func() (Role, error) { return c.inner.UpdateRole(ctx, id, spec) })
}

func (c *limitedClient) DeleteRole(ctx context.Context, id string) error {
	_, err := call(ctx, c, func() (struct{}, error) { return struct{}{}, c.inner.DeleteRole(ctx, id) })
	return err
}

func (c *limitedClient) ListAccounts(ctx context.Context, opts ListOptions) (AccountPage, error) {
	return call(ctx, c, func() (AccountPage, error) { return c.inner.ListAccounts(ctx, opts) })
}

func (c *limitedClient) GetAccount(ctx context.Context, id string) (Account, error) {
	return call(ctx, c, func() (Account, error) { return c.inner.GetAccount(ctx, id) })
}

func (c *limitedClient) FindAccount(ctx context.Context, name string) (Account, error) {
	return call(ctx, c, func() (Account, error) { return c.inner.FindAccount(ctx, name) })
}

func (c *limitedClient) CreateAccount(ctx context.Context, req CreateAccount, requestID string) (Account, error) {
	return call(ctx, c, func() (Account, error) { return c.inner.CreateAccount(ctx, req, requestID) })
}

func (c *limitedClient) UpdateAccount(ctx context.Context, id string, state AccountState) (Account, error) {
	return call(ctx, c, func() (Account, error) { return c.inner.UpdateAccount(ctx, id, state) })
}

func (c *limitedClient) SetPassword(ctx context.Context, id, password string) error {
	_, err := call(ctx, c, func() (struct{}, error) { return struct{}{}, c.inner.SetPassword(ctx, id, password) })
	return err
}

func (c *limitedClient) DeleteAccount(ctx context.Context, id string) error {
	_, err := call(ctx, c, func() (struct{}, error) { return struct{}{}, c.inner.DeleteAccount(ctx, id) })
	return err
}

func (c *limitedClient) VerifyAccount(ctx context.Context, id, code string) (Account, error) {
	return callOwnLimit(ctx, c, func() (Account, error) { return c.inner.VerifyAccount(ctx, id, code) })
}

func (c *limitedClient) ResendVerification(ctx context.Context, id string) (Account, error) {
	return callOwnLimit(ctx, c, func() (Account, error) { return c.inner.ResendVerification(ctx, id) })
}

func (c *limitedClient) RequestCode(ctx context.Context, req CodeRequest, requestID string) (Verification, error) {
	return callOwnLimit(ctx, c, func() (Verification, error) { return c.inner.RequestCode(ctx, req, requestID) })
}

func (c *limitedClient) ChangePhone(ctx context.Context, id string, code VerificationCode) (Account, error) {
	return callOwnLimit(ctx, c, func() (Account, error) { return c.inner.ChangePhone(ctx, id, code) })
}

func (c *limitedClient) SetSeatCapacity(ctx context.Context, id string, capacity int32, as SubAccountLogin) (Account, error) {
	return call(ctx, c, func() (Account, error) { return c.inner.SetSeatCapacity(ctx, id, capacity, as) })
}

func (c *limitedClient) CheckCredentials(ctx context.Context, name, password string) (bool, error) {
	return call(ctx, c, func() (bool, error) { return c.inner.CheckCredentials(ctx, name, password) })
}
