package platform

import "time"

// TokensFor is the tokens in a shop's bucket now, for the tests of the
// external test package (this file is compiled into tests only).
func (f *LimitedFactory) TokensFor(key string) float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.limiters[key]; ok {
		return l.Tokens()
	}
	return 0
}

// OnGrant sets the hook told when each call of f's clients was granted its
// token (the time the bucket booked it for). Set it before the first
// ClientFor.
func (f *LimitedFactory) OnGrant(hook func(shop string, at time.Time)) {
	f.onGrant = hook
}

// BookingClock sets the clock of f's token bookings. Set it before the
// first ClientFor.
func (f *LimitedFactory) BookingClock(clock func() time.Time) {
	f.clock = clock
}
