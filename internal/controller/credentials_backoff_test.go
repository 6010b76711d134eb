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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// shopInfoClient answers ShopInfo with err and counts the calls.
type shopInfoClient struct {
	platform.Client
	err   error
	calls int
}

func (c *shopInfoClient) ShopInfo(context.Context) (platform.ShopInfo, error) {
	c.calls++
	return platform.ShopInfo{SeatsTotal: 5}, c.err
}

// Credentials the platform refused are not sent again before
// credentialsRetry unless they change (found by the reliability suite:
// every SubAccount of the shop coming or going re-queued the Shop, and
// each reconcile sent the refused credentials again).
func TestRefusedCredentialsAreNotRetriedUntilTheyChange(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &ShopReconciler{Now: func() time.Time { return now }}
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop"}}
	pc := &shopInfoClient{err: platform.NewError(platform.ErrUnauthorized, "", "invalid app key or access token")}

	_, err := r.checkCredentials(context.Background(), shop, pc, "v1")
	var o *outcome
	g.Expect(errors.As(err, &o)).To(BeTrue())
	g.Expect(o.reason).To(Equal(shopv1alpha1.ReasonCredentialsRejected))
	g.Expect(pc.calls).To(Equal(1))

	// The same credentials a minute later: the same answer, no call, and
	// a requeue when the wait is over.
	now = now.Add(time.Minute)
	_, err = r.checkCredentials(context.Background(), shop, pc, "v1")
	g.Expect(errors.As(err, &o)).To(BeTrue())
	g.Expect(o.reason).To(Equal(shopv1alpha1.ReasonCredentialsRejected))
	g.Expect(o.message).To(ContainSubstring("invalid app key or access token"))
	g.Expect(o.requeueAfter).To(Equal(credentialsRetry - time.Minute))
	g.Expect(pc.calls).To(Equal(1))

	// Changed credentials are checked at once.
	_, err = r.checkCredentials(context.Background(), shop, pc, "v2")
	g.Expect(err).To(HaveOccurred())
	g.Expect(pc.calls).To(Equal(2))

	// Once the wait is over, the same ones are tried again; when they
	// work, the refusal is forgotten.
	now = now.Add(credentialsRetry)
	pc.err = nil
	info, err := r.checkCredentials(context.Background(), shop, pc, "v2")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.SeatsTotal).To(BeEquivalentTo(5))
	g.Expect(pc.calls).To(Equal(3))
	_, err = r.checkCredentials(context.Background(), shop, pc, "v2")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pc.calls).To(Equal(4))

	// Transient failures are not remembered.
	pc.err = platform.NewError(platform.ErrTransient, "", "unavailable")
	_, _ = r.checkCredentials(context.Background(), shop, pc, "v2")
	_, _ = r.checkCredentials(context.Background(), shop, pc, "v2")
	g.Expect(pc.calls).To(Equal(6))
}

// failingFactory fails the test if a client is asked for.
type failingFactory struct{ t *testing.T }

func (f failingFactory) ClientFor(context.Context, platform.ShopConfig) (platform.Client, error) {
	f.t.Error("a platform client was built for a Shop whose credentials are rejected")
	return nil, errors.New("no")
}

// Clean-up of a deleted object waits, without a platform call, while its
// Shop's credentials are rejected, and says why (found by the reliability
// suite: each deletion sent the refused credentials again).
func TestCleanupWaitsForRejectedCredentials(t *testing.T) {
	g := NewWithT(t)
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop"}}
	shop.Status.Conditions = []metav1.Condition{{Type: shopv1alpha1.ConditionCredentialsValid, Status: metav1.ConditionFalse,
		Reason: shopv1alpha1.ReasonCredentialsRejected, Message: "checking the shop's credentials: unauthorized: invalid app key or access token"}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(shop).Build()
	sa := newSubAccount("ns", "xiaohong")
	pc, err := cleanupClient(context.Background(), &Connector{Client: c, Factory: failingFactory{t}},
		events.NewFakeRecorder(10), sa, "shop", "Offboard", "sub-account main:xiaohong")
	g.Expect(pc).To(BeNil())
	var o *outcome
	g.Expect(errors.As(err, &o)).To(BeTrue())
	g.Expect(o.reason).To(Equal(shopv1alpha1.ReasonCredentialsRejected))
	g.Expect(o.message).To(Equal(`Shop "shop"'s API credentials are rejected by the platform, so sub-account main:xiaohong cannot be cleaned up yet; the finalizer stays until the credentials Secret is fixed (checking the shop's credentials: unauthorized: invalid app key or access token)`))
}
