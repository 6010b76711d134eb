package platform

import (
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
type Error struct {
	Kind    error
	Message string
	// Field names the offending input, when the platform says which.
	Field string
	// RetryAfter is how long the platform asks callers to wait.
	RetryAfter time.Duration
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

// FieldOf returns the offending field of err, if any.
func FieldOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Field
	}
	return ""
}
