package memory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// Seat capacity bounds (Feige reception capacity, 接待人数), and the
// capacity a new seat gets when a write leaves it to the platform (0).
const (
	MinSeatCapacity     = 1
	MaxSeatCapacity     = 50
	DefaultSeatCapacity = 10
)

// Page size bounds of ListAccounts.
const (
	MinPageSize = 1
	MaxPageSize = 200
)

// client is a platform.Client bound to one shop of an Engine.
type client struct {
	e        *Engine
	platform platform.Name
	main     string
	creds    platform.Credentials
}

var _ platform.Client = (*client)(nil)

// call counts the call, runs the fault hook, checks the context, then runs
// fn under the engine's lock with the shop and its catalog once the
// credentials check out. Its error is bounded like every driver's
// (platform.Sanitize): a message built from a long input is cut.
func (c *client) call(ctx context.Context, method string, fn func(sh *ShopState, cat *catalog.Catalog) error) (err error) {
	defer func() { err = platform.Sanitize(err, c.creds.AppSecret, c.creds.AccessToken) }()
	e := c.e
	e.mu.Lock()
	e.calls[method]++
	fault := e.fault
	e.mu.Unlock()
	if fault != nil {
		if err := fault(method); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(c.platform, c.main)]
	if !ok {
		return shopNotFound(c.platform, c.main)
	}
	if c.creds != sh.Credentials {
		return platform.NewError(platform.ErrUnauthorized, "", "invalid app key, app secret or access token")
	}
	cat, err := catalog.For(sh.Platform)
	if err != nil {
		return platform.NewError(platform.ErrNotSupported, "", "%v", err)
	}
	return fn(sh, cat)
}

func (c *client) ShopInfo(ctx context.Context) (platform.ShopInfo, error) {
	var out platform.ShopInfo
	err := c.call(ctx, "ShopInfo", func(sh *ShopState, _ *catalog.Catalog) error {
		out = sh.info()
		return nil
	})
	return out, err
}

func (c *client) Permissions(ctx context.Context) ([]platform.Permission, error) {
	var out []platform.Permission
	err := c.call(ctx, "Permissions", func(_ *ShopState, cat *catalog.Catalog) error {
		out = slices.Clone(cat.Permissions)
		return nil
	})
	return out, err
}

func (c *client) ListRoles(ctx context.Context) ([]platform.Role, error) {
	var out []platform.Role
	err := c.call(ctx, "ListRoles", func(sh *ShopState, _ *catalog.Catalog) error {
		out = sh.roles()
		return nil
	})
	return out, err
}

func (c *client) GetRole(ctx context.Context, id string) (platform.Role, error) {
	var out platform.Role
	err := c.call(ctx, "GetRole", func(sh *ShopState, _ *catalog.Catalog) error {
		r, ok := sh.Roles[id]
		if !ok {
			return roleNotFound(id)
		}
		out = copyRole(r)
		return nil
	})
	return out, err
}

func (c *client) CreateRole(ctx context.Context, spec platform.RoleSpec, requestID string) (platform.Role, error) {
	var out platform.Role
	err := c.call(ctx, "CreateRole", func(sh *ShopState, cat *catalog.Catalog) error {
		if id, ok := sh.RoleRequests[requestID]; ok && requestID != "" {
			if r, ok := sh.Roles[id]; ok {
				out = copyRole(r)
				return nil
			}
			delete(sh.RoleRequests, requestID)
		}
		spec, err := validateRole(sh, cat, spec, "")
		if err != nil {
			return err
		}
		r := &platform.Role{ID: c.e.nextID(), RoleSpec: spec}
		sh.Roles[r.ID] = r
		remember(sh.RoleRequests, requestID, r.ID, func(id string) bool { return sh.Roles[id] != nil }, len(sh.Roles))
		sh.audit(c.e.clock(), platform.SourceFrom(ctx), "role.create", r.ID, r.Name, roleDetail(r.RoleSpec))
		out = copyRole(r)
		return nil
	})
	return out, err
}

