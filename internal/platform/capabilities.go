package platform

// Capabilities says which operations a driver can carry out on its
// platform, and what it can observe there (Observe). The gateway and
// memory drivers can do everything; Taobao's native open API (TOP) cannot
// create or delete a sub-account, set its password, assign its roles, or
// update or delete a role, though it reports an account's roles and direct
// permissions and a role's permissions. The controllers read these to
// manage such accounts in adopt mode, to report, as a condition, each
// field they cannot apply instead of retrying forever, and to report a
// difference in what they can observe but not set instead of correcting
// it.
type Capabilities struct {
	CreateAccount    bool
	DeleteAccount    bool
	SetPassword      bool
	CheckCredentials bool
	UpdateRole       bool
	DeleteRole       bool
	// Account fields UpdateAccount can change.
	AccountRoles            bool
	AccountExtraPermissions bool
	AccountProfile          bool
	AccountDisabled         bool
	AccountSeat             bool
	AccountSecurity         bool
	// Departments: create and delete departments (listing is always there).
	Departments bool
	// NotificationContacts: add, rename, delete and verify the shop's
	// notification contacts.
	NotificationContacts bool
	// ActivityFeed: ListActivity reads the sub-accounts' activity.
	// ActivityNeedsAccountIDs: the platform reads it only for the accounts
	// named in the query (TOP's online-status log, 5 a call), not for the
	// whole shop at once.
	ActivityFeed            bool
	ActivityNeedsAccountIDs bool
	// RequestCode: RequestCode and ChangePhone, for a platform that
	// verifies a phone before it creates the account (whether a shop's
	// platform does is ShopInfo.PhoneVerification). Taobao's TOP has no
	// such step (Taobao texts no code), so it reports false.
	RequestCode bool
	// Observe is what the platform reports, whether or not the driver can
	// set it (the fields above). Setting a field implies nothing about
	// observing it: a driver says both.
	Observe Observation
}

// Observation says what a platform reports about accounts and roles.
// Where a field is observed but cannot be set (ObservedOnly), the
// controllers compare it with the spec and report a difference (the
// Drifted condition and a DriftDetected Event, whatever the drift policy)
// and never try to write it.
type Observation struct {
	// AccountRoles: GetAccount and FindAccount report the account's roles
	// (AccountState.RoleIDs).
	AccountRoles bool
	// AccountExtraPermissions: GetAccount and FindAccount report the
	// permissions granted to the account directly
	// (AccountState.ExtraPermissions).
	AccountExtraPermissions bool
	// RolePermissions: a role's permissions are reported, by ListRoles and
	// GetRole, or, with RolePermissionsByAccount, only among the roles of an
	// account GetAccount reads (Account.Roles): Taobao's role listing leaves
	// them out, so a role no read account holds shows none.
	RolePermissions          bool
	RolePermissionsByAccount bool
}

// ObservedOnly is what the platform reports but the driver cannot set:
// an account's roles without AccountRoles, its direct permissions without
// AccountExtraPermissions, a role's permissions (and name and description)
// without UpdateRole. RolePermissionsByAccount goes with RolePermissions
// (it says where they are read).
func (c Capabilities) ObservedOnly() Observation {
	roles := c.Observe.RolePermissions && !c.UpdateRole
	return Observation{
		AccountRoles:             c.Observe.AccountRoles && !c.AccountRoles,
		AccountExtraPermissions:  c.Observe.AccountExtraPermissions && !c.AccountExtraPermissions,
		RolePermissions:          roles,
		RolePermissionsByAccount: roles && c.Observe.RolePermissionsByAccount,
	}
}

// FullCapabilities is what a driver that can do everything reports.
func FullCapabilities() Capabilities {
	return Capabilities{
		CreateAccount: true, DeleteAccount: true, SetPassword: true, CheckCredentials: true,
		UpdateRole: true, DeleteRole: true,
		AccountRoles: true, AccountExtraPermissions: true, AccountProfile: true,
		AccountDisabled: true, AccountSeat: true, AccountSecurity: true,
		Departments: true, NotificationContacts: true, RequestCode: true,
		ActivityFeed: true,
		Observe:      Observation{AccountRoles: true, AccountExtraPermissions: true, RolePermissions: true},
	}
}

// CapabilityReporter is implemented by clients whose platform cannot do
// everything; a client that does not implement it can.
type CapabilityReporter interface {
	Capabilities() Capabilities
}

// CapabilitiesOf returns what c can do.
func CapabilitiesOf(c Client) Capabilities {
	if r, ok := c.(CapabilityReporter); ok {
		return r.Capabilities()
	}
	return FullCapabilities()
}
