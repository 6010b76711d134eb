/*
Copyright 2026 The subaccount-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ShopAPI is how the operator reaches a shop's platform.
// +kubebuilder:validation:Enum=Gateway;TOP
type ShopAPI string

const (
	// ShopAPIGateway is the platform gateway protocol (docs/platform-gateway.md).
	ShopAPIGateway ShopAPI = "Gateway"
	// ShopAPITOP is Taobao's own open API (TOP), for Taobao shops; it cannot
	// create accounts or set passwords (docs/taobao-top.md).
	ShopAPITOP ShopAPI = "TOP"
)

// ShopSpec defines one merchant store on one platform.
// +kubebuilder:validation:XValidation:rule="!has(self.api) || self.api != 'TOP' || self.platform == 'taobao'",message="api TOP is Taobao's open API: only a taobao Shop can use it"
// +kubebuilder:validation:XValidation:rule="!has(self.departments) || size(self.departments) == 0 || self.platform == 'taobao'",message="departments are Taobao/Tmall's (部门结构): only a taobao Shop can declare them"
// +kubebuilder:validation:XValidation:rule="!has(self.openPlatform) || self.platform == 'pinduoduo'",message="openPlatform is Pinduoduo's open platform (pdd.mall.info.get): only a pinduoduo Shop can name one"
type ShopSpec struct {
	// platform is the marketplace the shop sells on: taobao, pinduoduo or
	// douyin. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="platform is immutable"
	Platform Platform `json:"platform"`

	// mainAccount is the shop's main account name (主账号) on the platform.
	// Sub-account logins are "<mainAccount>:<accountName>". Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="!self.contains(':')",message="mainAccount must not contain ':'"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="mainAccount is immutable: sub-account logins are derived from it"
	MainAccount string `json:"mainAccount"`

	// api is how the operator reaches the platform: Gateway (default; the
	// platform gateway protocol at endpoint) or TOP (Taobao's own open API,
	// taobao Shops only; it cannot create sub-accounts or set passwords, so
	// SubAccounts must adopt accounts made in the back office).
	// +optional
	// +kubebuilder:default=Gateway
	API ShopAPI `json:"api,omitempty"`

	// endpoint is the base URL of the platform API or gateway. Defaults to the
	// platform's public endpoint. Plain http is accepted only for loopback.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') || self.startsWith('http://')",message="endpoint must be an http(s) URL"
	Endpoint string `json:"endpoint,omitempty"`

	// credentialsSecretRef names a Secret in the Shop's namespace holding the
	// platform API credentials under the keys appKey, appSecret and
	// accessToken. Label it shop.subaccount.io/secret=shop-api so that a
	// change takes effect at once.
	// +required
	CredentialsSecretRef LocalObjectReference `json:"credentialsSecretRef"`

	// seats declares the shop's sub-account quota: how many sub-accounts
	// (staff logins) the shop may have, which the platforms sell as "seats".
	// It is not a customer-service chat seat (a SubAccount's spec.seat).
	// When unset, the platform's own quota is used. Deprecated where the
	// platform reports its seats (a Taobao shop whose gateway reports free
	// seats given and claimed, and seats bought): that report wins and
	// seats is ignored, so a hand-declared count cannot hide unclaimed
	// free seats. (The Go type is ShopAccountQuota; the JSON name seats
	// stays for compatibility.)
	// +optional
	Seats *ShopAccountQuota `json:"seats,omitempty"`

	// rateLimit bounds the calls the operator makes to this shop's platform API.
	// +optional
	// +kubebuilder:default={requestsPerSecond: 10, burst: 20}
	RateLimit RateLimit `json:"rateLimit,omitempty"`

	// driftCheckInterval is how often the operator compares the platform's
	// state with the desired state and corrects drift. At least 30s.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('30s')",message="driftCheckInterval must be at least 30s"
	DriftCheckInterval *metav1.Duration `json:"driftCheckInterval,omitempty"`

	// driftPolicy says what a drift check does about the shop's accounts and
	// roles changed outside the operator: Correct (default) puts the
	// declared state back, Report only reports it (the SubAccount's or
	// Role's Drifted condition, DriftDetected Events). A SubAccount's own
	// driftPolicy wins.
	// +optional
	DriftPolicy DriftPolicy `json:"driftPolicy,omitempty"`

	// signInAsAgent lets the operator sign in as a customer-service agent,
	// with the password it holds in the agent's credentials Secret, for
	// what the platform lets only the agent change: Never (default) or
	// StartingCapacity (on Douyin, set the seat's starting reception
	// capacity once per spec value; never to undo the agent's own change).
	// The trade-off: sub-accounts exist so that every action is traceable
	// to the person who did it. A change made signed in as the agent looks,
	// in the platform's own records, like the agent's; the operator's Event
	// and the platform audit entry (set on the sub-account's behalf) are
	// the only trace that it was not. Leave it Never unless the agents
	// cannot be asked to set their capacity themselves.
	// +optional
	// +kubebuilder:default=Never
	SignInAsAgent SignInAsAgentPolicy `json:"signInAsAgent,omitempty"`

	// inactivityThreshold marks a SubAccount whose account was not used (no
	// login, presence change or operation in the platform's activity feed)
	// for longer with the Inactive condition and an Event: dormant staff
	// accounts are an offboarding risk. The feed is read once per
	// driftCheckInterval for the whole shop. Unset: nothing is marked. At
	// least 1h.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="inactivityThreshold must be at least 1h"
	InactivityThreshold *metav1.Duration `json:"inactivityThreshold,omitempty"`

	// suspend pauses all writes to the platform for this shop's Roles and
	// SubAccounts; reads and status updates continue.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// departments is the shop's department tree (Taobao/Tmall only, 部门结构),
	// e.g. 客服部 with 售前 and 售后 under it, up to three levels and 200
	// departments in all. The operator creates the missing ones; a
	// SubAccount joins one by its path in spec.employee.department
	// ("客服部/售前"). A department removed from this list is deleted from
	// the platform once it has no members, and only if the operator created
	// it; departments made in the back office are never deleted.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:XValidation:rule="self.size() + self.map(d, has(d.children) ? d.children.size() + d.children.map(c, has(c.children) ? c.children.size() : 0).sum() : 0).sum() <= 200",message="at most 200 departments in all"
	Departments []Department `json:"departments,omitempty"`

	// notificationContacts receive the platform's SMS notifications for the
	// shop (customer-service phone settings). Each phone is verified by an
	// SMS code as a Douyin sub-account's is: put the code in Secret
	// "<shop>-contact-<phone digits>-verification", key "code" (or run
	// kubectl subaccount verify shop/NAME --contact PHONE CODE).
	// +optional
	// +listType=map
	// +listMapKey=phone
	// +kubebuilder:validation:MaxItems=10
	NotificationContacts []NotificationContact `json:"notificationContacts,omitempty"`

	// adoption says whether this shop's SubAccounts may take over accounts
	// that already exist on the platform (a SubAccount's spec.adoption:
	// Preview or Adopt). Unset, or policy Never, refuses every adoption: a
	// person who may create SubAccounts could otherwise take over any
	// staff login by its name.
	// +optional
	Adoption *ShopAdoption `json:"adoption,omitempty"`

	// openPlatform names the shop's app on the platform's own open
	// platform (Pinduoduo only), besides its gateway. When set, the
	// operator checks the app's credentials and reads the shop's name
	// with pdd.mall.info.get at every credentials check (condition
	// OpenPlatformCredentialsValid, status.openPlatform). An expired or
	// invalid access token stalls the Shop with reason
	// PinduoduoTokenExpired until the Secret holds a new one. Nothing
	// else is read or written through it: Pinduoduo has no public
	// sub-account API.
	// +optional
	OpenPlatform *OpenPlatformApp `json:"openPlatform,omitempty"`
}

// OpenPlatformApp is a shop's app on the platform's own open platform.
type OpenPlatformApp struct {
	// credentialsSecretRef names a Secret in the Shop's namespace holding
	// the app's clientId and clientSecret and the shop's accessToken. Like
	// the Shop's credentialsSecretRef, it is used only when labelled
	// shop.subaccount.io/secret=shop-api (a change then takes effect at
	// once), and its shop.subaccount.io/allowed-endpoint-hosts annotation,
	// when present, binds it to the endpoint hosts listed.
	// +required
	CredentialsSecretRef LocalObjectReference `json:"credentialsSecretRef"`

	// endpoint is the open platform's router URL. Defaults to
	// https://gw-api.pinduoduo.com/api/router. Plain http is accepted only
	// for loopback.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') || self.startsWith('http://')",message="endpoint must be an http(s) URL"
	Endpoint string `json:"endpoint,omitempty"`
}

// OpenPlatformStatus is what the platform's open platform said about the
// shop at the last successful check.
type OpenPlatformStatus struct {
	// shopName is the shop's name on the platform (Pinduoduo's mall_name).
	ShopName string `json:"shopName"`
	// shopID is the platform's ID of the shop (Pinduoduo's mall_id).
	// +optional
	ShopID string `json:"shopID,omitempty"`
	// checkedAt is when the credentials were last accepted.
	// +optional
	CheckedAt *metav1.Time `json:"checkedAt,omitempty"`
}

// ShopAdoptionPolicy says which existing accounts a shop's SubAccounts may adopt.
// +kubebuilder:validation:Enum=Never;AllowList;Any
type ShopAdoptionPolicy string

const (
	// ShopAdoptionNever refuses every adoption (the default).
	ShopAdoptionNever ShopAdoptionPolicy = "Never"
	// ShopAdoptionAllowList allows the account names in accountNames only.
	ShopAdoptionAllowList ShopAdoptionPolicy = "AllowList"
	// ShopAdoptionAny allows any account that no other SubAccount manages.
	ShopAdoptionAny ShopAdoptionPolicy = "Any"
)

// ShopAdoption is a shop's adoption policy. Whatever it says, an account
// another SubAccount manages is never adopted.
// +kubebuilder:validation:XValidation:rule="self.policy == 'AllowList' ? has(self.accountNames) && self.accountNames.size() > 0 : !has(self.accountNames) || self.accountNames.size() == 0",message="accountNames is required with policy AllowList and allowed only with it"
type ShopAdoption struct {
	// policy: Never (default) refuses adoption, AllowList allows the
	// account names listed in accountNames, Any allows any name.
	// +optional
	// +kubebuilder:default=Never
	Policy ShopAdoptionPolicy `json:"policy,omitempty"`

	// accountNames are the account names (without the main account
	// prefix) that SubAccounts may adopt under policy AllowList.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=64
	AccountNames []string `json:"accountNames,omitempty"`
}

// Department is a top-level department and its sub-departments.
type Department struct {
	// name of the department, e.g. 客服部: 1-32 characters without '/',
	// unique among its siblings.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="!self.contains('/') && self.trim() != ''",message="a department name must not be blank or contain '/' (paths are written 客服部/售前)"
	Name string `json:"name"`
	// children are its sub-departments.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=50
	Children []SubDepartment `json:"children,omitempty"`
}

// SubDepartment is a second-level department and its sub-departments.
type SubDepartment struct {
	// name of the department: 1-32 characters without '/', unique among its
	// siblings.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="!self.contains('/') && self.trim() != ''",message="a department name must not be blank or contain '/' (paths are written 客服部/售前)"
	Name string `json:"name"`
	// children are its sub-departments (the third and last level).
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=50
	Children []LeafDepartment `json:"children,omitempty"`
}

// LeafDepartment is a third-level department.
type LeafDepartment struct {
	// name of the department: 1-32 characters without '/', unique among its
	// siblings.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="!self.contains('/') && self.trim() != ''",message="a department name must not be blank or contain '/' (paths are written 客服部/售前)"
	Name string `json:"name"`
}

// DepartmentPaths lists the declared departments' paths, parents before
// children ("客服部", "客服部/售前", ...).
func (s *ShopSpec) DepartmentPaths() []string {
	var out []string
	for _, d := range s.Departments {
		out = append(out, d.Name)
		for _, c := range d.Children {
			out = append(out, d.Name+"/"+c.Name)
			for _, l := range c.Children {
				out = append(out, d.Name+"/"+c.Name+"/"+l.Name)
			}
		}
	}
	return out
}

// NotificationContact is a person whose phone receives the shop's SMS
// notifications.
type NotificationContact struct {
	// name of the contact, e.g. 值班客服.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	Name string `json:"name"`
	// phone is an 11-digit mainland China mobile number (13800138000) or
	// E.164 (+8613800138000); unique among the shop's contacts. Changing it
	// makes a new contact, verified anew.
	// +required
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^(1[3-9][0-9]{9}|\\\\+[1-9][0-9]{6,14})$')",message="phone must be an 11-digit mainland mobile number such as 13800138000 or E.164 such as +8613800138000"
	Phone string `json:"phone"`
}

// ContactSecretName is the Secret that hands the SMS code of the contact
// with phone to the operator: "<shop>-contact-<phone digits>-verification".
func (s *Shop) ContactSecretName(phone string) string {
	return s.Name + ContactSecretInfix + PhoneDigits(phone) + VerificationSecretSuffix
}

// ContactResendAnnotation is the annotation asking for a new code for the
// contact with phone: "shop.subaccount.io/resend-code-<phone digits>".
func ContactResendAnnotation(phone string) string {
	return AnnotationResendCode + "-" + PhoneDigits(phone)
}

// PhoneDigits is the phone without its leading '+'.
func PhoneDigits(phone string) string {
	return strings.TrimPrefix(phone, "+")
}

// DefaultDriftCheckInterval applies when a Shop sets none.
const DefaultDriftCheckInterval = 10 * time.Minute

// DriftCheckIntervalOrDefault returns how often the Shop's platform state is
// compared with the desired state.
func (s *Shop) DriftCheckIntervalOrDefault() time.Duration {
	if s.Spec.DriftCheckInterval == nil {
		return DefaultDriftCheckInterval
	}
	return s.Spec.DriftCheckInterval.Duration
}

// ShopAccountQuota is a shop's sub-account quota, the "seats" the
// platforms sell (JSON name seats, kept for compatibility).
type ShopAccountQuota struct {
	// included is the number of seats that come with the shop for free.
	// Deprecated on Taobao shops whose platform reports its seats: there a
	// free seat counts only once claimed (领取), and the Shop's
	// status.seats.ledger shows the seats given, claimed and bought.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Included int32 `json:"included,omitempty"`

	// purchased is the number of extra seats bought (Taobao sells them per
	// month).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000
	Purchased int32 `json:"purchased,omitempty"`
}

// RateLimit is a token bucket for platform API calls.
type RateLimit struct {
	// requestsPerSecond is the sustained call rate.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	RequestsPerSecond int32 `json:"requestsPerSecond,omitempty"`

	// burst is how many calls may go at once above the sustained rate.
	// +optional
	// +kubebuilder:default=20
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Burst int32 `json:"burst,omitempty"`
}

// AccountQuotaStatus reports the shop's sub-account quota (JSON name
// seats, kept for compatibility): sub-accounts, not chat seats.
type AccountQuotaStatus struct {
	// used counts every sub-account on the platform, managed or not.
	Used int32 `json:"used"`
	// total is the platform's claimed free plus bought seats where it
	// reports them (ledger), else included plus purchased seats, or the
	// platform's quota when
	// the Shop declares none.
	Total int32 `json:"total"`
	// managed counts the SubAccounts of this Shop.
	Managed int32 `json:"managed"`
	// unmanaged counts the accounts on the platform that no SubAccount
	// holds (made in the back office, or not adopted); they use seats too.
	// +optional
	Unmanaged int32 `json:"unmanaged,omitempty"`
	// waiting counts the SubAccounts waiting for a free seat (reason
	// SeatsExhausted). A freed seat goes to the oldest of them (by
	// creationTimestamp, then name); the others keep waiting.
	// +optional
	Waiting int32 `json:"waiting,omitempty"`
	// ledger is how the platform's quota is made up, where the platform
	// reports it (Taobao): total is then its claimed free seats plus its
	// bought ones, whatever spec.seats says.
	// +optional
	Ledger *SeatLedgerStatus `json:"ledger,omitempty"`
}

// MaxUnmanagedLogins bounds status.unmanagedAccounts.logins: a shop's
// status stays small whatever is in its back office.
const MaxUnmanagedLogins = 100

// UnmanagedAccountsStatus lists the platform accounts no SubAccount holds.
type UnmanagedAccountsStatus struct {
	// count is how many there are.
	Count int32 `json:"count"`
	// logins are their full logins ("<mainAccount>:<name>"), sorted; at
	// most the first 100. Past 100, count says how many there are and
	// logins lists the first 100 in sort order only.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=128
	Logins []string `json:"logins,omitempty"`
}

// SeatLedgerStatus is a Taobao shop's seats as the platform reports them.
type SeatLedgerStatus struct {
	// freeGiven is the free seats the platform gives the shop.
	FreeGiven int32 `json:"freeGiven"`
	// freeClaimed is the free seats claimed (领取) in the back office; only
	// claimed seats can be used.
	FreeClaimed int32 `json:"freeClaimed"`
	// freeUnclaimed is freeGiven minus freeClaimed: seats the shop could
	// use at no cost once claimed.
	// +optional
	FreeUnclaimed int32 `json:"freeUnclaimed,omitempty"`
	// bought is the seats bought, at 2 CNY per seat per month.
	Bought int32 `json:"bought"`
	// boughtInUse is the bought seats the shop's accounts occupy: the
	// accounts beyond the claimed free seats.
	// +optional
	BoughtInUse int32 `json:"boughtInUse,omitempty"`
	// monthlyCostCNY is what the seats in use cost a month: boughtInUse
	// times 2 CNY.
	// +optional
	MonthlyCostCNY int32 `json:"monthlyCostCNY,omitempty"`
}

// ShopStatus defines the observed state of a Shop.
type ShopStatus struct {
	// conditions: Ready, CredentialsValid, Reconciling, Stalled;
	// OpenPlatformCredentialsValid (with spec.openPlatform; False stalls
	// the Shop); DepartmentsSynced (Taobao departments), ContactsVerified
	// (notification contacts) and PlatformLimits (fields the platform's API
	// cannot apply), which do not make the Shop not Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation last applied successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// seats is the shop's sub-account quota, used and total (not chat
	// seats).
	// +optional
	Seats *AccountQuotaStatus `json:"seats,omitempty"`

	// lastSyncTime is when the last drift check compared the platform's
	// state with the desired state.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// unmanagedAccounts are the accounts the last drift check's listing
	// found on the platform that no SubAccount of the Shop holds (made in
	// the back office, or not adopted yet): the access review lists them
	// without calling the platform.
	// +optional
	UnmanagedAccounts *UnmanagedAccountsStatus `json:"unmanagedAccounts,omitempty"`

	// lastHandledRequestedAt is the last shop.subaccount.io/requested-at
	// annotation value acted on.
	// +optional
	LastHandledRequestedAt string `json:"lastHandledRequestedAt,omitempty"`

	// departments are the shop's departments on the platform (Taobao), by
	// path, with their platform IDs and member counts: the declared ones,
	// those made in the back office, and removed ones still waiting to be
	// emptied.
	// +optional
	// +listType=map
	// +listMapKey=path
	Departments []DepartmentStatus `json:"departments,omitempty"`

	// phoneVerification is when the shop's platform checks a new
	// sub-account's phone with an SMS code, as the platform reports it:
	// BeforeCreate (Douyin: the code first, then the account), AfterCreate
	// (a gateway that creates the account first and verifies it after) or
	// None.
	// +optional
	// +kubebuilder:validation:Enum=None;BeforeCreate;AfterCreate
	PhoneVerification string `json:"phoneVerification,omitempty"`

	// notificationContacts is where each contact's phone verification
	// stands.
	// +optional
	// +listType=atomic
	NotificationContacts []ContactStatus `json:"notificationContacts,omitempty"`

	// openPlatform is the shop as the platform's own open platform last
	// named it (spec.openPlatform): its name and ID.
	// +optional
	OpenPlatform *OpenPlatformStatus `json:"openPlatform,omitempty"`
}

// DepartmentStatus is one department on the platform.
type DepartmentStatus struct {
	// path is the department's names from the top, joined by '/'.
	Path string `json:"path"`
	// id is the platform's department ID.
	ID string `json:"id"`
	// members counts the sub-accounts directly in the department.
	Members int32 `json:"members"`
	// managed is true when the operator created the department; only such
	// departments are ever deleted.
	// +optional
	Managed bool `json:"managed,omitempty"`
}

// ContactStatus is a notification contact's verification.
type ContactStatus struct {
	// name of the contact.
	Name string `json:"name"`
	// id is the platform's contact ID.
	ID string `json:"id"`
	// verification: verified, the masked phone, expiresAt and attemptsLeft.
	Verification VerificationStatus `json:"verification"`
	// lastHandledResend is the last resend-code annotation value acted on.
	// +optional
	LastHandledResend string `json:"lastHandledResend,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=shopstaff,shortName=shp
// +kubebuilder:printcolumn:name="Platform",type=string,JSONPath=".spec.platform"
// +kubebuilder:printcolumn:name="Main",type=string,JSONPath=".spec.mainAccount"
// +kubebuilder:printcolumn:name="Seats-Used",type=integer,JSONPath=".status.seats.used"
// +kubebuilder:printcolumn:name="Seats-Total",type=integer,JSONPath=".status.seats.total"
// +kubebuilder:printcolumn:name="Waiting",type=integer,JSONPath=".status.seats.waiting"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].reason"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="a Shop's name must be at most 63 characters (it is a label value on its SubAccounts' credentials Secrets)"

// Shop is one merchant store on one platform, and the API credentials the
// operator uses to manage its sub-accounts.
type Shop struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ShopSpec `json:"spec"`

	// +optional
	Status ShopStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ShopList contains a list of Shop.
type ShopList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Shop `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Shop{}, &ShopList{})
}