func (c *client) UpdateRole(ctx context.Context, id string, spec platform.RoleSpec) (platform.Role, error) {
	var out platform.Role
	err := c.call(ctx, "UpdateRole", func(sh *ShopState, cat *catalog.Catalog) error {
		r, ok := sh.Roles[id]
		if !ok {
			return roleNotFound(id)
		}
		spec, err := validateRole(sh, cat, spec, id)
		if err != nil {
			return err
		}
		r.RoleSpec = spec
		sh.audit(c.e.clock(), platform.SourceFrom(ctx), "role.update", r.ID, r.Name, roleDetail(r.RoleSpec))
		out = copyRole(r)
		return nil
	})
	return out, err
}

func (c *client) DeleteRole(ctx context.Context, id string) error {
	return c.call(ctx, "DeleteRole", func(sh *ShopState, _ *catalog.Catalog) error {
		r, ok := sh.Roles[id]
		if !ok {
			return roleNotFound(id)
		}
		n := 0
		for _, a := range sh.Accounts {
			if slices.Contains(a.State.RoleIDs, id) {
				n++
			}
		}
		if n > 0 {
			return platform.NewError(platform.ErrConflict, "", "role %q is still assigned to %d account(s)", r.Name, n)
		}
		delete(sh.Roles, id)
		forgetRequests(sh.RoleRequests, id)
		sh.audit(c.e.clock(), platform.SourceFrom(ctx), "role.delete", r.ID, r.Name, "")
		return nil
	})
}

func (c *client) ListAccounts(ctx context.Context, opts platform.ListOptions) (platform.AccountPage, error) {
	var out platform.AccountPage
	err := c.call(ctx, "ListAccounts", func(sh *ShopState, _ *catalog.Catalog) error {
		if opts.Page < 1 {
			return platform.NewError(platform.ErrInvalid, "page", "page must be at least 1, got %d", opts.Page)
		}
		if opts.PageSize < MinPageSize || opts.PageSize > MaxPageSize {
			return platform.NewError(platform.ErrInvalid, "pageSize", "page size must be %d-%d, got %d", MinPageSize, MaxPageSize, opts.PageSize)
		}
		all := sh.accounts()
		out.Total = len(all)
		start := (opts.Page - 1) * opts.PageSize
		if start < len(all) {
			out.Accounts = all[start:min(start+opts.PageSize, len(all))]
		}
		return nil
	})
	return out, err
}

func (c *client) GetAccount(ctx context.Context, id string) (platform.Account, error) {
	var out platform.Account
	err := c.call(ctx, "GetAccount", func(sh *ShopState, _ *catalog.Catalog) error {
		a, ok := sh.Accounts[id]
		if !ok {
			return accountNotFound(id)
		}
		out = sh.view(a)
		return nil
	})
	return out, err
}

func (c *client) FindAccount(ctx context.Context, name string) (platform.Account, error) {
	var out platform.Account
	err := c.call(ctx, "FindAccount", func(sh *ShopState, _ *catalog.Catalog) error {
		a := sh.findAccount(name)
		if a == nil {
			return platform.NewError(platform.ErrNotFound, "name", "no sub-account named %q", name)
		}
		out = sh.view(a)
		return nil
	})
	return out, err
}

