package platform

import (
	"context"
	"strings"
	"unicode/utf8"
)

type sourceKey struct{}

// maxSourceLen bounds the X-Source header.
const maxSourceLen = 512

// WithSource returns a context whose platform writes name source, the
// Kubernetes object they come from ("Kind/namespace/name", e.g.
// "SubAccount/shop-a/xiaohong"): drivers pass it on (the gateway in its
// X-Source header) and platforms record it in their audit logs. Control characters are dropped and
// the value is cut to 512 bytes so it is always a valid header value.
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, cleanSource(source))
}

// SourceFrom returns the source set by WithSource, or "".
func SourceFrom(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}

func cleanSource(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.TrimSpace(s)
	if len(s) > maxSourceLen {
		cut := maxSourceLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
