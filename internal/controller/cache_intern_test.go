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
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"testing"
	"unsafe"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// The testdata objects are a SubAccount and its credentials Secret as the
// benchmark's manager left them on the API server (managedFields dropped,
// the Secret's values replaced): two Taobao Roles, 18 effective
// permissions.
func decodeTestdata[T any](t testing.TB, file, from, to string) *T {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	obj := new(T)
	if err := json.Unmarshal(bytes.ReplaceAll(raw, []byte(from), []byte(to)), obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func sameString(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

func sameArray(a, b []string) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// Two cached SubAccounts share their repeated strings and permission lists
// after the transform, keep every value, and keep what differs apart.
func TestInternCachedSharesRepeatedValues(t *testing.T) {
	g := NewWithT(t)
	a := decodeTestdata[shopv1alpha1.SubAccount](t, "cached-subaccount.json", "s001-0003", "s001-0003")
	b := decodeTestdata[shopv1alpha1.SubAccount](t, "cached-subaccount.json", "s001-0003", "s001-0004")
	wantA, wantB := a.DeepCopy(), b.DeepCopy()
	g.Expect(sameArray(a.Status.EffectivePermissions, b.Status.EffectivePermissions)).To(BeFalse(), "decoded apart")

	for _, sa := range []*shopv1alpha1.SubAccount{a, b} {
		_, err := StripCachedMetadata(sa)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(a).To(Equal(wantA), "interning changes no value")
	g.Expect(b).To(Equal(wantB), "interning changes no value")

	g.Expect(sameArray(a.Status.EffectivePermissions, b.Status.EffectivePermissions)).To(BeTrue())
	g.Expect(sameArray(a.Status.AppliedPermissions, b.Status.EffectivePermissions)).To(BeTrue(), "the same list in two fields")
	g.Expect(sameArray(a.Status.PermissionSources.Roles[1].Permissions, b.Status.PermissionSources.Roles[1].Permissions)).To(BeTrue())
	g.Expect(sameString(a.Namespace, b.Namespace)).To(BeTrue())
	g.Expect(sameString(a.Spec.Roles[0].Name, b.Spec.Roles[0].Name)).To(BeTrue())
	g.Expect(sameString(a.Finalizers[0], b.Finalizers[0])).To(BeTrue())
	g.Expect(sameString(a.Status.Conditions[4].Reason, b.Status.Conditions[4].Reason)).To(BeTrue())
	g.Expect(a.Name).NotTo(Equal(b.Name))

	// A shared list cannot be grown into: an append by a reader copies.
	shared := a.Status.EffectivePermissions
	grown := append(shared, "extra")
	g.Expect(sameArray(grown, shared)).To(BeFalse())
	g.Expect(b.Status.EffectivePermissions).To(Equal(wantB.Status.EffectivePermissions))
}

// A Secret's keys and metadata are shared; its values (a password) are
// neither changed nor shared.
func TestInternCachedLeavesSecretValuesAlone(t *testing.T) {
	g := NewWithT(t)
	a := decodeTestdata[corev1.Secret](t, "cached-secret.json", "s001-0003", "s001-0003")
	b := decodeTestdata[corev1.Secret](t, "cached-secret.json", "s001-0003", "s001-0004")
	// A role the cache keeps whole (credentials Secrets are trimmed).
	for _, s := range []*corev1.Secret{a, b} {
		s.Labels[shopv1alpha1.LabelSecretRole] = shopv1alpha1.SecretRolePassword
	}
	want := a.DeepCopy()
	for _, s := range []*corev1.Secret{a, b} {
		_, err := StripCachedMetadata(s)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(a).To(Equal(want))
	g.Expect(&a.Data["password"][0]).NotTo(BeIdenticalTo(&b.Data["password"][0]))
	for k := range a.Data {
		for k2 := range b.Data {
			if k == k2 {
				g.Expect(sameString(k, k2)).To(BeTrue(), "data key %q", k)
			}
		}
	}
	g.Expect(sameString(a.Labels[shopv1alpha1.LabelSecretRole], b.Labels[shopv1alpha1.LabelSecretRole])).To(BeTrue())
}

// The table of shared lists is bounded: past maxSharedSlices distinct
// lists it starts over, and lists handed out before stay intact.
func TestSharedSlicesAreBounded(t *testing.T) {
	g := NewWithT(t)
	table := &sliceTable{slices: map[string][]string{}}
	first := table.get([]string{"a", "b"})
	for i := range maxSharedSlices + 10 {
		table.get([]string{fmt.Sprint(i)})
	}
	g.Expect(len(table.slices)).To(BeNumerically("<=", maxSharedSlices))
	g.Expect(first).To(Equal([]string{"a", "b"}))
	g.Expect(table.get(nil)).To(BeNil())
}

// BenchmarkCachedObjectsHeap prints the heap a cached SubAccount and its
// credentials Secret hold (the testdata objects, as the benchmark's manager
// leaves them) with managedFields stripped only, and with the whole cache
// transform (StripCachedMetadata: interning included). Decoded objects
// only, not the informer's indexes.
func BenchmarkCachedObjectsHeap(b *testing.B) {
	const n = 3000
	for _, tc := range []struct {
		name      string
		transform func(any) (any, error)
	}{{"managedFields-only", cache.TransformStripManagedFields()}, {"StripCachedMetadata", StripCachedMetadata}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				held := make([]any, 0, 2*n)
				// hold decodes n objects, transforms and keeps them, and
				// returns the heap they hold per object.
				hold := func(decode func(i int) any) float64 {
					start := heapAfterGC()
					for i := range n {
						obj, err := tc.transform(decode(i))
						if err != nil {
							b.Fatal(err)
						}
						held = append(held, obj)
					}
					return float64(heapAfterGC()-start) / n
				}
				b.ReportMetric(hold(func(i int) any {
					return decodeTestdata[shopv1alpha1.SubAccount](b, "cached-subaccount.json", "s001-0003", fmt.Sprintf("s%07d", i))
				}), "heapB/SubAccount")
				b.ReportMetric(hold(func(i int) any {
					return decodeTestdata[corev1.Secret](b, "cached-secret.json", "s001-0003", fmt.Sprintf("s%07d", i))
				}), "heapB/Secret")
				runtime.KeepAlive(held)
			}
		})
	}
}
