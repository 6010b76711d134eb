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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Presence is a customer-service agent's availability.
// +kubebuilder:validation:Enum=Online;Busy;Break
type Presence string

const (
	// PresenceOnline receives messages (在线).
	PresenceOnline Presence = "Online"
	// PresenceBusy cannot receive messages (忙碌).
	PresenceBusy Presence = "Busy"
	// PresenceBreak is a short break (小休): it cannot receive messages
	// either (an assumption: the platforms' pages do not say).
	PresenceBreak Presence = "Break"
)

// AdoptionPolicy says what to do with an account of the same name that
// already exists on the platform and was not created by this SubAccount.
// +kubebuilder:validation:Enum=Never;Preview;Adopt
type AdoptionPolicy string

const (
	// AdoptionNever refuses the name (NameTaken): nothing unmanaged is touched.
	AdoptionNever AdoptionPolicy = "Never"
	// AdoptionPreview writes nothing and shows in the Adopted condition what
	// adopting would change.
	AdoptionPreview AdoptionPolicy = "Preview"
	// AdoptionAdopt takes the account over and applies the spec to it.
	AdoptionAdopt AdoptionPolicy = "Adopt"
)

// SubAccountSpec defines one staff login under a shop's main account.
type SubAccountSpec struct {
	// shopRef names the Shop, in the same namespace, the account belongs to.
	// Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="shopRef is immutable"
	ShopRef LocalObjectReference `json:"shopRef"`

	// accountName is the login's part after "<mainAccount>:", e.g. xiaohong
	// or 小红. Letters, digits, '.', '_' and '-', starting with a letter or
	// digit; unique in the shop. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^[\\\\p{L}\\\\p{N}][\\\\p{L}\\\\p{N}._-]*$')",message="accountName must start with a letter or digit and contain only letters, digits, '.', '_' or '-' (no ':' or spaces)"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="accountName is immutable: create a new SubAccount to rename a login"
	AccountName string `json:"accountName"`

	// displayName is the name customers see in chat.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	DisplayName string `json:"displayName,omitempty"`

	// employee is the staff member behind the account.
	// +optional
	Employee Employee `json:"employee,omitempty"`

	// phone is the employee's mobile number: an 11-digit mainland China
	// number (13800138000) or E.164 (+8613800138000). On Pinduoduo a number
	// can be bound to one sub-account only; on Douyin to one shop only.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^(1[3-9][0-9]{9}|\\\\+[1-9][0-9]{6,14})$')",message="phone must be an 11-digit mainland mobile number such as 13800138000 or E.164 such as +8613800138000"
	Phone string `json:"phone,omitempty"`

	// roles are Roles of the same Shop, by name, whose permissions the
	// account gets. On Douyin exactly one (the position).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:XValidation:rule="self.all(r, self.exists_one(o, o.name == r.name))",message="roles must not contain the same Role twice"
	Roles []LocalObjectReference `json:"roles,omitempty"`

	// extraPermissions are platform permission codes granted directly, on
	// top of the roles (Taobao's supplementary permissions, 补充权限).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9][A-Za-z0-9._:-]*$`
	ExtraPermissions []string `json:"extraPermissions,omitempty"`

	// allowHighRisk permits high-risk codes among extraPermissions.
	// +optional
	AllowHighRisk bool `json:"allowHighRisk,omitempty"`

	// adoption says what happens when an account with accountName already
	// exists on the platform and this SubAccount did not create it: Never
	// (default; refused as NameTaken), Preview (nothing is written; the
	// Adopted condition lists what adopting would change) or Adopt (the
	// account is taken over and the spec applied). On a platform whose API
	// cannot create accounts (Taobao's open API), Adopt is the only way in.
	// +optional
	// +kubebuilder:default=Never
	Adoption AdoptionPolicy `json:"adoption,omitempty"`

	// driftPolicy says what a drift check does when this account was changed
	// outside the operator (deleted, disabled, permissions or password
	// changed): Correct puts the declared state back, Report only reports
	// it in the Drifted condition and a DriftDetected Event. Empty follows
	// the Shop's driftPolicy.
	// +optional
	DriftPolicy DriftPolicy `json:"driftPolicy,omitempty"`

	// disabled blocks the account's login without deleting it (offboarding).
	// +optional
	Disabled bool `json:"disabled,omitempty"`

	// deletionPolicy says what happens to the platform account when this
	// SubAccount is deleted: Delete (default), Disable or Retain.
	// +optional
	// +kubebuilder:default=Delete
	// +kubebuilder:validation:Enum=Delete;Disable;Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// password says how the account's password is made.
	// +optional
	Password PasswordSpec `json:"password,omitempty"`

	// credentialsSecret shapes the Secret the operator writes the login into.
	// +optional
	CredentialsSecret CredentialsSecretSpec `json:"credentialsSecret,omitempty"`

	// seat is the customer-service chat seat; omit it for staff who do not
	// serve customers. It is not one of the shop's sub-account "seats" (the
	// Shop's spec.seats quota). (The Go field is ChatSeat; the JSON name
	// seat stays for compatibility.)
	// +optional
	ChatSeat *ChatSeatSpec `json:"seat,omitempty"`

	// security is the account's security protection.
	// +optional
	Security SecuritySpec `json:"security,omitempty"`
}

