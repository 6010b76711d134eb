// Package wire is the platform gateway protocol, v1, as Go: the paths,
// headers, JSON bodies, request signing and error mapping that both the
// operator's gateway driver and the shopsim reference server use, so the
// two cannot drift apart. docs/platform-gateway.md explains it in prose and
// api/gateway/openapi.yaml in OpenAPI 3.
package wire

import (
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// Version is the protocol version; it is the first path segment.
const Version = "v1"

// Paths, relative to the endpoint. One shop per prefix:
//
//	/v1/shops/{platform}/{mainAccount}
//
// {mainAccount} is path-escaped (it is often Chinese).
const (
	PathShop        = "/shop"                    // GET: ShopInfo
	PathPermissions = "/permissions"             // GET: PermissionList
	PathRoles       = "/roles"                   // GET: RoleList; POST RoleSpec: Role (Idempotency-Key)
	PathRole        = "/roles/{id}"              // GET, PUT RoleSpec, DELETE
	PathAccounts    = "/accounts"                // GET ?page=&pageSize=: AccountList; POST CreateAccount: Account (Idempotency-Key)
	PathAccount     = "/accounts/{id}"           // GET, PUT AccountState: Account, DELETE
	PathAccountName = "/accounts/by-name/{name}" // GET: Account
	PathPassword    = "/accounts/{id}/password"  // PUT PasswordChange
	PathStatus      = "/accounts/{id}/status"    // PUT AccountStatus: Account
	PathSeat        = "/accounts/{id}/seat"      // PUT Seat: Account
	// PathSeatCapacity changes the reception capacity acting as the
	// sub-account itself (on Douyin the only way): PUT SeatCapacityChange.
	PathSeatCapacity = "/accounts/{id}/seat/capacity" // PUT SeatCapacityChange: Account
	PathDepartments  = "/departments"                 // GET: DepartmentList; POST DepartmentSpec: Department (Idempotency-Key)
	PathDepartment   = "/departments/{id}"            // DELETE (409 while it has members or sub-departments)
	// Notification contacts: people whose phones receive the shop's SMS
	// notifications once verified by SMS code.
	PathContacts      = "/contacts"                        // GET: ContactList; POST ContactSpec: Contact
	PathContact       = "/contacts/{id}"                   // PUT ContactSpec (rename): Contact, DELETE
	PathContactVerify = "/contacts/{id}/verify"            // POST VerifyCode: Contact
	PathContactCode   = "/contacts/{id}/verification-code" // POST (no body): Contact
	PathAudit         = "/audit"                           // GET ?since=RFC3339: AuditList
	PathLogin         = "/login"                           // POST LoginCheck: LoginResult
	// PathActivity is the sub-accounts' activity feed, added to v1 without
	// a version change: a gateway without it answers 404, which the driver
	// takes for "no activity feed" (ErrNotSupported).
	PathActivity = "/activity" // GET ?since=&until=&accountId=&cursor=&limit=: ActivityList
	// PathVerify enters the SMS code sent to the account's phone (Douyin).
	PathVerify = "/accounts/{id}/verify" // POST VerifyCode: Account
	// PathVerificationCode sends a new SMS code, at most one a minute.
	PathVerificationCode = "/accounts/{id}/verification-code" // POST (no body): Account
	// PathVerifications texts a code to a phone before the account exists
	// or before its phone changes (ShopInfo.PhoneVerification
	// "BeforeCreate"); the answer's id goes with the code to POST
	// /accounts (CreateAccount.Code) or PUT /accounts/{id}/phone.
	PathVerifications = "/verifications" // POST CodeRequest: Verification (Idempotency-Key)
	// PathPhone changes an account's phone with the code sent to the new one.
	PathPhone = "/accounts/{id}/phone" // PUT VerificationCode: Account
)

// ShopPrefix is the path prefix of one shop.
func ShopPrefix(p platform.Name, mainAccount string) string {
	return "/" + Version + "/shops/" + string(p) + "/" + escape(mainAccount)
}

// Headers.
const (
	HeaderAppKey         = "X-App-Key"
	HeaderTimestamp      = "X-Timestamp"   // Unix seconds
	HeaderNonce          = "X-Nonce"       // see NewNonce; never reused
	HeaderSignature      = "X-Signature"   // see Sign
	HeaderAuthorization  = "Authorization" // "Bearer <access token>"
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderRetryAfter     = "Retry-After" // seconds, on 429 and 503
	// HeaderSource names the Kubernetes resource a write comes from
	// (kind/namespace/name); it is recorded in the audit log.
	HeaderSource = "X-Source"
)

// MaxClockSkew is how far a request's timestamp may be from the server's
// clock; older or newer requests are refused with 401.
const MaxClockSkew = 5 * time.Minute

// Limits.
const (
	MinPageSize = 1
	MaxPageSize = 200
)

// ShopInfo is the body of GET /shop.
type ShopInfo struct {
	Platform    platform.Name `json:"platform"`
	MainAccount string        `json:"mainAccount"`
	SeatsUsed   int32         `json:"seatsUsed"`
	SeatsTotal  int32         `json:"seatsTotal"`
	// Service is whether the shop's sub-account service is switched on:
	// "On", "Off", or absent where the platform does not say. Optional and
	// additive: a gateway that predates it leaves it out.
	Service platform.ServiceState `json:"service,omitempty"`
	// SeatLedger is how the quota is made up (Taobao), when known.
	SeatLedger *SeatLedger `json:"seatLedger,omitempty"`
	// PhoneVerification is when the shop's platform checks a new
	// sub-account's phone by SMS: "None", "BeforeCreate" (POST
	// /verifications first, then POST /accounts with the code) or
	// "AfterCreate" (POST /accounts texts the code, POST
	// /accounts/{id}/verify enters it). A gateway that leaves it out
	// speaks the first revision of v1, which is "AfterCreate" on Douyin
	// and "None" elsewhere (see PhoneVerificationOf).
	PhoneVerification platform.PhoneVerification `json:"phoneVerification,omitempty"`
}

// SeatLedger is a Taobao shop's seats: free ones given and claimed (领取),
// and bought ones.
type SeatLedger struct {
	FreeGiven   int32 `json:"freeGiven"`
	FreeClaimed int32 `json:"freeClaimed"`
	Bought      int32 `json:"bought"`
}

// PhoneVerificationOf is what a GET /shop answer means: its
// phoneVerification, or, from a gateway that does not send one, the
// behaviour of the protocol's first revision.
func (s ShopInfo) PhoneVerificationOf() platform.PhoneVerification {
	switch {
	case s.PhoneVerification != "":
		return s.PhoneVerification
	case s.Platform == platform.Douyin:
		return platform.PhoneVerificationAfterCreate
	}
	return platform.PhoneVerificationNone
}

// Permission is one catalog entry.
type Permission struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Parent   string `json:"parent,omitempty"`
	HighRisk bool   `json:"highRisk,omitempty"`
}

