package wire

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

func escape(s string) string { return url.PathEscape(s) }

// StringToSign is what a request's signature covers:
//
//	METHOD \n escaped-path \n canonical-query \n timestamp \n nonce \n hex(sha256(body))
//
// The canonical query is the query's keys in byte order, each "k=v" with
// both URL-escaped, joined by "&"; repeated keys keep their order.
func StringToSign(method, escapedPath string, query url.Values, timestamp, nonce string, body []byte) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var q []string
	for _, k := range keys {
		for _, v := range query[k] {
			q = append(q, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	sum := sha256.Sum256(body)
	return strings.Join([]string{strings.ToUpper(method), escapedPath, strings.Join(q, "&"), timestamp, nonce, hex.EncodeToString(sum[:])}, "\n")
}

// Sign returns the lowercase hex HMAC-SHA256 of StringToSign under the
// shop's app secret.
func Sign(appSecret, method, escapedPath string, query url.Values, timestamp, nonce string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(StringToSign(method, escapedPath, query, timestamp, nonce, body)))
	return hex.EncodeToString(mac.Sum(nil))
}

// NonceLen is the length of a nonce: 16 random bytes in lowercase hex.
const NonceLen = 32

// NewNonce returns a fresh nonce: 16 bytes from crypto/rand in lowercase hex.
func NewNonce() string {
	var b [NonceLen / 2]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand.Read panics rather than return an error)
	return hex.EncodeToString(b[:])
}

// SignRequest sets the authentication headers on req, whose body is body,
// with a fresh nonce: call it for every attempt, so that a retry is a new
// request and not a replay.
func SignRequest(req *http.Request, appKey, appSecret, accessToken string, body []byte, now time.Time) {
	ts, nonce := strconv.FormatInt(now.Unix(), 10), NewNonce()
	req.Header.Set(HeaderAppKey, appKey)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderAuthorization, "Bearer "+accessToken)
	req.Header.Set(HeaderSignature, Sign(appSecret, req.Method, req.URL.EscapedPath(), req.URL.Query(), ts, nonce, body))
}

// Verification failures. Their messages are safe to return to a client:
// they never echo a secret, token or signature.
var (
	ErrMissingAuth  = errors.New("missing app key, timestamp, nonce, signature or access token")
	ErrBadTimestamp = errors.New("timestamp is not Unix seconds")
	ErrBadNonce     = errors.New("nonce is not 32 lowercase hex digits")
	ErrClockSkew    = errors.New("timestamp is more than 5 minutes from the server's clock")
	ErrBadSignature = errors.New("signature does not match")
	// ErrReplayed is not returned by VerifyRequest (it keeps no state): a
	// server that remembers the nonces it accepted refuses a repeat with it.
	ErrReplayed = errors.New("request replayed: its nonce was already used")
)

// validNonce reports whether n is NonceLen lowercase hex digits.
func validNonce(n string) bool {
	if len(n) != NonceLen {
		return false
	}
	for i := range len(n) {
		if c := n[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// VerifyRequest checks req's signature with appSecret, its nonce's form and
// its timestamp against now. It does not check the app key or access token
// themselves, nor whether the nonce was seen before; the caller does.
func VerifyRequest(req *http.Request, appSecret string, body []byte, now time.Time) error {
	ts, nonce, sig := req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderNonce), req.Header.Get(HeaderSignature)
	if req.Header.Get(HeaderAppKey) == "" || ts == "" || nonce == "" || sig == "" || BearerToken(req) == "" {
		return ErrMissingAuth
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if !validNonce(nonce) {
		return ErrBadNonce
	}
	if d := now.Sub(time.Unix(secs, 0)); d > MaxClockSkew || d < -MaxClockSkew {
		return ErrClockSkew
	}
	want := Sign(appSecret, req.Method, req.URL.EscapedPath(), req.URL.Query(), ts, nonce, body)
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return ErrBadSignature
	}
	return nil
}

// BearerToken returns the access token of req's Authorization header.
func BearerToken(req *http.Request) string {
	token, ok := strings.CutPrefix(req.Header.Get(HeaderAuthorization), "Bearer ")
	if !ok {
		return ""
	}
	return token
}
