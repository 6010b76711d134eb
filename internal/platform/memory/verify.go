package memory

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// Phone verification (Douyin): a new sub-account's phone receives an SMS
// code; the account is not authorised (已授权) until the code is entered.
const (
	// VerificationCodeTTL is how long a code works after it was sent.
	VerificationCodeTTL = 5 * time.Minute
	// VerificationAttempts is how many codes may be tried per code sent.
	VerificationAttempts = 5
	// VerificationResendInterval is the least time between two codes sent
	// for an account.
	VerificationResendInterval = time.Minute
	// VerificationCodeDigits is the length of a code.
	VerificationCodeDigits = 6
)

// verifiesAfterCreate reports whether the shop creates an account first
// and texts its phone a code afterwards (ShopSetup.PhoneVerification
// AfterCreate).
func (sh *ShopState) verifiesAfterCreate() bool {
	return sh.phoneVerification() == platform.PhoneVerificationAfterCreate
}

// SMS returns the latest verification code the engine sent to phone, and
// when. It stands in for the employee's phone, for tests and demos; the
// outbox is never written to the audit log.
func (e *Engine) SMS(phone string) (code string, sentAt time.Time, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.state.SMS[phone]
	return m.Code, m.SentAt, ok
}

// MaxSMSOutbox bounds the outbox: the latest code of at most this many
// phones is kept.
const MaxSMSOutbox = 10_000

// Outbox returns a copy of the SMS outbox: the latest code sent to each
// phone, keyed by phone number. A simulator shows it as its simulated
// phones (make dev, shopsim's page with ShowSMSCodes); never log it.
func (e *Engine) Outbox() map[string]SMSMessage {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]SMSMessage, len(e.state.SMS))
	for phone, m := range e.state.SMS {
		out[phone] = m
	}
	return out
}

// sendCode "sends" a new code to phone: the code goes to the outbox and a
// fresh verification record, with its hash, expiry and attempts, is
// returned. Callers hold e.mu.
func (e *Engine) sendCode(phone string, now time.Time) *VerificationRecord {
	code := newCode()
	salt, hash := hashPassword(code)
	if _, ok := e.state.SMS[phone]; !ok && len(e.state.SMS) >= MaxSMSOutbox {
		// Forget the phone whose last code is the oldest: it has long
		// expired (VerificationCodeTTL) unless the outbox turns over faster.
		oldest := ""
		for p, m := range e.state.SMS {
			if oldest == "" || m.SentAt.Before(e.state.SMS[oldest].SentAt) {
				oldest = p
			}
		}
		delete(e.state.SMS, oldest)
	}
	e.state.SMS[phone] = SMSMessage{Code: code, SentAt: now}
	return &VerificationRecord{
		Phone:        phone,
		CodeSalt:     salt,
		CodeHash:     hash,
		SentAt:       now,
		ExpiresAt:    now.Add(VerificationCodeTTL),
		AttemptsLeft: VerificationAttempts,
	}
}

// newCode is a uniformly random code of VerificationCodeDigits digits.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("memory: crypto/rand: %v", err)) // crypto/rand does not fail
	}
	return fmt.Sprintf("%0*d", VerificationCodeDigits, n.Int64())
}

// authorised reports whether the account may log in as far as phone
// verification goes: verified, or never needing it.
func (a *AccountRecord) authorised() bool {
	return a.Verification == nil || a.Verification.Verified
}

// view renders the record as the platform reports it, the phone masked.
func (v *VerificationRecord) view() *platform.Verification {
	if v == nil {
		return nil
	}
	return &platform.Verification{
		ID:           v.ID,
		Verified:     v.Verified,
		Phone:        MaskPhone(v.Phone),
		SentAt:       v.SentAt,
		ExpiresAt:    v.ExpiresAt,
		AttemptsLeft: v.AttemptsLeft,
	}
}

// MaskPhone is platform.MaskPhone.
func MaskPhone(phone string) string { return platform.MaskPhone(phone) }

