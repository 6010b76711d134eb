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

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// GetConditions returns the Shop's conditions.
func (s *Shop) GetConditions() []metav1.Condition { return s.Status.Conditions }

// SetConditions replaces the Shop's conditions.
func (s *Shop) SetConditions(c []metav1.Condition) { s.Status.Conditions = c }

// GetConditions returns the Role's conditions.
func (r *Role) GetConditions() []metav1.Condition { return r.Status.Conditions }

// SetConditions replaces the Role's conditions.
func (r *Role) SetConditions(c []metav1.Condition) { r.Status.Conditions = c }

// GetConditions returns the SubAccount's conditions.
func (s *SubAccount) GetConditions() []metav1.Condition { return s.Status.Conditions }

// SetConditions replaces the SubAccount's conditions.
func (s *SubAccount) SetConditions(c []metav1.Condition) { s.Status.Conditions = c }

// CredentialsSecretName is the name of the SubAccount's generated Secret.
func (s *SubAccount) CredentialsSecretName() string {
	if s.Spec.CredentialsSecret.Name != "" {
		return s.Spec.CredentialsSecret.Name
	}
	return s.Name + "-credentials"
}

// DeletionPolicyOrDefault returns the SubAccount's deletion policy.
func (s *SubAccount) DeletionPolicyOrDefault() DeletionPolicy {
	if s.Spec.DeletionPolicy == "" {
		return DeletionPolicyDelete
	}
	return s.Spec.DeletionPolicy
}
