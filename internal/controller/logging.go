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

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// shopLogger returns a controller's LogConstructor: the logger of each
// reconcile carries what controller-runtime's default one does (controller,
// controllerGroup, controllerKind, the object as <Kind>, namespace, name)
// and also the object's shop and the shop's platform, read from the cache
// (reader), so that every line of a reconcile, including controller-runtime's
// own "Reconciler error", names the resource, its shop and its platform.
// shopName gives the shop of a request (from the object in the cache; false
// when it cannot be read). No value ever holds a secret.
func shopLogger(base logr.Logger, reader client.Reader, name, kind string,
	shopName func(context.Context, types.NamespacedName) (string, bool)) func(*reconcile.Request) logr.Logger {
	base = base.WithValues("controller", name, "controllerGroup", shopv1alpha1.GroupVersion.Group, "controllerKind", kind)
	return func(req *reconcile.Request) logr.Logger {
		if req == nil {
			return base
		}
		log := base.WithValues(kind, klog.KRef(req.Namespace, req.Name), "namespace", req.Namespace, "name", req.Name)
		ctx := context.Background()
		shop, ok := shopName(ctx, req.NamespacedName)
		if !ok {
			return log
		}
		log = log.WithValues("shop", shop)
		s := &shopv1alpha1.Shop{}
		if err := reader.Get(ctx, types.NamespacedName{Namespace: req.Namespace, Name: shop}, s); err == nil {
			log = log.WithValues("platform", string(s.Spec.Platform))
		}
		return log
	}
}

// shopNameFromRef reads the object of a request from reader and returns
// the shop it refers to.
func shopNameFromRef[T client.Object](reader client.Reader, newObj func() T, ref func(T) string) func(context.Context, types.NamespacedName) (string, bool) {
	return func(ctx context.Context, key types.NamespacedName) (string, bool) {
		obj := newObj()
		if err := reader.Get(ctx, key, obj); err != nil {
			return "", false
		}
		return ref(obj), true
	}
}

// shopNameItself: a Shop is its own shop.
func shopNameItself(_ context.Context, key types.NamespacedName) (string, bool) {
	return key.Name, true
}
