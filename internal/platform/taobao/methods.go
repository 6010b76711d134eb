package taobao

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
)

// Capabilities reports what TOP can do: read accounts and roles, create
// roles, disable or enable an account and switch its dispatch (taking part
// in customer routing, Seat.Chat). AccountSeat covers dispatch only:
// reception capacity and presence cannot be set through TOP. The activity
// feed is the online-status log, read 5 named accounts a call.
// RequestCode is false: Taobao texts no code for a sub-account's phone.
//
// TOP reports, though it cannot set, an account's roles and its directly
// granted permissions, and with each role its permissions
// (taobao.sellercenter.subuser.permissions.roles.get, read by GetAccount
// and FindAccount); taobao.sellercenter.roles.get leaves a role's
// permissions out, so they are known only for roles a read account holds.
func (c *Client) Capabilities() platform.Capabilities {
	return platform.Capabilities{AccountDisabled: true, AccountSeat: true, ActivityFeed: true, ActivityNeedsAccountIDs: true,
		Observe: platform.Observation{AccountRoles: true, AccountExtraPermissions: true,
			RolePermissions: true, RolePermissionsByAccount: true}}
}

func notSupported(what, instead string) error {
	return platform.NewError(platform.ErrNotSupported, "", "Taobao's open API (TOP) cannot %s; %s", what, instead)
}

// ShopInfo reads taobao.sellercenter.subusers.page (the first page at the
// smallest page size TOP accepts, 2): its total_count is SeatsUsed. TOP
// does not tell the seat quota, the seat ledger or whether the
// sub-account service is on, so SeatsTotal is 0 and Service and
// SeatLedger are unknown. A successful answer also proves the app key,
// secret and session.
func (c *Client) ShopInfo(ctx context.Context) (platform.ShopInfo, error) {
	var out top.SubusersPage
	err := c.call(ctx, top.MethodSubusersPage, map[string]string{top.ParamNick: c.main, top.ParamPageNum: "1",
		top.ParamPageSize: strconv.Itoa(top.MinPageSize)}, &out)
	if err != nil {
		return platform.ShopInfo{}, err
	}
	return platform.ShopInfo{Platform: platform.Taobao, MainAccount: c.main, SeatsUsed: clamp32(int64(out.TotalCount)),
		PhoneVerification: platform.PhoneVerificationNone}, nil
}

// Permissions is the embedded Taobao catalog (package catalog); TOP's
// taobao.sellercenter.user.permissions.get answers per sub-account, and
// the catalog is what the operator validates against anyway. No call.
func (c *Client) Permissions(context.Context) ([]platform.Permission, error) {
	cat, err := catalog.For(platform.Taobao)
	if err != nil {
		return nil, err
	}
	return slices.Clone(cat.Permissions), nil
}

// ListRoles is taobao.sellercenter.roles.get. TOP does not return a
// role's permissions there, so Permissions is empty.
func (c *Client) ListRoles(ctx context.Context) ([]platform.Role, error) {
	var out top.RolesAnswer
	if err := c.call(ctx, top.MethodRoles, map[string]string{top.ParamNick: c.main}, &out); err != nil {
		return nil, err
	}
	roles := make([]platform.Role, 0, len(out.Roles))
	for _, r := range out.Roles {
		roles = append(roles, roleFrom(r))
	}
	return roles, nil
}

// roleFrom is the platform's role for TOP's.
func roleFrom(r top.RoleInfo) platform.Role {
	return platform.Role{ID: string(r.RoleID), RoleSpec: platform.RoleSpec{Name: r.RoleName, Description: r.Description,
		Permissions: codesOf(r.Permissions)}}
}

