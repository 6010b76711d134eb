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

// Platform is the marketplace a Shop sells on.
// +kubebuilder:validation:Enum=taobao;pinduoduo;douyin
type Platform string

const (
	// PlatformTaobao is Taobao/Tmall (淘宝/天猫).
	PlatformTaobao Platform = "taobao"
	// PlatformPinduoduo is Pinduoduo (拼多多).
	PlatformPinduoduo Platform = "pinduoduo"
	// PlatformDouyin is Douyin Shop (抖店) with its chat desk Feige (飞鸽).
	PlatformDouyin Platform = "douyin"
)

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// name of the referenced object, in the same namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// DeletionPolicy says what happens to the platform object when its resource
// is deleted.
type DeletionPolicy string

const (
	// DeletionPolicyDelete deletes the platform object.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyDisable keeps the sub-account on the platform but blocks
	// its login (SubAccount only).
	DeletionPolicyDisable DeletionPolicy = "Disable"
	// DeletionPolicyRetain leaves the platform object as it is.
	DeletionPolicyRetain DeletionPolicy = "Retain"
)

// Condition types. Ready, Reconciling and Stalled follow kstatus.
const (
	// ConditionReady is True when the resource is fully applied on the platform.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the operator is working towards the
	// desired state.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when progress needs a change by a person
	// (the spec, a referenced object, or the platform's state).
	ConditionStalled = "Stalled"

	// ConditionCredentialsValid (Shop) is True when the platform accepted the
	// shop's API credentials.
	ConditionCredentialsValid = "CredentialsValid"
	// ConditionPermissionsValid (Role, SubAccount) is True when every
	// permission is known to the platform and allowed by the risk policy.
	ConditionPermissionsValid = "PermissionsValid"
	// ConditionRolesResolved (SubAccount) is True when every referenced Role
	// exists in the same shop and is on the platform.
	ConditionRolesResolved = "RolesResolved"
	// ConditionCredentialsReady (SubAccount) is True when the credentials
	// Secret holds the account's login and password.
	ConditionCredentialsReady = "CredentialsReady"
	// ConditionSynced (Role, SubAccount) is True when the platform object
	// matches the desired state.
	ConditionSynced = "Synced"
	// ConditionVerified (SubAccount) is True once the account's phone was
	// verified with the platform's SMS code (Douyin); False with reason
	// PendingVerification while a code is awaited. Absent where the platform
	// verifies nothing.
	ConditionVerified = "Verified"
	// ConditionDrifted (SubAccount, Role) is True, with reason DriftDetected,
	// when a drift check found the platform account or role changed outside
	// the operator and the driftPolicy in force is Report: the message says
	// what differs, and nothing was corrected. It is also True, whatever
	// the driftPolicy, when the check found the account's roles or direct
	// permissions, or the role's permissions, name or description, differ
	// from the spec where the platform's API reports them but cannot set
	// them (Taobao's TOP): the message names what is missing and what is
	// extra, and nothing is ever written. Absent otherwise.
	ConditionDrifted = "Drifted"
	// ConditionAdopted (SubAccount) is True once an existing platform account
	// has been adopted; False with reason AdoptionPreview while previewing.
	ConditionAdopted = "Adopted"
	// ConditionDepartmentsSynced (Shop, Taobao) is True when every declared
	// department is on the platform and every removed one the operator
	// created is gone; False with reason InUse while a removed department
	// still has members (named, with their count).
	ConditionDepartmentsSynced = "DepartmentsSynced"
	// ConditionContactsVerified (Shop) is True when every notification
	// contact's phone is verified; False with PendingVerification or
	// VerificationExpired (the contacts named) otherwise.
	ConditionContactsVerified = "ContactsVerified"
	// ConditionPlatformLimits (SubAccount, Shop) is True, with reason NotSupported,
	// when the platform's API cannot apply some fields of the spec; the
	// message names them. Absent when everything can be applied.
	ConditionPlatformLimits = "PlatformLimits"
	// ConditionSeatCapacityApplied (SubAccount, Douyin) says where the
	// seat's reception capacity stands against the spec's starting value,
	// on a platform where only the agent may set it. True (Succeeded) when
	// the agent's capacity is the spec's, or the Shop's signInAsAgent opt-in
	// set it on the agent's behalf; False with AgentOwned when the spec's
	// value is intent only and the agent's differs (nothing is retried), or,
	// under the opt-in, with the reason it is not set yet
	// (PendingVerification, AccountDisabled, SecretNotFound, SecretInvalid,
	// LoginRejected). Absent where the main account sets it.
	ConditionSeatCapacityApplied = "SeatCapacityApplied"
	// ConditionNameClash (Staff) is True when a SubAccount the Staff would
	// own exists and is not the Staff's: it is never taken over.
	ConditionNameClash = "NameClash"
	// ConditionActivityMonitored (Shop) is True when the platform's
	// activity feed was read at the last check; False with reason
	// NotSupported when the platform (or an older gateway) has none, so
	// the SubAccounts show no last login or activity and
	// inactivityThreshold is not applied.
	ConditionActivityMonitored = "ActivityMonitored"
	// ConditionInactive (SubAccount) is True, with reason Inactive, when
	// the account has not been used (no login or other activity) for
	// longer than the Shop's inactivityThreshold; False with reason Active
	// when it has. Absent without a threshold or an activity feed.
	ConditionInactive = "Inactive"
	// ConditionPlatformFrozen (SubAccount) is True, with reason
	// FrozenByPlatform, while the platform has frozen the account as a
	// penalty (Taobao's sub_status 3). It is read only: the operator never
	// tries to undo it, and it is not spec.disabled (the seller's own
	// switch). Absent otherwise. It does not make the SubAccount not Ready.
	ConditionPlatformFrozen = "PlatformFrozen"
	// ConditionSeatFeeOwed (SubAccount) is True, with reason SeatFeeUnpaid,
	// while the account's seat fee is unpaid (Taobao's sub_owed_status).
	// Absent otherwise. It does not make the SubAccount not Ready.
	ConditionSeatFeeOwed = "SeatFeeOwed"
	// ConditionOpenPlatformCredentialsValid (Shop, with spec.openPlatform)
	// is True when the platform's own open platform accepted the app's
	// credentials and named the shop (status.openPlatform); False with
	// PinduoduoTokenExpired, CredentialsRejected, SecretNotFound,
	// SecretInvalid, SecretNotLabelled, EndpointNotAllowed, RateLimited or
	// PlatformError otherwise. Absent without spec.openPlatform.
	ConditionOpenPlatformCredentialsValid = "OpenPlatformCredentialsValid"
)