// Employee is the staff member behind a sub-account.
type Employee struct {
	// name is the employee's real name.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Name string `json:"name,omitempty"`
	// number is the employee number.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Number string `json:"number,omitempty"`
	// department is the employee's department. On Taobao it is a path in
	// the Shop's department tree, e.g. "客服部" or "客服部/售前": a department
	// declared in the Shop's spec.departments or made in the back office
	// (the Shop's status.departments lists them); an unknown path stops the
	// account with reason DepartmentNotFound before any platform call. On
	// other platforms it is a free label.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('/') && !self.endsWith('/') && !self.contains('//')",message="department is a path such as 客服部/售前: no leading, trailing or double '/'"
	Department string `json:"department,omitempty"`
}

// PasswordSpec says how a password is made.
// +kubebuilder:validation:XValidation:rule="!(has(self.secretRef) && has(self.length))",message="password.length applies to generated passwords only; remove it or password.secretRef"
type PasswordSpec struct {
	// length of a generated password. Default 16; never below the
	// platform's minimum.
	// +optional
	// +kubebuilder:validation:Minimum=6
	// +kubebuilder:validation:Maximum=128
	Length int32 `json:"length,omitempty"`

	// secretRef takes the password from a key of a Secret you manage (e.g.
	// written by External Secrets or Vault) instead of generating one; a
	// change of the value is applied to the platform.
	// +optional
	SecretRef *SecretKeyReference `json:"secretRef,omitempty"`

	// rotationPeriod generates a new password when the current one is this
	// old. At least 1h. Ignored with secretRef.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="rotationPeriod must be at least 1h"
	RotationPeriod *metav1.Duration `json:"rotationPeriod,omitempty"`
}

// SecretKeyReference selects a key of a Secret in the same namespace.
type SecretKeyReference struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// key within the Secret. Default "password".
	// +optional
	// +kubebuilder:default=password
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key,omitempty"`
}

