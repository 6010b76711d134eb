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

// StaffSpec is one person and the shops they work in.
// +kubebuilder:validation:XValidation:rule="has(self.accountName) || self.assignments.all(a, has(a.accountName))",message="give accountName, or an accountName in every assignment"
// +kubebuilder:validation:XValidation:rule="self.assignments.all(a, !has(a.shops) || a.shops.all(s, self.assignments.filter(b, has(b.shops) && s in b.shops).size() == 1))",message="a shop may be named in one assignment only"
type StaffSpec struct {
	// employee is the person: real name, employee number and, where the
	// platform has departments (Taobao), the department path, e.g.
	// "客服部/售前". Copied to every account.
	// +optional
	Employee Employee `json:"employee,omitempty"`

	// phone is the person's mobile number, given to every account: an
	// 11-digit mainland China number or E.164. On Douyin each shop texts
	// it a verification code (status.shops[].verification).
	// +optional
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^(1[3-9][0-9]{9}|\\\\+[1-9][0-9]{6,14})$')",message="phone must be an 11-digit mainland mobile number such as 13800138000 or E.164 such as +8613800138000"
	Phone string `json:"phone,omitempty"`

	// displayName is the name customers see in chat, unless an assignment
	// gives another.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	DisplayName string `json:"displayName,omitempty"`

	// accountName is the login's part after "<mainAccount>:" in every shop
	// whose assignment does not give its own. Changing it replaces the
	// accounts (the old ones go by their deletionPolicy).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^[\\\\p{L}\\\\p{N}][\\\\p{L}\\\\p{N}._-]*$')",message="accountName must start with a letter or digit and contain only letters, digits, '.', '_' or '-' (no ':' or spaces)"
	AccountName string `json:"accountName,omitempty"`

	// active is the person's state. false offboards them everywhere at
	// once: every account is disabled on its platform, ahead of the
	// operator's queued work; true (default) keeps the accounts enabled.
	// +optional
	// +kubebuilder:default=true
	Active *bool `json:"active,omitempty"`

	// assignments say which shops the person works in and as what. A shop
	// may be picked by one assignment only.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=10
	Assignments []StaffAssignment `json:"assignments"`
}

