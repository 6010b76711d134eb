package shopsim

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// route is one API operation, relative to a shop's prefix.
type route struct {
	method string
	// path is a wire.Path* constant; "{x}" segments match any segment.
	path string
	// write marks operations that change state: they run one at a time,
	// carry X-Source into the audit log and are persisted.
	write  bool
	handle func(s *Server, c *apiCall) (status int, out any, err error)
}

// routes is the whole API. Every wire.Path* constant is served (tested).
var routes = []route{
	{http.MethodGet, wire.PathShop, false, getShop},
	{http.MethodGet, wire.PathPermissions, false, getPermissions},
	{http.MethodGet, wire.PathRoles, false, listRoles},
	{http.MethodPost, wire.PathRoles, true, createRole},
	{http.MethodGet, wire.PathRole, false, getRole},
	{http.MethodPut, wire.PathRole, true, updateRole},
	{http.MethodDelete, wire.PathRole, true, deleteRole},
	{http.MethodGet, wire.PathAccounts, false, listAccounts},
	{http.MethodPost, wire.PathAccounts, true, createAccount},
	{http.MethodGet, wire.PathAccount, false, getAccount},
	{http.MethodPut, wire.PathAccount, true, updateAccount},
	{http.MethodDelete, wire.PathAccount, true, deleteAccount},
	{http.MethodGet, wire.PathAccountName, false, findAccount},
	{http.MethodPut, wire.PathPassword, true, setPassword},
	{http.MethodPut, wire.PathStatus, true, setStatus},
	{http.MethodPut, wire.PathSeat, true, setSeat},
	{http.MethodPut, wire.PathSeatCapacity, true, setSeatCapacity},
	{http.MethodGet, wire.PathDepartments, false, listDepartments},
	{http.MethodPost, wire.PathDepartments, true, createDepartment},
	{http.MethodDelete, wire.PathDepartment, true, deleteDepartment},
	{http.MethodGet, wire.PathContacts, false, listContacts},
	{http.MethodPost, wire.PathContacts, true, addContact},
	{http.MethodPut, wire.PathContact, true, updateContact},
	{http.MethodDelete, wire.PathContact, true, deleteContact},
	{http.MethodPost, wire.PathContactVerify, true, verifyContact},
	{http.MethodPost, wire.PathContactCode, true, resendContactCode},
	{http.MethodGet, wire.PathAudit, false, listAudit},
	{http.MethodPost, wire.PathLogin, false, checkLogin},
	{http.MethodPost, wire.PathVerify, true, verifyAccount},
	{http.MethodPost, wire.PathVerificationCode, true, resendVerification},
}

// match finds the route for method and the (unescaped) path segments after
// the shop prefix. When the path matches only with other methods, it
// returns those in allow. Literal segments beat wildcards.
func match(method string, segs []string) (*route, map[string]string, []string) {
	var (
		best       *route
		bestParams map[string]string
		bestScore  = -1
		allow      []string
	)
	for i := range routes {
		rt := &routes[i]
		params, score, ok := matchPath(rt.path, segs)
		if !ok {
			continue
		}
		if rt.method != method {
			if !slices.Contains(allow, rt.method) {
				allow = append(allow, rt.method)
			}
			continue
		}
		if score > bestScore {
			best, bestParams, bestScore = rt, params, score
		}
	}
	return best, bestParams, allow
}

func matchPath(pattern string, segs []string) (map[string]string, int, bool) {
	parts := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	if len(parts) != len(segs) {
		return nil, 0, false
	}
	params := map[string]string{}
	score := 0
	for i, part := range parts {
		if name, ok := strings.CutPrefix(part, "{"); ok {
			params[strings.TrimSuffix(name, "}")] = segs[i]
			continue
		}
		if part != segs[i] {
			return nil, 0, false
		}
		score++
	}
	return params, score, true
}

func getShop(_ *Server, c *apiCall) (int, any, error) {
	info, err := c.client.ShopInfo(c.ctx)
	return http.StatusOK, wire.ShopInfo(info), err
}

func getPermissions(_ *Server, c *apiCall) (int, any, error) {
	perms, err := c.client.Permissions(c.ctx)
	out := wire.PermissionList{Items: make([]wire.Permission, 0, len(perms))}
	for _, p := range perms {
		out.Items = append(out.Items, wire.Permission(p))
	}
	return http.StatusOK, out, err
}

