package taobao

// The answers of the TOP methods the driver calls: the object under each
// method's response key. Lists accept every shape TOP sends (see list);
// numbers may come as strings.

// subUserInfo is one sub-account of taobao.sellercenter.subusers.page/get.
type subUserInfo struct {
	SubID      id     `json:"sub_id"`
	Nick       string `json:"nick"`
	FullName   string `json:"full_name"`
	SellerID   id     `json:"seller_id"`
	SellerNick string `json:"seller_nick"`
	// Status is 1 normal, -1 deleted, 2 frozen.
	Status num `json:"status"`
	// IsOnline is dispatch (taking part in customer routing): 1 no, 2 yes.
	IsOnline num `json:"is_online"`
}

// Sub-account list statuses (1 is normal) and the dispatch value of
// is_online (1 is off).
const (
	listStatusDeleted = -1
	listStatusFrozen  = 2
	dispatchOn        = 2
)

// subusersPage is the answer of taobao.sellercenter.subusers.page.
type subusersPage struct {
	Subusers   list[subUserInfo] `json:"subusers"`
	TotalCount num               `json:"total_count"`
	PageSize   num               `json:"page_size"`
	PageNum    num               `json:"page_num"`
}

// subUserFullInfo is the sub_fullinfo of taobao.subuser.fullinfo.get.
type subUserFullInfo struct {
	SubID    id     `json:"sub_id"`
	SubNick  string `json:"sub_nick"`
	UserID   id     `json:"user_id"`
	UserNick string `json:"user_nick"`
	// SubStatus is 1 normal, 2 disabled by the seller, 3 frozen as a penalty.
	SubStatus         num    `json:"sub_status"`
	SubDispatchStatus flag   `json:"sub_dispatch_status"`
	DepartmentID      id     `json:"department_id"`
	DepartmentName    string `json:"department_name"`
	ParentDepartment  id     `json:"parent_department"`
	DutyID            id     `json:"duty_id"`
	DutyName          string `json:"duty_name"`
	DutyLevel         num    `json:"duty_level"`
	EmployeeID        id     `json:"employee_id"`
	EmployeeName      string `json:"employee_name"`
	EmployeeNickname  string `json:"employee_nickname"`
	EmployeeNum       string `json:"employee_num"`
	EntryDate         string `json:"entry_date"`
}

// subStatusDisabled is the full-info sub_status of an account the seller
// disabled (1 is normal, 3 frozen as a penalty).
const subStatusDisabled = 2

type fullInfoAnswer struct {
	SubFullinfo *subUserFullInfo `json:"sub_fullinfo"`
}

type infoUpdateAnswer struct {
	IsSuccess flag `json:"is_success"`
}

// permissionInfo is a permission point of a role or an account.
type permissionInfo struct {
	PermissionCode string `json:"permission_code"`
	PermissionName string `json:"permission_name"`
	ParentCode     string `json:"parent_code"`
	IsAuthorize    num    `json:"is_authorize"`
}

// roleInfo is a role; taobao.sellercenter.roles.get leaves out the
// permissions.
type roleInfo struct {
	RoleID      id                   `json:"role_id"`
	RoleName    string               `json:"role_name"`
	Description string               `json:"description"`
	SellerID    id                   `json:"seller_id"`
	Permissions list[permissionInfo] `json:"permissions"`
}

type rolesAnswer struct {
	Roles list[roleInfo] `json:"roles"`
}

type roleAddAnswer struct {
	Role *roleInfo `json:"role"`
}

type departmentInfo struct {
	DepartmentID   id       `json:"department_id"`
	ParentID       id       `json:"parent_id"`
	DepartmentName string   `json:"department_name"`
	SubUserIDs     list[id] `json:"sub_user_ids"`
}

type departmentsAnswer struct {
	Departments list[departmentInfo] `json:"departments"`
}

type dutyInfo struct {
	DutyID    id     `json:"duty_id"`
	DutyName  string `json:"duty_name"`
	DutyLevel num    `json:"duty_level"`
}

type dutysAnswer struct {
	Dutys list[dutyInfo] `json:"dutys"`
}

// presenceRecord is one entry of taobao.qianniu.cloudkefu.onlinestatuslog.get.
type presenceRecord struct {
	Status        num    `json:"status"`
	Type          num    `json:"type"`
	Domain        string `json:"domain"`
	MainAccountID id     `json:"main_account_id"`
	AccountID     id     `json:"account_id"`
	ChangeTimeTS  num    `json:"change_time_ts"`
	ChangeTime    string `json:"change_time"`
}

type presenceAnswer struct {
	RecordList list[presenceRecord] `json:"record_list"`
}
