package gateway

import (
	"time"

	"context"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// The domain types a provider's back office speaks. They are the
// operator's own types (package platform), named here so that a module
// outside this repository can implement Client: the gateway converts them
// to and from the protocol's JSON (package wire), so the two cannot drift.
type (
	// Client is the back-office operations of one shop: the interface a
	// provider implements (embed Unsupported for what the platform lacks).
	Client = platform.Client
	// Name is a platform: Taobao, Pinduoduo or Douyin.
	Name = platform.Name
	// Credentials are what a shop's requests are signed with: the app
	// key, the app secret (the HMAC key) and the access token.
	Credentials = platform.Credentials

	ShopInfo      = platform.ShopInfo
	Permission    = platform.Permission
	RoleSpec      = platform.RoleSpec
	Role          = platform.Role
	Profile       = platform.Profile
	Seat          = platform.Seat
	Presence      = platform.Presence
	Security      = platform.Security
	AccountState  = platform.AccountState
	CreateAccount = platform.CreateAccount
	Account       = platform.Account
	Verification  = platform.Verification
	// CodeRequest and VerificationCode: a phone verified before the
	// account exists (PhoneVerificationBeforeCreate).
	CodeRequest       = platform.CodeRequest
	VerificationCode  = platform.VerificationCode
	PhoneVerification = platform.PhoneVerification
	SubAccountLogin   = platform.SubAccountLogin
	ListOptions       = platform.ListOptions
	AccountPage       = platform.AccountPage
	Department        = platform.Department
	DepartmentSpec    = platform.DepartmentSpec
	Contact           = platform.Contact
	ContactSpec       = platform.ContactSpec
	// Activity is one thing a sub-account did (GET /activity); a page of
	// them answers an ActivityQuery.
	Activity      = platform.Activity
	ActivityKind  = platform.ActivityKind
	ActivityQuery = platform.ActivityQuery
	ActivityPage  = platform.ActivityPage
	// AuditEntry is one write of a shop's audit log (GET /audit).
	AuditEntry = wire.AuditEntry
	// Error is what a Client returns to choose the answer: its Kind (one
	// of the Err* sentinels) picks the status and code, Field names the
	// offending input, RetryAfter becomes the Retry-After header (429,
	// 503), Message is shown to the client (never a secret).
	Error = platform.Error
)

// Platforms and presences.
const (
	Taobao    = platform.Taobao
	Pinduoduo = platform.Pinduoduo
	Douyin    = platform.Douyin

	PhoneVerificationNone         = platform.PhoneVerificationNone
	PhoneVerificationBeforeCreate = platform.PhoneVerificationBeforeCreate
	PhoneVerificationAfterCreate  = platform.PhoneVerificationAfterCreate

	PresenceOnline = platform.PresenceOnline
	PresenceBusy   = platform.PresenceBusy
	PresenceBreak  = platform.PresenceBreak
)

// The error kinds a Client returns (wrapped in an *Error, or with %w); each
// maps to one status and code of the protocol (docs/platform-gateway.md,
// Errors). Any other error is a 500 "internal".
var (
	ErrNotFound       = platform.ErrNotFound       // 404 not_found
	ErrNameTaken      = platform.ErrNameTaken      // 409 name_taken
	ErrConflict       = platform.ErrConflict       // 409 conflict
	ErrInvalid        = platform.ErrInvalid        // 422 invalid
	ErrUnauthorized   = platform.ErrUnauthorized   // 401 unauthorized
	ErrForbidden      = platform.ErrForbidden      // 403 forbidden
	ErrQuotaExhausted = platform.ErrQuotaExhausted // 402 seat_quota_exhausted
	ErrRateLimited    = platform.ErrRateLimited    // 429 rate_limited, Retry-After
	ErrNotSupported   = platform.ErrNotSupported   // 501 not_supported
	ErrTransient      = platform.ErrTransient      // 503 unavailable, Retry-After when set
	ErrCodeExpired    = platform.ErrCodeExpired    // 422 code_expired
)

// NewError returns an *Error of kind about field, its message formatted.
func NewError(kind error, field, format string, args ...any) *Error {
	return platform.NewError(kind, field, format, args...)
}

// SourceFrom returns the request's X-Source (the Kubernetes object a write
// comes from, "Kind/namespace/name"), for the provider's audit log.
func SourceFrom(ctx context.Context) string { return platform.SourceFrom(ctx) }

// AuditLog is implemented by a Client that keeps the shop's write log; GET
// /audit answers 501 not_supported for one that does not.
type AuditLog interface {
	// Audit returns the entries at or after since (all for the zero time),
	// oldest first.
	Audit(ctx context.Context, since time.Time) ([]AuditEntry, error)
}
