package gateway

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// route is one API operation, relative to a shop's prefix. A new
// operation of the protocol is a wire.Path* constant, a platform.Client
// method (with Unsupported's) and one entry here.
type route struct {
	method string
	// path is a wire.Path* constant; "{x}" segments match any segment.
	path string
	// write marks operations that change state: they run one at a time
	// per shop, carry X-Source to the Client and are Committed.
	write  bool
	handle func(c *call) (status int, out any, err error)
	// creates names the collection a POST creates in, idempotent by
	// Idempotency-Key (its answers are stored); deletes the collection
	// whose {id} a DELETE removes (its stored answers are forgotten).
	creates, deletes string
	// invalidChanges marks a write whose ErrInvalid still changed state
	// (a wrong code uses an attempt), so it is Committed too.
	invalidChanges bool
}

// Route is one operation the gateway serves.
type Route struct {
	Method string
	// Path is relative to the shop's prefix, with {id} and {name}
	// segments (a wire.Path* constant).
	Path string
	// Write is true for an operation that changes state.
	Write bool
}

// Routes lists every operation, in the order of the protocol's table.
func Routes() []Route {
	out := make([]Route, 0, len(routes))
	for _, rt := range routes {
		out = append(out, Route{Method: rt.method, Path: rt.path, Write: rt.write})
	}
	return out
}

