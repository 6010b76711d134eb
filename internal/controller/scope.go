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
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// Scope is the part of the cluster one manager reconciles, so that several
// managers (each with its own leader election) can share the shops of a
// cluster (docs/sharding.md):
//
//   - Namespaces: only these namespaces are watched and cached (all when
//     empty);
//   - Shard: only Shops, Roles and SubAccounts whose labels match this
//     selector are watched and cached (all when nil). A Role or SubAccount
//     follows its Shop's shard by carrying the same labels: one whose Shop
//     is not in the shard but exists is Stalled with reason ShopNotInShard,
//     never reconciled against a Shop another manager owns.
//
// The zero Scope is the whole cluster.
type Scope struct {
	Namespaces []string
	Shard      labels.Selector
}

// ParseScope builds a Scope from the manager's flags: a comma-separated
// list of namespaces and a label selector in kubectl's syntax (e.g.
// "shard=a", "shard in (a,b)", "shard!=a", "!shard").
func ParseScope(namespaces, shardSelector string) (Scope, error) {
	var s Scope
	for _, ns := range strings.Split(namespaces, ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" {
			continue
		}
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return Scope{}, fmt.Errorf("--watch-namespaces: %q is not a namespace name: %s", ns, strings.Join(errs, "; "))
		}
		if !slices.Contains(s.Namespaces, ns) {
			s.Namespaces = append(s.Namespaces, ns)
		}
	}
	if strings.TrimSpace(shardSelector) != "" {
		sel, err := labels.Parse(shardSelector)
		if err != nil {
			return Scope{}, fmt.Errorf("--shard-selector %q is not a label selector: %w", shardSelector, err)
		}
		if !sel.Empty() {
			s.Shard = sel
		}
	}
	return s, nil
}

// sharded reports whether the scope selects Shops by label.
func (s Scope) sharded() bool { return s.Shard != nil && !s.Shard.Empty() }

// String describes the scope for logs.
func (s Scope) String() string {
	ns := "all namespaces"
	if len(s.Namespaces) > 0 {
		ns = "namespaces " + strings.Join(s.Namespaces, ",")
	}
	if !s.sharded() {
		return ns + ", every Shop"
	}
	return ns + ", Shops matching " + s.Shard.String()
}

// CacheOptions caches only the Secrets the operator labels (caching every
// Secret in the cluster is how operators before us ran out of memory),
// trims everything cached with StripCachedMetadata, and limits the cache to
// the scope: its namespaces, and for the three kinds its shard.
func (s Scope) CacheOptions() (cache.Options, error) {
	labelled, err := labels.NewRequirement(shopv1alpha1.LabelSecretRole, selection.Exists, nil)
	if err != nil {
		return cache.Options{}, fmt.Errorf("building the Secret selector: %w", err)
	}
	opts := cache.Options{
		DefaultTransform: StripCachedMetadata,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.NewSelector().Add(*labelled)},
		},
	}
	if len(s.Namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range s.Namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	if s.sharded() {
		for _, obj := range []client.Object{&shopv1alpha1.Shop{}, &shopv1alpha1.Role{}, &shopv1alpha1.SubAccount{}} {
			opts.ByObject[obj] = cache.ByObject{Label: s.Shard}
		}
	}
	return opts, nil
}

// StripCachedMetadata is the cache's transform: it drops from every object
// the metadata no controller reads, which would otherwise be held once per
// cached object (issue 7's memory target): managedFields (server-side
// apply's bookkeeping, often larger than the spec) and kubectl's
// last-applied-configuration annotation (a JSON copy of the whole applied
// object). Every other annotation and label is kept (the controllers read
// their own annotations, rotation and resend, from the cache), except on
// credentials Secrets, which the cache holds as metadata only
// (trimCredentials). Dropping these two is safe because the operator never writes a
// cached object back whole: it patches (a merge patch from the cached copy
// to the changed copy touches neither field) or writes a Secret it built
// from scratch. Objects the cache hands out are therefore not exact copies
// of the API server's: code that needs either field must read from the API
// reader. Last, the strings and permission lists that repeat across cached
// objects are shared (internCached).
func StripCachedMetadata(in any) (any, error) {
	obj, err := cache.TransformStripManagedFields()(in)
	if err != nil {
		return obj, err
	}
	if m, ok := obj.(metav1.Object); ok {
		if a := m.GetAnnotations(); a != nil {
			if _, has := a[corev1.LastAppliedConfigAnnotation]; has {
				delete(a, corev1.LastAppliedConfigAnnotation)
				if len(a) == 0 {
					m.SetAnnotations(nil)
				}
			}
		}
	}
	if secret, ok := obj.(*corev1.Secret); ok {
		trimCredentials(secret)
	}
	internCached(obj)
	return obj, nil
}

// The types of a credentials Secret as the cache holds it
// (trimCredentials): its metadata only, and whether its login is live
// (AnnotationLogin), which the watch's predicate looks at
// (ownedSecretChanged). The API server never sees these types: nothing
// writes a cached Secret back.
const (
	secretTypeMetadataOnly     corev1.SecretType = "shop.subaccount.io/cached-metadata-only"
	secretTypeMetadataOnlyLive corev1.SecretType = "shop.subaccount.io/cached-metadata-only;login=live"
)

// trimmed reports whether the cache trimmed s (trimCredentials).
func trimmed(s *corev1.Secret) bool {
	return s.Type == secretTypeMetadataOnly || s.Type == secretTypeMetadataOnlyLive
}

// loginIsLive reports whether s shows its login as live, trimmed or not.
func loginIsLive(s *corev1.Secret) bool {
	if trimmed(s) {
		return s.Type == secretTypeMetadataOnlyLive
	}
	return s.Annotations[shopv1alpha1.AnnotationLogin] == shopv1alpha1.LoginLive
}

// trimCredentials keeps of a SubAccount's credentials Secret only what the
// cache is read for (issue 19's memory target): that it exists, its owner,
// finalizers, deletion and resourceVersion. Its data, labels and
// annotations (two thirds of the 1.8 KB a credentials Secret held in the
// cache, 10,000 of them at 10,000 SubAccounts) are read from the API
// server when a reconcile needs them (credentialsSecret); the type says
// the object is trimmed, and whether its login is live. The Secrets of the other roles (Shop API
// credentials, password sources, SMS codes) are few and kept whole.
func trimCredentials(s *corev1.Secret) {
	if s.Labels[shopv1alpha1.LabelSecretRole] != shopv1alpha1.SecretRoleCredentials {
		return
	}
	s.Type = secretTypeMetadataOnly
	if s.Annotations[shopv1alpha1.AnnotationLogin] == shopv1alpha1.LoginLive {
		s.Type = secretTypeMetadataOnlyLive
	}
	s.Data, s.StringData, s.Labels, s.Annotations = nil, nil, nil, nil
}

// CacheOptions are the cache options of a manager of the whole cluster
// (Scope{}.CacheOptions).
func CacheOptions() (cache.Options, error) {
	return Scope{}.CacheOptions()
}