func (c *client) CreateAccount(ctx context.Context, req platform.CreateAccount, requestID string) (platform.Account, error) {
	var out platform.Account
	err := c.call(ctx, "CreateAccount", func(sh *ShopState, cat *catalog.Catalog) error {
		if id, ok := sh.AccountRequests[requestID]; ok && requestID != "" {
			if a, ok := sh.Accounts[id]; ok {
				out = sh.view(a)
				return nil
			}
			delete(sh.AccountRequests, requestID)
		}
		if err := validateAccountName(cat, req.Name); err != nil {
			return err
		}
		if sh.findAccount(req.Name) != nil {
			return platform.NewError(platform.ErrNameTaken, "name", "sub-account name %q is already taken in this shop", req.Name)
		}
		if err := validatePassword(cat, req.Password); err != nil {
			return err
		}
		state, err := c.e.validateState(sh, cat, req.AccountState, "")
		if err != nil {
			return err
		}
		if int64(len(sh.Accounts)) >= int64(sh.SeatQuota) {
			return platform.NewError(platform.ErrQuotaExhausted, "", "all %d seats of the shop are in use", sh.SeatQuota)
		}
		now := c.e.clock()
		var verified *VerificationRecord
		if sh.codeFirst() {
			// Last: a refused input or a full shop costs no attempt.
			if verified, err = sh.acceptCode(req.Code, state.Profile.Phone, now); err != nil {
				return err
			}
			sh.forgetVerification(verified.ID)
		}
		a := &AccountRecord{ID: c.e.nextID(), Name: req.Name, State: state, CreatedAt: now, PasswordChangedAt: now}
		a.PasswordSalt, a.PasswordHash = hashPassword(req.Password)
		sh.Accounts[a.ID] = a
		remember(sh.AccountRequests, requestID, a.ID, func(id string) bool { return sh.Accounts[id] != nil }, len(sh.Accounts))
		sh.audit(now, platform.SourceFrom(ctx), "account.create", a.ID, a.Name, accountDetail(a.State))
		switch {
		case verified != nil:
			a.Verification = verified.accepted()
			sh.audit(now, platform.SourceFrom(ctx), "account.verification", a.ID, a.Name, "phone verified; authorised")
		case sh.verifiesAfterCreate():
			a.Verification = c.e.sendCode(a.State.Profile.Phone, now)
			sh.audit(now, platform.SourceFrom(ctx), "account.verification", a.ID, a.Name, "verification code sent")
		}
		out = sh.view(a)
		return nil
	})
	return out, err
}

func (c *client) UpdateAccount(ctx context.Context, id string, state platform.AccountState) (platform.Account, error) {
	var out platform.Account
	err := c.call(ctx, "UpdateAccount", func(sh *ShopState, cat *catalog.Catalog) error {
		a, ok := sh.Accounts[id]
		if !ok {
			return accountNotFound(id)
		}
		st, err := c.e.validateState(sh, cat, state, id)
		if err != nil {
			return err
		}
		if sh.codeFirst() && st.Profile.Phone != a.State.Profile.Phone {
			return platform.NewError(platform.ErrForbidden, "phone",
				"a new phone for sub-account %q needs the code sent to it: request a code for the account and the new phone, then change the phone with it", a.Name)
		}
		a.State = st
		sh.audit(c.e.clock(), platform.SourceFrom(ctx), "account.update", a.ID, a.Name, accountDetail(a.State))
		out = sh.view(a)
		return nil
	})
	return out, err
}

func (c *client) SetPassword(ctx context.Context, id, password string) error {
	return c.call(ctx, "SetPassword", func(sh *ShopState, cat *catalog.Catalog) error {
		a, ok := sh.Accounts[id]
		if !ok {
			return accountNotFound(id)
		}
		if err := validatePassword(cat, password); err != nil {
			return err
		}
		now := c.e.clock()
		a.PasswordSalt, a.PasswordHash = hashPassword(password)
		a.PasswordChangedAt = now
		sh.audit(now, platform.SourceFrom(ctx), "account.password", a.ID, a.Name, "password changed")
		return nil
	})
}

func (c *client) DeleteAccount(ctx context.Context, id string) error {
	return c.call(ctx, "DeleteAccount", func(sh *ShopState, _ *catalog.Catalog) error {
		a, ok := sh.Accounts[id]
		if !ok {
			return accountNotFound(id)
		}
		delete(sh.Accounts, id)
		forgetRequests(sh.AccountRequests, id)
		sh.audit(c.e.clock(), platform.SourceFrom(ctx), "account.delete", a.ID, a.Name, "")
		return nil
	})
}

// CheckCredentials accepts the sub-account name or the full "main:name"
// login; a disabled account, or one whose phone is not verified yet, never
// logs in.
func (c *client) CheckCredentials(ctx context.Context, name, password string) (bool, error) {
	var ok bool
	err := c.call(ctx, "CheckCredentials", func(sh *ShopState, _ *catalog.Catalog) error {
		a := sh.findAccount(strings.TrimPrefix(name, sh.MainAccount+":"))
		ok = a != nil && !a.State.Disabled && a.authorised() && checkPassword(a, password)
		return nil
	})
	return ok, err
}

