package platform_test

import (
	"errors"
	"fmt"
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

func TestCutAndSanitize(t *testing.T) {
	g := NewWithT(t)
	g.Expect(platform.Cut("short", 10)).To(Equal("short"))
	cut := platform.Cut(strings.Repeat("語", 100), 50)
	g.Expect(len(cut)).To(BeNumerically("<=", 50))
	g.Expect(cut).To(HaveSuffix(platform.CutMarker))
	g.Expect(utf8.ValidString(cut)).To(BeTrue())

	// A secret crossing the cut: scrubbing first leaves none of it.
	secret := "SECRETSECRETSECRET"
	text := strings.Repeat("x", 30) + secret + strings.Repeat("y", 40)
	g.Expect(platform.Scrub(platform.Cut(text, 50), secret)).To(ContainSubstring("SECRET"), "cutting first leaks a prefix")
	g.Expect(platform.ScrubCut(text, 50, secret)).NotTo(ContainSubstring("SECRET"))

	// Sanitize bounds Message, Field and Detail of a top-level or wrapped
	// *Error, copies a top-level one, and leaves other errors alone.
	long := &platform.Error{Kind: platform.ErrInvalid, Field: strings.Repeat("f", 500), Message: strings.Repeat("m", 60<<10) + secret,
		Detail: "dial tcp 10.0.0.1:6443 " + secret}
	out := platform.Sanitize(long, secret)
	var pe *platform.Error
	g.Expect(errors.As(out, &pe)).To(BeTrue())
	g.Expect(pe).NotTo(BeIdenticalTo(long))
	g.Expect(len(long.Message)).To(Equal(60<<10+len(secret)), "the original is not changed")
	g.Expect(len(pe.Message)).To(BeNumerically("<=", platform.MaxMessageBytes))
	g.Expect(len(pe.Field)).To(BeNumerically("<=", platform.MaxFieldBytes))
	g.Expect(pe.Detail).To(Equal("dial tcp 10.0.0.1:6443 " + platform.Redacted))
	g.Expect(platform.DetailOf(fmt.Errorf("connecting: %w", out))).To(Equal(pe.Detail))
	g.Expect(out.Error()).NotTo(ContainSubstring("10.0.0.1"), "the detail is not in Error()")
	plain := errors.New("plain")
	g.Expect(platform.Sanitize(plain, secret)).To(BeIdenticalTo(plain))
	same := platform.NewError(platform.ErrNotFound, "id", "no account")
	g.Expect(platform.Sanitize(same, secret)).To(BeIdenticalTo(same), "nothing to change")
	g.Expect(platform.FieldOf(platform.Sanitize(platform.NewError(platform.ErrInvalid, secret, "x"), secret))).To(BeEmpty())
}