// routes is the whole API. Every wire.Path* constant is served (tested).
var routes = []route{
	{method: http.MethodGet, path: wire.PathShop, write: false, handle: getShop},
	{method: http.MethodGet, path: wire.PathPermissions, write: false, handle: getPermissions},
	{method: http.MethodGet, path: wire.PathRoles, write: false, handle: listRoles},
	{method: http.MethodPost, path: wire.PathRoles, write: true, handle: createRole, creates: "roles"},
	{method: http.MethodGet, path: wire.PathRole, write: false, handle: getRole},
	{method: http.MethodPut, path: wire.PathRole, write: true, handle: updateRole},
	{method: http.MethodDelete, path: wire.PathRole, write: true, handle: deleteRole, deletes: "roles"},
	{method: http.MethodGet, path: wire.PathAccounts, write: false, handle: listAccounts},
	// A refused code in a create uses an attempt: invalidChanges.
	{method: http.MethodPost, path: wire.PathAccounts, write: true, handle: createAccount, creates: "accounts", invalidChanges: true},
	{method: http.MethodGet, path: wire.PathAccount, write: false, handle: getAccount},
	{method: http.MethodPut, path: wire.PathAccount, write: true, handle: updateAccount},
	{method: http.MethodDelete, path: wire.PathAccount, write: true, handle: deleteAccount, deletes: "accounts"},
	{method: http.MethodGet, path: wire.PathAccountName, write: false, handle: findAccount},
	{method: http.MethodPut, path: wire.PathPassword, write: true, handle: setPassword},
	{method: http.MethodPut, path: wire.PathStatus, write: true, handle: setStatus},
	{method: http.MethodPut, path: wire.PathSeat, write: true, handle: setSeat},
	{method: http.MethodPut, path: wire.PathSeatCapacity, write: true, handle: setSeatCapacity},
	{method: http.MethodGet, path: wire.PathDepartments, write: false, handle: listDepartments},
	{method: http.MethodPost, path: wire.PathDepartments, write: true, handle: createDepartment, creates: "departments"},
	{method: http.MethodDelete, path: wire.PathDepartment, write: true, handle: deleteDepartment, deletes: "departments"},
	{method: http.MethodGet, path: wire.PathContacts, write: false, handle: listContacts},
	{method: http.MethodPost, path: wire.PathContacts, write: true, handle: addContact},
	{method: http.MethodPut, path: wire.PathContact, write: true, handle: updateContact},
	{method: http.MethodDelete, path: wire.PathContact, write: true, handle: deleteContact},
	{method: http.MethodPost, path: wire.PathContactVerify, write: true, handle: verifyContact, invalidChanges: true},
	{method: http.MethodPost, path: wire.PathContactCode, write: true, handle: resendContactCode},
	{method: http.MethodGet, path: wire.PathAudit, write: false, handle: listAudit},
	{method: http.MethodGet, path: wire.PathActivity, write: false, handle: listActivity},
	{method: http.MethodPost, path: wire.PathLogin, write: false, handle: checkLogin},
	{method: http.MethodPost, path: wire.PathVerify, write: true, handle: verifyAccount, invalidChanges: true},
	{method: http.MethodPost, path: wire.PathVerificationCode, write: true, handle: resendVerification},
	// Not "creates": a verification's answer must not be replayed after
	// it expired (5 minutes), so the Client keeps its requestIDs itself.
	{method: http.MethodPost, path: wire.PathVerifications, write: true, handle: requestCode},
	{method: http.MethodPut, path: wire.PathPhone, write: true, handle: changePhone, invalidChanges: true},
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

func getShop(c *call) (int, any, error) {
	info, err := c.client.ShopInfo(c.ctx)
	return http.StatusOK, wire.FromShopInfo(info), err
}

func getPermissions(c *call) (int, any, error) {
	perms, err := c.client.Permissions(c.ctx)
	out := wire.PermissionList{Items: make([]wire.Permission, 0, len(perms))}
	for _, p := range perms {
		out.Items = append(out.Items, wire.Permission(p))
	}
	return http.StatusOK, out, err
}

func listRoles(c *call) (int, any, error) {
	roles, err := c.client.ListRoles(c.ctx)
	out := wire.RoleList{Items: make([]wire.Role, 0, len(roles))}
	for _, r := range roles {
		out.Items = append(out.Items, wire.FromRole(r))
	}
	return http.StatusOK, out, err
}

// createRole answers 201 with the role, also when the Idempotency-Key
// repeats an earlier create (the first answer is replayed).
func createRole(c *call) (int, any, error) {
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

func getRole(c *call) (int, any, error) {
	r, err := c.client.GetRole(c.ctx, c.params["id"])
	return http.StatusOK, wire.FromRole(r), err
}

func updateRole(c *call) (int, any, error) {
	var in wire.RoleSpec
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	r, err := c.client.UpdateRole(c.ctx, c.params["id"], in.ToRoleSpec())
	return http.StatusOK, wire.FromRole(r), err
}

func deleteRole(c *call) (int, any, error) {
	return http.StatusNoContent, nil, c.client.DeleteRole(c.ctx, c.params["id"])
}

// Paging defaults of GET /accounts when page or pageSize is absent.
const (
	defaultPage     = 1
	defaultPageSize = 50
)

func listAccounts(c *call) (int, any, error) {
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

func intQuery(c *call, name string, def int) (int, error) {
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
func createAccount(c *call) (int, any, error) {
	var in wire.CreateAccount
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return 0, nil, err
	}
	req := platform.CreateAccount{Name: in.Name, Password: in.Password, AccountState: in.AccountState.ToAccountState()}
	if in.Code != nil {
		req.Code = &platform.VerificationCode{ID: in.Code.ID, Code: in.Code.Code}
	}
	a, err := c.client.CreateAccount(c.ctx, req, key)
	return http.StatusCreated, wire.FromAccount(a), err
}

// requestCode texts a code to a phone before the account exists or its
// phone changes, and answers 201 with the verification (its ID, the
// masked phone, the expiry and the attempts). The Idempotency-Key goes to
// the Client as the requestID.
func requestCode(c *call) (int, any, error) {
	var in wire.CodeRequest
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return 0, nil, err
	}
	v, err := c.client.RequestCode(c.ctx, platform.CodeRequest(in), key)
	return http.StatusCreated, wire.Verification(v), err
}

// changePhone changes an account's phone with the code sent to the new
// one; a refused code uses an attempt, like verifyAccount's.
func changePhone(c *call) (int, any, error) {
	var in wire.VerificationCode
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	a, err := c.client.ChangePhone(c.ctx, c.params["id"], platform.VerificationCode(in))
	return http.StatusOK, wire.FromAccount(a), err
}

func idempotencyKey(c *call) (string, error) {
	return c.header.Get(wire.HeaderIdempotencyKey), nil // its length is checked by run
}

func getAccount(c *call) (int, any, error) {
	a, err := c.client.GetAccount(c.ctx, c.params["id"])
	return http.StatusOK, wire.FromAccount(a), err
}

func findAccount(c *call) (int, any, error) {
	a, err := c.client.FindAccount(c.ctx, c.params["name"])
	return http.StatusOK, wire.FromAccount(a), err
}

func updateAccount(c *call) (int, any, error) {
	var in wire.AccountState
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	a, err := c.client.UpdateAccount(c.ctx, c.params["id"], in.ToAccountState())
	return http.StatusOK, wire.FromAccount(a), err
}

func deleteAccount(c *call) (int, any, error) {
	return http.StatusNoContent, nil, c.client.DeleteAccount(c.ctx, c.params["id"])
}

func setPassword(c *call) (int, any, error) {
	var in wire.PasswordChange
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, c.client.SetPassword(c.ctx, c.params["id"], in.Password)
}

// modifyAccount reads the account, changes part of its state and writes
// the whole state back. Writes are serialized by the server, so no other
// API write slips in between.
func modifyAccount(c *call, change func(*platform.AccountState)) (int, any, error) {
	a, err := c.client.GetAccount(c.ctx, c.params["id"])
	if err != nil {
		return 0, nil, err
	}
	change(&a.AccountState)
	a, err = c.client.UpdateAccount(c.ctx, a.ID, a.AccountState)
	return http.StatusOK, wire.FromAccount(a), err
}

func setStatus(c *call) (int, any, error) {
	var in wire.AccountStatus
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	return modifyAccount(c, func(st *platform.AccountState) { st.Disabled = in.Disabled })
}

func setSeat(c *call) (int, any, error) {
	var in wire.Seat
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	seat := platform.Seat(in)
	return modifyAccount(c, func(st *platform.AccountState) { st.Seat = &seat })
}

// setSeatCapacity changes the reception capacity as the sub-account
// itself, signed in with the body's actAs (never logged or audited).
func setSeatCapacity(c *call) (int, any, error) {
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
func listAudit(c *call) (int, any, error) {
	var since time.Time
	if v := c.query.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return 0, nil, platform.NewError(platform.ErrInvalid, "since", "since must be an RFC 3339 time")
		}
		since = t
	}
	log, ok := c.client.(AuditLog)
	if !ok {
		return 0, nil, platform.NewError(platform.ErrNotSupported, "", "this gateway keeps no audit log")
	}
	entries, err := log.Audit(c.ctx, since)
	return http.StatusOK, wire.AuditList{Items: append(make([]wire.AuditEntry, 0, len(entries)), entries...)}, err
}

// listActivity is GET /activity: one page of the feed.
func listActivity(c *call) (int, any, error) {
	q := platform.ActivityQuery{AccountIDs: c.query["accountId"], Cursor: c.query.Get("cursor")}
	for name, t := range map[string]*time.Time{"since": &q.Since, "until": &q.Until} {
		if v := c.query.Get(name); v != "" {
			parsed, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return 0, nil, platform.NewError(platform.ErrInvalid, name, "%s must be an RFC 3339 time", name)
			}
			*t = parsed
		}
	}
	if v := c.query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, nil, platform.NewError(platform.ErrInvalid, "limit", "limit must be a number")
		}
		q.Limit = n
	}
	page, err := c.client.ListActivity(c.ctx, q)
	if err != nil {
		return 0, nil, err
	}
	out := wire.ActivityList{Items: make([]wire.ActivityEntry, 0, len(page.Entries)), Next: page.Next}
	for _, e := range page.Entries {
		out.Items = append(out.Items, wire.ActivityEntry(e))
	}
	return http.StatusOK, out, nil
}