// CredentialsSecretSpec shapes the generated credentials Secret.
type CredentialsSecretSpec struct {
	// name of the Secret. Default "<SubAccount name>-credentials". Immutable.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="credentialsSecret.name must be a Secret name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="credentialsSecret.name is immutable"
	Name string `json:"name,omitempty"`
	// labels added to the Secret.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// annotations added to the Secret.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ChatSeatSpec is a customer-service chat seat.
type ChatSeatSpec struct {
	// chat switches the account's chat (IM) permission on.
	// +optional
	// +kubebuilder:default=true
	Chat bool `json:"chat"`
	// capacity is how many customers the agent receives at once, 1 to 50:
	// the starting value. The capacity is the agent's own setting: the
	// operator writes this value when the account (or its seat) is created
	// and when this value changes, where the platform lets the main account
	// set it; it never puts it back after the agent changed it. On Douyin
	// only the agent may set it: the value is intent only, and the
	// SeatCapacityApplied condition shows the gap (unless the Shop's
	// signInAsAgent is StartingCapacity).
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=50
	Capacity int32 `json:"capacity,omitempty"`
	// presence is Online, Busy (忙碌: cannot receive messages) or Break
	// (小休, short break): the starting presence, written when the account
	// (or its seat) is created and when this value changes. The agent
	// chooses their presence; the operator never puts it back.
	// +optional
	// +kubebuilder:default=Online
	Presence Presence `json:"presence,omitempty"`
	// schedule switches presence to Break (or Busy) during weekly windows,
	// e.g. lunch 12:00-12:30 Mon-Fri in Asia/Shanghai. The operator acts at
	// the boundaries only (Break at 12:00, back to presence at 12:30);
	// between them, the agent's own choice stands (status.presence shows
	// the next boundary).
	// +optional
	Schedule *ChatSeatSchedule `json:"schedule,omitempty"`
}

// ChatSeatSchedule is a chat seat's weekly schedule of breaks and off-shift hours.
type ChatSeatSchedule struct {
	// timeZone is the IANA time zone the windows' times are in, e.g.
	// "Asia/Shanghai" or "America/New_York". Default "Asia/Shanghai".
	// +optional
	// +kubebuilder:default="Asia/Shanghai"
	// +kubebuilder:validation:MaxLength=64
	TimeZone string `json:"timeZone,omitempty"`

	// windows are the weekly stretches of time in which the seat is on Break
	// or Busy instead of its own presence. Outside every window the seat's
	// own presence applies. Windows that overlap must have the same presence.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=50
	Windows []ScheduleWindow `json:"windows,omitempty"`
}

// ScheduleWindow is a weekly stretch of local time with a presence.
type ScheduleWindow struct {
	// name identifies the window, e.g. "lunch"; unique in the schedule. It is
	// reported as the window in force.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`

	// days are the days the window starts on: Mon, Tue, Wed, Thu, Fri, Sat,
	// Sun. Empty means every day.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=7
	// +kubebuilder:validation:items:Enum=Mon;Tue;Wed;Thu;Fri;Sat;Sun
	Days []string `json:"days,omitempty"`

	// start is when the window begins, "HH:MM" in 24-hour local time,
	// "00:00" to "23:59".
	// +required
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]$`
	Start string `json:"start"`

	// end is when the window ends, "HH:MM" in 24-hour local time, "00:00" to
	// "24:00" (midnight at the end of the day). An end before start means
	// the window crosses midnight and ends on the next day ("22:00" to
	// "06:00"). It must differ from start.
	// +required
	// +kubebuilder:validation:Pattern=`^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$`
	End string `json:"end"`

	// presence is the seat's presence inside the window: Break (小休, short
	// break) or Busy (忙碌, cannot receive messages). Default Break.
	// +optional
	// +kubebuilder:default=Break
	// +kubebuilder:validation:XValidation:rule="self != 'Online'",message="a window's presence is Break or Busy"
	Presence Presence `json:"presence,omitempty"`
}

// SecuritySpec is a sub-account's security protection.
type SecuritySpec struct {
	// phoneProtection requires phone verification for sensitive actions (手机保护).
	// +optional
	PhoneProtection bool `json:"phoneProtection,omitempty"`
	// digitalCertificate requires a digital certificate to log in (数字证书).
	// +optional
	DigitalCertificate bool `json:"digitalCertificate,omitempty"`
}

// SubAccountStatus defines the observed state of a SubAccount.
type SubAccountStatus struct {
	// conditions: Ready, CredentialsReady, RolesResolved, PermissionsValid,
	// Synced, Reconciling, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation last applied successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// accountID is the platform's ID of the account.
	// +optional
	AccountID string `json:"accountID,omitempty"`

	// adoptionClaim is the platform ID of an existing account this
	// SubAccount is about to adopt: written before anything is written to
	// the platform, so that two SubAccounts adopting the same account at
	// once cannot both take it. Empty once adopted (accountID) or refused.
	// +optional
	AdoptionClaim string `json:"adoptionClaim,omitempty"`

	// loginName is the full login, "<mainAccount>:<accountName>".
	// +optional
	LoginName string `json:"loginName,omitempty"`

	// secretName is the Secret holding the login and password.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// passwordSetTime is when the platform last accepted a password.
	// +optional
	PasswordSetTime *metav1.Time `json:"passwordSetTime,omitempty"`

	// passwordRevision is the credentials Secret's password revision the
	// platform has.
	// +optional
	PasswordRevision int64 `json:"passwordRevision,omitempty"`

	// lastHandledRotation is the last shop.subaccount.io/rotate-password
	// annotation value acted on.
	// +optional
	LastHandledRotation string `json:"lastHandledRotation,omitempty"`

	// effectivePermissions previews what the account can do: the roles'
	// permissions and the extra ones, expanded and sorted.
	// +optional
	// +listType=atomic
	EffectivePermissions []string `json:"effectivePermissions,omitempty"`

	// permissionSources shows where each effective permission comes from,
	// after the platform's tree expansion: the codes each Role grants, and
	// the supplementary ones (spec.extraPermissions), so the owner can
	// preview what the account gets and why before trusting it. A code can
	// come from several sources.
	// +optional
	PermissionSources *PermissionSources `json:"permissionSources,omitempty"`

	// observedAccess is the account's roles and directly granted
	// permissions as the platform reports them, where its API can read them
	// but not set them (Taobao through TOP: roles are assigned in the back
	// office). Read on adoption, on each update and at each drift check;
	// where they differ from spec.roles and spec.extraPermissions, the
	// Drifted condition and a DriftDetected Event name what is missing and
	// what is extra, and nothing is written. Absent where the platform's
	// API sets them (appliedPermissions is what it has).
	// +optional
	ObservedAccess *ObservedAccess `json:"observedAccess,omitempty"`

	// appliedPermissions is the permission set last applied to the platform.
	// +optional
	// +listType=atomic
	AppliedPermissions []string `json:"appliedPermissions,omitempty"`

	// appliedHash identifies the account state last written to the platform.
	// +optional
	AppliedHash string `json:"appliedHash,omitempty"`

	// chat is the account's chat (IM) permission as applied: on when its
	// seat has chat switched on and, on a platform that verifies new
	// accounts by SMS (Douyin), once the account is authorised (verified).
	// +optional
	Chat bool `json:"chat,omitempty"`

	// security is the security protection applied to the account (phone
	// protection, digital certificate); absent where the platform's API
	// cannot apply it (see the PlatformLimits condition).
	// +optional
	Security *SecuritySpec `json:"security,omitempty"`

	// seatCapacity is the chat seat's reception capacity as last read from
	// the platform: the agent's own setting (the main account can see it).
	// +optional
	ChatSeatCapacity int32 `json:"seatCapacity,omitempty"`

	// presence is the seat's presence as last read from the platform (the
	// agent's choice, or what the schedule set at its last boundary), the
	// schedule window in force and the next boundary.
	// +optional
	Presence *PresenceStatus `json:"presence,omitempty"`

	// seatStart is the spec's starting capacity and presence the operator
	// last acted on: written (where the platform lets the main account, or
	// the Shop's signInAsAgent opt-in) or reported as intent. A spec value
	// that differs from it is written once; the agent's changes are never
	// undone.
	// +optional
	SeatStart *SeatStartStatus `json:"seatStart,omitempty"`

	// verification is the account's phone verification, on platforms that
	// verify new accounts by SMS (Douyin). Where the code comes first, it
	// is the code asked for while the account does not exist yet: the
	// masked phone and when the code expires.
	// +optional
	Verification *VerificationStatus `json:"verification,omitempty"`

	// lastHandledResend is the last shop.subaccount.io/resend-code
	// annotation value acted on.
	// +optional
	LastHandledResend string `json:"lastHandledResend,omitempty"`

	// lastLogin is the account's latest sign-in the platform's activity
	// feed showed (not on Taobao through TOP, whose log has presence only).
	// +optional
	LastLogin *metav1.Time `json:"lastLogin,omitempty"`

	// lastActivity is the account's latest login, presence change or
	// operation the platform's activity feed showed.
	// +optional
	LastActivity *metav1.Time `json:"lastActivity,omitempty"`

	// recentActivity is the account's latest activity the operator read,
	// newest first, at most 10 entries (kubectl subaccount activity NAME).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	RecentActivity []ActivityEntry `json:"recentActivity,omitempty"`
}

// ActivityEntry is one thing the sub-account did, as the platform logged
// it.
type ActivityEntry struct {
	// time is when it happened.
	Time metav1.Time `json:"time"`
	// kind is Login, Presence or Operation.
	// +kubebuilder:validation:MaxLength=32
	Kind string `json:"kind"`
	// presence is the new presence of a Presence entry (Online, Busy,
	// Break, Offline, Suspended, Resumed).
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Presence string `json:"presence,omitempty"`
	// operation is what an Operation entry did, e.g. item.update.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Operation string `json:"operation,omitempty"`
	// target is what it was done on, e.g. item 6123.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Target string `json:"target,omitempty"`
}

// PermissionSources says which effective permissions come from which Role
// and which are supplementary.
type PermissionSources struct {
	// roles lists, per Role of spec.roles, the permission codes it grants
	// (the Role's effective permissions, expanded and sorted).
	// +optional
	// +listType=map
	// +listMapKey=name
	Roles []RolePermissions `json:"roles,omitempty"`
	// supplementary are the codes granted directly by
	// spec.extraPermissions (补充权限), expanded and sorted.
	// +optional
	// +listType=atomic
	Supplementary []string `json:"supplementary,omitempty"`
}

// RolePermissions is the permission codes one Role grants.
type RolePermissions struct {
	// name of the Role.
	Name string `json:"name"`
	// permissions it grants, expanded and sorted.
	// +optional
	// +listType=atomic
	Permissions []string `json:"permissions,omitempty"`
}

// ObservedAccess is an account's roles and directly granted permissions
// as the platform reports them, sorted and bounded.
type ObservedAccess struct {
	// roles are the account's roles on the platform, sorted by ID; at most
	// 50.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	Roles []ObservedRole `json:"roles,omitempty"`
	// permissions are the permission codes granted to the account directly
	// (补充权限), as the platform lists them, sorted; at most 256.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=128
	Permissions []string `json:"permissions,omitempty"`
	// truncated is true when the platform reported more roles or
	// permissions than are shown.
	// +optional
	Truncated bool `json:"truncated,omitempty"`
}

// ObservedRole is a role an account holds on the platform.
type ObservedRole struct {
	// id is the platform's role ID (a Role's status.roleID when the
	// operator manages it).
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id"`
	// name is the role's name on the platform.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name,omitempty"`
}

