package gateway

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// path fills the {id} or {name} placeholder of a wire path with the
// path-escaped value. Values that cannot be one path segment ("", "." and
// "..", which a server or proxy would resolve away) name nothing, so they
// are answered locally with ErrNotFound.
func path(template, param, value string) (string, error) {
	if value == "" || value == "." || value == ".." {
		return "", platform.NewError(platform.ErrNotFound, param, "no object with %s %q", param, value)
	}
	return strings.Replace(template, "{"+param+"}", url.PathEscape(value), 1), nil
}

// ShopInfo is GET /shop.
func (c *client) ShopInfo(ctx context.Context) (platform.ShopInfo, error) {
	var out wire.ShopInfo
	if err := c.do(ctx, request{method: http.MethodGet, path: wire.PathShop, out: &out}); err != nil {
		return platform.ShopInfo{}, err
	}
	return out.ToShopInfo(), nil
}

// Permissions is GET /permissions.
func (c *client) Permissions(ctx context.Context) ([]platform.Permission, error) {
	var out wire.PermissionList
	if err := c.do(ctx, request{method: http.MethodGet, path: wire.PathPermissions, out: &out}); err != nil {
		return nil, err
	}
	perms := make([]platform.Permission, 0, len(out.Items))
	for _, p := range out.Items {
		perms = append(perms, platform.Permission(p))
	}
	return perms, nil
}

// ListRoles is GET /roles.
func (c *client) ListRoles(ctx context.Context) ([]platform.Role, error) {
	var out wire.RoleList
	if err := c.do(ctx, request{method: http.MethodGet, path: wire.PathRoles, out: &out}); err != nil {
		return nil, err
	}
	roles := make([]platform.Role, 0, len(out.Items))
	for _, r := range out.Items {
		roles = append(roles, r.ToRole())
	}
	return roles, nil
}

// GetRole is GET /roles/{id}.
func (c *client) GetRole(ctx context.Context, id string) (platform.Role, error) {
	p, err := path(wire.PathRole, "id", id)
	if err != nil {
		return platform.Role{}, err
	}
	var out wire.Role
	if err := c.do(ctx, request{method: http.MethodGet, path: p, out: &out}); err != nil {
		return platform.Role{}, err
	}
	return out.ToRole(), nil
}

// CreateRole is POST /roles with the request ID as Idempotency-Key.
func (c *client) CreateRole(ctx context.Context, spec platform.RoleSpec, requestID string) (platform.Role, error) {
	var out wire.Role
	err := c.do(ctx, request{method: http.MethodPost, path: wire.PathRoles, in: wire.FromRoleSpec(spec), out: &out, idempotencyKey: requestID})
	if err != nil {
		return platform.Role{}, err
	}
	return out.ToRole(), nil
}

// UpdateRole is PUT /roles/{id} with the whole spec.
func (c *client) UpdateRole(ctx context.Context, id string, spec platform.RoleSpec) (platform.Role, error) {
	p, err := path(wire.PathRole, "id", id)
	if err != nil {
		return platform.Role{}, err
	}
	var out wire.Role
	if err := c.do(ctx, request{method: http.MethodPut, path: p, in: wire.FromRoleSpec(spec), out: &out}); err != nil {
		return platform.Role{}, err
	}
	return out.ToRole(), nil
}