func listRoles(_ *Server, c *apiCall) (int, any, error) {
	roles, err := c.client.ListRoles(c.ctx)
	out := wire.RoleList{Items: make([]wire.Role, 0, len(roles))}
	for _, r := range roles {
		out.Items = append(out.Items, wire.FromRole(r))
	}
	return http.StatusOK, out, err
}

// createRole answers 201 with the role, also when the Idempotency-Key
// repeats an earlier create (the first answer is replayed).
func createRole(_ *Server, c *apiCall) (int, any, error) {
	var in wire.RoleSpec
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return 0, nil, err
	}
	r, err := c.client.CreateRole(c.ctx, in.ToRoleSpec(), key)
	return http.StatusCreated, wire.FromRole(r), err
}

func getRole(_ *Server, c *apiCall) (int, any, error) {
	r, err := c.client.GetRole(c.ctx, c.params["id"])
	return http.StatusOK, wire.FromRole(r), err
}

func updateRole(_ *Server, c *apiCall) (int, any, error) {
	var in wire.RoleSpec
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	r, err := c.client.UpdateRole(c.ctx, c.params["id"], in.ToRoleSpec())
	return http.StatusOK, wire.FromRole(r), err
}

func deleteRole(_ *Server, c *apiCall) (int, any, error) {
	return http.StatusNoContent, nil, c.client.DeleteRole(c.ctx, c.params["id"])
}

// Paging defaults of GET /accounts when page or pageSize is absent.
const (
	defaultPage     = 1
	defaultPageSize = 50
)

func listAccounts(_ *Server, c *apiCall) (int, any, error) {
	page, err := intQuery(c, "page", defaultPage)
	if err != nil {
		return 0, nil, err
	}
	size, err := intQuery(c, "pageSize", defaultPageSize)
	if err != nil {
		return 0, nil, err
	}
	if page < 1 {
		return 0, nil, platform.NewError(platform.ErrInvalid, "page", "page must be at least 1, got %d", page)
	}
	if size < wire.MinPageSize || size > wire.MaxPageSize {
		return 0, nil, platform.NewError(platform.ErrInvalid, "pageSize", "page size must be %d-%d, got %d", wire.MinPageSize, wire.MaxPageSize, size)
	}
	res, err := c.client.ListAccounts(c.ctx, platform.ListOptions{Page: page, PageSize: size})
	out := wire.AccountList{Items: make([]wire.Account, 0, len(res.Accounts)), Total: res.Total}
	for _, a := range res.Accounts {
		out.Items = append(out.Items, wire.FromAccount(a))
	}
	return http.StatusOK, out, err
}

func intQuery(c *apiCall, name string, def int) (int, error) {
	v := c.query.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, platform.NewError(platform.ErrInvalid, name, "%s must be an integer", name)
	}
	return n, nil
}

// createAccount answers 201 with the account, also when the
// Idempotency-Key repeats an earlier create (the first answer is replayed).
func createAccount(_ *Server, c *apiCall) (int, any, error) {
	var in wire.CreateAccount
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return 0, nil, err
	}
	req := platform.CreateAccount{Name: in.Name, Password: in.Password, AccountState: in.AccountState.ToAccountState()}
	a, err := c.client.CreateAccount(c.ctx, req, key)
	return http.StatusCreated, wire.FromAccount(a), err
}

func idempotencyKey(c *apiCall) (string, error) {
	key := c.header.Get(wire.HeaderIdempotencyKey)
	if len(key) > MaxIdempotencyKeyLength {
		return "", platform.NewError(platform.ErrInvalid, wire.HeaderIdempotencyKey,
			"the %s header must be at most %d bytes", wire.HeaderIdempotencyKey, MaxIdempotencyKeyLength)
	}
	return key, nil
}

func getAccount(_ *Server, c *apiCall) (int, any, error) {
	a, err := c.client.GetAccount(c.ctx, c.params["id"])
	return http.StatusOK, wire.FromAccount(a), err
}

func findAccount(_ *Server, c *apiCall) (int, any, error) {
	a, err := c.client.FindAccount(c.ctx, c.params["name"])
	return http.StatusOK, wire.FromAccount(a), err
}

func updateAccount(_ *Server, c *apiCall) (int, any, error) {
	var in wire.AccountState
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	a, err := c.client.UpdateAccount(c.ctx, c.params["id"], in.ToAccountState())
	return http.StatusOK, wire.FromAccount(a), err
}