// VerificationStatus is where a sub-account's phone verification stands.
type VerificationStatus struct {
	// id is the platform's ID of a code asked for before the account
	// exists (or before its phone changes); the code goes with it.
	// +optional
	ID string `json:"id,omitempty"`
	// verified is true once the right code was entered (authorised, 已授权).
	Verified bool `json:"verified"`
	// phone is the number the code went to, masked.
	// +optional
	Phone string `json:"phone,omitempty"`
	// sentAt is when the last code was sent.
	// +optional
	SentAt *metav1.Time `json:"sentAt,omitempty"`
	// expiresAt is when the last code stops working.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
	// attemptsLeft is how many wrong codes may still be tried.
	// +optional
	AttemptsLeft int32 `json:"attemptsLeft,omitempty"`
}

// SeatStartStatus is the starting seat settings the operator acted on.
type SeatStartStatus struct {
	// capacity is the starting reception capacity written to the platform;
	// 0 where only the agent may set it and nothing was written.
	// +optional
	Capacity int32 `json:"capacity,omitempty"`
	// presence is the spec's starting presence written to the platform.
	// +optional
	Presence Presence `json:"presence,omitempty"`
}

// PresenceStatus is a seat's presence as read from the platform, and the
// schedule's boundaries.
type PresenceStatus struct {
	// current is the presence as last read from the platform: the agent's
	// own choice, or what the operator set at the last boundary. Empty
	// until the account exists.
	// +optional
	Current Presence `json:"current,omitempty"`
	// receivesMessages is false while the presence is Busy (忙碌: cannot
	// receive messages) or Break (小休).
	ReceivesMessages bool `json:"receivesMessages"`
	// window is the schedule window in force, if any.
	// +optional
	Window string `json:"window,omitempty"`
	// lastBoundary is the schedule boundary (a window's start or end) the
	// operator last acted at, setting the presence once; between
	// boundaries the agent's choice stands.
	// +optional
	LastBoundary *metav1.Time `json:"lastBoundary,omitempty"`
	// nextChange is the schedule's next boundary, when the operator next
	// sets the presence.
	// +optional
	NextChange *metav1.Time `json:"nextChange,omitempty"`
	// nextChangeLocal is nextChange as a person reads it: the weekday and
	// time in the schedule's time zone, e.g. "Mon 12:30 Asia/Shanghai". It
	// is kubectl's Next-Change column, because a date column is printed as
	// an age and a future time has none (kubectl shows <invalid>).
	// +optional
	NextChangeLocal string `json:"nextChangeLocal,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=shopstaff,shortName=subacct;suba
// +kubebuilder:selectablefield:JSONPath=".status.accountID"
// +kubebuilder:selectablefield:JSONPath=".status.adoptionClaim"
// +kubebuilder:printcolumn:name="Shop",type=string,JSONPath=".spec.shopRef.name"
// +kubebuilder:printcolumn:name="Login",type=string,JSONPath=".status.loginName"
// +kubebuilder:printcolumn:name="Disabled",type=boolean,JSONPath=".spec.disabled"
// +kubebuilder:printcolumn:name="Verified",type=boolean,JSONPath=".status.verification.verified",priority=1
// +kubebuilder:printcolumn:name="Chat",type=boolean,JSONPath=".status.chat",priority=1
// +kubebuilder:printcolumn:name="Presence",type=string,JSONPath=".status.presence.current",priority=1
// +kubebuilder:printcolumn:name="Next-Change",type=string,JSONPath=".status.presence.nextChangeLocal",priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].reason"
// +kubebuilder:printcolumn:name="Last-Activity",type=date,JSONPath=".status.lastActivity",priority=1
// +kubebuilder:printcolumn:name="Account-ID",type=string,JSONPath=".status.accountID",priority=1
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=".status.secretName",priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="a SubAccount's name must be at most 63 characters (it is a label value on its credentials Secret)"

// SubAccount is one staff login under a shop's main account: its roles and
// permissions, its chat seat, and a generated credentials Secret.
type SubAccount struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec SubAccountSpec `json:"spec"`

	// +optional
	Status SubAccountStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SubAccountList contains a list of SubAccount.
type SubAccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SubAccount `json:"items"`
}

func init() {
	SchemeBuilder.Register(&SubAccount{}, &SubAccountList{})
}
