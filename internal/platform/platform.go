// Package platform is the operator's view of a marketplace back office
// (Taobao/Tmall, Pinduoduo, Douyin Shop): a small interface, the domain
// types it speaks, and the sentinel errors every driver maps its failures to.
//
// Drivers (the in-memory engine, the gateway client, the native TOP client)
// implement Client; controllers obtain one per Shop from a Factory and never
// see a transport type.
package platform

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Name identifies a marketplace platform.
type Name string

const (
	Taobao    Name = "taobao"
	Pinduoduo Name = "pinduoduo"
	Douyin    Name = "douyin"
)

// DefaultEndpoint is each platform's public open-API endpoint, used when a
// Shop names none.
func DefaultEndpoint(p Name) string {
	switch p {
	case Taobao:
		return "https://eco.taobao.com/router/rest"
	case Pinduoduo:
		return "https://gw-api.pinduoduo.com/api/router"
	case Douyin:
		return "https://openapi-fxg.jinritemai.com"
	}
	return ""
}

// Presence is a customer-service agent's availability.
type Presence string

const (
	// PresenceOnline (在线) receives messages.
	PresenceOnline Presence = "Online"
	// PresenceBusy (忙碌) cannot receive messages.
	PresenceBusy Presence = "Busy"
	// PresenceBreak (小休) is a short break: it cannot receive messages
	// either (an assumption; the help pages do not say).
	PresenceBreak Presence = "Break"
)

// PresenceMeaning says what a presence means for customers, in the words
// of Douyin's help page for Feige: Busy (忙碌) cannot receive messages.
// Break (小休) is taken to be the same (an assumption).
func PresenceMeaning(p Presence) string {
	switch p {
	case PresenceOnline:
		return "Online (在线, receives messages)"
	case PresenceBusy:
		return "Busy (忙碌, cannot receive messages)"
	case PresenceBreak:
		return "Break (小休, cannot receive messages)"
	}
	return string(p)
}

// Credentials authenticate the operator to one shop's platform API.
//
// As a second line of defence, printing them never shows the app secret
// or the access token: String, GoString and Format (every fmt verb, also
// inside another struct), LogValue (log/slog, also its JSON handler) and
// MarshalLog (logr, so controller-runtime's zap logger) show the app key
// and whether each secret is set. encoding/json still sees every field:
// the in-memory platform persists a shop's credentials that way.
type Credentials struct {
	AppKey      string
	AppSecret   string
	AccessToken string
}

// redacted shows whether a secret is set, never the secret.
func redacted(s string) string {
	if s == "" {
		return ""
	}
	return Redacted
}

// String shows the app key; the secrets are redacted.
func (c Credentials) String() string {
	return fmt.Sprintf("{AppKey:%s AppSecret:%s AccessToken:%s}", c.AppKey, redacted(c.AppSecret), redacted(c.AccessToken))
}

// GoString is String as Go syntax (%#v).
func (c Credentials) GoString() string {
	return fmt.Sprintf("platform.Credentials{AppKey:%q, AppSecret:%q, AccessToken:%q}", c.AppKey, redacted(c.AppSecret), redacted(c.AccessToken))
}

// Format prints String for every verb (GoString for %#v), so no verb or
// flag reaches the fields.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, c.GoString())
		return
	}
	_, _ = io.WriteString(f, c.String())
}

// LogValue is what log/slog logs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("appKey", c.AppKey),
		slog.String("appSecret", redacted(c.AppSecret)), slog.String("accessToken", redacted(c.AccessToken)))
}

// MarshalLog is what logr (and so controller-runtime's zap logger) logs.
func (c Credentials) MarshalLog() any {
	return struct {
		AppKey      string `json:"appKey"`
		AppSecret   string `json:"appSecret"`
		AccessToken string `json:"accessToken"`
	}{c.AppKey, redacted(c.AppSecret), redacted(c.AccessToken)}
}