// PermissionList is the body of GET /permissions.
type PermissionList struct {
	Items []Permission `json:"items"`
}

// RoleSpec is the body of POST /roles and PUT /roles/{id}.
type RoleSpec struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Permissions []string `json:"permissions"`
}

// Role is a role as the gateway reports it.
type Role struct {
	ID string `json:"id"`
	RoleSpec
}

// RoleList is the body of GET /roles.
type RoleList struct {
	Items []Role `json:"items"`
}

// Profile is a sub-account's employee data.
type Profile struct {
	DisplayName    string `json:"displayName,omitempty"`
	EmployeeName   string `json:"employeeName,omitempty"`
	EmployeeNumber string `json:"employeeNumber,omitempty"`
	// Department is a label or path as shown; DepartmentID the department
	// (GET /departments) the account is a member of.
	Department   string `json:"department,omitempty"`
	DepartmentID string `json:"departmentId,omitempty"`
	Phone        string `json:"phone,omitempty"`
}

// Seat is a customer-service chat seat; also the body of PUT .../seat.
// Presence and capacity are the agent's own settings: in a write, capacity
// 0 keeps the account's capacity and presence "" its presence (a new seat
// gets the platform's defaults); on Douyin a main-account write that
// changes the capacity is refused (403 forbidden, field seat.capacity).
type Seat struct {
	Chat     bool              `json:"chat"`
	Capacity int32             `json:"capacity"`
	Presence platform.Presence `json:"presence"`
}

// ActAs is the auth form of a request made as the sub-account itself, on
// top of the shop's signed app authentication: the sub-account's own login
// (account name or "main:name") and password. Only requests that the
// platform lets no one but the sub-account make carry it. The password is a
// secret: servers never log, echo or audit it.
type ActAs struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// SeatCapacityChange is the body of PUT /accounts/{id}/seat/capacity: the
// new reception capacity, set by the sub-account signed in with actAs.
type SeatCapacityChange struct {
	Capacity int32 `json:"capacity"`
	ActAs    ActAs `json:"actAs"`
}

// Security is a sub-account's security protection.
type Security struct {
	PhoneProtection    bool `json:"phoneProtection"`
	DigitalCertificate bool `json:"digitalCertificate"`
}

// AccountState is the managed state of a sub-account; the body of
// PUT /accounts/{id}, applied as a whole (roles and extra permissions not
// listed are revoked).
type AccountState struct {
	Profile          Profile  `json:"profile"`
	RoleIDs          []string `json:"roleIds"`
	ExtraPermissions []string `json:"extraPermissions"`
	Disabled         bool     `json:"disabled"`
	Seat             *Seat    `json:"seat,omitempty"`
	Security         Security `json:"security"`
}

// CreateAccount is the body of POST /accounts: settings, roles and
// permissions go in the same call as the account itself.
type CreateAccount struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	AccountState
	// Code is the SMS code sent to the profile's phone, with the ID POST
	// /verifications answered: required where the shop verifies phones
	// before creation, absent elsewhere.
	Code *VerificationCode `json:"code,omitempty"`
}