func roleNotFound(id string) error {
	return platform.NewError(platform.ErrNotFound, "id", "no role with ID %q", id)
}

func accountNotFound(id string) error {
	return platform.NewError(platform.ErrNotFound, "id", "no sub-account with ID %q", id)
}

func forgetRequests(requests map[string]string, id string) {
	for k, v := range requests {
		if v == id {
			delete(requests, k)
		}
	}
}

func validateAccountName(cat *catalog.Catalog, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return platform.NewError(platform.ErrInvalid, "name", "sub-account name must not be empty")
	case !utf8.ValidString(name):
		return platform.NewError(platform.ErrInvalid, "name", "sub-account name must be valid UTF-8")
	case strings.Contains(name, ":"):
		return platform.NewError(platform.ErrInvalid, "name", "sub-account name must not contain ':'")
	case utf8.RuneCountInString(name) > cat.AccountNameMaxLength:
		return platform.NewError(platform.ErrInvalid, "name", "sub-account name must be at most %d characters", cat.AccountNameMaxLength)
	}
	return nil
}

func validatePassword(cat *catalog.Catalog, password string) error {
	if utf8.RuneCountInString(password) < cat.PasswordMinLength {
		return platform.NewError(platform.ErrInvalid, "password", "password must be at least %d characters", cat.PasswordMinLength)
	}
	return nil
}

// validateRole checks a role spec and returns it with expanded permissions.
// selfID is the role being updated ("" on create).
func validateRole(sh *ShopState, cat *catalog.Catalog, spec platform.RoleSpec, selfID string) (platform.RoleSpec, error) {
	switch {
	case strings.TrimSpace(spec.Name) == "":
		return spec, platform.NewError(platform.ErrInvalid, "name", "role name must not be empty")
	case utf8.RuneCountInString(spec.Name) > cat.RoleNameMaxLength:
		return spec, platform.NewError(platform.ErrInvalid, "name", "role name must be at most %d characters", cat.RoleNameMaxLength)
	}
	if other := sh.findRole(spec.Name); other != nil && other.ID != selfID {
		return spec, platform.NewError(platform.ErrNameTaken, "name", "role name %q is already taken in this shop", spec.Name)
	}
	perms, err := expand(cat, spec.Permissions)
	if err != nil {
		return spec, err
	}
	spec.Permissions = perms
	return spec, nil
}

func expand(cat *catalog.Catalog, codes []string) ([]string, error) {
	out, err := cat.Expand(codes)
	var unknown *catalog.UnknownPermissionsError
	if errors.As(err, &unknown) {
		return nil, platform.NewError(platform.ErrInvalid, "permissions", "unknown permission codes: %s", strings.Join(unknown.Codes, ", "))
	}
	return out, err
}