func deleteAccount(_ *Server, c *apiCall) (int, any, error) {
	return http.StatusNoContent, nil, c.client.DeleteAccount(c.ctx, c.params["id"])
}

func setPassword(_ *Server, c *apiCall) (int, any, error) {
	var in wire.PasswordChange
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, c.client.SetPassword(c.ctx, c.params["id"], in.Password)
}

// modifyAccount reads the account, changes part of its state and writes
// the whole state back. Writes are serialized by the server, so no other
// API write slips in between.
func modifyAccount(c *apiCall, change func(*platform.AccountState)) (int, any, error) {
	a, err := c.client.GetAccount(c.ctx, c.params["id"])
	if err != nil {
		return 0, nil, err
	}
	change(&a.AccountState)
	a, err = c.client.UpdateAccount(c.ctx, a.ID, a.AccountState)
	return http.StatusOK, wire.FromAccount(a), err
}

func setStatus(_ *Server, c *apiCall) (int, any, error) {
	var in wire.AccountStatus
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	return modifyAccount(c, func(st *platform.AccountState) { st.Disabled = in.Disabled })
}

func setSeat(_ *Server, c *apiCall) (int, any, error) {
	var in wire.Seat
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	seat := platform.Seat(in)
	return modifyAccount(c, func(st *platform.AccountState) { st.Seat = &seat })
}

// setSeatCapacity changes the reception capacity as the sub-account
// itself, signed in with the body's actAs (never logged or audited).
func setSeatCapacity(_ *Server, c *apiCall) (int, any, error) {
	var in wire.SeatCapacityChange
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	a, err := c.client.SetSeatCapacity(c.ctx, c.params["id"], in.Capacity,
		platform.SubAccountLogin{Name: in.ActAs.Name, Password: in.ActAs.Password})
	return http.StatusOK, wire.FromAccount(a), err
}

// listAudit returns the shop's audit log, oldest first; ?since=RFC3339
// keeps the entries at or after that time.
func listAudit(s *Server, c *apiCall) (int, any, error) {
	var since time.Time
	if v := c.query.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return 0, nil, platform.NewError(platform.ErrInvalid, "since", "since must be an RFC 3339 time")
		}
		since = t
	}
	entries := s.engine.Audit(c.platform, c.main)
	out := wire.AuditList{Items: make([]wire.AuditEntry, 0, len(entries))}
	for _, e := range entries {
		if e.Time.Before(since) {
			continue
		}
		out.Items = append(out.Items, wire.AuditEntry{Time: e.Time, Action: e.Action, TargetID: e.TargetID,
			TargetName: e.TargetName, Detail: e.Detail, Source: e.Source})
	}
	return http.StatusOK, out, nil
}

func checkLogin(_ *Server, c *apiCall) (int, any, error) {
	var in wire.LoginCheck
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	ok, err := c.client.CheckCredentials(c.ctx, in.Name, in.Password)
	return http.StatusOK, wire.LoginResult{OK: ok}, err
}

// verifyAccount enters the SMS code. A wrong code is an error (422) that
// still changes state (an attempt is used), so the state file is saved
// then too: a restart must not give the attempts back.
func verifyAccount(s *Server, c *apiCall) (int, any, error) {
	var in wire.VerifyCode
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	a, err := c.client.VerifyAccount(c.ctx, c.params["id"], in.Code)
	s.saveOnInvalid(err)
	return http.StatusOK, wire.FromAccount(a), err
}

// saveOnInvalid saves the state file after a refused code: the attempt it
// used must survive a restart.
func (s *Server) saveOnInvalid(err error) {
	if errors.Is(err, platform.ErrInvalid) {
		if perr := s.store.save(); perr != nil {
			s.log.Error("saving the state file failed", "err", perr)
		}
	}
}

// noBody accepts an empty body or an empty JSON object.
func noBody(c *apiCall) error {
	if len(bytes.TrimSpace(c.body)) > 0 {
		return decode(c.body, &struct{}{})
	}
	return nil
}

// resendVerification sends a new SMS code. The body is empty (an empty
// JSON object is accepted too).
func resendVerification(_ *Server, c *apiCall) (int, any, error) {
	if err := noBody(c); err != nil {
		return 0, nil, err
	}
	a, err := c.client.ResendVerification(c.ctx, c.params["id"])
	return http.StatusOK, wire.FromAccount(a), err
}
