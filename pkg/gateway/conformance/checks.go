package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// dropWait bounds how long the suite waits for a create whose connection
// it dropped to show up before it retries anyway.
const dropWait = 10 * time.Second

func (s *suite) newAccount(name string) wire.CreateAccount {
	return wire.CreateAccount{Name: name, Password: password(), AccountState: wire.AccountState{
		Profile: wire.Profile{DisplayName: "conformance " + name, Phone: phone()},
		RoleIDs: []string{s.base.ID}}}
}

// setUp reads when the shop verifies phones and its permission catalog,
// and creates the role every account of the suite gets, with the
// catalog's first permission.
func (s *suite) setUp(ctx context.Context) {
	const check = "setup"
	var info wire.ShopInfo
	x := s.c.do(ctx, http.MethodGet, wire.PathShop, nil, nil, signing{})
	if r, ok := expectOK(check, x, http.StatusOK, &info); !ok {
		s.setup = &r
		return
	}
	if info.Platform == "" {
		info.Platform = s.t.Shop.Platform
	}
	s.phones = info.PhoneVerificationOf()
	if s.phones == platform.PhoneVerificationBeforeCreate && s.t.Codes == nil {
		r := x.fail(check, "the shop verifies phones before creating an account (phoneVerification BeforeCreate): "+
			"the suite needs the codes sent to its test phones (Target.Codes, --credentials smsCodeCommand)")
		s.setup = &r
		return
	}
	var perms wire.PermissionList
	x = s.c.do(ctx, http.MethodGet, wire.PathPermissions, nil, nil, signing{})
	if r, ok := expectOK(check, x, http.StatusOK, &perms); !ok {
		s.setup = &r
		return
	}
	if len(perms.Items) < 2 {
		r := x.fail(check, "the permission catalog must have at least two permissions, has %d", len(perms.Items))
		s.setup = &r
		return
	}
	s.perms = perms.Items
	x = s.c.do(ctx, http.MethodPost, wire.PathRoles, nil, wire.RoleSpec{Name: s.t.NamePrefix + "base", Permissions: []string{perms.Items[0].Code}},
		signing{idemKey: s.t.NamePrefix + "-role-base"})
	if r, ok := expectOK(check, x, http.StatusCreated, &s.base); !ok {
		s.setup = &r
	}
}

// requestCode asks for a code (POST /verifications): for a new account's
// phone, or with req.AccountID for that account's new phone; and reads it
// from the phone.
func (s *suite) requestCode(ctx context.Context, check string, req wire.CodeRequest, key string) (wire.Verification, string, Result, bool) {
	what := "a new account's phone"
	if req.AccountID != "" {
		what = "an account's new phone"
	}
	var v wire.Verification
	x := s.c.do(ctx, http.MethodPost, wire.PathVerifications, nil, req, signing{idemKey: key})
	if r, ok := expectOK(check, x, http.StatusCreated, &v); !ok {
		r.Reason = "requesting a code for " + what + ": " + r.Reason
		return v, "", r, false
	}
	if v.ID == "" {
		return v, "", x.fail(check, "the verification has no id"), false
	}
	code, err := s.t.Codes(ctx, req.Phone)
	if err != nil {
		return v, "", Result{Check: check, Outcome: Failed, Reason: fmt.Sprintf("reading the code sent to %s: %v", what, err)}, false
	}
	return v, code, Result{}, true
}

// withCode gives a create the code for its phone where the shop verifies
// phones before creation (nothing elsewhere).
func (s *suite) withCode(ctx context.Context, check string, in *wire.CreateAccount, key string) (Result, bool) {
	if s.phones != platform.PhoneVerificationBeforeCreate {
		return Result{}, true
	}
	v, code, r, ok := s.requestCode(ctx, check, wire.CodeRequest{Phone: in.Profile.Phone}, key+"-code")
	if ok {
		in.Code = &wire.VerificationCode{ID: v.ID, Code: code}
	}
	return r, ok
}

// needsSetup fails a check that creates accounts when the setup failed.
func (s *suite) needsSetup(check string) (Result, bool) {
	if s.setup != nil {
		r := *s.setup
		r.Check, r.Reason = check, "setting up (the catalog and a role for the accounts): "+r.Reason
		return r, false
	}
	return Result{}, true
}

func accountPath(id string) string { return "/accounts/" + url.PathEscape(id) }

