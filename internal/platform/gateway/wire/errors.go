package wire

import (
	"errors"
	"net/http"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// ErrorBody is the one error shape of every non-2xx answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a machine code, a message for people,
// and the offending field when there is one.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Error codes and the HTTP status each is sent with.
const (
	CodeNotFound      = "not_found"            // 404
	CodeNameTaken     = "name_taken"           // 409
	CodeConflict      = "conflict"             // 409
	CodeInvalid       = "invalid"              // 422
	CodeCodeExpired   = "code_expired"         // 422: an SMS code past its expiry
	CodeUnauthorized  = "unauthorized"         // 401
	CodeForbidden     = "forbidden"            // 403
	CodeQuotaExceeded = "seat_quota_exhausted" // 402
	CodeRateLimited   = "rate_limited"         // 429, with Retry-After
	CodeNotSupported  = "not_supported"        // 501
	CodeUnavailable   = "unavailable"          // 503, may carry Retry-After
	CodeInternal      = "internal"             // 500
)

var codes = []struct {
	code   string
	status int
	kind   error
}{
	{CodeNotFound, http.StatusNotFound, platform.ErrNotFound},
	{CodeNameTaken, http.StatusConflict, platform.ErrNameTaken},
	{CodeConflict, http.StatusConflict, platform.ErrConflict},
	// Before CodeInvalid: an expired code is also invalid input.
	{CodeCodeExpired, http.StatusUnprocessableEntity, platform.ErrCodeExpired},
	{CodeInvalid, http.StatusUnprocessableEntity, platform.ErrInvalid},
	{CodeUnauthorized, http.StatusUnauthorized, platform.ErrUnauthorized},
	{CodeForbidden, http.StatusForbidden, platform.ErrForbidden},
	{CodeQuotaExceeded, http.StatusPaymentRequired, platform.ErrQuotaExhausted},
	{CodeRateLimited, http.StatusTooManyRequests, platform.ErrRateLimited},
	{CodeNotSupported, http.StatusNotImplemented, platform.ErrNotSupported},
	{CodeUnavailable, http.StatusServiceUnavailable, platform.ErrTransient},
}

// ErrorFor is the server side: the status and body for a platform error.
func ErrorFor(err error) (int, ErrorBody) {
	detail := ErrorDetail{Code: CodeInternal, Message: err.Error()}
	var pe *platform.Error
	if errors.As(err, &pe) {
		detail.Message, detail.Field = pe.Message, pe.Field
	}
	for _, c := range codes {
		if errors.Is(err, c.kind) {
			detail.Code = c.code
			return c.status, ErrorBody{Error: detail}
		}
	}
	return http.StatusInternalServerError, ErrorBody{Error: detail}
}

// ErrorFrom is the client side: the platform error for an answer with
// status and body (nil body when it could not be read), honouring
// Retry-After. Unknown codes are judged by the status: 4xx are invalid
// input, 5xx transient.
func ErrorFrom(status int, body *ErrorBody, retryAfter time.Duration) error {
	pe := &platform.Error{RetryAfter: retryAfter}
	if body != nil {
		pe.Message, pe.Field = body.Error.Message, body.Error.Field
		for _, c := range codes {
			if c.code == body.Error.Code {
				pe.Kind = c.kind
				return pe
			}
		}
	}
	for _, c := range codes {
		// A status shared by several codes means the general one.
		if c.status == status && c.code != CodeNameTaken && c.code != CodeCodeExpired {
			pe.Kind = c.kind
			return pe
		}
	}
	switch {
	case status >= 500:
		pe.Kind = platform.ErrTransient
	default:
		pe.Kind = platform.ErrInvalid
	}
	if pe.Message == "" {
		pe.Message = http.StatusText(status)
	}
	return pe
}
