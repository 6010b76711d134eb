package top

import (
	"crypto/hmac"
	"crypto/md5" // TOP's md5 and hmac sign methods are MD5 by definition
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/url"
	"sort"
	"strings"
	"time"
)

// SignMethod is a TOP signature algorithm, sent as sign_method.
type SignMethod string

// The sign methods TOP accepts.
const (
	// SignMD5 is UPPER(hex(MD5(secret + q + secret))).
	SignMD5 SignMethod = "md5"
	// SignHMAC is UPPER(hex(HMAC-MD5(secret, q))).
	SignHMAC SignMethod = "hmac"
	// SignHMACSHA256 is UPPER(hex(HMAC-SHA256(secret, q))), the driver's default.
	SignHMACSHA256 SignMethod = "hmac-sha256"
)

// Valid reports whether m is one of the three sign methods.
func (m SignMethod) Valid() bool {
	switch m {
	case SignMD5, SignHMAC, SignHMACSHA256:
		return true
	}
	return false
}

// Common parameters of every TOP call.
const (
	ParamMethod     = "method"
	ParamAppKey     = "app_key"
	ParamSession    = "session"
	ParamTimestamp  = "timestamp"
	ParamFormat     = "format"
	ParamVersion    = "v"
	ParamSignMethod = "sign_method"
	ParamSign       = "sign"
	ParamSimplify   = "simplify"

	// Format is the only answer format the driver asks for and shopsim
	// serves.
	Format = "json"
	// Version is the protocol version both speak.
	Version = "2.0"
)

// TimestampLayout is the layout of the timestamp parameter, in CST.
const TimestampLayout = "2006-01-02 15:04:05"

// MaxClockSkew is how far TOP lets a request's timestamp be from its clock.
const MaxClockSkew = 10 * time.Minute

// CST is GMT+8, the zone of every TOP timestamp and date, whatever the
// machine's own zone.
var CST = time.FixedZone("CST", 8*3600)

// FormatTimestamp renders t as TOP's timestamp: yyyy-MM-dd HH:mm:ss in GMT+8.
func FormatTimestamp(t time.Time) string { return t.In(CST).Format(TimestampLayout) }

// ParseTimestamp reads a TOP timestamp (GMT+8).
func ParseTimestamp(s string) (time.Time, error) {
	return time.ParseInLocation(TimestampLayout, s, CST)
}

// StringToSign is what a TOP signature covers: the parameters without
// sign and without empty values, keys sorted by byte order, each key
// followed by its (first) value, with no separators: k1v1k2v2...
func StringToSign(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k, vs := range params {
		if k == ParamSign || len(vs) == 0 || vs[0] == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params[k][0])
	}
	return b.String()
}

// Sign returns the uppercase hex signature of params with the app secret.
func Sign(method SignMethod, secret string, params url.Values) (string, error) {
	q := StringToSign(params)
	var sum []byte
	switch method {
	case SignMD5:
		h := md5.Sum([]byte(secret + q + secret))
		sum = h[:]
	case SignHMAC:
		sum = mac(md5.New, secret, q)
	case SignHMACSHA256:
		sum = mac(sha256.New, secret, q)
	default:
		return "", fmt.Errorf("unknown sign method %q: use %s, %s or %s", method, SignMD5, SignHMAC, SignHMACSHA256)
	}
	return strings.ToUpper(hex.EncodeToString(sum)), nil
}

func mac(h func() hash.Hash, secret, q string) []byte {
	m := hmac.New(h, []byte(secret))
	m.Write([]byte(q))
	return m.Sum(nil)
}

// VerifySignature reports whether params carry the right signature for
// secret with their own sign_method; the comparison is constant-time and
// case-insensitive in the hex digits.
func VerifySignature(secret string, params url.Values) bool {
	want, err := Sign(SignMethod(params.Get(ParamSignMethod)), secret, params)
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(want), []byte(strings.ToUpper(params.Get(ParamSign))))
}