func checkLogin(c *call) (int, any, error) {
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
func verifyAccount(c *call) (int, any, error) {
	var in wire.VerifyCode
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	a, err := c.client.VerifyAccount(c.ctx, c.params["id"], in.Code)
	return http.StatusOK, wire.FromAccount(a), err
}

// resendVerification sends a new SMS code. The body is empty (an empty
// JSON object is accepted too).
func resendVerification(c *call) (int, any, error) {
	if err := noBody(c.body); err != nil {
		return 0, nil, err
	}
	a, err := c.client.ResendVerification(c.ctx, c.params["id"])
	return http.StatusOK, wire.FromAccount(a), err
}

// Departments (Taobao) and notification contacts.

func listDepartments(c *call) (int, any, error) {
	deps, err := c.client.ListDepartments(c.ctx)
	out := wire.DepartmentList{Items: make([]wire.Department, 0, len(deps))}
	for _, d := range deps {
		out.Items = append(out.Items, wire.FromDepartment(d))
	}
	return http.StatusOK, out, err
}

// createDepartment answers 201, also when the Idempotency-Key repeats an
// earlier create.
func createDepartment(c *call) (int, any, error) {
	var in wire.DepartmentSpec
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return 0, nil, err
	}
	d, err := c.client.CreateDepartment(c.ctx, platform.DepartmentSpec(in), key)
	return http.StatusCreated, wire.FromDepartment(d), err
}

func deleteDepartment(c *call) (int, any, error) {
	return http.StatusNoContent, nil, c.client.DeleteDepartment(c.ctx, c.params["id"])
}

func listContacts(c *call) (int, any, error) {
	contacts, err := c.client.ListContacts(c.ctx)
	out := wire.ContactList{Items: make([]wire.Contact, 0, len(contacts))}
	for _, ct := range contacts {
		out.Items = append(out.Items, wire.FromContact(ct))
	}
	return http.StatusOK, out, err
}

func addContact(c *call) (int, any, error) {
	var in wire.ContactSpec
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	ct, err := c.client.AddContact(c.ctx, platform.ContactSpec(in))
	return http.StatusCreated, wire.FromContact(ct), err
}

func updateContact(c *call) (int, any, error) {
	var in wire.ContactSpec
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	ct, err := c.client.UpdateContact(c.ctx, c.params["id"], platform.ContactSpec(in))
	return http.StatusOK, wire.FromContact(ct), err
}

func deleteContact(c *call) (int, any, error) {
	return http.StatusNoContent, nil, c.client.DeleteContact(c.ctx, c.params["id"])
}

// verifyContact enters the SMS code; like verifyAccount, a wrong code
// (422) still uses an attempt, so the state file is saved then too.
func verifyContact(c *call) (int, any, error) {
	var in wire.VerifyCode
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	ct, err := c.client.VerifyContact(c.ctx, c.params["id"], in.Code)
	return http.StatusOK, wire.FromContact(ct), err
}

// resendContactCode sends a new code; the body is empty (or {}).
func resendContactCode(c *call) (int, any, error) {
	if err := noBody(c.body); err != nil {
		return 0, nil, err
	}
	ct, err := c.client.ResendContactCode(c.ctx, c.params["id"])
	return http.StatusOK, wire.FromContact(ct), err
}