// ShopConfig is everything a Factory needs to build a Client for one shop.
type ShopConfig struct {
	// Key identifies the shop within the operator (namespace/name); used for
	// client caching and per-shop rate limits.
	Key         string
	Platform    Name
	MainAccount string
	Endpoint    string
	// API is how the shop is reached: "Gateway" (or empty) or "TOP".
	API         string
	Credentials Credentials
	// RequestsPerSecond and Burst bound calls to this shop's API; zero means
	// the driver's default.
	RequestsPerSecond float64
	Burst             int
}

// ShopInfo is what the platform reports about the shop itself.
type ShopInfo struct {
	Platform    Name
	MainAccount string
	// SeatsUsed counts every sub-account on the shop, managed or not.
	SeatsUsed int32
	// SeatsTotal is the platform's own quota (included plus purchased).
	SeatsTotal int32
	// Service says whether the shop's sub-account service is switched on
	// (Taobao: 开启子账号服务, a one-time step of the owner's in the back
	// office); "" where the platform does not report it.
	Service ServiceState
	// SeatLedger is how the quota is made up, where the platform reports it
	// (Taobao); nil elsewhere.
	SeatLedger *SeatLedger
	// PhoneVerification is when the platform checks a new sub-account's
	// phone with an SMS code.
	PhoneVerification PhoneVerification
}

// ServiceState is whether a shop's sub-account service is switched on.
type ServiceState string

const (
	ServiceOn  ServiceState = "On"
	ServiceOff ServiceState = "Off"
)

// SeatLedger is a Taobao shop's sub-account seats: the free seats the
// platform gives the shop, which count only once claimed (领取) in the
// back office, and the seats bought (2 CNY per seat per month). The quota
// is FreeClaimed + Bought.
type SeatLedger struct {
	FreeGiven   int32
	FreeClaimed int32
	Bought      int32
}

// SeatPriceCNY is what Taobao charges for a bought seat, per month
// (2元/个/月, the price the merchant help page gives).
const SeatPriceCNY = 2

// Quota is the seats the shop may use: the free ones claimed plus the
// bought ones.
func (l SeatLedger) Quota() int32 { return l.FreeClaimed + l.Bought }

// Unclaimed is the free seats given but not claimed yet.
func (l SeatLedger) Unclaimed() int32 { return max(l.FreeGiven-l.FreeClaimed, 0) }

// PhoneVerification is when a platform checks a new sub-account's phone
// with an SMS code.
type PhoneVerification string

const (
	// PhoneVerificationNone: no code is texted (Taobao, Pinduoduo).
	PhoneVerificationNone PhoneVerification = "None"
	// PhoneVerificationBeforeCreate: the code comes first (Douyin, as its
	// back office does it): RequestCode texts one to the phone, and
	// CreateAccount creates the account with its ID and the code; until
	// then there is no account and no seat. A phone change needs a code
	// for the new phone the same way (RequestCode with the account's ID,
	// then ChangePhone).
	PhoneVerificationBeforeCreate PhoneVerification = "BeforeCreate"
	// PhoneVerificationAfterCreate: the account is created first and its
	// phone verified afterwards (VerifyAccount, ResendVerification). This
	// is what gateways of protocol v1 that do not declare BeforeCreate do
	// on Douyin; kept so that they keep working.
	PhoneVerificationAfterCreate PhoneVerification = "AfterCreate"
)

// Permission is one entry of a platform's permission catalog.
type Permission struct {
	Code     string
	Name     string
	Parent   string
	HighRisk bool
}

// RoleSpec is the desired state of a platform role (a Douyin position).
type RoleSpec struct {
	Name        string
	Description string
	// Permissions are the expanded, sorted permission codes.
	Permissions []string
}

// Role is a role as the platform reports it.
type Role struct {
	ID string
	RoleSpec
}

// Profile is the employee data attached to a sub-account.
type Profile struct {
	DisplayName    string
	EmployeeName   string
	EmployeeNumber string
	// Department is the department's name or path as shown (a free label
	// where the platform has no departments); DepartmentID, where it has
	// (Taobao), is the department the account is a member of.
	Department   string
	DepartmentID string
	Phone        string
}