// codesOf is the sorted, de-duplicated codes of TOP permission points.
func codesOf(points []top.PermissionInfo) []string {
	var codes []string
	for _, p := range points {
		if p.PermissionCode != "" {
			codes = append(codes, p.PermissionCode)
		}
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// GetRole lists the roles (TOP has no single-role read) and picks id.
func (c *Client) GetRole(ctx context.Context, id string) (platform.Role, error) {
	roles, err := c.ListRoles(ctx)
	if err != nil {
		return platform.Role{}, err
	}
	for _, r := range roles {
		if r.ID == id {
			return r, nil
		}
	}
	return platform.Role{}, platform.NewError(platform.ErrNotFound, "id", "no role with ID %q", id)
}

// CreateRole is taobao.sellercenter.role.add with the main account as
// nick, the name (at most 20 characters), the description (at most 20)
// and the permission codes comma-joined (at most 2000 characters); TOP
// grants each code's parents and descendants itself. The answer's role
// carries the permissions TOP reports, if any.
//
// TOP has no idempotency key. The client's factory remembers, per shop and
// request ID, the name of each create that succeeded or whose outcome is
// unknown (a lost answer, a timeout, a transient error); when a repeat of
// such a request finds the name taken, the role of that name is returned.
// Any other name clash (a role made in the back office, a first attempt)
// stays ErrNameTaken. The record lives as long as the factory (the
// operator process).
func (c *Client) CreateRole(ctx context.Context, spec platform.RoleSpec, requestID string) (platform.Role, error) {
	switch {
	case strings.TrimSpace(spec.Name) == "":
		return platform.Role{}, platform.NewError(platform.ErrInvalid, "name", "role name must not be empty")
	case utf8.RuneCountInString(spec.Name) > top.MaxRoleName:
		return platform.Role{}, platform.NewError(platform.ErrInvalid, "name", "TOP role names are at most %d characters", top.MaxRoleName)
	case utf8.RuneCountInString(spec.Description) > top.MaxRoleDescription:
		return platform.Role{}, platform.NewError(platform.ErrInvalid, "description", "TOP role descriptions are at most %d characters", top.MaxRoleDescription)
	}
	codes := strings.Join(spec.Permissions, ",")
	if len(codes) > top.MaxPermissionCodes {
		return platform.Role{}, platform.NewError(platform.ErrInvalid, "permissions",
			"TOP takes at most %d characters of comma-joined permission codes, got %d", top.MaxPermissionCodes, len(codes))
	}
	key, prev, repeat := "", "", false
	if requestID != "" {
		key = c.shopKey + "\x00" + c.main + "\x00" + requestID
		prev, repeat = c.roles.lookup(key)
	}
	var out top.RoleAddAnswer
	err := c.call(ctx, top.MethodRoleAdd, map[string]string{
		top.ParamNick: c.main, top.ParamName: spec.Name, top.ParamDescription: spec.Description, top.ParamPermissionCodes: codes,
	}, &out)
	if key != "" && maybeApplied(err) {
		c.roles.record(key, spec.Name)
	}
	if errors.Is(err, platform.ErrNameTaken) && repeat && prev == spec.Name {
		return c.roleNamed(ctx, spec.Name, err)
	}
	if err != nil {
		return platform.Role{}, err
	}
	if out.Role == nil || out.Role.RoleID == "" {
		// An answer without the role: find it by its (unique) name.
		return c.roleNamed(ctx, spec.Name, platform.NewError(platform.ErrTransient, "", "%s: the answer has no role", top.MethodRoleAdd))
	}
	return roleFrom(*out.Role), nil
}

// maybeApplied reports whether a create that ended with err may have
// created the role: it did, or the answer never came or said nothing
// definite.
func maybeApplied(err error) bool {
	var pe *platform.Error
	if err == nil || !errors.As(err, &pe) {
		return true
	}
	return errors.Is(err, platform.ErrTransient)
}

// roleNamed returns the role called name, or notFound when there is none.
func (c *Client) roleNamed(ctx context.Context, name string, notFound error) (platform.Role, error) {
	roles, err := c.ListRoles(ctx)
	if err != nil {
		return platform.Role{}, err
	}
	for _, r := range roles {
		if r.Name == name {
			return r, nil
		}
	}
	return platform.Role{}, notFound
}

// UpdateRole is not supported: TOP has no method to change a role.
func (c *Client) UpdateRole(context.Context, string, platform.RoleSpec) (platform.Role, error) {
	return platform.Role{}, notSupported("update a role", "change its permissions in the seller back office (子账号 › 角色权限)")
}

// DeleteRole is not supported: TOP has no method to delete a role.
func (c *Client) DeleteRole(context.Context, string) error {
	return notSupported("delete a role", "delete it in the seller back office")
}

// ListAccounts is taobao.sellercenter.subusers.page (page_num, page_size
// 2–199, TOP's "greater than 1, less than 200"). Each account has ID,
// Name, Login, Disabled or PlatformFrozen (status 2) and Seat.Chat
// (is_online 2, dispatch); deleted entries (status -1) are left out.
// Total is TOP's total_count. Profiles, roles and permissions are not in
// the listing: GetAccount reads them.
//
// The listing's status 2 does not say who froze the account: the seller
// (Disabled) or the platform as a penalty (PlatformFrozen, which the
// operator must never try to undo). When a page holds any, one more
// listing filtered by account_status 3 (penalised) tells them apart.
func (c *Client) ListAccounts(ctx context.Context, opts platform.ListOptions) (platform.AccountPage, error) {
	if opts.Page < 1 {
		return platform.AccountPage{}, platform.NewError(platform.ErrInvalid, "page", "page must be at least 1, got %d", opts.Page)
	}
	if opts.PageSize < top.MinPageSize || opts.PageSize > top.MaxPageSize {
		return platform.AccountPage{}, platform.NewError(platform.ErrInvalid, "pageSize",
			"page size must be %d-%d, got %d", top.MinPageSize, top.MaxPageSize, opts.PageSize)
	}
	var out top.SubusersPage
	err := c.call(ctx, top.MethodSubusersPage, map[string]string{
		top.ParamNick: c.main, top.ParamPageNum: strconv.Itoa(opts.Page), top.ParamPageSize: strconv.Itoa(opts.PageSize),
	}, &out)
	if err != nil {
		return platform.AccountPage{}, err
	}
	page := platform.AccountPage{Total: int(max(0, min(int64(out.TotalCount), int64(1)<<31-1)))}
	var penalised map[string]bool
	for _, u := range out.Subusers {
		if u.Status == top.ListStatusDeleted || u.SubID == "" {
			continue
		}
		frozen := u.Status == top.ListStatusFrozen
		if frozen && penalised == nil {
			if penalised, err = c.penalised(ctx); err != nil {
				return platform.AccountPage{}, err
			}
		}
		page.Accounts = append(page.Accounts, platform.Account{
			ID:    string(u.SubID),
			Name:  top.SubName(u.Nick),
			Login: u.Nick,
			AccountState: platform.AccountState{
				Disabled: frozen && !penalised[string(u.SubID)],
				Seat:     &platform.Seat{Chat: u.IsOnline == top.DispatchOn},
			},
			PlatformFrozen: frozen && penalised[string(u.SubID)],
		})
	}
	return page, nil
}

// penalised lists the IDs of the accounts the platform froze as a penalty
// (subusers.page with account_status 3, every page).
func (c *Client) penalised(ctx context.Context) (map[string]bool, error) {
	ids := map[string]bool{}
	for pageNum := 1; ; pageNum++ {
		var out top.SubusersPage
		err := c.call(ctx, top.MethodSubusersPage, map[string]string{
			top.ParamNick: c.main, top.ParamPageNum: strconv.Itoa(pageNum), top.ParamPageSize: strconv.Itoa(top.MaxPageSize),
			top.ParamAccountStatus: strconv.Itoa(top.SubStatusPenalised),
		}, &out)
		if err != nil {
			return nil, err
		}
		for _, u := range out.Subusers {
			ids[string(u.SubID)] = true
		}
		if len(out.Subusers) < top.MaxPageSize || pageNum*top.MaxPageSize >= int(out.TotalCount) {
			return ids, nil
		}
	}
}

// GetAccount is taobao.subuser.fullinfo.get by sub_id (see fullInfo),
// then taobao.sellercenter.subuser.permissions.roles.get (see access):
// two calls. An ID that is not a number names no account.
func (c *Client) GetAccount(ctx context.Context, id string) (platform.Account, error) {
	if !isID(id) {
		return platform.Account{}, platform.NewError(platform.ErrNotFound, "id", "no sub-account with ID %q", id)
	}
	a, err := c.fullInfo(ctx, map[string]string{top.ParamSubID: id}, "id", id)
	if err != nil {
		return platform.Account{}, err
	}
	return c.access(ctx, a)
}

// FindAccount is taobao.subuser.fullinfo.get by sub_nick "main:name",
// then taobao.sellercenter.subuser.permissions.roles.get, as GetAccount.
func (c *Client) FindAccount(ctx context.Context, name string) (platform.Account, error) {
	if strings.TrimSpace(name) == "" || strings.Contains(name, ":") {
		return platform.Account{}, platform.NewError(platform.ErrNotFound, "name", "no sub-account named %q", name)
	}
	a, err := c.fullInfo(ctx, map[string]string{top.ParamSubNick: c.main + ":" + name}, "name", name)
	if err != nil {
		return platform.Account{}, err
	}
	return c.access(ctx, a)
}

// access reads the account's roles and direct permissions with
// taobao.sellercenter.subuser.permissions.roles.get (nick: the account's
// "main:name"): the permission codes granted to it directly become
// ExtraPermissions, its roles RoleIDs (sorted) and Roles, each with the
// name and the permission codes TOP reports for it (sorted). TOP cannot
// change either (Capabilities: observed, not settable). An app not
// allowed to call the method fails the read (ErrForbidden), rather than
// report an account without roles.
func (c *Client) access(ctx context.Context, a platform.Account) (platform.Account, error) {
	var out top.SubuserPermissionAnswer
	if err := c.call(ctx, top.MethodSubuserPermRoles, map[string]string{top.ParamNick: a.Login}, &out); err != nil {
		return platform.Account{}, err
	}
	a.RoleIDs, a.ExtraPermissions, a.Roles = nil, nil, nil
	if p := out.SubuserPermission; p != nil {
		a.ExtraPermissions = codesOf(p.Permissions)
		for _, r := range p.Roles {
			if r.RoleID == "" {
				continue
			}
			a.Roles = append(a.Roles, roleFrom(r))
			a.RoleIDs = append(a.RoleIDs, string(r.RoleID))
		}
	}
	slices.SortFunc(a.Roles, func(x, y platform.Role) int { return strings.Compare(x.ID, y.ID) })
	slices.Sort(a.RoleIDs)
	a.RoleIDs = slices.Compact(a.RoleIDs)
	return a, nil
}

// fullInfo reads one account. It maps employee_name to
// Profile.EmployeeName, employee_nickname to DisplayName, employee_num to
// EmployeeNumber, department_name and department_id to Department and
// DepartmentID, sub_status 2 (disabled by the seller) to Disabled,
// sub_status 3 (frozen by the platform as a penalty) to PlatformFrozen
// (not Disabled: the seller cannot lift it), sub_owed_status to
// SeatFeeOwed and sub_dispatch_status to Seat.Chat (the seat's capacity
// and presence are unknown to TOP and left zero). Phone and security are
// not reported. An answer without an account is ErrNotFound.
func (c *Client) fullInfo(ctx context.Context, params map[string]string, field, value string) (platform.Account, error) {
	var out top.FullInfoAnswer
	if err := c.call(ctx, top.MethodSubuserFullInfo, params, &out); err != nil {
		return platform.Account{}, err
	}
	f := out.SubFullinfo
	if f == nil || f.SubID == "" {
		return platform.Account{}, platform.NewError(platform.ErrNotFound, field, "no sub-account with %s %q", field, value)
	}
	return platform.Account{
		ID:    string(f.SubID),
		Name:  top.SubName(f.SubNick),
		Login: f.SubNick,
		AccountState: platform.AccountState{
			Profile: platform.Profile{
				DisplayName:    f.EmployeeNickname,
				EmployeeName:   f.EmployeeName,
				EmployeeNumber: f.EmployeeNum,
				Department:     f.DepartmentName,
				DepartmentID:   string(f.DepartmentID),
			},
			Disabled: f.SubStatus == top.SubStatusDisabled,
			Seat:     &platform.Seat{Chat: bool(f.SubDispatchStatus)},
		},
		PlatformFrozen: f.SubStatus == top.SubStatusPenalised,
		SeatFeeOwed:    bool(f.SubOwedStatus),
	}, nil
}

// CreateAccount is not supported: TOP cannot create sub-accounts.
func (c *Client) CreateAccount(context.Context, platform.CreateAccount, string) (platform.Account, error) {
	return platform.Account{}, notSupported("create a sub-account",
		"create it in the seller back office (子账号 › 员工管理), then let the operator adopt it by name")
}

// UpdateAccount reads the account, then calls
// taobao.subuser.info.update with only what changes: is_disable_subaccount
// when state.Disabled differs, is_dispatch when dispatch (state.Seat set
// with Chat; a nil Seat stops dispatch) differs. Both are optional in
// TOP, and sending one unchanged could undo a change made meanwhile in
// the back office. Nothing to change sends no update. An account the
// platform froze as a penalty is neither Disabled nor enabled by this:
// PlatformFrozen is the platform's, and no write tries to lift it. Every
// other field of state (profile, roles, extra permissions, seat capacity
// and presence, security) is ignored: TOP cannot change it, and
// Capabilities says so, so the controllers do not ask.
//
// It reads the account with taobao.subuser.fullinfo.get only, before and
// after: nothing it sends changes the roles or permissions, so the
// account it returns has none (GetAccount reads them).
func (c *Client) UpdateAccount(ctx context.Context, id string, state platform.AccountState) (platform.Account, error) {
	if !isID(id) {
		return platform.Account{}, platform.NewError(platform.ErrNotFound, "id", "no sub-account with ID %q", id)
	}
	current, err := c.fullInfo(ctx, map[string]string{top.ParamSubID: id}, "id", id)
	if err != nil {
		return platform.Account{}, err
	}
	params := infoUpdate(id, current, state)
	if params == nil {
		return current, nil
	}
	var out top.InfoUpdateAnswer
	err = c.call(ctx, top.MethodSubuserUpdate, params, &out)
	if err != nil {
		return platform.Account{}, err
	}
	if !out.IsSuccess {
		return platform.Account{}, platform.NewError(platform.ErrTransient, "", "%s: TOP did not confirm the change (is_success false)", top.MethodSubuserUpdate)
	}
	return c.fullInfo(ctx, map[string]string{top.ParamSubID: id}, "id", id)
}

// infoUpdate is subuser.info.update's parameters for changing current
// into state: sub_id and only the flags that change; nil when none does.
func infoUpdate(id string, current platform.Account, state platform.AccountState) map[string]string {
	params := map[string]string{}
	if state.Disabled != current.Disabled {
		params[top.ParamIsDisableSubaccount] = strconv.FormatBool(state.Disabled)
	}
	dispatch := state.Seat != nil && state.Seat.Chat
	if dispatch != (current.Seat != nil && current.Seat.Chat) {
		params[top.ParamIsDispatch] = strconv.FormatBool(dispatch)
	}
	if len(params) == 0 {
		return nil
	}
	params[top.ParamSubID] = id
	return params
}

// SetPassword is not supported: TOP cannot set a sub-account's password.
func (c *Client) SetPassword(context.Context, string, string) error {
	return notSupported("set a sub-account's password", "the password stays the one set in the seller back office")
}

// DeleteAccount is not supported: TOP cannot delete sub-accounts.
func (c *Client) DeleteAccount(context.Context, string) error {
	return notSupported("delete a sub-account", "delete it in the seller back office")
}

// VerifyAccount is not supported: Taobao verifies no sub-account by SMS
// through TOP.
func (c *Client) VerifyAccount(context.Context, string, string) (platform.Account, error) {
	return platform.Account{}, notSupported("verify a sub-account's phone", "Taobao sub-accounts need no SMS verification through TOP")
}

// ResendVerification is not supported, as VerifyAccount.
func (c *Client) ResendVerification(context.Context, string) (platform.Account, error) {
	return platform.Account{}, notSupported("send a verification code", "Taobao sub-accounts need no SMS verification through TOP")
}

// RequestCode is not supported: Taobao texts no code before it creates a
// sub-account (and TOP creates none); Capabilities says so.
func (c *Client) RequestCode(context.Context, platform.CodeRequest, string) (platform.Verification, error) {
	return platform.Verification{}, notSupported("send a verification code", "Taobao sub-accounts need no SMS verification through TOP")
}

// ChangePhone is not supported, as RequestCode.
func (c *Client) ChangePhone(context.Context, string, platform.VerificationCode) (platform.Account, error) {
	return platform.Account{}, notSupported("change a phone with a verification code", "Taobao sub-accounts need no SMS verification through TOP")
}

// SetSeatCapacity is not supported: TOP acts only as the main account's
// app; the main account sets a Taobao seat's capacity (UpdateAccount).
func (c *Client) SetSeatCapacity(context.Context, string, int32, platform.SubAccountLogin) (platform.Account, error) {
	return platform.Account{}, notSupported("act as a sub-account", "Taobao lets the main account set the reception capacity")
}

// CheckCredentials is not supported: TOP has no login check.
func (c *Client) CheckCredentials(context.Context, string, string) (bool, error) {
	return false, notSupported("check a sub-account's password", "passwords are managed in the seller back office")
}

// Department is a department of the shop (部门).
type Department struct {
	ID       string
	Name     string
	ParentID string // "" for a top-level department
	// AccountIDs are the sub-accounts in the department.
	AccountIDs []string
}

// Departments is taobao.subuser.departments.get.
func (c *Client) Departments(ctx context.Context) ([]Department, error) {
	var out top.DepartmentsAnswer
	if err := c.call(ctx, top.MethodDepartments, map[string]string{top.ParamUserNick: c.main}, &out); err != nil {
		return nil, err
	}
	deps := make([]Department, 0, len(out.Departments))
	for _, d := range out.Departments {
		dep := Department{ID: string(d.DepartmentID), Name: d.DepartmentName, ParentID: string(d.ParentID)}
		for _, a := range d.SubUserIDs {
			if a != "" {
				dep.AccountIDs = append(dep.AccountIDs, string(a))
			}
		}
		deps = append(deps, dep)
	}
	return deps, nil
}

// Duty is a job title of the shop (职务).
type Duty struct {
	ID    string
	Name  string
	Level int64
}

// Duties is taobao.subuser.dutys.get.
func (c *Client) Duties(ctx context.Context) ([]Duty, error) {
	var out top.DutysAnswer
	if err := c.call(ctx, top.MethodDuties, map[string]string{top.ParamUserNick: c.main}, &out); err != nil {
		return nil, err
	}
	duties := make([]Duty, 0, len(out.Dutys))
	for _, d := range out.Dutys {
		duties = append(duties, Duty{ID: string(d.DutyID), Name: d.DutyName, Level: int64(d.DutyLevel)})
	}
	return duties, nil
}

// PresenceRecord is one presence change of a customer-service account.
type PresenceRecord struct {
	AccountID string
	Status    top.PresenceStatus
	// Type is TOP's record type: 8 PC, 4 mobile, 5 suspension.
	Type int64
	// Time is when it changed (zero when TOP did not say).
	Time time.Time
}

// PresenceLog is taobao.qianniu.cloudkefu.onlinestatuslog.get: the
// presence changes of 1–5 sub-accounts (by ID) between start and end. TOP
// reads whole days (GMT+8) and keeps 30 days.
func (c *Client) PresenceLog(ctx context.Context, accountIDs []string, start, end time.Time) ([]PresenceRecord, error) {
	if len(accountIDs) == 0 || len(accountIDs) > top.MaxPresenceAccounts {
		return nil, platform.NewError(platform.ErrInvalid, "accountIDs", "between 1 and %d account IDs, got %d", top.MaxPresenceAccounts, len(accountIDs))
	}
	for _, a := range accountIDs {
		if !isID(a) {
			return nil, platform.NewError(platform.ErrInvalid, "accountIDs", "account ID %q is not a number", a)
		}
	}
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return nil, platform.NewError(platform.ErrInvalid, "start", "the period needs a start and an end not before it")
	}
	var out top.PresenceLogAnswer
	err := c.call(ctx, top.MethodPresenceLog, map[string]string{
		top.ParamAccountIDs: strings.Join(accountIDs, ","),
		top.ParamStartDate:  top.FormatTimestamp(start),
		top.ParamEndDate:    top.FormatTimestamp(end),
	}, &out)
	if err != nil {
		return nil, err
	}
	records := make([]PresenceRecord, 0, len(out.RecordList))
	for _, r := range out.RecordList {
		records = append(records, PresenceRecord{AccountID: string(r.AccountID), Status: top.PresenceStatus(r.Status),
			Type: int64(r.Type), Time: r.Time()})
	}
	return records, nil
}

// isID reports whether s is a positive decimal TOP ID.
func isID(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == s
}

func clamp32(n int64) int32 {
	return int32(max(0, min(n, int64(1)<<31-1)))
}
