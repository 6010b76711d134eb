package top

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// TOP's platform error codes (the code of an error envelope).
const (
	CodeUserCallLimited          = 4
	CodeSessionCallLimited       = 5
	CodePartnerCallLimited       = 6
	CodeAppCallLimited           = 7
	CodeAppCallExceedsFrequency  = 8
	CodeHTTPActionNotAllowed     = 9
	CodeServiceUnavailable       = 10
	CodeInsufficientISVPerms     = 11
	CodeInsufficientUserPerms    = 12
	CodeInsufficientPartnerPerms = 13
	CodeRemoteServiceError       = 15
	CodeMissingMethod            = 21
	CodeInvalidMethod            = 22
	CodeInvalidFormat            = 23
	CodeMissingSignature         = 24
	CodeInvalidSignature         = 25
	CodeMissingSession           = 26
	CodeInvalidSession           = 27
	CodeMissingAppKey            = 28
	CodeInvalidAppKey            = 29
	CodeMissingTimestamp         = 30
	CodeInvalidTimestamp         = 31
	CodeMissingVersion           = 32
	CodeInvalidVersion           = 33
	CodeUnsupportedVersion       = 34
	CodeMissingArguments         = 40
	CodeInvalidArguments         = 41
)

// Sub-code prefixes and the app-ban sub-code.
const (
	// SubCodeAccessControl prefixes the call-limit sub-codes of code 7.
	SubCodeAccessControl = "accesscontrol."
	// SubCodeAppAccessCount is the app's call-count ban.
	SubCodeAppAccessCount = "accesscontrol.limited-by-app-access-count"
	// SubCodeISP prefixes the platform's own failures (worth a retry).
	SubCodeISP = "isp."
	// SubCodeISV prefixes the caller's mistakes.
	SubCodeISV = "isv."

	// SubCodeMissingParameter and SubCodeInvalidParameter (each followed
	// by ":" and the parameter when there is one) go with codes 40 and 41.
	SubCodeMissingParameter = "isv.missing-parameter"
	SubCodeInvalidParameter = "isv.invalid-parameter"
	// SubCodeRemoteServiceError is the platform's own failure (code 15).
	SubCodeRemoteServiceError = "isp.remote-service-error"
	// SubCodeInvalidSessionKey goes with code 27 (invalid session).
	SubCodeInvalidSessionKey = "invalid-sessionkey"
)

// messages are TOP's messages (msg) for its platform codes.
var messages = map[int64]string{
	CodeAppCallLimited:        "App Call Limited",
	CodeHTTPActionNotAllowed:  "Http Action Not Allowed",
	CodeInsufficientUserPerms: "Insufficient User Permissions",
	CodeRemoteServiceError:    "Remote service error",
	CodeMissingMethod:         "Missing Method",
	CodeInvalidMethod:         "Invalid Method",
	CodeInvalidFormat:         "Invalid Format",
	CodeMissingSignature:      "Missing Signature",
	CodeInvalidSignature:      "Invalid Signature",
	CodeMissingSession:        "Missing Session",
	CodeInvalidSession:        "Invalid Session",
	CodeMissingAppKey:         "Missing App Key",
	CodeInvalidAppKey:         "Invalid App Key",
	CodeMissingTimestamp:      "Missing Timestamp",
	CodeInvalidTimestamp:      "Invalid Timestamp",
	CodeMissingVersion:        "Missing Version",
	CodeInvalidVersion:        "Invalid Version",
	CodeMissingArguments:      "Missing Required Arguments",
	CodeInvalidArguments:      "Invalid Arguments",
}

// Message is TOP's message (msg) for a platform code; "" for a code it has
// none for here.
func Message(code int64) string { return messages[code] }

// MaxRetryAfter caps the wait a ban message asks for, so a bogus number
// cannot park an object for days.
const MaxRetryAfter = time.Hour

// DefaultBan is the wait of an app-call ban whose message names none.
const DefaultBan = time.Second

var (
	banPattern = regexp.MustCompile(`(?i)ban\s+will\s+last\s+for\s+(\d+)\s+more\s+seconds?`)
	// argPattern finds the parameter a 40/41 (or isv.*-parameter) error
	// names: "Missing required arguments:sub_id", "Invalid arguments:page_size",
	// "isv.invalid-parameter:name".
	// The name itself must be lower case, as TOP's parameters are.
	argPattern = regexp.MustCompile(`(?i:arguments?|parameters?)\s*[:：]\s*([a-z_][a-z0-9_.]{0,63})\b`)
)

// paramFields maps TOP parameter names to the platform field names the
// other drivers use, so callers see the same Field whichever driver runs.
var paramFields = map[string]string{
	ParamName:            "name",
	ParamDescription:     "description",
	ParamPermissionCodes: "permissions",
	ParamPageSize:        "pageSize",
	ParamPageNum:         "page",
	ParamSubID:           "id",
	ParamSubNick:         "name",
	ParamAccountIDs:      "accountIDs",
}