// DeleteRole is DELETE /roles/{id}.
func (c *client) DeleteRole(ctx context.Context, id string) error {
	p, err := path(wire.PathRole, "id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p})
}

// ListAccounts is GET /accounts?page=&pageSize=; the gateway checks the
// bounds (page >= 1, page size wire.MinPageSize-wire.MaxPageSize).
func (c *client) ListAccounts(ctx context.Context, opts platform.ListOptions) (platform.AccountPage, error) {
	q := url.Values{}
	q.Set("page", strconv.Itoa(opts.Page))
	q.Set("pageSize", strconv.Itoa(opts.PageSize))
	var out wire.AccountList
	if err := c.do(ctx, request{method: http.MethodGet, path: wire.PathAccounts, query: q, out: &out}); err != nil {
		return platform.AccountPage{}, err
	}
	page := platform.AccountPage{Total: out.Total}
	for _, a := range out.Items {
		page.Accounts = append(page.Accounts, a.ToAccount())
	}
	return page, nil
}

// GetAccount is GET /accounts/{id}.
func (c *client) GetAccount(ctx context.Context, id string) (platform.Account, error) {
	p, err := path(wire.PathAccount, "id", id)
	if err != nil {
		return platform.Account{}, err
	}
	return c.account(ctx, request{method: http.MethodGet, path: p})
}

// FindAccount is GET /accounts/by-name/{name}.
func (c *client) FindAccount(ctx context.Context, name string) (platform.Account, error) {
	p, err := path(wire.PathAccountName, "name", name)
	if err != nil {
		return platform.Account{}, err
	}
	return c.account(ctx, request{method: http.MethodGet, path: p})
}

// CreateAccount is POST /accounts with the request ID as Idempotency-Key;
// the password and the SMS code, if any, are scrubbed from error messages.
func (c *client) CreateAccount(ctx context.Context, req platform.CreateAccount, requestID string) (platform.Account, error) {
	in := wire.CreateAccount{Name: req.Name, Password: req.Password, AccountState: wire.FromAccountState(req.AccountState)}
	secrets := []string{req.Password}
	if req.Code != nil {
		in.Code = &wire.VerificationCode{ID: req.Code.ID, Code: req.Code.Code}
		secrets = append(secrets, codeSecrets(req.Code.Code)...)
	}
	return c.account(ctx, request{method: http.MethodPost, path: wire.PathAccounts, in: in,
		idempotencyKey: requestID, secrets: secrets})
}

// RequestCode is POST /verifications with the request ID as
// Idempotency-Key. A gateway that does not know the route answers 404:
// the operator calls it only where GET /shop declared phoneVerification
// "BeforeCreate".
func (c *client) RequestCode(ctx context.Context, req platform.CodeRequest, requestID string) (platform.Verification, error) {
	var out wire.Verification
	err := c.do(ctx, request{method: http.MethodPost, path: wire.PathVerifications, in: wire.CodeRequest(req), out: &out,
		idempotencyKey: requestID})
	if err != nil {
		return platform.Verification{}, err
	}
	return platform.Verification(out), nil
}

// ChangePhone is PUT /accounts/{id}/phone with the verification's ID and
// the code, scrubbed from error messages.
func (c *client) ChangePhone(ctx context.Context, id string, code platform.VerificationCode) (platform.Account, error) {
	p, err := path(wire.PathPhone, "id", id)
	if err != nil {
		return platform.Account{}, err
	}
	return c.account(ctx, request{method: http.MethodPut, path: p, in: wire.VerificationCode(code),
		secrets: codeSecrets(code.Code)})
}

// codeSecrets are the forms of an SMS code to scrub: as given, and
// without the white space around it, which a gateway may trim.
func codeSecrets(code string) []string {
	return []string{code, strings.TrimSpace(code)}
}

// UpdateAccount is PUT /accounts/{id} with the whole managed state.
func (c *client) UpdateAccount(ctx context.Context, id string, state platform.AccountState) (platform.Account, error) {
	p, err := path(wire.PathAccount, "id", id)
	if err != nil {
		return platform.Account{}, err
	}
	return c.account(ctx, request{method: http.MethodPut, path: p, in: wire.FromAccountState(state)})
}

func (c *client) account(ctx context.Context, r request) (platform.Account, error) {
	var out wire.Account
	r.out = &out
	if err := c.do(ctx, r); err != nil {
		return platform.Account{}, err
	}
	return out.ToAccount(), nil
}

// SetPassword is PUT /accounts/{id}/password.
func (c *client) SetPassword(ctx context.Context, id, password string) error {
	p, err := path(wire.PathPassword, "id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodPut, path: p, in: wire.PasswordChange{Password: password}, secrets: []string{password}})
}

// SetSeatCapacity is PUT /accounts/{id}/seat/capacity with the
// sub-account's own login in the body's actAs; its password is scrubbed
// from error messages like any password.
func (c *client) SetSeatCapacity(ctx context.Context, id string, capacity int32, as platform.SubAccountLogin) (platform.Account, error) {
	p, err := path(wire.PathSeatCapacity, "id", id)
	if err != nil {
		return platform.Account{}, err
	}
	in := wire.SeatCapacityChange{Capacity: capacity, ActAs: wire.ActAs{Name: as.Name, Password: as.Password}}
	return c.account(ctx, request{method: http.MethodPut, path: p, in: in, secrets: []string{as.Password}})
}

// DeleteAccount is DELETE /accounts/{id}.
func (c *client) DeleteAccount(ctx context.Context, id string) error {
	p, err := path(wire.PathAccount, "id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p})
}

// CheckCredentials is POST /login.
func (c *client) CheckCredentials(ctx context.Context, name, password string) (bool, error) {
	var out wire.LoginResult
	err := c.do(ctx, request{method: http.MethodPost, path: wire.PathLogin, in: wire.LoginCheck{Name: name, Password: password},
		out: &out, secrets: []string{password}})
	if err != nil {
		return false, err
	}
	return out.OK, nil
}

// VerifyAccount is POST /accounts/{id}/verify with the code. The code is
// scrubbed from error messages like a password (also without the white
// space around it, which a gateway may trim).
func (c *client) VerifyAccount(ctx context.Context, id, code string) (platform.Account, error) {
	p, err := path(wire.PathVerify, "id", id)
	if err != nil {
		return platform.Account{}, err
	}
	return c.account(ctx, request{method: http.MethodPost, path: p, in: wire.VerifyCode{Code: code},
		secrets: codeSecrets(code)})
}

// ResendVerification is POST /accounts/{id}/verification-code without a
// body; a gateway answers 429 with Retry-After when the last code was sent
// less than a minute ago.
func (c *client) ResendVerification(ctx context.Context, id string) (platform.Account, error) {
	p, err := path(wire.PathVerificationCode, "id", id)
	if err != nil {
		return platform.Account{}, err
	}
	return c.account(ctx, request{method: http.MethodPost, path: p})
}
