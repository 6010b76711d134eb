// Package pinduoduo speaks Pinduoduo's own open platform (POP), as far as
// the operator uses it: a credentials check that reads the shop's name
// with pdd.mall.info.get. Pinduoduo has no public method for sub-accounts,
// roles or chat seats; those go through a gateway (package gateway). The
// protocol (parameters, signing, envelopes, error codes) is here, shared
// with shopsim's Pinduoduo-shaped router, so the two cannot drift; the
// client is client.go.
//
// A call is one form-encoded UTF-8 POST to the router
// (https://gw-api.pinduoduo.com/api/router) with the common parameters
// type (the method), client_id, access_token, timestamp (Unix seconds),
// data_type=JSON and version=V1, plus the method's own, and sign: the
// upper-case hex MD5 of the client secret, then every parameter but sign
// (keys sorted by byte order, each key followed by its value, no
// separators), then the client secret again.
//
// The answer is {"<method without pdd., dots as _>_response": {...}} on
// success and {"error_response": {"error_code", "error_msg", "sub_code",
// "sub_msg", "request_id"}} on failure.
package pinduoduo

import (
	"crypto/md5" // Pinduoduo's signature is MD5 by definition
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// RouterPath is the router's path on the open platform's host.
const RouterPath = "/api/router"

// Common parameters of every call.
const (
	ParamType        = "type"
	ParamClientID    = "client_id"
	ParamAccessToken = "access_token"
	ParamTimestamp   = "timestamp"
	ParamDataType    = "data_type"
	ParamVersion     = "version"
	ParamSign        = "sign"

	// DataType is the only answer format the client asks for and shopsim
	// serves.
	DataType = "JSON"
	// Version is the protocol version both speak.
	Version = "V1"
)

// MethodMallInfo reads the shop the access token belongs to.
const MethodMallInfo = "pdd.mall.info.get"

// Pinduoduo's error codes the client tells apart (error_code).
const (
	// CodeTokenExpired: the access token expired or is not valid.
	CodeTokenExpired = 10019
	// CodeThrottled and CodeTooFrequent: too many calls; try later.
	CodeThrottled   = 52101
	CodeTooFrequent = 70031
	// CodeUnavailable and CodeUnavailableToo: the service is unavailable
	// for now.
	CodeUnavailable    = 52102
	CodeUnavailableToo = 52103
)

// ErrTokenExpired is the Kind of the error for CodeTokenExpired: its own
// error, because only a new access token heals it. It is an
// ErrUnauthorized (errors.Is holds), so it is never retried as it is.
var ErrTokenExpired = fmt.Errorf("access token expired or invalid: %w", platform.ErrUnauthorized)

// RetryAfterThrottled is how long a throttled caller waits: Pinduoduo's
// answer names no time, and its limits are per second.
const RetryAfterThrottled = 10 * time.Second

// StringToSign is what a signature covers: the parameters without sign,
// keys sorted by byte order, each key followed by its (first) value, with
// no separators: k1v1k2v2...
func StringToSign(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != ParamSign {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params.Get(k))
	}
	return b.String()
}

// Sign returns the signature of params with the client secret:
// UPPER(hex(MD5(secret + StringToSign(params) + secret))).
func Sign(clientSecret string, params url.Values) string {
	sum := md5.Sum([]byte(clientSecret + StringToSign(params) + clientSecret))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// VerifySignature reports whether params carry the right signature for
// clientSecret; constant-time, case-insensitive in the hex digits.
func VerifySignature(clientSecret string, params url.Values) bool {
	return subtle.ConstantTimeCompare([]byte(Sign(clientSecret, params)), []byte(strings.ToUpper(params.Get(ParamSign)))) == 1
}

// ResponseKey is the key of a method's answer: pdd.mall.info.get answers
// under mall_info_get_response.
func ResponseKey(method string) string {
	return strings.ReplaceAll(strings.TrimPrefix(method, "pdd."), ".", "_") + "_response"
}

// ErrorResponse is the body of an error envelope.
type ErrorResponse struct {
	ErrorCode int64  `json:"error_code"`
	ErrorMsg  string `json:"error_msg,omitempty"`
	SubCode   string `json:"sub_code,omitempty"`
	SubMsg    string `json:"sub_msg,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// MallInfo is the answer of pdd.mall.info.get (the fields the operator
// reads, and the ones shopsim serves besides).
type MallInfo struct {
	MallID        int64  `json:"mall_id"`
	MallName      string `json:"mall_name"`
	MallDesc      string `json:"mall_desc,omitempty"`
	Logo          string `json:"logo,omitempty"`
	MerchantType  int    `json:"merchant_type,omitempty"`
	MallCharacter int    `json:"mall_character"`
	RequestID     string `json:"request_id,omitempty"`
}

// Envelope is an answer: the method's object, or an error.
type Envelope struct {
	Response json.RawMessage
	Error    *ErrorResponse
}

// errNotEnvelope says an answer is neither shape.
var errNotEnvelope = errors.New("neither the method's answer nor error_response")

// ParseEnvelope reads an answer of method.
func ParseEnvelope(method string, data []byte) (Envelope, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Envelope{}, fmt.Errorf("decoding the answer: %w", err)
	}
	if raw, ok := top["error_response"]; ok {
		var e ErrorResponse
		if err := json.Unmarshal(raw, &e); err != nil {
			return Envelope{}, fmt.Errorf("decoding error_response: %w", err)
		}
		return Envelope{Error: &e}, nil
	}
	if raw, ok := top[ResponseKey(method)]; ok && len(raw) > 0 && raw[0] == '{' {
		return Envelope{Response: raw}, nil
	}
	return Envelope{}, errNotEnvelope
}

// ErrorFrom maps an error envelope to a platform error; the message names
// the method and keeps the code, messages and request ID:
//
//   - 10019: ErrTokenExpired (an ErrUnauthorized);
//   - 52101 and 70031 (throttled): ErrRateLimited, RetryAfterThrottled;
//   - 52102 and 52103 (unavailable): ErrTransient;
//   - any other code: ErrInvalid, a refusal retrying will not change.
//
// The message is not scrubbed here; the client scrubs it.
func ErrorFrom(method string, e ErrorResponse) *platform.Error {
	pe := &platform.Error{Kind: platform.ErrInvalid, Message: describe(method, e)}
	switch e.ErrorCode {
	case CodeTokenExpired:
		pe.Kind = ErrTokenExpired
	case CodeThrottled, CodeTooFrequent:
		pe.Kind, pe.RetryAfter = platform.ErrRateLimited, RetryAfterThrottled
	case CodeUnavailable, CodeUnavailableToo:
		pe.Kind = platform.ErrTransient
	}
	return pe
}

// describe renders what Pinduoduo said, on one line.
func describe(method string, e ErrorResponse) string {
	msg := fmt.Sprintf("%s: Pinduoduo error %d", method, e.ErrorCode)
	if e.ErrorMsg != "" {
		msg += " " + e.ErrorMsg
	}
	if sub := strings.Trim(strings.Join([]string{e.SubCode, e.SubMsg}, ": "), ": "); sub != "" {
		msg += " (" + sub + ")"
	}
	if e.RequestID != "" {
		msg += " request_id=" + e.RequestID
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(msg, ""))
}
