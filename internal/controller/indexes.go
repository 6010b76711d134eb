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
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// Field indexes that let a change of one object re-queue its dependants
// without listing everything.
const (
	indexRoleShop             = ".spec.shopRef.name"
	indexSubAccountShop       = ".spec.shopRef.name"
	indexSubAccountRoles      = ".spec.roles.name"
	indexSubAccountPassSecret = ".spec.password.secretRef.name"
	indexShopSecret           = ".spec.credentialsSecretRef.name"
	indexShopAppSecret        = ".spec.openPlatform.credentialsSecretRef.name"
	// indexSecretCredentialsFinalizer finds the Secrets that carry the
	// credentials finalizer without deep-copying every Secret of the
	// namespace (at 10,000 SubAccounts, 10,000 credentials Secrets each
	// Shop reconcile used to copy).
	indexSecretCredentialsFinalizer = ".metadata.finalizers.credentials"
)

// SetupIndexes registers the field indexes the controllers rely on.
func SetupIndexes(ctx context.Context, mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	for _, ix := range []struct {
		obj   client.Object
		field string
		fn    client.IndexerFunc
	}{
		{&shopv1alpha1.Role{}, indexRoleShop, func(o client.Object) []string {
			return []string{o.(*shopv1alpha1.Role).Spec.ShopRef.Name}
		}},
		{&shopv1alpha1.SubAccount{}, indexSubAccountShop, func(o client.Object) []string {
			return []string{o.(*shopv1alpha1.SubAccount).Spec.ShopRef.Name}
		}},
		{&shopv1alpha1.SubAccount{}, indexSubAccountRoles, func(o client.Object) []string {
			var names []string
			for _, r := range o.(*shopv1alpha1.SubAccount).Spec.Roles {
				names = append(names, r.Name)
			}
			return names
		}},
		{&shopv1alpha1.SubAccount{}, indexSubAccountPassSecret, func(o client.Object) []string {
			if ref := o.(*shopv1alpha1.SubAccount).Spec.Password.SecretRef; ref != nil {
				return []string{ref.Name}
			}
			return nil
		}},
		{&shopv1alpha1.Shop{}, indexShopSecret, func(o client.Object) []string {
			return []string{o.(*shopv1alpha1.Shop).Spec.CredentialsSecretRef.Name}
		}},
		{&corev1.Secret{}, indexSecretCredentialsFinalizer, func(o client.Object) []string {
			if controllerutil.ContainsFinalizer(o, credentialsFinalizer) {
				return []string{credentialsFinalizer}
			}
			return nil
		}},
		{&shopv1alpha1.Shop{}, indexShopAppSecret, func(o client.Object) []string {
			if app := o.(*shopv1alpha1.Shop).Spec.OpenPlatform; app != nil {
				return []string{app.CredentialsSecretRef.Name}
			}
			return nil
		}},
	} {
		if err := idx.IndexField(ctx, ix.obj, ix.field, ix.fn); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}

// readOnlyList lists from the cache without deep-copying the items: they
// share the cache's strings, slices and maps, so a caller may read them and
// must not modify them (nor keep them). For the lists that are only counted
// or turned into names and keys, which at 10,000 SubAccounts would
// otherwise copy thousands of objects per reconcile or metrics scrape.
var readOnlyList = client.UnsafeDisableDeepCopy

// requestsFor lists the objects of list in namespace whose field matches
// value and turns them into reconcile requests.
func requestsFor(ctx context.Context, c client.Client, list client.ObjectList, namespace, field, value string) []reconcile.Request {
	found, err := byIndex[client.Object](ctx, c, list, namespace, field, value)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing dependants", "field", field, "value", value)
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(found))
	for _, o := range found {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
	}
	return reqs
}
