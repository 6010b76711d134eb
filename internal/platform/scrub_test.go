package platform_test

import (
	"strings"
	"testing"
	"unicode/utf8"

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

func TestExcerpt(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"folds whitespace":      {"502  Bad\n\tGateway\r\n", "502 Bad Gateway"},
		"drops control chars":   {"bad\x00\x1b[31mred", "bad[31mred"},
		"empty":                 {"   ", ""},
		"invalid utf-8 dropped": {"ok\xff\xfeok", "okok"},
	} {
		if got := platform.Excerpt([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: Excerpt(%q) = %q, want %q", name, tc.in, got, tc.want)
		}
	}
	// Cut at 200 bytes without splitting a character, marked with an ellipsis.
	long := strings.Repeat("界", 100) // 300 bytes
	got := platform.Excerpt([]byte(long))
	if !strings.HasSuffix(got, "…") || !utf8.ValidString(got) || len(got) > 200+len("…") {
		t.Errorf("Excerpt of 300 bytes = %q (%d bytes)", got, len(got))
	}
}
