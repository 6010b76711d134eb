package memory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// The code comes first (Douyin, PhoneVerificationBeforeCreate): the owner
// asks for a code for the employee's phone, and the account is created
// with it, already authorised (已授权); until then there is no account
// and no seat. A phone change needs a code for the new phone the same way.

// MaxPendingVerifications bounds the codes a shop has sent and not yet
// seen used: a caller asking for codes and never using them runs into
// ErrRateLimited rather than growing the engine.
const MaxPendingVerifications = 1000

// verificationRetention is how long an expired verification is kept, so
// that entering its code says "expired" rather than "unknown".
const verificationRetention = time.Hour

// checkPhoneVerification refuses a ShopSetup.PhoneVerification the platform
// does not have: only Douyin texts codes.
func checkPhoneVerification(p platform.Name, pv platform.PhoneVerification) error {
	switch {
	case pv == "":
		return nil
	case p == platform.Douyin && (pv == platform.PhoneVerificationBeforeCreate || pv == platform.PhoneVerificationAfterCreate):
		return nil
	case p != platform.Douyin && pv == platform.PhoneVerificationNone:
		return nil
	}
	return platform.NewError(platform.ErrInvalid, "phoneVerification", "%s shops cannot verify phones %q", p, pv)
}

// phoneVerification is when the shop checks a new sub-account's phone:
// the setup's choice, or the platform's default (Douyin: the code first).
func (sh *ShopState) phoneVerification() platform.PhoneVerification {
	switch {
	case sh.PhoneVerification != "":
		return sh.PhoneVerification
	case sh.Platform == platform.Douyin:
		return platform.PhoneVerificationBeforeCreate
	}
	return platform.PhoneVerificationNone
}

// codeFirst reports whether the shop creates accounts only with a code.
func (sh *ShopState) codeFirst() bool {
	return sh.phoneVerification() == platform.PhoneVerificationBeforeCreate
}

// RequestCode texts a code to req.Phone for a new account or for account
// req.AccountID's phone change (see platform.Client).
func (c *client) RequestCode(ctx context.Context, req platform.CodeRequest, requestID string) (platform.Verification, error) {
	var out platform.Verification
	err := c.call(ctx, "RequestCode", func(sh *ShopState, _ *catalog.Catalog) error {
		if !sh.codeFirst() {
			return platform.NewError(platform.ErrNotSupported, "", "%s shops here do not text a code before creating a sub-account", sh.Platform)
		}
		now := c.e.clock()
		sh.pruneVerifications(now)
		if id, ok := sh.VerificationRequests[requestID]; ok && requestID != "" {
			if v, ok := sh.Verifications[id]; ok && now.Before(v.ExpiresAt) {
				out = *v.view()
				return nil
			}
			delete(sh.VerificationRequests, requestID)
		}
		if req.Phone == "" {
			return platform.NewError(platform.ErrInvalid, "phone", "a phone number is needed to send a code to")
		}
		if req.AccountID != "" {
			a, ok := sh.Accounts[req.AccountID]
			if !ok {
				return accountNotFound(req.AccountID)
			}
			if a.State.Profile.Phone == req.Phone {
				return platform.NewError(platform.ErrConflict, "phone", "the phone number already is sub-account %q's", a.Name)
			}
		} else if int64(len(sh.Accounts)) >= int64(sh.SeatQuota) {
			return platform.NewError(platform.ErrQuotaExhausted, "", "all %d seats of the shop are in use", sh.SeatQuota)
		}
		if err := c.e.checkPhone(sh, req.Phone, req.AccountID); err != nil {
			return err
		}
		prev := sh.verificationFor(req.Phone)
		if prev == nil && len(sh.Verifications) >= MaxPendingVerifications {
			return &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: VerificationCodeTTL,
				Message: "too many codes were sent and not used; wait for them to expire"}
		}
		var v *VerificationRecord
		if prev == nil {
			v = c.e.sendCode(req.Phone, now)
		} else {
			// At most one code a minute per phone; the new one replaces it.
			var err error
			if v, err = c.e.resend(prev, req.Phone, now); err != nil {
				return err
			}
			sh.forgetVerification(prev.ID)
		}
		v.ID, v.AccountID = newVerificationID(), req.AccountID
		sh.Verifications[v.ID] = v
		remember(sh.VerificationRequests, requestID, v.ID, func(id string) bool { return sh.Verifications[id] != nil }, len(sh.Verifications))
		target, name := "", MaskPhone(req.Phone)
		if a := sh.Accounts[req.AccountID]; a != nil {
			target, name = a.ID, a.Name
		}
		sh.audit(now, platform.SourceFrom(ctx), "verification.request", target, name, "verification code sent to "+MaskPhone(req.Phone))
		out = *v.view()
		return nil
	})
	return out, err
}

