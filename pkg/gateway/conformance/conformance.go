// Package conformance checks a running gateway against the gateway
// protocol v1 (docs/platform-gateway.md) end to end, as the operator uses
// it: authentication (bad signature, stale timestamp, replayed nonce),
// idempotent create after a dropped connection, a taken name, the password
// minimum, roles granted and revoked, disable and enable, delete, paging
// over hundreds of accounts, Retry-After, the SMS verification flow, a
// phone change with the new phone's code, and the activity feed (paging,
// time bounds, or a correct 501 from a gateway without one).
//
// Run it from a Go test of the gateway:
//
//	report := conformance.Run(ctx, conformance.Target{Endpoint: url, Shop: shop, Credentials: creds})
//	if !report.Passed() { report.WriteText(os.Stdout); t.Fail() }
//
// or as a program: go run ./cmd/gateway-conformance --endpoint URL
// --credentials FILE. It writes to the shop: run it against a test shop.
// Everything it creates is named with Target.NamePrefix and deleted at the
// end.
package conformance

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/pkg/gateway"
)

// Target is the gateway and the shop the suite runs against.
type Target struct {
	// Endpoint is the gateway's base URL, e.g. https://gateway.example.com.
	Endpoint    string
	Shop        gateway.Shop
	Credentials gateway.Credentials
	// HTTPClient sends the requests (nil: one with a 30s timeout).
	HTTPClient *http.Client
	// Codes reads the latest SMS code sent to phone: it plays the
	// employee's phone in the verification check, which is skipped when
	// Codes is nil.
	Codes func(ctx context.Context, phone string) (string, error)
	// Activity makes the suite's account act n times, so that the activity
	// check has entries of its own to page over: the employee signing in
	// with the account's login and password (shopsim: POST
	// /admin/sign-in). nil: the check pages over what the shop's feed
	// already holds, and is skipped when that is too little.
	Activity func(ctx context.Context, accountName, password string, n int) error
	// Accounts is how many accounts the shop must have for the paging
	// check (0 = 500); the suite creates the missing ones and deletes them
	// at the end, so the shop's seat quota must allow them.
	Accounts int
	// NamePrefix starts the name of everything the suite creates (""
	// = "conf" and a random suffix, so two runs never collide).
	NamePrefix string
}

// DefaultAccounts is how many accounts the paging check pages over.
const DefaultAccounts = 500

func (t *Target) namePrefix() string { return t.NamePrefix }

// Checks, in the order they run.
const (
	CheckBadSignature     = "auth/bad-signature"
	CheckStaleTimestamp   = "auth/stale-timestamp"
	CheckReplayedNonce    = "auth/replayed-nonce"
	CheckIdempotentCreate = "accounts/idempotent-create-after-dropped-connection"
	CheckNameTaken        = "accounts/name-taken"
	CheckPasswordMinimum  = "accounts/password-minimum"
	CheckRoles            = "accounts/roles-granted-and-revoked"
	CheckDisableEnable    = "accounts/disable-and-enable"
	CheckDelete           = "accounts/delete"
	CheckPaging           = "accounts/paging"
	CheckRetryAfter       = "errors/retry-after"
	CheckVerification     = "verification/code-flow"
	CheckPhoneChange      = "verification/phone-change"
	CheckActivity         = "activity/paging-and-bounds"
)

// Checks lists every check, in the order they run.
func Checks() []string {
	return []string{CheckBadSignature, CheckStaleTimestamp, CheckReplayedNonce, CheckIdempotentCreate, CheckNameTaken,
		CheckPasswordMinimum, CheckRoles, CheckDisableEnable, CheckDelete, CheckPaging, CheckRetryAfter, CheckVerification,
		CheckPhoneChange, CheckActivity}
}

// suite is one run.
type suite struct {
	c       *client
	t       Target
	account wire.Account // created by the idempotent create check, used by the next ones
	created bool
	// password is the account's, for POST /login.
	password string
	// base is the role every account the suite creates has (a Douyin
	// account needs exactly one position); perms the permission catalog.
	base  wire.Role
	perms []wire.Permission
	setup *Result // why the setup failed, if it did
	// phones is when the shop checks a new account's phone
	// (GET /shop's phoneVerification): with BeforeCreate every create
	// carries a code requested for its phone first.
	phones  platform.PhoneVerification
	results []Result
}

// Run runs every check against target and reports each.
func Run(ctx context.Context, target Target) Report {
	if target.NamePrefix == "" {
		target.NamePrefix = "conf" + strings.ToLower(randomDigits(6))
	}
	if target.Accounts <= 0 {
		target.Accounts = DefaultAccounts
	}
	hc := target.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	s := &suite{t: target, c: &client{target: target, http: hc,
		prefix: wire.ShopPrefix(target.Shop.Platform, target.Shop.MainAccount)}}
	s.setUp(ctx)
	for _, check := range []func(context.Context) Result{
		s.badSignature, s.staleTimestamp, s.replayedNonce, s.idempotentCreate, s.nameTaken, s.passwordMinimum,
		s.roles, s.disableEnable, s.delete, s.paging, s.retryAfter, s.verification, s.phoneChange, s.activity,
	} {
		s.results = append(s.results, check(ctx))
	}
	s.cleanup(ctx)
	return Report{Endpoint: target.Endpoint, Shop: target.Shop.Key(), Results: s.results}
}

func pass(check string) Result { return Result{Check: check, Outcome: Passed} }

func skip(check, format string, args ...any) Result {
	return Result{Check: check, Outcome: Skipped, Reason: fmt.Sprintf(format, args...)}
}

// expectError checks an answer's status and error code (and field, when
// given).
func expectError(check string, x exchange, status int, code, field string) (Result, bool) {
	if x.err != nil {
		return x.fail(check, "no answer: %v", x.err), false
	}
	e := x.errorBody()
	if x.status != status || e.Code != code {
		return x.fail(check, "want %d %s, got %d %q", status, code, x.status, e.Code), false
	}
	if field != "" && e.Field != field {
		return x.fail(check, "want the error's field %q, got %q", field, e.Field), false
	}
	return Result{}, true
}

// expectOK checks a 2xx status and decodes the answer into out (when set).
func expectOK(check string, x exchange, status int, out any) (Result, bool) {
	if x.err != nil {
		return x.fail(check, "no answer: %v", x.err), false
	}
	if x.status != status {
		e := x.errorBody()
		return x.fail(check, "want %d, got %d %s: %s", status, x.status, e.Code, e.Message), false
	}
	if out != nil {
		if err := x.decode(out); err != nil {
			return x.fail(check, "%v", err), false
		}
	}
	return Result{}, true
}

// password is a password of the platform's usual minimum (8) and classes.
func password() string { return "Cf-" + randomDigits(8) + "x" }

// phone is a mainland mobile number no real person is likely to hold in a
// test shop: 199 and 8 random digits.
func phone() string { return "199" + randomDigits(8) }

func randomDigits(n int) string {
	var b strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10)) // crypto/rand never fails
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}
