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
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	toolscache "k8s.io/client-go/tools/cache"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// byIndex through the manager's client finds what a List with the same
// field selector finds, and hands out the cache's own objects: the very
// pointers the informer holds, so nothing is copied. A SubAccount of a
// Shop of the same name in another namespace is not found.
func TestByIndexReadsTheCachesOwnObjects(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns, other := newNamespace(t), newNamespace(t)
	for _, name := range []string{"a", "b", "c"} {
		create(t, newSubAccount(ns, name))
	}
	create(t, newSubAccount(other, "elsewhere"))

	indexed := withCachedIndexes(suiteManager.GetClient(), suiteManager)
	g.Expect(withCachedIndexes(indexed, suiteManager)).To(BeIdenticalTo(indexed), "installed once")
	names := func(subs []*shopv1alpha1.SubAccount) []string {
		var out []string
		for _, sa := range subs {
			out = append(out, sa.Name)
		}
		slices.Sort(out)
		return out
	}
	inf, err := suiteManager.GetCache().GetInformer(ctx, &shopv1alpha1.SubAccount{})
	g.Expect(err).NotTo(HaveOccurred())
	store := inf.(toolscache.SharedIndexInformer).GetIndexer()
	// The suite's controllers reconcile these SubAccounts meanwhile, and
	// each status they write replaces the cached object: a read and the
	// store's object compared a moment later may differ for that reason
	// alone, so the pair is read again until no write came between.
	// Copies would never be identical.
	var direct []*shopv1alpha1.SubAccount
	g.Eventually(func(g Gomega) {
		var err error
		direct, err = byIndex[*shopv1alpha1.SubAccount](ctx, indexed, &shopv1alpha1.SubAccountList{}, ns, indexSubAccountShop, "shop")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(names(direct)).To(Equal([]string{"a", "b", "c"}))
		for _, sa := range direct {
			held, exists, err := store.GetByKey(ns + "/" + sa.Name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(exists).To(BeTrue())
			g.Expect(held).To(BeIdenticalTo(sa), "%s is the cache's object, not a copy", sa.Name)
		}
	}).WithTimeout(10 * time.Second).Should(Succeed())

	listed, err := byIndex[*shopv1alpha1.SubAccount](ctx, suiteManager.GetClient(), &shopv1alpha1.SubAccountList{}, ns, indexSubAccountShop, "shop")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(names(listed)).To(Equal(names(direct)), "the List route finds the same")
	for _, sa := range listed {
		held, _, _ := store.GetByKey(ns + "/" + sa.Name)
		g.Expect(held).NotTo(BeIdenticalTo(sa), "a List fills its Items with copies of the structs")
	}

	none, err := byIndex[*shopv1alpha1.SubAccount](ctx, indexed, &shopv1alpha1.SubAccountList{}, ns, indexSubAccountShop, "no-such-shop")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(none).To(BeEmpty())
}