// Condition reasons. Every reason the operator sets is one of these.
const (
	// ReasonSucceeded: the step or the whole reconcile succeeded.
	ReasonSucceeded = "Succeeded"
	// ReasonProgressing: work is under way.
	ReasonProgressing = "Progressing"
	// ReasonDeleting: the resource is being deleted.
	ReasonDeleting = "Deleting"
	// ReasonSuspended: the Shop is suspended; no writes go to the platform.
	ReasonSuspended = "Suspended"

	// ReasonShopNotFound: the referenced Shop does not exist.
	ReasonShopNotFound = "ShopNotFound"
	// ReasonShopNotInShard: the referenced Shop exists but is reconciled by
	// another manager (its labels do not match this manager's shard
	// selector); give the object the same shard labels as its Shop.
	ReasonShopNotInShard = "ShopNotInShard"
	// ReasonShopNotReady: the referenced Shop is not Ready yet.
	ReasonShopNotReady = "ShopNotReady"
	// ReasonSecretNotFound: a referenced Secret does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretInvalid: a referenced Secret lacks a required key.
	ReasonSecretInvalid = "SecretInvalid"
	// ReasonCredentialsRejected: the platform refused the shop's credentials.
	ReasonCredentialsRejected = "CredentialsRejected"
	// ReasonRateLimited: the platform asked us to slow down; retried later.
	ReasonRateLimited = "RateLimited"
	// ReasonPlatformError: a transient platform failure; retried with backoff.
	ReasonPlatformError = "PlatformError"
	// ReasonPlatformRejected: the platform refused the request as invalid.
	ReasonPlatformRejected = "PlatformRejected"
	// ReasonNotSupported: the platform cannot do what the spec asks.
	ReasonNotSupported = "NotSupported"

	// ReasonInvalidSpec: the spec breaks a rule of the shop's platform that
	// admission could not check (e.g. a Taobao role name over 20 characters).
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonUnknownPermissions: a permission code is not in the platform's catalog.
	ReasonUnknownPermissions = "UnknownPermissions"
	// ReasonHighRiskNotAllowed: a high-risk permission without allowHighRisk.
	ReasonHighRiskNotAllowed = "HighRiskNotAllowed"
	// ReasonRoleNotFound: a referenced Role does not exist.
	ReasonRoleNotFound = "RoleNotFound"
	// ReasonRoleNotReady: a referenced Role is not on the platform yet.
	ReasonRoleNotReady = "RoleNotReady"
	// ReasonRoleShopMismatch: a referenced Role belongs to another Shop.
	ReasonRoleShopMismatch = "RoleShopMismatch"
	// ReasonInUse: a Role is still used by SubAccounts and is kept on the
	// platform until they stop using it.
	ReasonInUse = "InUse"

	// ReasonNameTaken: the account name is already used in the shop by an
	// account this SubAccount did not create.
	ReasonNameTaken = "NameTaken"
	// ReasonSeatsExhausted: the shop has no free sub-account seat.
	ReasonSeatsExhausted = "SeatsExhausted"
	// ReasonPasswordTooShort: a user-provided password is below the
	// platform's minimum length.
	ReasonPasswordTooShort = "PasswordTooShort"
	// ReasonPasswordTooWeak: a user-provided password mixes fewer than
	// three kinds of character, or is one character repeated.
	ReasonPasswordTooWeak = "PasswordTooWeak"
	// ReasonPendingVerification: the platform sent an SMS code to the
	// employee's phone; the message says where to put it and until when.
	ReasonPendingVerification = "PendingVerification"
	// ReasonVerificationExpired: the code expired or no attempts are left;
	// ask for a new one with the resend-code annotation.
	ReasonVerificationExpired = "VerificationExpired"
	// ReasonAdoptionPreview: an existing account would be adopted; the
	// message lists what adopting would change. Set adoption: Adopt to go on.
	ReasonAdoptionPreview = "AdoptionPreview"
	// ReasonAdopted: an existing platform account was adopted.
	ReasonAdopted = "Adopted"
	// ReasonAdoptionNotAllowed: the Shop's spec.adoption does not allow
	// this SubAccount to adopt the existing account.
	ReasonAdoptionNotAllowed = "AdoptionNotAllowed"
	// ReasonAccountManagedElsewhere: the existing account is managed by
	// another SubAccount (of this platform shop, in any namespace); it is
	// never adopted.
	ReasonAccountManagedElsewhere = "AccountManagedElsewhere"
	// ReasonAdoptionClaimed: the existing account is claimed for adoption
	// (status.adoptionClaim); the next reconcile checks on the API server
	// that no other SubAccount holds or claims it before adopting.
	ReasonAdoptionClaimed = "AdoptionClaimed"
	// ReasonDriftDetected: the platform account or role was changed outside the
	// operator and driftPolicy Report says to report it only, or it differs
	// from the spec in what the platform's API can read but not set.
	ReasonDriftDetected = "DriftDetected"
	// ReasonInactive: (SubAccount, Inactive) no login or activity for longer
	// than the Shop's inactivityThreshold: a dormant account to offboard or
	// disable. ReasonActive: used within it.
	ReasonInactive = "Inactive"
	ReasonActive   = "Active"
	// ReasonLoginRejected: the platform refused the sub-account's own login
	// (from its credentials Secret) for a change only the sub-account may
	// make.
	ReasonLoginRejected = "LoginRejected"
	// ReasonAgentOwned: the setting (Douyin's reception capacity) is the
	// agent's own and the platform does not let the main account change
	// it: the spec's value is intent only, and the message shows the gap.
	ReasonAgentOwned = "AgentOwned"
	// ReasonAccountDisabled: the account is disabled, so it cannot sign in
	// to make a change only the sub-account may make; applied once enabled.
	ReasonAccountDisabled = "AccountDisabled"
	// ReasonDepartmentNotFound: a SubAccount's department path is neither
	// declared on the Shop nor on the platform (or not created yet).
	ReasonDepartmentNotFound = "DepartmentNotFound"
	// ReasonSecretNotLabelled: a Secret the spec names does not carry the
	// shop.subaccount.io/secret label of its purpose, so the operator does
	// not use it (nothing of its value is read).
	ReasonSecretNotLabelled = "SecretNotLabelled"
	// ReasonEndpointNotAllowed: the Shop's credentials Secret is bound to
	// other endpoint hosts (its allowed-endpoint-hosts annotation) than
	// the Shop's endpoint; no call is made.
	ReasonEndpointNotAllowed = "EndpointNotAllowed"
	// ReasonConflict: the platform refused because of another object's state
	// (e.g. a phone number already bound).
	ReasonConflict = "Conflict"
	// ReasonNameClash: (Staff) a SubAccount of the name "<staff>-<shop>"
	// exists and was not made by this Staff; delete or rename it.
	ReasonNameClash = "NameClash"
	// ReasonDuplicateShop: (Staff) two assignments pick the same shop (by
	// selectors); the shop's account is left as it is until one does.
	ReasonDuplicateShop = "DuplicateShop"
	// ReasonOffboarded: (Staff) the person is not active and the account
	// is disabled (or was never made).
	ReasonOffboarded = "Offboarded"
	// ReasonServiceOff: the shop's sub-account service is switched off
	// (Taobao); the owner switches it on in the back office (开启子账号服务).
	ReasonServiceOff = "ServiceOff"
	// ReasonFrozenByPlatform: the platform froze the account as a penalty;
	// only the platform lifts it.
	ReasonFrozenByPlatform = "FrozenByPlatform"
	// ReasonSeatFeeUnpaid: the account's seat fee is unpaid.
	ReasonSeatFeeUnpaid = "SeatFeeUnpaid"
	// ReasonPinduoduoTokenExpired: Pinduoduo's open platform refused the
	// app's access token as expired or invalid (its error 10019); retrying
	// cannot heal it, a new token in the Secret does.
	ReasonPinduoduoTokenExpired = "PinduoduoTokenExpired"
)

