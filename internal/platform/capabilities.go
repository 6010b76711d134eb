package platform

// Capabilities says which operations a driver can carry out on its
// platform. The gateway and memory drivers can do everything; Taobao's
// native open API (TOP) cannot create or delete a sub-account, set its
// password, assign its roles, or update or delete a role. The controllers
// read these to manage such accounts in adopt mode and to report, as a
// condition, each field they cannot apply, instead of retrying forever.
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
