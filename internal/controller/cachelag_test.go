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
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// credentialsFixture is a Taobao Shop "shop" in namespace "ns" and its
// catalog, for ensureCredentials.
func credentialsFixture(t *testing.T) (*shopv1alpha1.Shop, *catalog.Catalog) {
	t.Helper()
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop"},
		Spec: shopv1alpha1.ShopSpec{Platform: shopv1alpha1.Platform(platform.Taobao), MainAccount: "main"}}
	cat, err := catalog.For(platform.Taobao)
	if err != nil {
		t.Fatal(err)
	}
	return shop, cat
}

// A credentials Secret the cache does not show yet but the API server has:
// ours (an earlier reconcile created it) is waited for, never written over
// and never reported as a Conflict; someone else's is a Conflict.
func TestCredentialsSecretNotInCacheYet(t *testing.T) {
	sa := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "xiaohong", UID: types.UID("sa-uid")},
		Spec: shopv1alpha1.SubAccountSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: "shop"}, AccountName: "xiaohong"}}
	shop, cat := credentialsFixture(t)
	for _, tc := range []struct {
		name string
		ours bool
	}{{"ours", true}, {"someone else's", false}} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			live := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: sa.CredentialsSecretName()},
				Data: map[string][]byte{shopv1alpha1.SecretKeyPassword: []byte("the-first-password")}}
			if tc.ours {
				g.Expect(controllerutil.SetControllerReference(sa, live, scheme)).To(Succeed())
			}
			apiServer := fake.NewClientBuilder().WithScheme(scheme).WithObjects(live, sa.DeepCopy()).Build()
			var updates int
			behind := interceptor.NewClient(apiServer.(client.WithWatch), interceptor.Funcs{
				Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
					if _, ok := obj.(*corev1.Secret); ok {
						return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name) // the cache lags
					}
					return c.Get(ctx, key, obj, opts...)
				},
				Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
					updates++
					return c.Update(ctx, obj, opts...)
				},
			})
			r := &SubAccountReconciler{Client: behind, Connector: &Connector{Client: behind, APIReader: apiServer}}
			_, err := r.ensureCredentials(context.Background(), sa.DeepCopy(), shop, cat, true)
			if tc.ours {
				g.Expect(errors.Is(err, errCacheBehind)).To(BeTrue(), "got %v", err)
			} else {
				var o *outcome
				g.Expect(errors.As(err, &o)).To(BeTrue(), "got %v", err)
				g.Expect(o.reason).To(Equal(shopv1alpha1.ReasonConflict))
			}
			g.Expect(updates).To(BeZero())
			kept := &corev1.Secret{}
			g.Expect(apiServer.Get(context.Background(), client.ObjectKeyFromObject(live), kept)).To(Succeed())
			g.Expect(string(kept.Data[shopv1alpha1.SecretKeyPassword])).To(Equal("the-first-password"))
		})
	}
}

// A reconcile whose cached SubAccount does not show the deletion that has
// begun (the Secret's watch ran ahead: the garbage collector of a
// foreground deletion, or the namespace controller, deleted the Secret)
// creates no credentials Secret: it waits for the cache, and the next
// reconcile offboards. A SubAccount that is not being deleted still gets
// its Secret. TestDeletionUnderPressure saw "Secret d0000-credentials was
// created again during the deletions" before.
func TestNoCredentialsSecretForASubAccountBeingDeleted(t *testing.T) {
	cached := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "d0000", UID: types.UID("sa-uid"),
		Finalizers: []string{subAccountFinalizer}},
		Spec: shopv1alpha1.SubAccountSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: "shop"}, AccountName: "d0000"}}
	shop, cat := credentialsFixture(t)
	deleting := cached.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	deleting.Finalizers = append(deleting.Finalizers, metav1.FinalizerDeleteDependents)
	replaced := cached.DeepCopy()
	replaced.UID = types.UID("another-uid")
	for _, tc := range []struct {
		name   string
		live   *shopv1alpha1.SubAccount // nil: gone from the API server
		create bool
	}{
		{"deletion begun", deleting, false},
		{"gone", nil, false},
		{"replaced by another of the same name", replaced, false},
		{"not being deleted", cached, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			b := fake.NewClientBuilder().WithScheme(scheme)
			if tc.live != nil {
				b = b.WithObjects(tc.live.DeepCopy())
			}
			apiServer := b.Build()
			r := &SubAccountReconciler{Client: apiServer, Connector: &Connector{Client: apiServer, APIReader: apiServer}}
			_, err := r.ensureCredentials(context.Background(), cached.DeepCopy(), shop, cat, true)
			secret := &corev1.Secret{}
			getErr := apiServer.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: cached.CredentialsSecretName()}, secret)
			if tc.create {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(getErr).NotTo(HaveOccurred(), "the Secret of a SubAccount that is not being deleted")
				return
			}
			g.Expect(errors.Is(err, errCacheBehind)).To(BeTrue(), "got %v", err)
			g.Expect(apierrors.IsNotFound(getErr)).To(BeTrue(), "a Secret was created for a SubAccount being deleted (%v)", getErr)
		})
	}
}

// The cache-lag guard's memo forgets a write as soon as the kind's watch
// shows the cache holding it (or a later version), and when the object is
// deleted, without waiting for the object's next reconcile; an older
// version keeps it.
func TestWritesForgetWhatTheCacheCaughtUpWith(t *testing.T) {
	g := NewWithT(t)
	var w writes
	at := func(rv string) *shopv1alpha1.SubAccount {
		return &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a", ResourceVersion: rv}}
	}
	remembered := func() bool { _, ok := w.m.Load(client.ObjectKey{Namespace: "ns", Name: "a"}); return ok }
	update := func(from, to string) {
		w.pruner().Update(context.Background(), event.UpdateEvent{ObjectOld: at(from), ObjectNew: at(to)}, nil)
	}

	w.wrote(at("12"), "10")
	g.Expect(remembered()).To(BeTrue())
	update("10", "11")
	g.Expect(remembered()).To(BeTrue(), "the cache is still behind the write")
	g.Expect(w.stale(at("11"))).To(BeTrue())
	update("11", "12")
	g.Expect(remembered()).To(BeFalse(), "the cache holds the write")
	g.Expect(w.stale(at("11"))).To(BeFalse())

	w.wrote(at("14"), "12")
	w.pruner().Delete(context.Background(), event.DeleteEvent{Object: at("13")}, nil)
	g.Expect(remembered()).To(BeFalse(), "the object is gone")
}
