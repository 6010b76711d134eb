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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

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

// TestCredentialsSecretsAreCachedAsMetadataOnly: the cache keeps of a
// credentials Secret what tells that it exists and whose it is, marked as
// trimmed; Secrets of the other roles stay whole.
func TestCredentialsSecretsAreCachedAsMetadataOnly(t *testing.T) {
	g := NewWithT(t)
	whole := decodeTestdata[corev1.Secret](t, "cached-secret.json", "s001-0003", "s001-0003")
	out, err := StripCachedMetadata(whole.DeepCopy())
	g.Expect(err).NotTo(HaveOccurred())
	got := out.(*corev1.Secret)
	g.Expect(got.Type).To(Equal(secretTypeMetadataOnly))
	g.Expect(got.Data).To(BeNil())
	g.Expect(got.Labels).To(BeNil())
	g.Expect(got.Annotations).To(BeNil())
	g.Expect(got.Name).To(Equal(whole.Name))
	g.Expect(got.Namespace).To(Equal(whole.Namespace))
	g.Expect(got.UID).To(Equal(whole.UID))
	g.Expect(got.ResourceVersion).To(Equal(whole.ResourceVersion))
	g.Expect(got.OwnerReferences).To(Equal(whole.OwnerReferences), "the SubAccount's watch maps the Secret to its owner")
	g.Expect(loginIsLive(got)).To(BeFalse())

	live := whole.DeepCopy()
	live.Annotations[shopv1alpha1.AnnotationLogin] = shopv1alpha1.LoginLive
	g.Expect(loginIsLive(live)).To(BeTrue())
	out, err = StripCachedMetadata(live)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.(*corev1.Secret).Type).To(Equal(secretTypeMetadataOnlyLive))
	g.Expect(trimmed(out.(*corev1.Secret))).To(BeTrue())
	g.Expect(loginIsLive(out.(*corev1.Secret))).To(BeTrue(), "the login's state survives the trimming")

	for _, role := range []string{shopv1alpha1.SecretRoleShopAPI, shopv1alpha1.SecretRolePassword, shopv1alpha1.SecretRoleVerification} {
		other := whole.DeepCopy()
		other.Labels[shopv1alpha1.LabelSecretRole] = role
		want := other.DeepCopy()
		out, err := StripCachedMetadata(other)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(out).To(Equal(want), "a %s Secret is cached whole", role)
	}
}

// TestCredentialsSecretIsReadWhole: a reconcile never acts on the trimmed
// copy. What the cache shows is read again from the API server; what the
// cache does not show is NotFound; and with no API server to ask, the read
// fails rather than hand back a Secret without its password (which would
// look like a Secret to fill with a new one).
func TestCredentialsSecretIsReadWhole(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sa := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "s", Name: "s001-0003", UID: "deb39741-0dba-4498-b74f-ee9ef12ac8e1"}}
	whole := decodeTestdata[corev1.Secret](t, "cached-secret.json", "s001-0003", "s001-0003")
	whole.Namespace = sa.Namespace
	cached, err := StripCachedMetadata(whole.DeepCopy())
	g.Expect(err).NotTo(HaveOccurred())
	cache := fake.NewClientBuilder().WithScheme(scheme).WithObjects(cached.(*corev1.Secret)).Build()
	apiServer := fake.NewClientBuilder().WithScheme(scheme).WithObjects(whole.DeepCopy()).Build()

	r := &SubAccountReconciler{Client: cache, Connector: &Connector{Client: cache, APIReader: apiServer}}
	got, err := r.credentialsSecret(ctx, sa)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Data).To(Equal(whole.Data))
	g.Expect(got.Annotations).To(Equal(whole.Annotations))
	g.Expect(got.Type).To(Equal(corev1.SecretTypeOpaque))

	other := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "s", Name: "not-cached"}}
	_, err = r.credentialsSecret(ctx, other)
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a Secret the cache does not show: %v", err)

	r = &SubAccountReconciler{Client: cache, Connector: &Connector{Client: cache}}
	got, err = r.credentialsSecret(ctx, sa)
	g.Expect(err).To(MatchError(ContainSubstring("metadata only")))
	g.Expect(got).To(BeNil())

	// Credentials Secrets the cache holds whole (a fake client in unit
	// tests) are the answer as they are.
	r = &SubAccountReconciler{Client: apiServer}
	got, err = r.credentialsSecret(ctx, sa)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Data).To(Equal(whole.Data))
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
