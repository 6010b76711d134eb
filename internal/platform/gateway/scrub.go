package gateway

import "github.com/subaccount-operator/subaccount-operator/internal/platform"

// scrub is platform.Scrub: every message built from a transport error or a
// response body goes through it with the call's secrets.
func scrub(msg string, secrets ...string) string {
	return platform.Scrub(msg, secrets...)
}
