package top

import (
	"strings"
	"time"
)

// The answers of the TOP methods: the object under each method's response
// key, as the driver decodes them. Lists accept every shape TOP sends (see
// List); numbers may come as strings.

// SubUserInfo is one sub-account of taobao.sellercenter.subusers.page/get.
type SubUserInfo struct {
	SubID      ID     `json:"sub_id"`
	Nick       string `json:"nick"`
	FullName   string `json:"full_name"`
	SellerID   ID     `json:"seller_id"`
	SellerNick string `json:"seller_nick"`
	// Status is 1 normal, -1 deleted, 2 frozen.
	Status Num `json:"status"`
	// IsOnline is dispatch (taking part in customer routing): 1 no, 2 yes.
	IsOnline Num `json:"is_online"`
}

// SubusersPage is the answer of taobao.sellercenter.subusers.page.
type SubusersPage struct {
	Subusers   List[SubUserInfo] `json:"subusers"`
	TotalCount Num               `json:"total_count"`
	PageSize   Num               `json:"page_size"`
	PageNum    Num               `json:"page_num"`
}

// SubUserFullInfo is the sub_fullinfo of taobao.subuser.fullinfo.get.
type SubUserFullInfo struct {
	SubID    ID     `json:"sub_id"`
	SubNick  string `json:"sub_nick"`
	UserID   ID     `json:"user_id"`
	UserNick string `json:"user_nick"`
	// SubStatus is 1 normal, 2 disabled by the seller, 3 frozen as a penalty.
	SubStatus         Num  `json:"sub_status"`
	SubDispatchStatus Flag `json:"sub_dispatch_status"`
	// SubOwedStatus is true when the account's seat fee (2 CNY a month for
	// a bought seat) is unpaid.
	SubOwedStatus    Flag   `json:"sub_owed_status"`
	DepartmentID     ID     `json:"department_id"`
	DepartmentName   string `json:"department_name"`
	ParentDepartment ID     `json:"parent_department"`
	DutyID           ID     `json:"duty_id"`
	DutyName         string `json:"duty_name"`
	DutyLevel        Num    `json:"duty_level"`
	EmployeeID       ID     `json:"employee_id"`
	EmployeeName     string `json:"employee_name"`
	EmployeeNickname string `json:"employee_nickname"`
	EmployeeNum      string `json:"employee_num"`
	EntryDate        string `json:"entry_date"`
}

// FullInfoAnswer is the answer of taobao.subuser.fullinfo.get.
type FullInfoAnswer struct {
	SubFullinfo *SubUserFullInfo `json:"sub_fullinfo"`
}

// InfoUpdateAnswer is the answer of taobao.subuser.info.update.
type InfoUpdateAnswer struct {
	IsSuccess Flag `json:"is_success"`
}

// PermissionInfo is a permission point of a role or an account.
type PermissionInfo struct {
	PermissionCode string `json:"permission_code"`
	PermissionName string `json:"permission_name"`
	ParentCode     string `json:"parent_code"`
	IsAuthorize    Num    `json:"is_authorize"`
}

// RoleInfo is a role; taobao.sellercenter.roles.get leaves out the
// permissions.
type RoleInfo struct {
	RoleID      ID                   `json:"role_id"`
	RoleName    string               `json:"role_name"`
	Description string               `json:"description"`
	SellerID    ID                   `json:"seller_id"`
	Permissions List[PermissionInfo] `json:"permissions"`
}

// RolesAnswer is the answer of taobao.sellercenter.roles.get.
type RolesAnswer struct {
	Roles List[RoleInfo] `json:"roles"`
}

// SubUserPermission is what taobao.sellercenter.subuser.permissions.roles.get
// reports of one sub-account: the permissions granted to it directly, and
// its roles, each with only role_id, role_name and its permissions.
type SubUserPermission struct {
	Permissions List[PermissionInfo] `json:"permissions"`
	Roles       List[RoleInfo]       `json:"roles"`
}

// SubuserPermissionAnswer is the answer of
// taobao.sellercenter.subuser.permissions.roles.get.
type SubuserPermissionAnswer struct {
	SubuserPermission *SubUserPermission `json:"subuser_permission"`
}

// RoleAddAnswer is the answer of taobao.sellercenter.role.add.
type RoleAddAnswer struct {
	Role *RoleInfo `json:"role"`
}

// DepartmentInfo is a department (部门) with its sub-accounts' IDs.
type DepartmentInfo struct {
	DepartmentID   ID       `json:"department_id"`
	ParentID       ID       `json:"parent_id"`
	DepartmentName string   `json:"department_name"`
	SubUserIDs     List[ID] `json:"sub_user_ids"`
}

// DepartmentsAnswer is the answer of taobao.subuser.departments.get.
type DepartmentsAnswer struct {
	Departments List[DepartmentInfo] `json:"departments"`
}

// DutyInfo is a job title (职务).
type DutyInfo struct {
	DutyID    ID     `json:"duty_id"`
	DutyName  string `json:"duty_name"`
	DutyLevel Num    `json:"duty_level"`
}

// DutysAnswer is the answer of taobao.subuser.dutys.get.
type DutysAnswer struct {
	Dutys List[DutyInfo] `json:"dutys"`
}

// PresenceLogRecord is one entry of taobao.qianniu.cloudkefu.onlinestatuslog.get.
type PresenceLogRecord struct {
	Status        Num    `json:"status"`
	Type          Num    `json:"type"`
	Domain        string `json:"domain"`
	MainAccountID ID     `json:"main_account_id"`
	AccountID     ID     `json:"account_id"`
	ChangeTimeTS  Num    `json:"change_time_ts"`
	ChangeTime    string `json:"change_time"`
}

// PresenceLogAnswer is the answer of
// taobao.qianniu.cloudkefu.onlinestatuslog.get.
type PresenceLogAnswer struct {
	RecordList List[PresenceLogRecord] `json:"record_list"`
}

// Time is when the record's presence changed: change_time_ts
// (milliseconds; seconds when small enough to be seconds), else change_time
// (GMT+8); zero when TOP did not say.
func (r PresenceLogRecord) Time() time.Time {
	switch ts := int64(r.ChangeTimeTS); {
	case ts > 1e11:
		return time.UnixMilli(ts).UTC()
	case ts > 0:
		return time.Unix(ts, 0).UTC()
	}
	if t, err := ParseTimestamp(r.ChangeTime); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// SubName is the part of a "main:sub" nick after the main account.
func SubName(nick string) string {
	if _, sub, ok := strings.Cut(nick, ":"); ok {
		return sub
	}
	return nick
}
