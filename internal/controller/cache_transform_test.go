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
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// appliedSubAccount is a SubAccount as `kubectl apply` leaves it on the API
// server: managedFields and the last-applied annotation (a JSON copy of
// the object) next to the operator's own annotation.
func appliedSubAccount(t testing.TB, name string) *shopv1alpha1.SubAccount {
	sa := newSubAccount("ns", name, "cs", "ops")
	sa.Labels = map[string]string{"team": "a"}
	sa.Finalizers = []string{"shop.example/finalizer"}
	sa.ResourceVersion = "42"
	sa.Status.EffectivePermissions = []string{"order.read", "refund.write"}
	applied, err := json.Marshal(sa)
	if err != nil {
		t.Fatal(err)
	}
	sa.Annotations = map[string]string{
		corev1.LastAppliedConfigAnnotation:    string(applied),
		shopv1alpha1.AnnotationRotatePassword: "2026-11-22T10:00:00Z",
	}
	sa.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate,
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:accountName":{}}}`)}}}
	return sa
}

func TestStripCachedMetadataDropsOnlyWhatNobodyReads(t *testing.T) {
	g := NewWithT(t)
	opts, err := CacheOptions()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(opts.DefaultTransform).NotTo(BeNil())

	sa := appliedSubAccount(t, "xiaohong")
	want := sa.DeepCopy()
	out, err := opts.DefaultTransform(sa)
	g.Expect(err).NotTo(HaveOccurred())
	got := out.(*shopv1alpha1.SubAccount)
	g.Expect(got.ManagedFields).To(BeNil())
	g.Expect(got.Annotations).NotTo(HaveKey(corev1.LastAppliedConfigAnnotation))
	g.Expect(got.Annotations).To(Equal(map[string]string{shopv1alpha1.AnnotationRotatePassword: "2026-11-22T10:00:00Z"}),
		"the operator's own annotations are read from the cache and must stay")
	g.Expect(got.Labels).To(Equal(want.Labels))
	g.Expect(got.Finalizers).To(Equal(want.Finalizers))
	g.Expect(got.ResourceVersion).To(Equal(want.ResourceVersion))
	g.Expect(got.Spec).To(Equal(want.Spec))
	g.Expect(got.Status).To(Equal(want.Status))

	// An object whose only annotation was the last-applied one holds none.
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}},
		Data: map[string][]byte{"password": []byte("x")}}
	out, err = opts.DefaultTransform(secret)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.(*corev1.Secret).Annotations).To(BeNil())
	g.Expect(out.(*corev1.Secret).Data).To(HaveKey("password"))

	// Objects without annotations pass through.
	role := newRole("ns", "cs", "客服", "customer-service")
	out, err = opts.DefaultTransform(role)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.(*shopv1alpha1.Role).Spec).To(Equal(role.Spec))
}

// TestKubectlAppliedSubAccountKeepsItsLastApplied: the cache drops the
// last-applied annotation, but the operator's writes (finalizer, status,
// rotation) must not drop it on the API server, or the next `kubectl apply`
// would lose its three-way merge.
func TestKubectlAppliedSubAccountKeepsItsLastApplied(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	newShop(t, ns, platform.Taobao, 10, nil)
	role := newRole(ns, "cs", "客服", "customer-service")
	create(t, role)
	sa := newSubAccount(ns, "xiaoming", "cs")
	applied, err := json.Marshal(sa)
	g.Expect(err).NotTo(HaveOccurred())
	sa.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: string(applied)}
	create(t, sa)
	waitCurrent(t, role)
	waitCurrent(t, sa)
	g.Expect(sa.Finalizers).NotTo(BeEmpty())
	g.Expect(sa.Annotations).To(HaveKeyWithValue(corev1.LastAppliedConfigAnnotation, string(applied)))

	update(t, sa, func(s *shopv1alpha1.SubAccount) { s.Annotations[shopv1alpha1.AnnotationRotatePassword] = "r1" })
	g.Eventually(func() string {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)
		return sa.Status.LastHandledRotation
	}, timeout, interval).Should(Equal("r1"), "the rotation annotation is read from the cache")
	g.Expect(sa.Annotations).To(HaveKeyWithValue(corev1.LastAppliedConfigAnnotation, string(applied)))
}

// BenchmarkCachedSubAccountHeap prints the heap a cached SubAccount holds
// as kubectl apply leaves it, with and without the cache transform
// (issue 7: the manager's memory per SubAccount). It measures the decoded
// objects only, not the informer's indexes.
func BenchmarkCachedSubAccountHeap(b *testing.B) {
	const n = 2000
	raw := make([][]byte, n)
	for i := range raw {
		data, err := json.Marshal(appliedSubAccount(b, fmt.Sprintf("staff-%05d", i)))
		if err != nil {
			b.Fatal(err)
		}
		raw[i] = data
	}
	for _, tc := range []struct {
		name      string
		transform func(any) (any, error)
	}{{"untransformed", func(o any) (any, error) { return o, nil }}, {"StripCachedMetadata", StripCachedMetadata}} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				held := make([]any, n)
				before := heapAfterGC()
				for i, data := range raw {
					sa := &shopv1alpha1.SubAccount{}
					if err := json.Unmarshal(data, sa); err != nil {
						b.Fatal(err)
					}
					obj, err := tc.transform(sa)
					if err != nil {
						b.Fatal(err)
					}
					held[i] = obj
				}
				after := heapAfterGC()
				runtime.KeepAlive(held)
				b.ReportMetric(float64(after-before)/n, "heapB/SubAccount")
			}
		})
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
