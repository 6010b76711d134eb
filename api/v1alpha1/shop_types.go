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

	// seats declares the shop's sub-account seats. When unset, the platform's
	// own quota is used.
	// +optional
	Seats *ShopSeats `json:"seats,omitempty"`

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

	// suspend pauses all writes to the platform for this shop's Roles and
	// SubAccounts; reads and status updates continue.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
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

// ShopSeats are the sub-account seats a shop has.
type ShopSeats struct {
	// included is the number of seats that come with the shop for free.
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

// SeatStatus reports the shop's sub-account seats.
type SeatStatus struct {
	// used counts every sub-account on the platform, managed or not.
	Used int32 `json:"used"`
	// total is included plus purchased seats, or the platform's quota when
	// the Shop declares none.
	Total int32 `json:"total"`
	// managed counts the SubAccounts of this Shop.
	Managed int32 `json:"managed"`
}

// ShopStatus defines the observed state of a Shop.
type ShopStatus struct {
	// conditions: Ready, CredentialsValid, Reconciling, Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation last applied successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// seats used and total.
	// +optional
	Seats *SeatStatus `json:"seats,omitempty"`

	// lastSyncTime is when the last drift check compared the platform's
	// state with the desired state.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// lastHandledRequestedAt is the last shop.subaccount.io/requested-at
	// annotation value acted on.
	// +optional
	LastHandledRequestedAt string `json:"lastHandledRequestedAt,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=shopstaff,shortName=shp
// +kubebuilder:printcolumn:name="Platform",type=string,JSONPath=".spec.platform"
// +kubebuilder:printcolumn:name="Main",type=string,JSONPath=".spec.mainAccount"
// +kubebuilder:printcolumn:name="Seats-Used",type=integer,JSONPath=".status.seats.used"
// +kubebuilder:printcolumn:name="Seats-Total",type=integer,JSONPath=".status.seats.total"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].status"
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=".status.conditions[?(@.type==\"Ready\")].reason"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=".metadata.creationTimestamp"

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
