package platform

import (
	"cmp"
	"encoding/json"
	"errors"
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

// Bounds of what a driver's error carries (see Sanitize).
const (
	// MaxMessageBytes bounds Error.Message: an Event's note holds at most
	// 1 KiB, and a status condition's message 32 KiB for everything the
	// controllers put in front of it.
	MaxMessageBytes = 1024
	// MaxFieldBytes bounds Error.Field, a parameter name.
	MaxFieldBytes = 128
	// MaxDetailBytes bounds Error.Detail, which goes to the log only.
	MaxDetailBytes = 4096
	// CutMarker ends a text that was cut to its bound.
	CutMarker = " …[cut]"
)

// Cut returns s if it is at most limit bytes, else its first bytes up to
// a character boundary followed by CutMarker, limit bytes at most in all.
func Cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := max(0, limit-len(CutMarker))
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + CutMarker
}

// ScrubCut scrubs the secrets from s, cuts it to limit bytes, and scrubs
// it again. Scrubbing first is what matters: a secret that crosses the cut
// would otherwise leave its first part in the text, where no scrub can
// find it any more. The second pass catches a secret the cut's marker or
// an earlier transformation could have joined.
func ScrubCut(s string, limit int, secrets ...string) string {
	return Scrub(Cut(Scrub(s, secrets...), limit), secrets...)
}

// Sanitize bounds and scrubs the *Error in err, if any: Message to
// MaxMessageBytes, Field to MaxFieldBytes (a field holding a secret is
// dropped: it is no field), Detail to MaxDetailBytes, each scrubbed of the
// secrets before and after the cut. Every driver passes what it returns
// through it, so no platform message, however long, can make a status
// patch fail or carry a secret. Other errors are returned as they are.
// A top-level *Error is copied, not changed; err itself comes back when
// nothing needs changing.
func Sanitize(err error, secrets ...string) error {
	var pe *Error
	if !errors.As(err, &pe) {
		return err
	}
	msg := ScrubCut(pe.Message, MaxMessageBytes, secrets...)
	detail := ScrubCut(pe.Detail, MaxDetailBytes, secrets...)
	field := Cut(pe.Field, MaxFieldBytes)
	if Scrub(field, secrets...) != field || Scrub(pe.Field, secrets...) != pe.Field {
		field = ""
	}
	if msg == pe.Message && detail == pe.Detail && field == pe.Field {
		return err
	}
	out := pe
	if top, ok := err.(*Error); ok && top == pe {
		cp := *pe
		out, err = &cp, &cp
	}
	out.Message, out.Detail, out.Field = msg, detail, field
	return err
}

// ScrubbedExcerpt is Excerpt of data scrubbed before and after: the
// excerpt is cut and folded, which could leave part of a secret that
// crosses the cut, or join one split by a line break.
func ScrubbedExcerpt(data []byte, secrets ...string) string {
	return Scrub(Excerpt([]byte(Scrub(string(data), secrets...))), secrets...)
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