// Seat holds customer-service chat settings.
type Seat struct {
	Chat bool
	// Capacity is the reception capacity (接待人数), 1-50, the agent's own
	// setting. In a write, 0 keeps the account's capacity (a new seat gets
	// the platform's default): on Douyin only the sub-account itself may
	// change it, with SetSeatCapacity, and a main-account write that
	// changes it is ErrForbidden.
	Capacity int32
	// Presence is the agent's own choice; in a write "" keeps it (a new
	// seat: Online). Busy (忙碌) and Break (小休) cannot receive messages.
	Presence Presence
}

// SubAccountLogin is a sub-account's own login, for the changes only the
// sub-account itself may make (Douyin: its reception capacity). Name is the
// account name or the full "main:name" login. The password is a secret:
// never logged, shown or put in an error.
type SubAccountLogin struct {
	Name     string
	Password string
}

// Security holds per-account security protection.
type Security struct {
	PhoneProtection    bool
	DigitalCertificate bool
}

// AccountState is the part of a sub-account the operator manages, applied
// as a whole (a PUT): roles and extra permissions not listed are revoked.
type AccountState struct {
	Profile Profile
	RoleIDs []string
	// ExtraPermissions are granted directly (Taobao's supplementary
	// permissions), expanded and sorted.
	ExtraPermissions []string
	Disabled         bool
	Seat             *Seat
	Security         Security
}

// CreateAccount is a request to create a sub-account.
type CreateAccount struct {
	// Name is the part of the login after "mainaccount:".
	Name     string
	Password string
	AccountState
	// Code is the SMS code sent to the account's phone, on a platform
	// that verifies it before creating the account
	// (PhoneVerificationBeforeCreate); nil elsewhere.
	Code *VerificationCode
}

// CodeRequest asks the platform to text a verification code to Phone: for
// a new account (AccountID empty), or to change account AccountID's phone
// to Phone.
type CodeRequest struct {
	Phone     string
	AccountID string
}

// VerificationCode is the code a phone received, with the ID of the
// verification RequestCode answered. The code is a secret while it is
// valid: never logged, shown or put in an error.
type VerificationCode struct {
	ID   string
	Code string
}

// Account is a sub-account as the platform reports it.
type Account struct {
	ID string
	// Name is the part of the login after "mainaccount:".
	Name string
	// Login is the full login name, e.g. "mainnick:xiaohong".
	Login string
	AccountState
	// EffectivePermissions is the union of the roles' and extra permissions.
	EffectivePermissions []string
	// PasswordChangedAt is when the password was last set.
	PasswordChangedAt time.Time
	// Verification is the account's phone verification, on platforms that
	// verify new accounts by SMS (Douyin); nil elsewhere.
	Verification *Verification
	// PlatformFrozen is true when the platform froze the account as a
	// penalty (Taobao's sub_status 3). It is not Disabled, which is the
	// seller's: only the platform lifts it, and no write undoes it.
	PlatformFrozen bool
	// SeatFeeOwed is true when the account's seat fee is unpaid (Taobao's
	// sub_owed_status).
	SeatFeeOwed bool
	// Roles are the account's roles with the name and permissions the
	// platform reports for each, where it reports them with the account
	// (Capabilities.Observe.RolePermissionsByAccount: Taobao's
	// taobao.sellercenter.subuser.permissions.roles.get, as its role
	// listing leaves the permissions out); nil elsewhere, where RoleIDs and
	// ListRoles say the same.
	Roles []Role
}

// Verification is the state of a sub-account's phone verification: the
// platform sent an SMS code, valid for a few minutes, to the employee's
// phone, and the account is not authorised (已授权) until it is entered.
type Verification struct {
	// ID identifies a pending verification RequestCode started (the code
	// goes with it to CreateAccount or ChangePhone); empty on an account's
	// own verification.
	ID string
	// Verified is true once the right code was entered: the account is
	// authorised.
	Verified bool
	// Phone is the number the code went to, masked (138****8000).
	Phone string
	// SentAt is when the last code was sent; ExpiresAt when it stops working.
	SentAt    time.Time
	ExpiresAt time.Time
	// AttemptsLeft is how many wrong codes may still be tried.
	AttemptsLeft int
}

