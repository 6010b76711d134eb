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

package controller

import (
	"strings"
	"sync"
	"unique"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// Interning the cache (issue 7's memory target). Every object the API
// server sends is decoded into fresh strings and slices, so 10,000 cached
// SubAccounts hold 10,000 copies of "trade-order-view", of the same
// 18-code permission list three times over, of the same label keys and
// condition reasons. internCached makes the cached objects share them:
//
//   - strings that repeat across objects (namespace, label keys and
//     values, annotation keys, finalizers, owner kinds, Secret data keys,
//     role and shop names, condition types, statuses and reasons,
//     permission codes) become one canonical copy (the unique package: weak
//     handles, nothing is kept alive once no object uses it);
//   - identical permission lists share one backing array (sharedSlices);
//   - slices the decoder over-allocated (conditions, roles, finalizers,
//     owner references) are clipped to their length.
//
// Values that differ per object (names, UIDs, condition messages) or are
// secret (Secret data values, never interned anywhere) are left alone.
//
// Sharing is safe because nothing mutates a cached object: the cache hands
// out deep copies (controller-runtime's default), and what reads the
// cache's own objects (event handlers, byIndex, the fair queue's
// classification and resolveRoles, with UnsafeDisableDeepCopy) only reads.
func internCached(obj any) {
	switch o := obj.(type) {
	case *shopv1alpha1.SubAccount:
		internMeta(&o.ObjectMeta)
		internSubAccount(o)
	case *shopv1alpha1.Role:
		internMeta(&o.ObjectMeta)
		o.Spec.ShopRef.Name = intern(o.Spec.ShopRef.Name)
		o.Spec.Permissions = sharedSlices.get(o.Spec.Permissions)
		o.Status.EffectivePermissions = sharedSlices.get(o.Status.EffectivePermissions)
		o.Status.Conditions = internConditions(o.Status.Conditions)
	case *shopv1alpha1.Shop:
		internMeta(&o.ObjectMeta)
		o.Status.Conditions = internConditions(o.Status.Conditions)
	case *corev1.Secret:
		internMeta(&o.ObjectMeta)
		o.Type = corev1.SecretType(intern(string(o.Type)))
		if len(o.Data) > 0 {
			data := make(map[string][]byte, len(o.Data))
			for k, v := range o.Data {
				data[intern(k)] = v // the value may be a password: never interned
			}
			o.Data = data
		}
	}
}

func internSubAccount(sa *shopv1alpha1.SubAccount) {
	sa.Spec.ShopRef.Name = intern(sa.Spec.ShopRef.Name)
	sa.Spec.Roles = clip(sa.Spec.Roles)
	for i := range sa.Spec.Roles {
		sa.Spec.Roles[i].Name = intern(sa.Spec.Roles[i].Name)
	}
	sa.Spec.ExtraPermissions = sharedSlices.get(sa.Spec.ExtraPermissions)
	sa.Spec.Adoption = shopv1alpha1.AdoptionPolicy(intern(string(sa.Spec.Adoption)))
	sa.Spec.DeletionPolicy = shopv1alpha1.DeletionPolicy(intern(string(sa.Spec.DeletionPolicy)))
	sa.Spec.Employee.Department = intern(sa.Spec.Employee.Department)
	sa.Status.Conditions = internConditions(sa.Status.Conditions)
	sa.Status.EffectivePermissions = sharedSlices.get(sa.Status.EffectivePermissions)
	sa.Status.AppliedPermissions = sharedSlices.get(sa.Status.AppliedPermissions)
	if src := sa.Status.PermissionSources; src != nil {
		src.Roles = clip(src.Roles)
		for i := range src.Roles {
			src.Roles[i].Name = intern(src.Roles[i].Name)
			src.Roles[i].Permissions = sharedSlices.get(src.Roles[i].Permissions)
		}
		src.Supplementary = sharedSlices.get(src.Supplementary)
	}
}

// internMeta interns the metadata strings that repeat across objects.
func internMeta(m *metav1.ObjectMeta) {
	m.Namespace = intern(m.Namespace)
	m.Labels = internMap(m.Labels, true)
	m.Annotations = internMap(m.Annotations, false)
	m.Finalizers = clip(m.Finalizers)
	for i := range m.Finalizers {
		m.Finalizers[i] = intern(m.Finalizers[i])
	}
	m.OwnerReferences = clip(m.OwnerReferences)
	for i := range m.OwnerReferences {
		r := &m.OwnerReferences[i]
		// The owner's name is left alone: a credentials Secret's owner is
		// its own SubAccount, a name no other object repeats.
		r.APIVersion, r.Kind = intern(r.APIVersion), intern(r.Kind)
	}
}

// internMap returns m rebuilt with interned keys (and values, when
// values is set: label values repeat, annotation values mostly do not).
func internMap(m map[string]string, values bool) map[string]string {
	if len(m) == 0 {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if values {
			v = intern(v)
		}
		out[intern(k)] = v
	}
	return out
}

// internConditions returns conds clipped, its repeated strings interned.
func internConditions(conds []metav1.Condition) []metav1.Condition {
	conds = clip(conds)
	for i := range conds {
		c := &conds[i]
		c.Type, c.Reason = intern(c.Type), intern(c.Reason)
		c.Status = metav1.ConditionStatus(intern(string(c.Status)))
	}
	return conds
}

// clip returns s in an array of its own length: the JSON decoder grows
// slices by doubling, so five conditions (96 bytes each) sit in an array
// of eight.
func clip[T any](s []T) []T {
	if cap(s) == len(s) {
		return s
	}
	return append(make([]T, 0, len(s)), s...)
}

func intern(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}

// maxSharedSlices bounds sliceTable: permission lists are few in practice
// (they follow the Roles), but nothing else bounds them, so the table is
// emptied when it fills. Objects keep the slices they already share.
const maxSharedSlices = 4096

// sliceTable hands out one shared backing array per distinct string list.
type sliceTable struct {
	mu     sync.Mutex
	slices map[string][]string // the list joined by NUL → the shared list
}

var sharedSlices = &sliceTable{slices: map[string][]string{}}

// get returns the shared list equal to s (s itself, interned, the first
// time). The result must not be modified.
func (t *sliceTable) get(s []string) []string {
	if len(s) == 0 {
		return s
	}
	key := strings.Join(s, "\x00")
	t.mu.Lock()
	defer t.mu.Unlock()
	if shared, ok := t.slices[key]; ok {
		return shared
	}
	if len(t.slices) >= maxSharedSlices {
		clear(t.slices)
	}
	for i := range s {
		s[i] = intern(s[i])
	}
	s = s[:len(s):len(s)] // an append by a reader copies instead of writing into the shared array
	t.slices[key] = s
	return s
}