// ChangePhone changes account id's phone to the one the code was sent to.
func (c *client) ChangePhone(ctx context.Context, id string, code platform.VerificationCode) (platform.Account, error) {
	var out platform.Account
	err := c.call(ctx, "ChangePhone", func(sh *ShopState, _ *catalog.Catalog) error {
		if !sh.codeFirst() {
			return platform.NewError(platform.ErrNotSupported, "", "%s shops here change a phone without a code (UpdateAccount)", sh.Platform)
		}
		a, ok := sh.Accounts[id]
		if !ok {
			return accountNotFound(id)
		}
		now := c.e.clock()
		v, err := sh.pendingCode(code.ID, id)
		if err != nil {
			return err
		}
		if err := c.e.checkPhone(sh, v.Phone, id); err != nil {
			return err
		}
		if err := v.check(code.Code, now); err != nil {
			return err
		}
		sh.forgetVerification(v.ID)
		a.State.Profile.Phone = v.Phone
		a.Verification = v.accepted()
		sh.audit(now, platform.SourceFrom(ctx), "account.phone", a.ID, a.Name, "phone changed to "+MaskPhone(v.Phone)+", verified")
		out = sh.view(a)
		return nil
	})
	return out, err
}

// acceptCode checks the code a new account is created with: it must be
// for a new account and the account's phone. Callers hold e.mu; the
// verification is used up only when the account is stored (useCode).
func (sh *ShopState) acceptCode(code *platform.VerificationCode, phone string, now time.Time) (*VerificationRecord, error) {
	if code == nil {
		return nil, platform.NewError(platform.ErrInvalid, "code",
			"a %s sub-account is created with the SMS code sent to its phone: request a code for the phone first", sh.Platform)
	}
	v, err := sh.pendingCode(code.ID, "")
	if err != nil {
		return nil, err
	}
	if v.Phone != phone {
		return nil, platform.NewError(platform.ErrInvalid, "phone", "the code was sent to %s, not to the account's phone %s",
			MaskPhone(v.Phone), MaskPhone(phone))
	}
	if err := v.check(code.Code, now); err != nil {
		return nil, err
	}
	return v, nil
}

// pendingCode finds verification id, started for accountID ("" for a new
// account).
func (sh *ShopState) pendingCode(id, accountID string) (*VerificationRecord, error) {
	v, ok := sh.Verifications[id]
	switch {
	case !ok:
		return nil, platform.NewError(platform.ErrNotFound, "verification",
			"no pending verification %q (used, replaced by a newer code, or expired long ago); request a new code", id)
	case v.AccountID != accountID && accountID == "":
		return nil, platform.NewError(platform.ErrInvalid, "verification", "the code was requested to change an account's phone, not to create one")
	case v.AccountID != accountID:
		return nil, platform.NewError(platform.ErrInvalid, "verification", "the code was requested for another purpose than this account's phone change")
	}
	return v, nil
}

// accepted is the account's own record of a verification whose code was
// just accepted: verified, without ID or hash.
func (v *VerificationRecord) accepted() *VerificationRecord {
	return &VerificationRecord{Verified: true, Phone: v.Phone, SentAt: v.SentAt, ExpiresAt: v.ExpiresAt, AttemptsLeft: v.AttemptsLeft}
}

// verificationFor is the pending verification of phone, if any.
func (sh *ShopState) verificationFor(phone string) *VerificationRecord {
	for _, v := range sh.Verifications {
		if v.Phone == phone {
			return v
		}
	}
	return nil
}

func (sh *ShopState) forgetVerification(id string) {
	delete(sh.Verifications, id)
	forgetRequests(sh.VerificationRequests, id)
}

// pruneVerifications forgets verifications expired for longer than
// verificationRetention.
func (sh *ShopState) pruneVerifications(now time.Time) {
	for id, v := range sh.Verifications {
		if now.Sub(v.ExpiresAt) > verificationRetention {
			sh.forgetVerification(id)
		}
	}
}

// newVerificationID is random: whoever sees one cannot guess another
// shop's (and needs the code anyway).
func newVerificationID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return hex.EncodeToString(b)
}