// badSignature: a correctly signed request passes, the same request with a
// signature over another body is 401.
func (s *suite) badSignature(ctx context.Context) Result {
	if r, ok := expectOK(CheckBadSignature, s.c.do(ctx, http.MethodGet, wire.PathShop, nil, nil, signing{}), http.StatusOK, nil); !ok {
		r.Reason = "a correctly signed request is refused: " + r.Reason
		return r
	}
	if r, ok := expectError(CheckBadSignature, s.c.do(ctx, http.MethodGet, wire.PathShop, nil, nil, signing{badSig: true}),
		http.StatusUnauthorized, wire.CodeUnauthorized, ""); !ok {
		return r
	}
	return pass(CheckBadSignature)
}

// staleTimestamp: signed 6 minutes in the past or the future is 401.
func (s *suite) staleTimestamp(ctx context.Context) Result {
	for _, d := range []time.Duration{-wire.MaxClockSkew - time.Minute, wire.MaxClockSkew + time.Minute} {
		x := s.c.do(ctx, http.MethodGet, wire.PathShop, nil, nil, signing{at: time.Now().Add(d)})
		if r, ok := expectError(CheckStaleTimestamp, x, http.StatusUnauthorized, wire.CodeUnauthorized, ""); !ok {
			r.Reason = fmt.Sprintf("timestamp %s off: %s", d, r.Reason)
			return r
		}
	}
	return pass(CheckStaleTimestamp)
}

// replayedNonce: the exact headers of a request already served, sent
// again, are 401.
func (s *suite) replayedNonce(ctx context.Context) Result {
	var first *http.Request
	x := s.c.do(ctx, http.MethodGet, wire.PathShop, nil, nil, signing{keepFirst: func(r *http.Request) { first = r }})
	if r, ok := expectOK(CheckReplayedNonce, x, http.StatusOK, nil); !ok {
		return r
	}
	if r, ok := expectError(CheckReplayedNonce, s.c.do(ctx, http.MethodGet, wire.PathShop, nil, nil, signing{replayOf: first}),
		http.StatusUnauthorized, wire.CodeUnauthorized, ""); !ok {
		return r
	}
	return pass(CheckReplayedNonce)
}