// pendingVerification finds the account id and checks that it awaits a
// code: ErrNotFound for an unknown ID, ErrConflict when it needs none or
// is already verified.
func pendingVerification(sh *ShopState, id string) (*AccountRecord, error) {
	a, ok := sh.Accounts[id]
	if !ok {
		return nil, accountNotFound(id)
	}
	switch {
	case a.Verification == nil:
		return nil, platform.NewError(platform.ErrConflict, "", "sub-account %q needs no phone verification", a.Name)
	case a.Verification.Verified:
		return nil, platform.NewError(platform.ErrConflict, "", "sub-account %q is already verified", a.Name)
	}
	return a, nil
}

// VerifyAccount enters the code sent to the account's phone (see check).
func (c *client) VerifyAccount(ctx context.Context, id, code string) (platform.Account, error) {
	var out platform.Account
	err := c.call(ctx, "VerifyAccount", func(sh *ShopState, _ *catalog.Catalog) error {
		a, err := pendingVerification(sh, id)
		if err != nil {
			return err
		}
		now := c.e.clock()
		if err := a.Verification.check(code, now); err != nil {
			return err
		}
		sh.audit(now, platform.SourceFrom(ctx), "account.verify", a.ID, a.Name, "phone verified")
		out = sh.view(a)
		return nil
	})
	return out, err
}

// check enters a code, in this order: attempts left, expiry, the code
// itself. An expired code costs no attempt; a wrong one costs one; the
// right one verifies and forgets the code's hash. Surrounding white space
// is ignored. The code is never logged, audited or put in a message.
func (v *VerificationRecord) check(code string, now time.Time) error {
	switch {
	case v.AttemptsLeft <= 0:
		return platform.NewError(platform.ErrInvalid, "code", "no attempts left; request a new code")
	case !now.Before(v.ExpiresAt):
		return platform.NewError(platform.ErrCodeExpired, "code", "the code expired at %s; request a new code", v.ExpiresAt.UTC().Format(time.TimeOnly))
	case !checkCode(v, strings.TrimSpace(code)):
		v.AttemptsLeft--
		return platform.NewError(platform.ErrInvalid, "code", "%s", wrongCodeMessage(v.AttemptsLeft))
	}
	v.Verified = true
	v.CodeSalt, v.CodeHash = "", ""
	return nil
}

// wrongCodeMessage says how many attempts are left after a wrong code.
func wrongCodeMessage(left int) string {
	switch left {
	case 0:
		return "wrong code; no attempts left; request a new code"
	case 1:
		return "wrong code; 1 attempt left"
	}
	return fmt.Sprintf("wrong code; %d attempts left", left)
}

func checkCode(v *VerificationRecord, code string) bool {
	if code == "" || v.CodeHash == "" {
		return false
	}
	salt, err := hex.DecodeString(v.CodeSalt)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(digest(salt, code)), []byte(v.CodeHash)) == 1
}

// ResendVerification sends a new code to the account's current phone (see
// resend).
func (c *client) ResendVerification(ctx context.Context, id string) (platform.Account, error) {
	var out platform.Account
	err := c.call(ctx, "ResendVerification", func(sh *ShopState, _ *catalog.Catalog) error {
		a, err := pendingVerification(sh, id)
		if err != nil {
			return err
		}
		now := c.e.clock()
		v, err := c.e.resend(a.Verification, a.State.Profile.Phone, now)
		if err != nil {
			return err
		}
		a.Verification = v
		sh.audit(now, platform.SourceFrom(ctx), "account.verification", a.ID, a.Name, "verification code sent")
		out = sh.view(a)
		return nil
	})
	return out, err
}

// resend sends a new code to phone, at most one per
// VerificationResendInterval after the last one (prev): the new code
// replaces the old one, with a fresh expiry and VerificationAttempts
// attempts. Too soon is ErrRateLimited with RetryAfter. Callers hold e.mu.
func (e *Engine) resend(prev *VerificationRecord, phone string, now time.Time) (*VerificationRecord, error) {
	if wait := prev.SentAt.Add(VerificationResendInterval).Sub(now); wait > 0 {
		wait = (wait + time.Second - 1).Truncate(time.Second)
		return nil, &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: wait,
			Message: fmt.Sprintf("a code was sent less than a minute ago; a new one can be requested in %ds", int64(wait/time.Second))}
	}
	return e.sendCode(phone, now), nil
}