// StaffAssignment picks shops, by name or by labels, and says what the
// person's account in each of them is.
// +kubebuilder:validation:XValidation:rule="has(self.shops) != has(self.shopSelector)",message="an assignment picks its shops with either shops (names) or shopSelector, not both and not neither"
// +kubebuilder:validation:XValidation:rule="!has(self.shops) || !has(self.shopPhones) || self.shopPhones.all(p, p.shop in self.shops)",message="shopPhones may name only shops the assignment's shops list names"
type StaffAssignment struct {
	// shops names Shops of the namespace.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	Shops []string `json:"shops,omitempty"`

	// shopSelector picks the namespace's Shops by their labels, e.g.
	// brand: lefa. Each Shop also carries, for this selector only, the
	// label shop.subaccount.io/platform with its platform, so
	// {key: shop.subaccount.io/platform, operator: In, values: [pinduoduo,
	// douyin]} picks by platform. A Shop labelled to match later gains an
	// account; one that stops matching loses it (by its deletionPolicy).
	// +optional
	ShopSelector *StaffSelector `json:"shopSelector,omitempty"`

	// roleSelector picks, in each shop, that shop's Roles by their labels,
	// e.g. job: customer-service: each shop has its own Role objects, and
	// the same labels find the same job in every one. A shop where no Role
	// matches holds only that shop's account (RoleNotFound). On Douyin it
	// must pick exactly one Role (the position).
	// +required
	RoleSelector StaffSelector `json:"roleSelector"`

	// extraPermissions are supplementary permission codes per platform
	// (a shop gets those of its platform), on top of the Roles.
	// +optional
	// +listType=map
	// +listMapKey=platform
	// +kubebuilder:validation:MaxItems=3
	ExtraPermissions []PlatformPermissions `json:"extraPermissions,omitempty"`

	// allowHighRisk permits high-risk codes among extraPermissions.
	// +optional
	AllowHighRisk bool `json:"allowHighRisk,omitempty"`

	// accountName overrides spec.accountName in these shops.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^[\\\\p{L}\\\\p{N}][\\\\p{L}\\\\p{N}._-]*$')",message="accountName must start with a letter or digit and contain only letters, digits, '.', '_' or '-' (no ':' or spaces)"
	AccountName string `json:"accountName,omitempty"`

	// displayName overrides spec.displayName in these shops.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	DisplayName string `json:"displayName,omitempty"`

	// phone overrides spec.phone in these shops, for a person who uses
	// another number there. On Douyin the verification code goes to it.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^(1[3-9][0-9]{9}|\\\\+[1-9][0-9]{6,14})$')",message="phone must be an 11-digit mainland mobile number such as 13800138000 or E.164 such as +8613800138000"
	Phone string `json:"phone,omitempty"`

	// shopPhones give a phone for one shop, over phone and spec.phone:
	// e.g. the person's second Douyin shop, verified on another number.
	// An entry whose shop the assignment does not pick is not used.
	// +optional
	// +listType=map
	// +listMapKey=shop
	// +kubebuilder:validation:MaxItems=20
	ShopPhones []StaffShopPhone `json:"shopPhones,omitempty"`

	// seat is the customer-service chat seat in these shops (see
	// SubAccount spec.seat); omit it for staff who do not serve customers.
	// +optional
	ChatSeat *ChatSeatSpec `json:"seat,omitempty"`

	// deletionPolicy is what happens to an account of these shops when its
	// shop stops being assigned or the Staff is deleted: Delete (default),
	// Disable or Retain (see SubAccount spec.deletionPolicy).
	// +optional
	// +kubebuilder:default=Delete
	// +kubebuilder:validation:Enum=Delete;Disable;Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// StaffShopPhone is the phone the person uses in one shop.
type StaffShopPhone struct {
	// shop is the Shop's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Shop string `json:"shop"`
	// phone is the number: an 11-digit mainland China number or E.164.
	// +required
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^(1[3-9][0-9]{9}|\\\\+[1-9][0-9]{6,14})$')",message="phone must be an 11-digit mainland mobile number such as 13800138000 or E.164 such as +8613800138000"
	Phone string `json:"phone"`
}

// StaffSelector is a label selector that must say something: an empty
// selector would pick every Shop or Role of the namespace.
// +kubebuilder:validation:XValidation:rule="(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)",message="a selector needs matchLabels or matchExpressions: an empty one would pick everything"
type StaffSelector struct {
	// matchLabels: each key must have this value.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// Keys and values that are not labels stop the Staff (InvalidSpec).
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
	// matchExpressions: each must hold.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	MatchExpressions []StaffSelectorRequirement `json:"matchExpressions,omitempty"`
}

// StaffSelectorRequirement is one expression of a StaffSelector.
// +kubebuilder:validation:XValidation:rule="(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",message="In and NotIn need values; Exists and DoesNotExist take none"
type StaffSelectorRequirement struct {
	// key is the label key.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')",message="key must be a label key: letters, digits, '-', '_' and '.', at most 63 characters, with an optional DNS prefix"
	Key string `json:"key"`
	// operator is In, NotIn, Exists or DoesNotExist.
	// +required
	// +kubebuilder:validation:Enum=In;NotIn;Exists;DoesNotExist
	Operator metav1.LabelSelectorOperator `json:"operator"`
	// values for In and NotIn.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`
	Values []string `json:"values,omitempty"`
}

// PlatformPermissions are permission codes for the shops of one platform.
type PlatformPermissions struct {
	// platform the codes are for.
	// +required
	Platform Platform `json:"platform"`
	// permissions are the platform's codes (see SubAccount
	// spec.extraPermissions).
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9][A-Za-z0-9._:-]*$`
	Permissions []string `json:"permissions"`
}

// StaffStatus is where the person's accounts stand.
type StaffStatus struct {
	// conditions: Ready (every account Ready; with active false, every
	// account disabled), Reconciling, Stalled, and NameClash when a
	// SubAccount of the name the Staff would use exists and is not the
	// Staff's.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation last applied successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// shops has a row per assigned shop.
	// +optional
	// +listType=map
	// +listMapKey=shop
	Shops []StaffShopStatus `json:"shops,omitempty"`

	// shopCount is how many shops are assigned.
	// +optional
	ShopCount int32 `json:"shopCount,omitempty"`

	// readyCount is how many of their accounts are Ready.
	// +optional
	ReadyCount int32 `json:"readyCount,omitempty"`

	// summary is readyCount of shopCount, e.g. "3/4 ready".
	// +optional
	Summary string `json:"summary,omitempty"`
}

// StaffShopStatus is the person's account in one shop.
type StaffShopStatus struct {
	// shop is the Shop's name.
	Shop string `json:"shop"`
	// platform is the shop's platform.
	// +optional
	Platform Platform `json:"platform,omitempty"`
	// login is the full login, "<mainAccount>:<accountName>".
	// +optional
	Login string `json:"login,omitempty"`
	// subAccount is the SubAccount holding the account, "<staff>-<shop>".
	// +optional
	SubAccount string `json:"subAccount,omitempty"`
	// ready is the account's Ready condition status: True, False or Unknown.
	// +optional
	Ready metav1.ConditionStatus `json:"ready,omitempty"`
	// reason is why it is (not) Ready: the SubAccount's reason, or the
	// Staff's own (RoleNotFound before the SubAccount exists, NameClash,
	// ShopNotFound, DuplicateShop).
	// +optional
	Reason string `json:"reason,omitempty"`
	// message says more.
	// +optional
	Message string `json:"message,omitempty"`
	// disabled is true when the account's login is blocked.
	// +optional
	Disabled bool `json:"disabled,omitempty"`
	// verification is the phone verification of platforms that text a
	// code (Douyin): Pending (a code awaited: hand it over with
	// kubectl subaccount verify staff/NAME --shop SHOP CODE), Expired, or
	// Verified. Empty elsewhere.
	// +optional
	Verification string `json:"verification,omitempty"`
	// verificationExpiresAt is when an awaited code stops working.
	// +optional
	VerificationExpiresAt *metav1.Time `json:"verificationExpiresAt,omitempty"`
	// verificationPhone is the phone the shop's code went to, masked
	// (e.g. 138****8000): the person's phone, or the one the assignment
	// gives for this shop.
	// +optional
	VerificationPhone string `json:"verificationPhone,omitempty"`
	// seat is the chat seat as applied: "<presence> <capacity>", e.g.
	// "Online 20"; empty without chat.
	// +optional
	Seat string `json:"seat,omitempty"`
}

// Verification states of a StaffShopStatus.
const (
	StaffVerificationPending  = "Pending"
	StaffVerificationExpired  = "Expired"
	StaffVerificationVerified = "Verified"
)

// Staff labels.
const (
	// LabelStaff on a SubAccount names the Staff that made it.
	LabelStaff = "shop.subaccount.io/staff"
	// LabelPlatform is the label a Staff's shopSelector sees on every Shop
	// with the Shop's platform (it need not be on the Shop).
	LabelPlatform = "shop.subaccount.io/platform"
)

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=shopstaff,shortName=stf;shstaff
// +kubebuilder:printcolumn:name="Shops",type=integer,JSONPath=".status.shopCount"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.summary"
// +kubebuilder:printcolumn:name="Active",type=boolean,JSONPath=".spec.active"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].reason",priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 30",message="a Staff's name must be at most 30 characters: its SubAccounts are named <staff>-<shop> and a SubAccount's name at most 63"

// Staff is one person across shops and platforms: the Staff controller
// keeps one SubAccount per assigned shop, named <staff>-<shop>, and
// offboards the person everywhere at once with active: false.
type Staff struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec StaffSpec `json:"spec"`

	// +optional
	Status StaffStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// StaffList contains a list of Staff.
type StaffList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Staff `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Staff{}, &StaffList{})
}

// GetConditions returns the Staff's conditions.
func (s *Staff) GetConditions() []metav1.Condition { return s.Status.Conditions }

// SetConditions replaces the Staff's conditions.
func (s *Staff) SetConditions(c []metav1.Condition) { s.Status.Conditions = c }

// IsActive says whether the person is active (the default).
func (s *Staff) IsActive() bool { return s.Spec.Active == nil || *s.Spec.Active }