// idempotentCreate: a create whose connection dropped after it was sent
// is retried with the same Idempotency-Key (and a new nonce, as every
// retry): the retry and one more are 201 with the same account, and the
// shop has it once.
func (s *suite) idempotentCreate(ctx context.Context) Result {
	const check = CheckIdempotentCreate
	if r, ok := s.needsSetup(check); !ok {
		return r
	}
	in := s.newAccount(s.t.NamePrefix + "a")
	key := s.t.NamePrefix + "-create-a"
	if r, ok := s.withCode(ctx, check, &in, key); !ok {
		return r
	}
	if err := s.c.sendAndDrop(ctx, http.MethodPost, wire.PathAccounts, in, signing{idemKey: key}); err != nil {
		return Result{Check: check, Outcome: Failed, Reason: fmt.Sprintf("sending the create to drop failed: %v", err),
			Request: &Request{Method: http.MethodPost, Path: s.c.prefix + wire.PathAccounts, IdempotencyKey: key, Error: err.Error()}}
	}
	// Wait until the dropped create has run (a gateway may also have
	// abandoned it; then the retry creates).
	deadline := time.Now().Add(dropWait)
	for time.Now().Before(deadline) {
		if x := s.c.do(ctx, http.MethodGet, "/accounts/by-name/"+url.PathEscape(in.Name), nil, nil, signing{}); x.status == http.StatusOK {
			break
		}
		select {
		case <-ctx.Done():
			return skip(check, "cancelled: %v", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	var ids []string
	for range 2 {
		var a wire.Account
		x := s.c.do(ctx, http.MethodPost, wire.PathAccounts, nil, in, signing{idemKey: key})
		if r, ok := expectOK(check, x, http.StatusCreated, &a); !ok {
			r.Reason = "retrying the create with its Idempotency-Key: " + r.Reason
			return r
		}
		if a.Name != in.Name || a.ID == "" {
			return x.fail(check, "the answer is not the account %q", in.Name)
		}
		if len(ids) > 0 && a.ID != ids[0] {
			return x.fail(check, "a second account was created (IDs %s and %s)", ids[0], a.ID)
		}
		ids = append(ids, a.ID)
		s.account, s.created = a, true
	}
	s.account.AccountState = wire.AccountState{}
	var found wire.Account
	x := s.c.do(ctx, http.MethodGet, "/accounts/by-name/"+url.PathEscape(in.Name), nil, nil, signing{})
	if r, ok := expectOK(check, x, http.StatusOK, &found); !ok {
		return r
	}
	if found.ID != ids[0] {
		return x.fail(check, "the shop's account %q is %s, the creates answered %s", in.Name, found.ID, ids[0])
	}
	s.account = found
	s.password = in.Password
	return pass(check)
}

// needsAccount skips a check that needs the account of the idempotent
// create check when there is none.
func (s *suite) needsAccount(check string) (Result, bool) {
	if !s.created {
		return skip(check, "needs the account %s creates, which failed", CheckIdempotentCreate), false
	}
	return Result{}, true
}

// nameTaken: another create of the same name (another key) is 409
// name_taken.
func (s *suite) nameTaken(ctx context.Context) Result {
	if r, ok := s.needsAccount(CheckNameTaken); !ok {
		return r
	}
	in := s.newAccount(s.account.Name)
	if r, ok := s.withCode(ctx, CheckNameTaken, &in, s.t.NamePrefix+"-create-taken"); !ok {
		return r
	}
	x := s.c.do(ctx, http.MethodPost, wire.PathAccounts, nil, in, signing{idemKey: s.t.NamePrefix + "-create-taken"})
	if x.status == http.StatusCreated {
		var a wire.Account
		if x.decode(&a) == nil && a.ID != s.account.ID {
			s.cleanupAccount(ctx, a.ID)
		}
	}
	if r, ok := expectError(CheckNameTaken, x, http.StatusConflict, wire.CodeNameTaken, ""); !ok {
		return r
	}
	return pass(CheckNameTaken)
}

// passwordMinimum: a 7-character password is 422 invalid on "password".
func (s *suite) passwordMinimum(ctx context.Context) Result {
	if r, ok := s.needsSetup(CheckPasswordMinimum); !ok {
		return r
	}
	in := s.newAccount(s.t.NamePrefix + "p")
	in.Password = "Ab-1234"
	if r, ok := s.withCode(ctx, CheckPasswordMinimum, &in, s.t.NamePrefix+"-create-p"); !ok {
		return r
	}
	x := s.c.do(ctx, http.MethodPost, wire.PathAccounts, nil, in, signing{idemKey: s.t.NamePrefix + "-create-p"})
	if x.status == http.StatusCreated {
		var a wire.Account
		if x.decode(&a) == nil {
			s.cleanupAccount(ctx, a.ID)
		}
	}
	if r, ok := expectError(CheckPasswordMinimum, x, http.StatusUnprocessableEntity, wire.CodeInvalid, "password"); !ok {
		return r
	}
	return pass(CheckPasswordMinimum)
}

// putState replaces the account's state and checks the answer.
func (s *suite) putState(ctx context.Context, check string, st wire.AccountState) (wire.Account, Result, bool) {
	var a wire.Account
	x := s.c.do(ctx, http.MethodPut, accountPath(s.account.ID), nil, st, signing{})
	r, ok := expectOK(check, x, http.StatusOK, &a)
	return a, r, ok
}

// get reads the account again.
func (s *suite) get(ctx context.Context, check string) (wire.Account, exchange, Result, bool) {
	var a wire.Account
	x := s.c.do(ctx, http.MethodGet, accountPath(s.account.ID), nil, nil, signing{})
	r, ok := expectOK(check, x, http.StatusOK, &a)
	return a, x, r, ok
}

// roles: a second role, with a permission the first lacks, granted to the
// account in place of the first (PUT with its ID) shows in roleIds and
// effectivePermissions, and revoked (PUT with the first again) is gone
// from both.
func (s *suite) roles(ctx context.Context) Result {
	const check = CheckRoles
	if r, ok := s.needsAccount(check); !ok {
		return r
	}
	code := ""
	for _, p := range s.perms {
		if !slices.Contains(s.base.Permissions, p.Code) {
			code = p.Code
			break
		}
	}
	if code == "" {
		return Result{Check: check, Outcome: Failed, Reason: "every permission of the catalog is in the first role"}
	}
	var role wire.Role
	x := s.c.do(ctx, http.MethodPost, wire.PathRoles, nil, wire.RoleSpec{Name: s.t.NamePrefix + "role", Permissions: []string{code}},
		signing{idemKey: s.t.NamePrefix + "-role"})
	if r, ok := expectOK(check, x, http.StatusCreated, &role); !ok {
		return r
	}
	defer s.c.do(ctx, http.MethodDelete, "/roles/"+url.PathEscape(role.ID), nil, nil, signing{})

	st := s.account.AccountState
	st.RoleIDs = []string{role.ID}
	if _, r, ok := s.putState(ctx, check, st); !ok {
		return r
	}
	a, x, r, ok := s.get(ctx, check)
	if !ok {
		return r
	}
	if !slices.Equal(a.RoleIDs, []string{role.ID}) || !slices.Contains(a.EffectivePermissions, code) {
		return x.fail(check, "granted role %s (permission %s): the account has roleIds %v and effective permissions %v",
			role.ID, code, a.RoleIDs, a.EffectivePermissions)
	}
	st.RoleIDs = []string{s.base.ID}
	if _, r, ok := s.putState(ctx, check, st); !ok {
		return r
	}
	if a, x, r, ok = s.get(ctx, check); !ok {
		return r
	}
	if !slices.Equal(a.RoleIDs, []string{s.base.ID}) || slices.Contains(a.EffectivePermissions, code) {
		return x.fail(check, "revoked role %s: the account has roleIds %v and effective permissions %v",
			role.ID, a.RoleIDs, a.EffectivePermissions)
	}
	s.account = a
	return pass(check)
}

// login asks POST /login whether the account's login works; ok false in
// known when the gateway has no /login or the account cannot log in yet.
func (s *suite) login(ctx context.Context) (bool, bool) {
	if s.account.Verification != nil && !s.account.Verification.Verified {
		return false, false
	}
	var res wire.LoginResult
	x := s.c.do(ctx, http.MethodPost, wire.PathLogin, nil, wire.LoginCheck{Name: s.account.Name, Password: s.password}, signing{})
	if x.status != http.StatusOK || x.decode(&res) != nil {
		return false, false
	}
	return res.OK, true
}

// disableEnable: PUT .../status disables and enables the account, and
// nothing else of it changes; a disabled account does not log in.
func (s *suite) disableEnable(ctx context.Context) Result {
	const check = CheckDisableEnable
	if r, ok := s.needsAccount(check); !ok {
		return r
	}
	for _, disabled := range []bool{true, false} {
		var a wire.Account
		x := s.c.do(ctx, http.MethodPut, accountPath(s.account.ID)+"/status", nil, wire.AccountStatus{Disabled: disabled}, signing{})
		if r, ok := expectOK(check, x, http.StatusOK, &a); !ok {
			return r
		}
		got, x, r, ok := s.get(ctx, check)
		if !ok {
			return r
		}
		if got.Disabled != disabled || got.Profile.DisplayName != s.account.Profile.DisplayName {
			return x.fail(check, "after setting disabled=%t the account has disabled=%t and display name %q",
				disabled, got.Disabled, got.Profile.DisplayName)
		}
		if ok, known := s.login(ctx); known && ok == disabled {
			return x.fail(check, "with disabled=%t, POST %s answered ok=%t", disabled, wire.PathLogin, ok)
		}
	}
	return pass(check)
}

// delete: DELETE is 204, then the account is 404 by ID and by name, and a
// second DELETE is 404.
func (s *suite) delete(ctx context.Context) Result {
	const check = CheckDelete
	if r, ok := s.needsAccount(check); !ok {
		return r
	}
	if r, ok := expectOK(check, s.c.do(ctx, http.MethodDelete, accountPath(s.account.ID), nil, nil, signing{}), http.StatusNoContent, nil); !ok {
		return r
	}
	s.created = false
	for _, x := range []exchange{
		s.c.do(ctx, http.MethodGet, accountPath(s.account.ID), nil, nil, signing{}),
		s.c.do(ctx, http.MethodGet, "/accounts/by-name/"+url.PathEscape(s.account.Name), nil, nil, signing{}),
		s.c.do(ctx, http.MethodDelete, accountPath(s.account.ID), nil, nil, signing{}),
	} {
		if r, ok := expectError(check, x, http.StatusNotFound, wire.CodeNotFound, ""); !ok {
			return r
		}
	}
	return pass(check)
}

func (s *suite) cleanupAccount(ctx context.Context, id string) {
	s.c.do(ctx, http.MethodDelete, accountPath(id), nil, nil, signing{})
}

// listPage reads one page.
func (s *suite) listPage(ctx context.Context, page, size int) (wire.AccountList, exchange, Result, bool) {
	var l wire.AccountList
	q := url.Values{"page": {strconv.Itoa(page)}, "pageSize": {strconv.Itoa(size)}}
	x := s.c.do(ctx, http.MethodGet, wire.PathAccounts, q, nil, signing{})
	r, ok := expectOK(CheckPaging, x, http.StatusOK, &l)
	return l, x, r, ok
}

// listAll pages through every account with size, checking each page.
func (s *suite) listAll(ctx context.Context, size int) ([]string, Result, bool) {
	var ids []string
	seen := map[string]bool{}
	total := -1
	for page := 1; ; page++ {
		l, x, r, ok := s.listPage(ctx, page, size)
		if !ok {
			return nil, r, false
		}
		if total >= 0 && l.Total != total {
			return nil, x.fail(CheckPaging, "total changed from %d to %d between pages", total, l.Total), false
		}
		total = l.Total
		if len(l.Items) > size {
			return nil, x.fail(CheckPaging, "page %d has %d items, more than pageSize %d", page, len(l.Items), size), false
		}
		if len(l.Items) == 0 {
			break
		}
		for _, a := range l.Items {
			if seen[a.ID] {
				return nil, x.fail(CheckPaging, "account %s is listed twice with pageSize %d", a.ID, size), false
			}
			seen[a.ID] = true
			ids = append(ids, a.ID)
		}
		if page > total+1 {
			return nil, x.fail(CheckPaging, "more pages than accounts"), false
		}
	}
	if len(ids) != total {
		return nil, Result{Check: CheckPaging, Outcome: Failed,
			Reason: fmt.Sprintf("pageSize %d lists %d accounts, total says %d", size, len(ids), total)}, false
	}
	return ids, Result{}, true
}

// paging: with at least Target.Accounts accounts, pages of 50 and of 200
// list every account once, in the same order, with a constant total; a
// page past the end is empty; page 0, pageSize 0 and 201 are 422.
func (s *suite) paging(ctx context.Context) Result {
	const check = CheckPaging
	if r, ok := s.needsSetup(check); !ok {
		return r
	}
	first, _, r, ok := s.listPage(ctx, 1, 1)
	if !ok {
		return r
	}
	created, r, ok := s.fill(ctx, s.t.Accounts-first.Total)
	defer s.cleanupAll(ctx, created)
	if !ok {
		return r
	}
	by50, r, ok := s.listAll(ctx, 50)
	if !ok {
		return r
	}
	if len(by50) < s.t.Accounts {
		return Result{Check: check, Outcome: Failed, Reason: fmt.Sprintf("%d accounts listed, at least %d exist", len(by50), s.t.Accounts)}
	}
	by200, r, ok := s.listAll(ctx, wire.MaxPageSize)
	if !ok {
		return r
	}
	if !slices.Equal(by50, by200) {
		return Result{Check: check, Outcome: Failed, Reason: "pages of 50 and of 200 list the accounts in different orders"}
	}
	past, x, r, ok := s.listPage(ctx, len(by50)/wire.MaxPageSize+2, wire.MaxPageSize)
	if !ok {
		return r
	}
	if len(past.Items) != 0 {
		return x.fail(check, "a page past the end has %d items", len(past.Items))
	}
	for _, bad := range []struct{ page, size, field string }{{"0", "50", "page"}, {"1", "0", "pageSize"}, {"1", "201", "pageSize"}} {
		x := s.c.do(ctx, http.MethodGet, wire.PathAccounts, url.Values{"page": {bad.page}, "pageSize": {bad.size}}, nil, signing{})
		if r, ok := expectError(check, x, http.StatusUnprocessableEntity, wire.CodeInvalid, bad.field); !ok {
			return r
		}
	}
	return pass(check)
}

// fill creates n accounts (none when n <= 0), a few at a time.
func (s *suite) fill(ctx context.Context, n int) ([]string, Result, bool) {
	const workers = 8
	var (
		mu      sync.Mutex
		created []string
		failed  *Result
		wg      sync.WaitGroup
	)
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				in := s.newAccount(fmt.Sprintf("%sn%03d", s.t.NamePrefix, i))
				var a wire.Account
				r, ok := s.withCode(ctx, CheckPaging, &in, in.Name)
				if ok {
					x := s.c.do(ctx, http.MethodPost, wire.PathAccounts, nil, in, signing{idemKey: in.Name})
					r, ok = expectOK(CheckPaging, x, http.StatusCreated, &a)
				}
				mu.Lock()
				if ok {
					created = append(created, a.ID)
				} else if failed == nil {
					r.Reason = fmt.Sprintf("creating the accounts to page over (the shop needs room for %d): %s", s.t.Accounts, r.Reason)
					failed = &r
				}
				mu.Unlock()
			}
		})
	}
	for i := range max(0, n) {
		mu.Lock()
		stop := failed != nil
		mu.Unlock()
		if stop {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if failed != nil {
		return created, *failed, false
	}
	return created, Result{}, true
}

func (s *suite) cleanupAll(ctx context.Context, ids []string) {
	var wg sync.WaitGroup
	next := make(chan string)
	for range 8 {
		wg.Go(func() {
			for id := range next {
				s.cleanupAccount(ctx, id)
			}
		})
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
}

// retryAfter: a new SMS code asked for within a minute of the last is 429
// rate_limited with Retry-After in whole seconds, at least 1. It uses a
// notification contact (every platform has them); a gateway without
// contacts is skipped.
func (s *suite) retryAfter(ctx context.Context) Result {
	const check = CheckRetryAfter
	var ct wire.Contact
	x := s.c.do(ctx, http.MethodPost, wire.PathContacts, nil, wire.ContactSpec{Name: s.t.NamePrefix + "c", Phone: phone()}, signing{})
	if x.status == http.StatusNotImplemented {
		return skip(check, "the gateway has no notification contacts (POST %s is 501)", wire.PathContacts)
	}
	if r, ok := expectOK(check, x, http.StatusCreated, &ct); !ok {
		return r
	}
	defer s.c.do(ctx, http.MethodDelete, "/contacts/"+url.PathEscape(ct.ID), nil, nil, signing{})
	x = s.c.do(ctx, http.MethodPost, "/contacts/"+url.PathEscape(ct.ID)+"/verification-code", nil, nil, signing{})
	if r, ok := expectError(check, x, http.StatusTooManyRequests, wire.CodeRateLimited, ""); !ok {
		return r
	}
	if secs, err := strconv.Atoi(x.header.Get(wire.HeaderRetryAfter)); err != nil || secs < 1 {
		return x.fail(check, "a 429 must carry Retry-After in whole seconds, at least 1; got %q", x.header.Get(wire.HeaderRetryAfter))
	}
	return pass(check)
}

// verification: on a platform that verifies new accounts' phones, a new
// account is unverified with its phone masked; a wrong code is 422 on
// "code" and uses an attempt; a new code within a minute is 429; the code
// sent (read with Target.Codes) verifies it; verifying again is 409.
func (s *suite) verification(ctx context.Context) Result {
	const check = CheckVerification
	if r, ok := s.needsSetup(check); !ok {
		return r
	}
	switch s.phones {
	case platform.PhoneVerificationNone:
		return skip(check, "the shop does not verify new accounts' phones (phoneVerification None)")
	case platform.PhoneVerificationBeforeCreate:
		return s.codeFirst(ctx)
	}
	in := s.newAccount(s.t.NamePrefix + "v")
	var a wire.Account
	x := s.c.do(ctx, http.MethodPost, wire.PathAccounts, nil, in, signing{idemKey: s.t.NamePrefix + "-create-v"})
	if r, ok := expectOK(check, x, http.StatusCreated, &a); !ok {
		return r
	}
	defer s.cleanupAccount(ctx, a.ID)
	v := a.Verification
	if v == nil {
		return skip(check, "the platform does not verify new accounts' phones (no verification in the account)")
	}
	if v.Verified || v.Phone == in.Profile.Phone || v.AttemptsLeft < 2 {
		return x.fail(check, "a new account must be unverified, its phone masked, with attempts left; got verified=%t attemptsLeft=%d",
			v.Verified, v.AttemptsLeft)
	}
	code := ""
	if s.t.Codes != nil {
		var err error
		if code, err = s.t.Codes(ctx, in.Profile.Phone); err != nil {
			return Result{Check: check, Outcome: Failed, Reason: fmt.Sprintf("reading the code sent to the new account's phone: %v", err)}
		}
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	path := accountPath(a.ID)
	x = s.c.do(ctx, http.MethodPost, path+"/verify", nil, wire.VerifyCode{Code: wrong}, signing{})
	if r, ok := expectError(check, x, http.StatusUnprocessableEntity, wire.CodeInvalid, "code"); !ok {
		return r
	}
	s.account = a
	got, x, r, ok := s.get(ctx, check)
	if !ok {
		return r
	}
	if got.Verification == nil || got.Verification.AttemptsLeft != v.AttemptsLeft-1 {
		return x.fail(check, "a wrong code must use one attempt (%d left before)", v.AttemptsLeft)
	}
	x = s.c.do(ctx, http.MethodPost, path+"/verification-code", nil, nil, signing{})
	if r, ok := expectError(check, x, http.StatusTooManyRequests, wire.CodeRateLimited, ""); !ok {
		return r
	}
	if s.t.Codes == nil {
		return skip(check, "no way to read the SMS code (Target.Codes): the refusals passed, the code itself was not entered")
	}
	x = s.c.do(ctx, http.MethodPost, path+"/verify", nil, wire.VerifyCode{Code: code}, signing{})
	if r, ok := expectOK(check, x, http.StatusOK, &got); !ok {
		return r
	}
	if got.Verification == nil || !got.Verification.Verified {
		return x.fail(check, "the right code must verify the account")
	}
	x = s.c.do(ctx, http.MethodPost, path+"/verify", nil, wire.VerifyCode{Code: code}, signing{})
	if r, ok := expectError(check, x, http.StatusConflict, wire.CodeConflict, ""); !ok {
		return r
	}
	return pass(check)
}

// cleanup deletes what a failed check may have left behind, by name.
func (s *suite) cleanup(ctx context.Context) {
	for _, name := range []string{"a", "p", "v", "pc", "act"} {
		var a wire.Account
		x := s.c.do(ctx, http.MethodGet, "/accounts/by-name/"+url.PathEscape(s.t.NamePrefix+name), nil, nil, signing{})
		if x.status == http.StatusOK && x.decode(&a) == nil {
			s.cleanupAccount(ctx, a.ID)
		}
	}
	if s.base.ID != "" {
		s.c.do(ctx, http.MethodDelete, "/roles/"+url.PathEscape(s.base.ID), nil, nil, signing{})
	}
}

// codeFirst is the verification check of a shop that verifies phones
// before creation: POST /verifications answers a pending verification
// with its id and the phone masked; another code for the phone within a
// minute is 429 with Retry-After; a create with a wrong code is 422 on
// "code" and creates nothing; with the code the phone received, the
// account is created verified.
func (s *suite) codeFirst(ctx context.Context) Result {
	const check = CheckVerification
	in := s.newAccount(s.t.NamePrefix + "v")
	key := s.t.NamePrefix + "-create-v"
	v, code, r, ok := s.requestCode(ctx, check, wire.CodeRequest{Phone: in.Profile.Phone}, key+"-code")
	if !ok {
		return r
	}
	if v.Verified || v.Phone == in.Profile.Phone || v.AttemptsLeft < 2 {
		return Result{Check: check, Outcome: Failed, Reason: fmt.Sprintf(
			"a new verification must be pending, its phone masked, with attempts left; got verified=%t attemptsLeft=%d", v.Verified, v.AttemptsLeft)}
	}
	x := s.c.do(ctx, http.MethodPost, wire.PathVerifications, nil, wire.CodeRequest{Phone: in.Profile.Phone}, signing{idemKey: key + "-code-again"})
	if r, ok := expectError(check, x, http.StatusTooManyRequests, wire.CodeRateLimited, ""); !ok {
		return r
	}
	if secs, err := strconv.Atoi(x.header.Get(wire.HeaderRetryAfter)); err != nil || secs < 1 {
		return x.fail(check, "a 429 must carry Retry-After in whole seconds, at least 1; got %q", x.header.Get(wire.HeaderRetryAfter))
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	in.Code = &wire.VerificationCode{ID: v.ID, Code: wrong}
	x = s.c.do(ctx, http.MethodPost, wire.PathAccounts, nil, in, signing{idemKey: key + "-wrong"})
	if x.status == http.StatusCreated {
		var a wire.Account
		if x.decode(&a) == nil {
			s.cleanupAccount(ctx, a.ID)
		}
	}
	if r, ok := expectError(check, x, http.StatusUnprocessableEntity, wire.CodeInvalid, "code"); !ok {
		return r
	}
	if x := s.c.do(ctx, http.MethodGet, "/accounts/by-name/"+url.PathEscape(in.Name), nil, nil, signing{}); x.status != http.StatusNotFound {
		return x.fail(check, "a create refused for a wrong code must create nothing")
	}
	in.Code = &wire.VerificationCode{ID: v.ID, Code: code}
	var a wire.Account
	x = s.c.do(ctx, http.MethodPost, wire.PathAccounts, nil, in, signing{idemKey: key})
	if r, ok := expectOK(check, x, http.StatusCreated, &a); !ok {
		return r
	}
	defer s.cleanupAccount(ctx, a.ID)
	if a.Verification == nil || !a.Verification.Verified {
		return x.fail(check, "an account created with the right code must be verified")
	}
	return pass(check)
}

// phoneChange: where the code comes first, a new phone needs its code as
// well. PUT /accounts/{id} with another phone is 403 forbidden "phone";
// POST /verifications with the accountId texts the new phone; PUT
// /accounts/{id}/phone with a wrong code is 422 on "code" and keeps the
// old phone; with the code the new phone received, the account has the
// new phone, verified. A gateway without the phone change answers 501
// not_supported (skipped: the operator then names the back-office step).
func (s *suite) phoneChange(ctx context.Context) Result {
	const check = CheckPhoneChange
	if r, ok := s.needsSetup(check); !ok {
		return r
	}
	if s.phones != platform.PhoneVerificationBeforeCreate {
		return skip(check, "the shop does not verify phones before creating an account (phoneVerification %s)", s.phones)
	}
	in, a, r, ok := s.createAccount(ctx, check, "pc")
	if !ok {
		return r
	}
	defer s.cleanupAccount(ctx, a.ID)
	oldPhone, newPhone := in.Profile.Phone, phone()
	st := in.AccountState
	st.Profile.Phone = newPhone
	x := s.c.do(ctx, http.MethodPut, accountPath(a.ID), nil, st, signing{})
	if r, ok := expectError(check, x, http.StatusForbidden, wire.CodeForbidden, "phone"); !ok {
		r.Reason = "a new phone without its code must be refused: " + r.Reason
		return r
	}
	var v wire.Verification
	x = s.c.do(ctx, http.MethodPost, wire.PathVerifications, nil, wire.CodeRequest{Phone: newPhone, AccountID: a.ID},
		signing{idemKey: s.t.NamePrefix + "-phone-pc"})
	if x.err == nil && x.status == http.StatusNotImplemented && x.errorBody().Code == wire.CodeNotSupported {
		return skip(check, "the gateway does not change a phone with a code (501 not_supported)")
	}
	if r, ok := expectOK(check, x, http.StatusCreated, &v); !ok {
		r.Reason = "requesting a code for the account's new phone: " + r.Reason
		return r
	}
	code, err := s.t.Codes(ctx, newPhone)
	if err != nil {
		return Result{Check: check, Outcome: Failed, Reason: fmt.Sprintf("reading the code sent to the account's new phone: %v", err)}
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	path := accountPath(a.ID) + "/phone"
	x = s.c.do(ctx, http.MethodPut, path, nil, wire.VerificationCode{ID: v.ID, Code: wrong}, signing{})
	if x.err == nil && x.status == http.StatusNotImplemented && x.errorBody().Code == wire.CodeNotSupported {
		return skip(check, "the gateway texts a code for a new phone but does not change it (PUT %s: 501 not_supported)", wire.PathPhone)
	}
	if r, ok := expectError(check, x, http.StatusUnprocessableEntity, wire.CodeInvalid, "code"); !ok {
		return r
	}
	var got wire.Account
	x = s.c.do(ctx, http.MethodGet, accountPath(a.ID), nil, nil, signing{})
	if r, ok := expectOK(check, x, http.StatusOK, &got); !ok {
		return r
	}
	if got.Profile.Phone != oldPhone {
		return x.fail(check, "a wrong code must keep the old phone")
	}
	x = s.c.do(ctx, http.MethodPut, path, nil, wire.VerificationCode{ID: v.ID, Code: code}, signing{})
	if r, ok := expectOK(check, x, http.StatusOK, &got); !ok {
		return r
	}
	if got.Profile.Phone != newPhone || got.Verification == nil || !got.Verification.Verified {
		return x.fail(check, "with the new phone's code the account must have the new phone, verified")
	}
	return pass(check)
}

// createAccount creates an account of the suite's own for check, named
// with the suite's prefix and suffix, with the code for its phone where
// the shop verifies phones first. The caller deletes it.
func (s *suite) createAccount(ctx context.Context, check, suffix string) (wire.CreateAccount, wire.Account, Result, bool) {
	in := s.newAccount(s.t.NamePrefix + suffix)
	key := s.t.NamePrefix + "-create-" + suffix
	var a wire.Account
	if r, ok := s.withCode(ctx, check, &in, key); !ok {
		return in, a, r, false
	}
	x := s.c.do(ctx, http.MethodPost, wire.PathAccounts, nil, in, signing{idemKey: key})
	r, ok := expectOK(check, x, http.StatusCreated, &a)
	return in, a, r, ok
}
