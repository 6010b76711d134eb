package platform

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
