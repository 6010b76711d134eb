// Package top is Taobao's open API (TOP) as Go: the methods, the common
// and business parameters and their limits, request signing and its
// verification, the answer envelopes, the answer types (lenient about the
// shapes TOP sends), and TOP's error codes with their mapping to platform
// errors. The operator's native TOP driver (package taobao) and shopsim's
// TOP-compatible /router/rest both use it, as the gateway driver and
// shopsim share gateway/wire, so the two cannot drift apart.
// docs/taobao-top.md explains the protocol in prose.
package top

import "strconv"

// RouterPath is TOP's one API path.
const RouterPath = "/router/rest"

// HeaderSource carries the resource behind a write (platform.WithSource).
// TOP ignores it; shopsim records it in its audit log.
const HeaderSource = "X-Source"

// The TOP methods the driver calls and shopsim serves.
const (
	MethodSubusersPage     = "taobao.sellercenter.subusers.page"
	MethodSubuserFullInfo  = "taobao.subuser.fullinfo.get"
	MethodSubuserUpdate    = "taobao.subuser.info.update"
	MethodDepartments      = "taobao.subuser.departments.get"
	MethodDuties           = "taobao.subuser.dutys.get"
	MethodRoles            = "taobao.sellercenter.roles.get"
	MethodRoleAdd          = "taobao.sellercenter.role.add"
	MethodPresenceLog      = "taobao.qianniu.cloudkefu.onlinestatuslog.get"
	MethodSubusers         = "taobao.sellercenter.subusers.get"
	MethodUserPermissions  = "taobao.sellercenter.user.permissions.get"
	MethodSubuserPermRoles = "taobao.sellercenter.subuser.permissions.roles.get"
)

// The methods' own parameters (the common ones are in sign.go).
const (
	// ParamNick is the main account (subusers.page, subusers.get,
	// roles.get, role.add) or the account asked about
	// (user.permissions.get, subuser.permissions.roles.get).
	ParamNick = "nick"
	// ParamUserNick is the main account of departments.get and dutys.get.
	ParamUserNick = "user_nick"
	// ParamPageNum (from 1) and ParamPageSize page subusers.page.
	ParamPageNum  = "page_num"
	ParamPageSize = "page_size"
	// ParamAccountStatus filters subusers.page by list status.
	ParamAccountStatus = "account_status"
	// ParamSubID and ParamSubNick ("main:name") name one sub-account.
	ParamSubID   = "sub_id"
	ParamSubNick = "sub_nick"
	// ParamIsDisableSubaccount and ParamIsDispatch are subuser.info.update's
	// changes ("true"/"false").
	ParamIsDisableSubaccount = "is_disable_subaccount"
	ParamIsDispatch          = "is_dispatch"
	// ParamName, ParamDescription and ParamPermissionCodes (comma-joined)
	// are role.add's role.
	ParamName            = "name"
	ParamDescription     = "description"
	ParamPermissionCodes = "permission_codes"
	// ParamAccountIDs (comma-joined), ParamStartDate and ParamEndDate are
	// onlinestatuslog.get's accounts and days.
	ParamAccountIDs = "account_ids"
	ParamStartDate  = "start_date"
	ParamEndDate    = "end_date"
)

// Limits of TOP's parameters.
const (
	// MinPageSize and MaxPageSize bound page_size of subusers.page, which
	// TOP documents as "greater than 1, less than 200": 2-199. TOP refuses
	// anything else (code 41, isv.invalid-parameter:page_size).
	MinPageSize = 2
	MaxPageSize = 199
	// MaxRoleName and MaxRoleDescription bound role.add's name and
	// description, in characters.
	MaxRoleName        = 20
	MaxRoleDescription = 20
	// MaxPermissionCodes bounds role.add's comma-joined permission_codes.
	MaxPermissionCodes = 2000
	// MaxPresenceAccounts bounds account_ids of onlinestatuslog.get.
	MaxPresenceAccounts = 5
)

// A sub-account's status in subusers.page and subusers.get (status).
// ListStatusFrozen does not say who froze the account: fullinfo.get's
// sub_status tells the seller's disabling from the platform's penalty.
const (
	ListStatusNormal  = 1
	ListStatusDeleted = -1
	ListStatusFrozen  = 2
)

// A sub-account's dispatch (taking part in customer routing) in
// subusers.page and subusers.get (is_online).
const (
	DispatchOff = 1
	DispatchOn  = 2
)

// A sub-account's status in subuser.fullinfo.get (sub_status), and the
// account_status filter of subusers.page.
const (
	SubStatusNormal = 1
	// SubStatusDisabled is an account the seller disabled
	// (subuser.info.update's is_disable_subaccount).
	SubStatusDisabled = 2
	// SubStatusPenalised is an account the platform froze as a penalty:
	// only Taobao lifts it; no method of the seller's undoes it.
	SubStatusPenalised = 3
)

// PresenceStatus is a customer-service presence change
// (onlinestatuslog.get's status).
type PresenceStatus int64

// Presence changes TOP logs.
const (
	PresenceOnline    PresenceStatus = 1
	PresenceOffline   PresenceStatus = -1
	PresenceSuspended PresenceStatus = 2
	PresenceResumed   PresenceStatus = 3
)

func (s PresenceStatus) String() string {
	switch s {
	case PresenceOnline:
		return "online"
	case PresenceOffline:
		return "offline"
	case PresenceSuspended:
		return "suspended"
	case PresenceResumed:
		return "resumed"
	}
	return "unknown(" + strconv.FormatInt(int64(s), 10) + ")"
}

// The record types of onlinestatuslog.get (type).
const (
	PresenceTypeMobile     = 4
	PresenceTypeSuspension = 5
	PresenceTypePC         = 8
)