// CodeRequest is the body of POST /verifications: the phone to text a
// code to, and for a phone change the account whose phone it becomes.
type CodeRequest struct {
	Phone     string `json:"phone"`
	AccountID string `json:"accountId,omitempty"`
}

// VerificationCode is a code a phone received and the ID of its
// verification: CreateAccount.Code and the body of PUT
// /accounts/{id}/phone. The code is a secret: servers never log, echo or
// audit it.
type VerificationCode struct {
	ID   string `json:"id"`
	Code string `json:"code"`
}

// Account is a sub-account as the gateway reports it. It never carries a
// password.
type Account struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Login string `json:"login"`
	AccountState
	EffectivePermissions []string  `json:"effectivePermissions"`
	PasswordChangedAt    time.Time `json:"passwordChangedAt"`
	// Verification is present on platforms that verify new accounts'
	// phones by SMS (Douyin).
	Verification *Verification `json:"verification,omitempty"`
	// PlatformFrozen: the platform froze the account as a penalty (not the
	// seller's disabled); SeatFeeOwed: its seat fee is unpaid. Optional and
	// additive: a gateway that predates them leaves them out (false).
	PlatformFrozen bool `json:"platformFrozen,omitempty"`
	SeatFeeOwed    bool `json:"seatFeeOwed,omitempty"`
}

// Verification is where an account's phone verification stands. It never
// carries the code.
type Verification struct {
	// ID is the verification's ID in the answer to POST /verifications;
	// absent on an account's or contact's own verification.
	ID string `json:"id,omitempty"`
	// Verified is true once the right code was entered (authorised, 已授权).
	Verified bool `json:"verified"`
	// Phone is the number the code went to, masked (138****8000).
	Phone        string    `json:"phone"`
	SentAt       time.Time `json:"sentAt"`
	ExpiresAt    time.Time `json:"expiresAt"`
	AttemptsLeft int       `json:"attemptsLeft"`
}

// VerifyCode is the body of POST /accounts/{id}/verify: the SMS code the
// employee received. (Named so because VerifyRequest checks signatures.)
type VerifyCode struct {
	Code string `json:"code"`
}

// AccountList is the body of GET /accounts.
type AccountList struct {
	Items []Account `json:"items"`
	Total int       `json:"total"`
}

// PasswordChange is the body of PUT /accounts/{id}/password.
type PasswordChange struct {
	Password string `json:"password"`
}

// AccountStatus is the body of PUT /accounts/{id}/status.
type AccountStatus struct {
	Disabled bool `json:"disabled"`
}

// DepartmentSpec is the body of POST /departments: a name unique among
// its siblings and the parent's ID ("" or absent at the top).
type DepartmentSpec struct {
	Name     string `json:"name"`
	ParentID string `json:"parentId,omitempty"`
}

// Department is one department and how many sub-accounts are directly in
// it.
type Department struct {
	ID string `json:"id"`
	DepartmentSpec
	Members int `json:"members"`
}

// DepartmentList is the body of GET /departments.
type DepartmentList struct {
	Items []Department `json:"items"`
}

// ContactSpec is the body of POST /contacts and PUT /contacts/{id}.
type ContactSpec struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// Contact is a notification contact: its full phone, and its verification
// (with the phone masked). It never carries the code.
type Contact struct {
	ID string `json:"id"`
	ContactSpec
	Verification Verification `json:"verification"`
}

// ContactList is the body of GET /contacts.
type ContactList struct {
	Items []Contact `json:"items"`
}

// AuditEntry is one write recorded by the gateway. Never a password.
type AuditEntry struct {
	Time       time.Time `json:"time"`
	Action     string    `json:"action"`
	TargetID   string    `json:"targetId,omitempty"`
	TargetName string    `json:"targetName,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	Source     string    `json:"source,omitempty"`
}

// AuditList is the body of GET /audit.
type AuditList struct {
	Items []AuditEntry `json:"items"`
}

// ActivityEntry is one thing a sub-account did (GET /activity). Never a
// password, code or token.
type ActivityEntry struct {
	ID          string                `json:"id"`
	Time        time.Time             `json:"time"`
	AccountID   string                `json:"accountId"`
	AccountName string                `json:"accountName,omitempty"`
	Kind        platform.ActivityKind `json:"kind"`
	Presence    string                `json:"presence,omitempty"`
	Operation   string                `json:"operation,omitempty"`
	Target      string                `json:"target,omitempty"`
}

// ActivityList is the body of GET /activity: one page, oldest first; next
// is the cursor of the next page, absent on the last.
type ActivityList struct {
	Items []ActivityEntry `json:"items"`
	Next  string          `json:"next,omitempty"`
}

// LoginCheck is the body of POST /login: does this account name and
// password log in? (A test hook proving the password in a Secret is real.)
type LoginCheck struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// LoginResult is the answer to POST /login.
type LoginResult struct {
	OK bool `json:"ok"`
}
