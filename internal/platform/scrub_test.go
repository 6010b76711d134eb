package platform_test

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func TestScrub(t *testing.T) {
	g := NewWithT(t)
	g.Expect(platform.Scrub("nothing to hide", "", "")).To(Equal("nothing to hide"))
	g.Expect(platform.Scrub("token abc and abc", "abc")).To(Equal("token [redacted] and [redacted]"))
	// The longer secret is removed whole even when it contains the shorter.
	g.Expect(platform.Scrub("x secret-long y secret", "secret", "secret-long")).To(Equal("x [redacted] y [redacted]"))
	// Escaped forms: query, path, JSON and Go quoting.
	g.Expect(platform.Scrub(`q=a+b%2Fc p=a%20b%2Fc j="a b/c\u003c" g="a b/c<\t"`, "a b/c", `a b/c<`, "a b/c<\t")).
		NotTo(ContainSubstring("a b"))
	g.Expect(platform.Scrub(`"pa\"ss"`, `pa"ss`)).To(Equal(`"[redacted]"`))
	g.Expect(platform.Scrub("session=%E5%BA%97%E4%B8%BB", "店主")).To(Equal("session=" + platform.Redacted))
	// A replacement is not scanned again.
	g.Expect(platform.Scrub("red", "red", "[redacted]")).To(Equal("[redacted]"))
}
