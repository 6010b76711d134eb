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

// RoleTemplate is a predefined permission set, mapped to each platform's
// own permissions.
// +kubebuilder:validation:Enum=admin;operations;customer-service-lead;customer-service;marketing;logistics;designer;finance;warehouse
type RoleTemplate string

// RoleSpec defines a named permission set on one shop (a position, 岗位, on
// Douyin Shop).
// +kubebuilder:validation:XValidation:rule="has(self.template) || (has(self.permissions) && size(self.permissions) > 0)",message="a Role needs a template or at least one permission"
type RoleSpec struct {
	// shopRef names the Shop, in the same namespace, the role belongs to.
	// Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="shopRef is immutable"
	ShopRef LocalObjectReference `json:"shopRef"`

	// displayName is the role's name on the platform (Taobao: at most 20
	// characters). Must be unique in the shop.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.trim() == self",message="displayName must not start or end with spaces"
	DisplayName string `json:"displayName"`

	// description of the role on the platform (Taobao: at most 20 characters).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Description string `json:"description,omitempty"`

	// template is a predefined permission set whose permissions are merged
	// with permissions: admin, operations, customer-service-lead,
	// customer-service, marketing, logistics, designer, finance or warehouse.
	// +optional
	Template RoleTemplate `json:"template,omitempty"`

	// permissions are platform permission codes granted in addition to the
	// template's. On Taobao granting a code also grants its parents and
	// descendants.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=500
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9][A-Za-z0-9._:-]*$`
	Permissions []string `json:"permissions,omitempty"`

	// allowHighRisk permits high-risk permissions (deleting items, changing
	// prices, viewing funds or payment data, managing sub-accounts). Without
	// it such permissions are refused: least privilege by default.
	// +optional
	AllowHighRisk bool `json:"allowHighRisk,omitempty"`

	// deletionPolicy says what happens to the platform role when this Role is
	// deleted: Delete (default) or Retain.
	// +optional
	// +kubebuilder:default=Delete
	// +kubebuilder:validation:Enum=Delete;Retain
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// RoleStatus defines the observed state of a Role.
type RoleStatus struct {
	// conditions: Ready, PermissionsValid, Synced, Reconciling, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation last applied successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// roleID is the platform's ID of the role.
	// +optional
	RoleID string `json:"roleID,omitempty"`

	// effectivePermissions is the expanded, sorted permission set the role
	// grants: the template's and the explicit codes, with the platform's tree
	// expansion applied.
	// +optional
	// +listType=atomic
	EffectivePermissions []string `json:"effectivePermissions,omitempty"`

	// subAccounts counts the SubAccounts that use this Role.
	// +optional
	SubAccounts int32 `json:"subAccounts"`

	// appliedHash identifies the role state last written to the platform.
	// +optional
	AppliedHash string `json:"appliedHash,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=shopstaff,shortName=shoprole;srole
// +kubebuilder:printcolumn:name="Shop",type=string,JSONPath=".spec.shopRef.name"
// +kubebuilder:printcolumn:name="Display-Name",type=string,JSONPath=".spec.displayName"
// +kubebuilder:printcolumn:name="Template",type=string,JSONPath=".spec.template"
// +kubebuilder:printcolumn:name="Users",type=integer,JSONPath=".status.subAccounts"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].reason"
// +kubebuilder:printcolumn:name="Role-ID",type=string,JSONPath=".status.roleID",priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"

// Role is a named permission set on one shop. The plural "roles" is shared
// with RBAC: reach this kind as "roles.shop.subaccount.io", "shoprole" or
// "srole".
type Role struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec RoleSpec `json:"spec"`

	// +optional
	Status RoleStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RoleList contains a list of Role.
type RoleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Role `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Role{}, &RoleList{})
}
