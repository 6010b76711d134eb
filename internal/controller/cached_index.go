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
	"strings"
	"sync"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// indexedClient is a controller's client that also reads the informers'
// field indexes directly (byIndex). A List from the cache, even without
// deep copies (readOnlyList), fills the list's Items with a copy of each
// object's struct: at 10,000 SubAccounts the seat check of every
// SubAccount reconcile filled a list with its shop's hundred, 1.2 GB of
// garbage in one wave and a third of the manager's allocations
// (docs/benchmarks.md, "Memory at 10,000"). Each controller's
// SetupWithManager installs it (withCachedIndexes).
type indexedClient struct {
	client.Client
	informers cache.Informers
	scheme    *runtime.Scheme
	// indexers holds, per kind, the informer's indexer, or nil where the
	// cache is not one informer per kind (a cache of several namespaces):
	// byIndex then lists.
	indexers sync.Map
}

// withCachedIndexes gives c the manager cache's indexes, once.
func withCachedIndexes(c client.Client, mgr ctrl.Manager) client.Client {
	if _, ok := c.(*indexedClient); ok {
		return c
	}
	return &indexedClient{Client: c, informers: mgr.GetCache(), scheme: mgr.GetScheme()}
}

// indexer is the informer's indexer for the items of list, or nil.
func (c *indexedClient) indexer(ctx context.Context, list client.ObjectList) (toolscache.Indexer, error) {
	gvk, err := apiutil.GVKForObject(list, c.scheme)
	if err != nil {
		return nil, err
	}
	gvk = schema.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: strings.TrimSuffix(gvk.Kind, "List")}
	if known, ok := c.indexers.Load(gvk); ok {
		ix, _ := known.(toolscache.Indexer)
		return ix, nil
	}
	inf, err := c.informers.GetInformerForKind(ctx, gvk)
	if err != nil {
		return nil, err
	}
	var ix toolscache.Indexer
	if shared, ok := inf.(toolscache.SharedIndexInformer); ok {
		ix = shared.GetIndexer()
	}
	c.indexers.Store(gvk, ix)
	return ix, nil
}

// byIndex returns the objects of list's kind in namespace whose field
// index (SetupIndexes) holds value, in no particular order. Through an
// indexedClient they are the cache's own objects, neither copied nor
// listed: read them, never modify or keep them (as with readOnlyList).
// Through any other reader (a fake client in tests, a cache of several
// namespaces) it lists, without deep copies, into list.
func byIndex[T client.Object](ctx context.Context, c client.Reader, list client.ObjectList, namespace, field, value string) ([]T, error) {
	if ic, ok := c.(*indexedClient); ok {
		ix, err := ic.indexer(ctx, list)
		if err != nil {
			return nil, err
		}
		if ix != nil {
			// The keys controller-runtime's IndexField files a value under
			// (internal.KeyToNamespacedKey).
			key := namespace + "/" + value
			if namespace == "" {
				key = "__all_namespaces/" + value
			}
			found, err := ix.ByIndex("field:"+field, key)
			if err != nil {
				return nil, err
			}
			out := make([]T, 0, len(found))
			for _, o := range found {
				t, ok := o.(T)
				if !ok {
					return nil, fmt.Errorf("the index %s holds a %T", field, o)
				}
				out = append(out, t)
			}
			return out, nil
		}
	}
	if err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{field: value}, readOnlyList); err != nil {
		return nil, err
	}
	var out []T
	err := apimeta.EachListItem(list, func(o runtime.Object) error {
		t, ok := o.(T)
		if !ok {
			return fmt.Errorf("the list holds a %T", o)
		}
		out = append(out, t)
		return nil
	})
	return out, err
}
