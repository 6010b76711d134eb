package platform

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Drivers return an *Error whose Kind is one of these, so
// callers test with errors.Is and read details with errors.As.
var (
	ErrNotFound       = errors.New("not found")
	ErrNameTaken      = errors.New("name already taken")
	ErrInvalid        = errors.New("invalid input")
	ErrUnauthorized   = errors.New("unauthorized")
	ErrForbidden      = errors.New("not permitted")
	ErrRateLimited    = errors.New("rate limited")
	ErrQuotaExhausted = errors.New("seat quota exhausted")
	ErrConflict       = errors.New("conflict")
	ErrNotSupported   = errors.New("not supported by the platform")
	ErrTransient      = errors.New("transient platform error")
)

// Error carries a sentinel Kind plus what the platform said. Message must
// never contain a credential, token or signature.
//
// What Error() returns (kind, field, message) is fit for a status
// condition or an Event; what only the operator's log may show is in
// Detail. The drivers return at most MaxMessageBytes of Message (see
// Sanitize).
type Error struct {
	Kind    error
	Message string
	// Field names the offending input, when the platform says which.
	Field string
	// RetryAfter is how long the platform asks callers to wait.
	RetryAfter time.Duration
	// Detail is for the operator's log only, never for status or Events:
	// the transport's own error (the address, and whether the connection
	// was refused, timed out or met plain HTTP on an https URL) or an
	// excerpt of an answer that is not the API's. In status it would let
	// whoever may write a Shop's endpoint probe the cluster's network
	// through the operator. Scrubbed of secrets like Message; Error()
	// leaves it out. Read it with DetailOf.
	Detail string
}

func (e *Error) Error() string {
	msg := e.Kind.Error()
	if e.Field != "" {
		msg = fmt.Sprintf("%s: %s", msg, e.Field)
	}
	if e.Message != "" {
		msg = fmt.Sprintf("%s: %s", msg, e.Message)
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Kind }

// NewError builds an *Error of the given kind.
func NewError(kind error, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...)}
}

// RetryAfter reports how long to wait before retrying err, and whether the
// error is worth retrying at all.
func RetryAfter(err error) (time.Duration, bool) {
	var pe *Error
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		return pe.RetryAfter, true
	}
	switch {
	case errors.Is(err, ErrRateLimited), errors.Is(err, ErrTransient):
		return 0, true
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNameTaken), errors.Is(err, ErrInvalid),
		errors.Is(err, ErrUnauthorized), errors.Is(err, ErrForbidden), errors.Is(err, ErrQuotaExhausted),
		errors.Is(err, ErrConflict), errors.Is(err, ErrNotSupported):
		return 0, false
	}
	// Unknown errors (network, context) are treated as transient.
	return 0, true
}

// ErrEndpointNotAllowed is the Kind of the error a Factory wrapped with
// RestrictEndpoints returns for a Shop whose endpoint host is not among
// the allowed ones (the manager's --allowed-endpoint-hosts). It is an
// ErrInvalid on Field "endpoint" (errors.Is(err, ErrInvalid) holds), so
// it is not retried: a person must change the endpoint or the allowed
// list. No connection is attempted.
var ErrEndpointNotAllowed = fmt.Errorf("endpoint not allowed by the operator: %w", ErrInvalid)

// ErrCodeExpired is the Kind of the error a platform returns for an SMS
// verification code entered after its expiry: its own error, because the
// remedy is a new code, not another try. It is an ErrInvalid on Field
// "code" (errors.Is(err, ErrInvalid) holds), so it is not retried.
var ErrCodeExpired = fmt.Errorf("verification code expired: %w", ErrInvalid)

// IsEndpointNotAllowed reports whether err refuses a Shop's endpoint as
// not allowed (ErrEndpointNotAllowed).
func IsEndpointNotAllowed(err error) bool { return errors.Is(err, ErrEndpointNotAllowed) }

// UnreachableMessage is the public message of a transport failure: the
// connection could not be made, broke, or no answer came in time. Which of
// these, and the address, are in Detail.
const UnreachableMessage = "the endpoint could not be reached or did not answer (the operator's log has the details)"

// TransportError maps a driver's failure to send a call or to read its
// answer. When the caller's ctx ended, it is that context error, wrapped
// with api and op ("TOP taobao.subuser.info.update: context canceled").
// Otherwise it is ErrTransient with the public UnreachableMessage, and
// what happened in Detail, for the log only (whether a port was closed,
// filtered or spoke plain HTTP, and the address, would let a Shop's
// author probe the network through status): the per-call context callCtx
// ending is "no answer within timeout". Detail is scrubbed of secrets.
func TransportError(ctx, callCtx context.Context, api, op string, timeout time.Duration, err error, secrets ...string) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s %s: %w", api, op, ctxErr)
	}
	detail := fmt.Sprintf("%v", err)
	if callCtx.Err() != nil {
		detail = fmt.Sprintf("no answer within %s", timeout)
	}
	return &Error{Kind: ErrTransient, Message: op + ": " + UnreachableMessage, Detail: Scrub(detail, secrets...)}
}

// DetailOf returns the log-only detail of err (see Error.Detail), or "".
// A controller writes err.Error() to status and logs DetailOf(err) next
// to it.
func DetailOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Detail
	}
	return ""
}

// FieldOf returns the offending field of err, if any.
func FieldOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Field
	}
	return ""
}
