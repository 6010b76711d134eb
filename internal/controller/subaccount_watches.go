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

// What wakes a SubAccount reconcile (the predicates are in predicates.go).

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// SetupWithManager registers the controller: SubAccounts, their Secrets,
// and the Shops, Roles and password Secrets they depend on.
func (r *SubAccountReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.Client = withCachedIndexes(r.Client, mgr)
	byIndex := func(field string) handler.EventHandler {
		return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return requestsFor(ctx, r.Client, &shopv1alpha1.SubAccountList{}, o.GetNamespace(), field, o.GetName())
		})
	}
	waitingForQuota := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		reqs, err := wakeForAccountQuota(ctx, r.Client, o.(*shopv1alpha1.Shop))
		if err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "listing SubAccounts of the shop")
		}
		return reqs
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&shopv1alpha1.SubAccount{}, builder.WithPredicates(ownChangeMatters)).
		Watches(&shopv1alpha1.SubAccount{}, r.skeleton.writes.pruner()).
		Owns(&corev1.Secret{}, builder.WithPredicates(ownedSecretChanged(&r.publishing))).
		Watches(&shopv1alpha1.Shop{}, byIndex(indexSubAccountShop), builder.WithPredicates(shopSpecOrReadinessChanged)).
		Watches(&shopv1alpha1.Shop{}, waitingForQuota, builder.WithPredicates(shopAccountQuotaChanged)).
		Watches(&shopv1alpha1.Shop{}, byIndex(indexSubAccountShop), builder.WithPredicates(shopDepartmentIDsChanged)).
		Watches(&shopv1alpha1.Role{}, byIndex(indexSubAccountRoles), builder.WithPredicates(roleChangeMatters)).
		Watches(&corev1.Secret{}, byIndex(indexSubAccountPassSecret)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(verificationSecretOwner), builder.WithPredicates(isCodeSecret)).
		WatchesRawSource(source.Channel(r.Drift.subAccounts, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles,
			NewQueue: fairQueueFactory(classifyFromCache(mgr.GetCache(), subAccountKind, subAccountUrgency))}).
		WithLogConstructor(shopLogger(mgr.GetLogger(), mgr.GetCache(), "subaccount", "SubAccount",
			shopNameFromRef(mgr.GetCache(), func() *shopv1alpha1.SubAccount { return &shopv1alpha1.SubAccount{} },
				func(sa *shopv1alpha1.SubAccount) string { return sa.Spec.ShopRef.Name }))).
		Named("subaccount").
		Complete(r)
}

// verificationSecretOwner maps "<name>-verification" to SubAccount name.
func verificationSecretOwner(_ context.Context, o client.Object) []reconcile.Request {
	name, ok := strings.CutSuffix(o.GetName(), shopv1alpha1.VerificationSecretSuffix)
	if !ok || name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: name}}}
}
