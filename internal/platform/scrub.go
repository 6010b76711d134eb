package platform

import (
	"cmp"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Redacted replaces a secret in an error message.
const Redacted = "[redacted]"

// Scrub returns msg with every occurrence of each non-empty secret replaced
// by Redacted. Drivers pass every message built from a transport error or
// a platform's answer through it, with the credentials, signatures and
// passwords of the call, so that an *Error never carries one.
//
// Besides the secret as is, it also removes the forms error messages tend
// to carry it in: URL query- and path-escaped, JSON- and Go-quoted
// (url.Error quotes the URL with %q). Longer secrets are matched first, so
// one secret containing another is removed whole, and the text is scanned
// once, so a replacement is never matched again.
func Scrub(msg string, secrets ...string) string {
	seen := map[string]bool{}
	var forms []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			forms = append(forms, s)
		}
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		add(s)
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
		if b, err := json.Marshal(s); err == nil {
			add(string(b[1 : len(b)-1]))
		}
		q := strconv.Quote(s)
		add(q[1 : len(q)-1])
	}
	if len(forms) == 0 {
		return msg
	}
	slices.SortStableFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Redacted)
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// Excerpt is up to 200 bytes of an answer that is not in the expected
// shape (a proxy's "502 Bad Gateway" page, say), on one line and cut at a
// character boundary, for people reading the error. Scrub it, or the data,
// before it goes into a message.
func Excerpt(data []byte) string {
	const limit = 200
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(data), "")), " ")
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
