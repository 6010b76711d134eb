package wire

import (
	"crypto/hmac"
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
//	METHOD \n escaped-path \n canonical-query \n timestamp \n hex(sha256(body))
//
// The canonical query is the query's keys in byte order, each "k=v" with
// both URL-escaped, joined by "&"; repeated keys keep their order.
func StringToSign(method, escapedPath string, query url.Values, timestamp string, body []byte) string {
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
	return strings.Join([]string{strings.ToUpper(method), escapedPath, strings.Join(q, "&"), timestamp, hex.EncodeToString(sum[:])}, "\n")
}

// Sign returns the lowercase hex HMAC-SHA256 of StringToSign under the
// shop's app secret.
func Sign(appSecret, method, escapedPath string, query url.Values, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(StringToSign(method, escapedPath, query, timestamp, body)))
	return hex.EncodeToString(mac.Sum(nil))
}

// SignRequest sets the authentication headers on req, whose body is body.
func SignRequest(req *http.Request, appKey, appSecret, accessToken string, body []byte, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set(HeaderAppKey, appKey)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderAuthorization, "Bearer "+accessToken)
	req.Header.Set(HeaderSignature, Sign(appSecret, req.Method, req.URL.EscapedPath(), req.URL.Query(), ts, body))
}

// Verification failures. Their messages are safe to return to a client:
// they never echo a secret, token or signature.
var (
	ErrMissingAuth  = errors.New("missing app key, timestamp, signature or access token")
	ErrBadTimestamp = errors.New("timestamp is not Unix seconds")
	ErrClockSkew    = errors.New("timestamp is more than 5 minutes from the server's clock")
	ErrBadSignature = errors.New("signature does not match")
)

// VerifyRequest checks req's signature with appSecret and its timestamp
// against now. It does not check the app key or access token themselves;
// the caller looks those up.
func VerifyRequest(req *http.Request, appSecret string, body []byte, now time.Time) error {
	ts, sig := req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderSignature)
	if req.Header.Get(HeaderAppKey) == "" || ts == "" || sig == "" || BearerToken(req) == "" {
		return ErrMissingAuth
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if d := now.Sub(time.Unix(secs, 0)); d > MaxClockSkew || d < -MaxClockSkew {
		return ErrClockSkew
	}
	want := Sign(appSecret, req.Method, req.URL.EscapedPath(), req.URL.Query(), ts, body)
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