// Department is a department (部门) of a Taobao shop: departments form a
// tree, and a sub-account is a member of at most one (Profile.DepartmentID).
type Department struct {
	ID string
	DepartmentSpec
	// Members counts the sub-accounts directly in the department (not in
	// its sub-departments).
	Members int
}

// DepartmentSpec is a department to create: its name, unique among its
// siblings, and its parent ("" for a top-level department).
type DepartmentSpec struct {
	Name     string
	ParentID string
}

// ContactSpec is a customer-service notification contact: a person whose
// phone receives the platform's SMS notifications for the shop.
type ContactSpec struct {
	Name  string
	Phone string
}

// Contact is a notification contact as the platform reports it. A new
// contact's phone is sent an SMS code; it receives notifications only once
// the code was entered (Verification.Verified).
type Contact struct {
	ID string
	// ContactSpec holds the full phone number (it identifies the contact);
	// Verification.Phone is the masked one.
	ContactSpec
	Verification Verification
}

// ListOptions pages a listing. Page numbers start at 1.
type ListOptions struct {
	Page     int
	PageSize int
}

// AccountPage is one page of a sub-account listing.
type AccountPage struct {
	Accounts []Account
	Total    int
}

// Client manages one shop on its platform. Every method takes a context and
// returns domain types and errors wrapping the sentinels in errors.go.
type Client interface {
	// ShopInfo validates the credentials and reports the shop's seats.
	ShopInfo(ctx context.Context) (ShopInfo, error)
	// Permissions returns the platform's permission catalog.
	Permissions(ctx context.Context) ([]Permission, error)

	ListRoles(ctx context.Context) ([]Role, error)
	GetRole(ctx context.Context, id string) (Role, error)
	// CreateRole is idempotent per requestID: a repeat returns the first role.
	CreateRole(ctx context.Context, spec RoleSpec, requestID string) (Role, error)
	UpdateRole(ctx context.Context, id string, spec RoleSpec) (Role, error)
	DeleteRole(ctx context.Context, id string) error

	ListAccounts(ctx context.Context, opts ListOptions) (AccountPage, error)
	GetAccount(ctx context.Context, id string) (Account, error)
	// FindAccount looks a sub-account up by name (the part after "main:").
	FindAccount(ctx context.Context, name string) (Account, error)
	// CreateAccount is idempotent per requestID: a repeat while the first
	// account exists returns it instead of creating a second one.
	CreateAccount(ctx context.Context, req CreateAccount, requestID string) (Account, error)
	// UpdateAccount replaces the managed state of an account.
	UpdateAccount(ctx context.Context, id string, state AccountState) (Account, error)
	SetPassword(ctx context.Context, id, password string) error
	DeleteAccount(ctx context.Context, id string) error
	// SetSeatCapacity changes the account's reception capacity acting as the
	// sub-account itself, signed in with as (on Douyin only the sub-account
	// may change it). A login the platform refuses (wrong name or password,
	// disabled, phone not verified yet) is ErrUnauthorized with Field
	// "actAs"; another account's login is ErrForbidden "actAs"; an account
	// without a seat is ErrConflict "seat".
	SetSeatCapacity(ctx context.Context, id string, capacity int32, as SubAccountLogin) (Account, error)
	// CheckCredentials answers whether name and password log in.
	CheckCredentials(ctx context.Context, name, password string) (bool, error)
	// VerifyAccount enters the SMS code sent to the account's phone. A wrong
	// or expired code is ErrInvalid with Field "code" and a message saying
	// how many attempts are left; an account that needs none is ErrConflict.
	VerifyAccount(ctx context.Context, id, code string) (Account, error)
	// ResendVerification asks the platform to send a new code. Sends are
	// limited (at most one a minute): too soon is ErrRateLimited with
	// RetryAfter.
	ResendVerification(ctx context.Context, id string) (Account, error)
	// VerifyAccount and ResendVerification serve PhoneVerificationAfterCreate;
	// RequestCode, CreateAccount's Code and ChangePhone serve
	// PhoneVerificationBeforeCreate.

	// RequestCode texts a verification code to req.Phone and answers the
	// verification's ID, the masked phone, its expiry and the attempts;
	// nothing else changes on the platform. It is idempotent per requestID
	// while that verification is pending and unexpired. A platform that
	// does not verify phones first is ErrNotSupported; a phone the
	// platform would refuse for the account is ErrConflict "phone" (for a
	// new account, a shop without a free seat is ErrQuotaExhausted); a new
	// code for the same phone within a minute of the last is
	// ErrRateLimited with RetryAfter, and a new code replaces the phone's
	// earlier one.
	//
	// Entering the code (CreateAccount's Code, ChangePhone): a wrong code
	// is ErrInvalid "code" with the attempts left in the message; an
	// expired one ErrCodeExpired "code" (no attempt used); an unknown or
	// used ID ErrNotFound "verification"; a code sent to another phone, or
	// requested for another purpose, ErrInvalid.
	RequestCode(ctx context.Context, req CodeRequest, requestID string) (Verification, error)
	// ChangePhone changes account id's phone to the one the code was sent
	// to (RequestCode with the account's ID). On such a platform,
	// UpdateAccount refuses a new phone with ErrForbidden "phone".
	ChangePhone(ctx context.Context, id string, code VerificationCode) (Account, error)

	// ListDepartments returns the shop's departments with their member
	// counts (Taobao; other platforms have none and answer an empty list).
	ListDepartments(ctx context.Context) ([]Department, error)
	// CreateDepartment is idempotent per requestID. A name already used
	// under the same parent is ErrNameTaken; an unknown parent ErrInvalid.
	CreateDepartment(ctx context.Context, spec DepartmentSpec, requestID string) (Department, error)
	// DeleteDepartment refuses with ErrConflict while the department has
	// members or sub-departments.
	DeleteDepartment(ctx context.Context, id string) error

	// ListContacts returns the shop's notification contacts.
	ListContacts(ctx context.Context) ([]Contact, error)
	// AddContact adds a contact and sends an SMS code to its phone. A phone
	// that already is a contact of the shop is ErrConflict.
	AddContact(ctx context.Context, spec ContactSpec) (Contact, error)
	// UpdateContact renames a contact; its phone cannot change (ErrInvalid).
	UpdateContact(ctx context.Context, id string, spec ContactSpec) (Contact, error)
	DeleteContact(ctx context.Context, id string) error
	// VerifyContact and ResendContactCode work as VerifyAccount and
	// ResendVerification do, for a contact's phone.
	VerifyContact(ctx context.Context, id, code string) (Contact, error)
	ResendContactCode(ctx context.Context, id string) (Contact, error)

	// ListActivity reads one page of what the shop's sub-accounts did
	// (logins, presence changes, operations), oldest first, within the
	// query's time bounds. A platform or gateway without an activity feed
	// answers ErrNotSupported; a bad bound, limit or cursor is ErrInvalid.
	ListActivity(ctx context.Context, q ActivityQuery) (ActivityPage, error)
}

// Factory builds a Client for a shop.
type Factory interface {
	ClientFor(ctx context.Context, shop ShopConfig) (Client, error)
}

// APIFactory sends each shop to the factory of its ShopConfig.API, or to
// Default when there is none for it.
type APIFactory struct {
	Default Factory
	ByAPI   map[string]Factory
}

// ClientFor builds the client with the shop's API's factory.
func (f APIFactory) ClientFor(ctx context.Context, shop ShopConfig) (Client, error) {
	if inner, ok := f.ByAPI[shop.API]; ok {
		return inner.ClientFor(ctx, shop)
	}
	return f.Default.ClientFor(ctx, shop)
}

// FactoryFunc adapts a function to Factory.
type FactoryFunc func(ctx context.Context, shop ShopConfig) (Client, error)

// ClientFor calls f.
func (f FactoryFunc) ClientFor(ctx context.Context, shop ShopConfig) (Client, error) {
	return f(ctx, shop)
}