// validateState checks an account's managed state and returns it normalized:
// role IDs de-duplicated and sorted, extra permissions expanded, slices
// copied. selfID is the account being updated ("" on create).
func (e *Engine) validateState(sh *ShopState, cat *catalog.Catalog, st platform.AccountState, selfID string) (platform.AccountState, error) {
	st = copyState(st)
	var missing []string
	if len(st.RoleIDs) == 0 {
		st.RoleIDs = nil
	} else {
		slices.SortFunc(st.RoleIDs, compareIDs)
		st.RoleIDs = slices.Compact(st.RoleIDs)
	}
	for _, id := range st.RoleIDs {
		if _, ok := sh.Roles[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return st, platform.NewError(platform.ErrInvalid, "roleIDs", "unknown role IDs: %s", strings.Join(missing, ", "))
	}
	if sh.Platform == platform.Douyin && len(st.RoleIDs) != 1 {
		return st, platform.NewError(platform.ErrInvalid, "roleIDs", "a Douyin sub-account needs exactly one position (role), got %d", len(st.RoleIDs))
	}
	perms, err := expand(cat, st.ExtraPermissions)
	if err != nil {
		return st, err
	}
	st.ExtraPermissions = perms
	if s := st.Seat; s != nil {
		// 0 keeps the capacity the account has and "" its presence (a new
		// seat: the defaults): both are the agent's own settings, which a
		// main-account write leaves alone unless it means to change them.
		current, presence := int32(DefaultSeatCapacity), platform.PresenceOnline
		if a, ok := sh.Accounts[selfID]; ok && selfID != "" && a.State.Seat != nil {
			current, presence = a.State.Seat.Capacity, a.State.Seat.Presence
		}
		if s.Capacity == 0 {
			s.Capacity = current
		}
		if s.Presence == "" {
			s.Presence = presence
		}
		if s.Capacity < MinSeatCapacity || s.Capacity > MaxSeatCapacity {
			return st, platform.NewError(platform.ErrInvalid, "seat.capacity", "reception capacity must be %d-%d, got %d", MinSeatCapacity, MaxSeatCapacity, s.Capacity)
		}
		switch s.Presence {
		case platform.PresenceOnline, platform.PresenceBusy, platform.PresenceBreak:
		default:
			return st, platform.NewError(platform.ErrInvalid, "seat.presence", "presence must be %s, %s or %s, got %q",
				platform.PresenceOnline, platform.PresenceBusy, platform.PresenceBreak, s.Presence)
		}
		if cat.SeatCapacityBySubAccount && s.Capacity != current {
			return st, platform.NewError(platform.ErrForbidden, "seat.capacity",
				"on %s only the sub-account itself may change its reception capacity (now %d): sign in as the sub-account", sh.Platform, current)
		}
	}
	if sh.Platform == platform.Douyin && st.Profile.Phone == "" {
		return st, platform.NewError(platform.ErrInvalid, "phone", "a Douyin sub-account needs a phone number")
	}
	if err := checkDepartment(sh, st.Profile.DepartmentID); err != nil {
		return st, err
	}
	if err := e.checkPhone(sh, st.Profile.Phone, selfID); err != nil {
		return st, err
	}
	return st, nil
}

// checkPhone enforces phone binding: on Taobao and Pinduoduo one sub-account
// per phone within the shop, on Douyin one shop per phone across the engine.
// selfID is the account being updated ("" on create).
func (e *Engine) checkPhone(sh *ShopState, phone, selfID string) error {
	if phone == "" {
		return nil
	}
	douyin := sh.Platform == platform.Douyin
	if douyin && sh.MainPhone == phone {
		return platform.NewError(platform.ErrConflict, "phone", "the phone number is this shop's main account")
	}
	for id, a := range sh.Accounts {
		if id == selfID || a.State.Profile.Phone != phone {
			continue
		}
		if douyin {
			return platform.NewError(platform.ErrConflict, "phone", "the phone number is already a sub-account of this shop (%q)", a.Name)
		}
		return platform.NewError(platform.ErrConflict, "phone", "the phone number is already bound to sub-account %q", a.Name)
	}
	if douyin && e.phoneInOtherDouyinShop(sh, phone) {
		return platform.NewError(platform.ErrConflict, "phone", "the phone number is bound to another shop")
	}
	return nil
}

func (e *Engine) phoneInOtherDouyinShop(sh *ShopState, phone string) bool {
	for _, other := range e.state.Shops {
		if other == sh || other.Platform != platform.Douyin {
			continue
		}
		if other.MainPhone == phone {
			return true
		}
		for _, a := range other.Accounts {
			if a.State.Profile.Phone == phone {
				return true
			}
		}
	}
	return false
}

func hashPassword(password string) (salt, hash string) {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return hex.EncodeToString(b), digest(b, password)
}

func digest(salt []byte, password string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(password))
	return hex.EncodeToString(h.Sum(nil))
}

func checkPassword(a *AccountRecord, password string) bool {
	salt, err := hex.DecodeString(a.PasswordSalt)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(digest(salt, password)), []byte(a.PasswordHash)) == 1
}

func roleDetail(s platform.RoleSpec) string {
	return fmt.Sprintf("permissions=[%s]", strings.Join(s.Permissions, " "))
}

func accountDetail(s platform.AccountState) string {
	return fmt.Sprintf("roles=[%s] extraPermissions=[%s] disabled=%t",
		strings.Join(s.RoleIDs, " "), strings.Join(s.ExtraPermissions, " "), s.Disabled)
}