// Well-known labels and annotations.
const (
	// LabelManagedBy marks generated Secrets; the manager caches only
	// Secrets carrying LabelSecretRole.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy on generated objects.
	ManagedByValue = "subaccount-operator"
	// LabelSecretRole marks Secrets the operator watches and caches: set by
	// the operator on credentials Secrets it generates ("credentials"); set it
	// on a Shop's API Secret ("shop-api") or a password source ("password")
	// for changes to take effect at once rather than at the next resync.
	LabelSecretRole = "shop.subaccount.io/secret"
	// SecretRoleVerification, SecretRolePassword and SecretRoleShopAPI are
	// the values of LabelSecretRole by which a Secret opts in to being
	// read by the operator: a verification code (read once and deleted),
	// a password source (password.secretRef) and a Shop's API credentials
	// (credentialsSecretRef, and the app's Secret of openPlatform). A
	// Secret without the label of its purpose
	// is never read, deleted, sent anywhere or given a finalizer: being
	// able to name a Secret in a spec must not be enough to use it.
	SecretRoleVerification = "verification"
	SecretRolePassword     = "password"
	SecretRoleShopAPI      = "shop-api"
	// SecretRoleCredentials marks the credentials Secrets the operator
	// generates.
	SecretRoleCredentials = "credentials"
	// AnnotationAllowedEndpointHosts on a Shop's credentials Secret binds
	// it to endpoint hosts: a comma-separated list of patterns as the
	// manager's --allowed-endpoint-hosts takes ("gateway.example.com",
	// "*.example.com", "gateway.internal:8443"). A Shop whose endpoint
	// matches none is not connected: its token goes nowhere else.
	AnnotationAllowedEndpointHosts = "shop.subaccount.io/allowed-endpoint-hosts"
	// LabelShop and LabelSubAccount on generated Secrets name their owners.
	LabelShop       = "shop.subaccount.io/shop"
	LabelSubAccount = "shop.subaccount.io/subaccount"

	// AnnotationRotatePassword on a SubAccount asks for a new password now:
	// each new value triggers one rotation.
	AnnotationRotatePassword = "shop.subaccount.io/rotate-password"
	// AnnotationResendCode on a SubAccount asks the platform for a new SMS
	// verification code: each new value triggers one send (the platform
	// allows at most one a minute).
	AnnotationResendCode = "shop.subaccount.io/resend-code"
	// VerificationSecretSuffix names the Secret that hands a verification
	// code to the operator: "<SubAccount name>-verification", key "code".
	// The operator reads it once and deletes it, so the code never stays in
	// the cluster and the Git-managed spec is never edited. It must be
	// labelled shop.subaccount.io/secret=verification (kubectl subaccount
	// verify does it): any other Secret of that name is left alone.
	VerificationSecretSuffix = "-verification"
	// SecretKeyCode is the key of the verification code in that Secret.
	SecretKeyCode = "code"
	// ContactSecretInfix is in the name of the Secret handing over a Shop
	// notification contact's code: "<shop>-contact-<phone digits>-verification",
	// key "code". The resend-code annotation on a Shop is per contact:
	// "shop.subaccount.io/resend-code-<phone digits>".
	ContactSecretInfix = "-contact-"
	// AnnotationRequestedAt on a Shop asks for a drift check now: each new
	// value triggers one (like Flux's reconcile.fluxcd.io/requestedAt).
	AnnotationRequestedAt = "shop.subaccount.io/requested-at"
	// AnnotationPasswordRevision on a credentials Secret counts the passwords
	// written to it; status.passwordRevision says which one the platform has.
	AnnotationPasswordRevision = "shop.subaccount.io/password-revision"
	// AnnotationLogin on a credentials Secret says whether its login is
	// live: LoginLive once the account is this SubAccount's on the
	// platform (created or adopted, its password applied), LoginPending
	// before that and whenever it is refused (NameTaken: the name is
	// someone else's). Only a live Secret has the username key, so a
	// Vault or External Secrets sync filtering on it never hands out a
	// login that is not this SubAccount's.
	AnnotationLogin = "shop.subaccount.io/login"
	LoginLive       = "live"
	LoginPending    = "pending"
	// AnnotationPasswordCreated on a credentials Secret is when its password
	// was generated (RFC 3339); rotation periods count from it.
	AnnotationPasswordCreated = "shop.subaccount.io/password-created"
	// AnnotationRotationHandled on a credentials Secret is the last
	// rotate-password value that produced its password. Kept on the Secret,
	// not only in status, so a reconcile reading a stale cache cannot rotate
	// twice: its write of the Secret would conflict.
	AnnotationRotationHandled = "shop.subaccount.io/rotation-handled"
)