// ErrorFrom maps a TOP error envelope to a platform error; the message
// names the method and keeps TOP's code, sub-code, messages and request
// ID. In order:
//
//   - code 7 or an accesscontrol.* sub-code: ErrRateLimited, RetryAfter
//     from "This ban will last for N more seconds" (1s when absent);
//   - the other call limits, 4–8: ErrRateLimited, RetryAfter as above
//     when the message names one;
//   - 24/25 (missing/invalid signature), 26/27 (missing/invalid session),
//     28/29 (app key), 30/31 (timestamp, e.g. clock skew): ErrUnauthorized;
//   - 11/12/13 (insufficient permissions): ErrForbidden;
//   - 40/41 (missing/invalid arguments): ErrInvalid, Field from the
//     message when it names the parameter;
//   - 21/22 (missing/invalid method: TOP has no such method): ErrNotSupported;
//   - 9, 23, 32–34 (HTTP action, format, version): ErrInvalid;
//   - an isp.* sub-code (the platform's failure): ErrTransient;
//   - an isv.* sub-code (the caller's mistake, usually with code 15):
//     ErrNotFound when it says *not-exist* or *not-found*, ErrNameTaken
//     when it says *exist* or *duplicate*, otherwise ErrInvalid with
//     Field when the message names the parameter;
//   - 10 and 15 without an isv.* sub-code, and every unknown code:
//     ErrTransient.
//
// The message is not scrubbed here; the client scrubs it with its secrets.
func ErrorFrom(method string, e ErrorResponse) *platform.Error {
	pe := &platform.Error{Kind: platform.ErrTransient, Message: describe(method, e)}
	sub := strings.ToLower(strings.TrimSpace(e.SubCode))
	switch code := e.Code; {
	case code == CodeAppCallLimited || strings.HasPrefix(sub, SubCodeAccessControl):
		pe.Kind = platform.ErrRateLimited
		pe.RetryAfter = banDuration(e)
		if pe.RetryAfter == 0 {
			pe.RetryAfter = DefaultBan
		}
	case code >= CodeUserCallLimited && code <= CodeAppCallExceedsFrequency:
		pe.Kind = platform.ErrRateLimited
		pe.RetryAfter = banDuration(e)
	case code >= CodeMissingSignature && code <= CodeInvalidTimestamp:
		pe.Kind = platform.ErrUnauthorized
	case code >= CodeInsufficientISVPerms && code <= CodeInsufficientPartnerPerms:
		pe.Kind = platform.ErrForbidden
	case code == CodeMissingArguments || code == CodeInvalidArguments:
		pe.Kind = platform.ErrInvalid
		pe.Field = fieldOf(e)
	case code == CodeMissingMethod || code == CodeInvalidMethod:
		pe.Kind = platform.ErrNotSupported
	case code == CodeHTTPActionNotAllowed || code == CodeInvalidFormat ||
		(code >= CodeMissingVersion && code <= CodeUnsupportedVersion):
		pe.Kind = platform.ErrInvalid
	case strings.HasPrefix(sub, SubCodeISP):
		pe.Kind = platform.ErrTransient
	case strings.HasPrefix(sub, SubCodeISV):
		switch {
		case strings.Contains(sub, "not-exist") || strings.Contains(sub, "not-found") || strings.Contains(sub, "notexist"):
			pe.Kind = platform.ErrNotFound
		case strings.Contains(sub, "exist") || strings.Contains(sub, "duplicate"):
			pe.Kind = platform.ErrNameTaken
		default:
			pe.Kind = platform.ErrInvalid
		}
		pe.Field = fieldOf(e)
	}
	return pe
}

// describe renders what TOP said, on one line.
func describe(method string, e ErrorResponse) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: TOP error %d", method, e.Code)
	if e.Msg != "" {
		fmt.Fprintf(&b, " %s", e.Msg)
	}
	if e.SubCode != "" {
		fmt.Fprintf(&b, " (%s", e.SubCode)
		if e.SubMsg != "" {
			fmt.Fprintf(&b, ": %s", e.SubMsg)
		}
		b.WriteString(")")
	} else if e.SubMsg != "" {
		fmt.Fprintf(&b, " (%s)", e.SubMsg)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " request_id=%s", e.RequestID)
	}
	return oneLine(b.String())
}

// banDuration reads "This ban will last for N more seconds" from the
// sub-message or the message; 0 when neither says, at most MaxRetryAfter.
func banDuration(e ErrorResponse) time.Duration {
	for _, s := range []string{e.SubMsg, e.Msg} {
		m := banPattern.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		secs, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil || secs > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	return 0
}

// fieldOf is the parameter an error names, from the sub-message, the
// message or the sub-code, translated to the platform's field name.
func fieldOf(e ErrorResponse) string {
	for _, s := range []string{e.SubMsg, e.Msg, e.SubCode} {
		if m := argPattern.FindStringSubmatch(s); m != nil {
			p := m[1]
			if f, ok := paramFields[p]; ok {
				return f
			}
			return p
		}
	}
	return ""
}

// oneLine drops control characters, so a message is one log line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}