// Keys of the Shop's API credentials Secret.
const (
	SecretKeyAppKey      = "appKey"
	SecretKeyAppSecret   = "appSecret"
	SecretKeyAccessToken = "accessToken"
)

// Keys of a Shop's open-platform app Secret (spec.openPlatform): the app's
// client ID and secret and the shop's access token, as Pinduoduo's open
// platform issues them.
const (
	SecretKeyClientID     = "clientId"
	SecretKeyClientSecret = "clientSecret"
)

// Keys of a generated credentials Secret.
const (
	SecretKeyUsername    = "username"
	SecretKeyPassword    = "password"
	SecretKeyShop        = "shop"
	SecretKeyPlatform    = "platform"
	SecretKeyAccountName = "accountName"
)

// SignInAsAgentPolicy says whether the operator may sign in as an agent,
// with the password it holds, for what only the agent may change.
// +kubebuilder:validation:Enum=Never;StartingCapacity
type SignInAsAgentPolicy string

const (
	// SignInAsAgentNever (the default): the operator acts only as the main
	// account. What only the agent may set stays the agent's.
	SignInAsAgentNever SignInAsAgentPolicy = "Never"
	// SignInAsAgentStartingCapacity: the operator signs in as the agent to
	// set the spec's starting reception capacity where only the agent may
	// (Douyin), once per spec value, never to undo the agent's change.
	SignInAsAgentStartingCapacity SignInAsAgentPolicy = "StartingCapacity"
)

// DriftPolicy says what a drift check does about a platform object changed
// outside the operator.
// +kubebuilder:validation:Enum=Correct;Report
type DriftPolicy string

const (
	// DriftPolicyCorrect puts the declared state back (a DriftCorrected
	// Event says so).
	DriftPolicyCorrect DriftPolicy = "Correct"
	// DriftPolicyReport changes nothing: the difference is shown in the
	// SubAccount's Drifted condition and a DriftDetected Event.
	DriftPolicyReport DriftPolicy = "Report"
)
