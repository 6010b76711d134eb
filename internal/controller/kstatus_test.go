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
	"testing"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// waitKStatus waits until kstatus (as Argo CD's and Flux's health checks
// compute it: github.com/fluxcd/cli-utils/pkg/kstatus) calls obj want, with
// its Ready condition's reason, once the operator has reconciled obj's
// current generation.
func waitKStatus(t *testing.T, obj conditioned, want status.Status, reason string) {
	t.Helper()
	var got status.Status
	NewWithT(t).Eventually(func() (bool, error) {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err
		}
		ready := readyCondition(obj)
		if ready == nil || ready.Reason != reason || ready.ObservedGeneration != obj.GetGeneration() {
			return false, nil
		}
		var err error
		got, err = kstatusOf(obj)
		return got == want, err
	}, timeout, interval).Should(BeTrue(), func() string {
		return fmt.Sprintf("%T %s: kstatus %s, want %s with Ready reason %s; conditions %s", obj, obj.GetName(), got, want, reason, conditionsOf(obj))
	})
}

func readyCondition(obj conditioned) *metav1.Condition {
	for _, c := range obj.GetConditions() {
		if c.Type == shopv1alpha1.ConditionReady {
			return &c
		}
	}
	return nil
}

// TestKStatus: every kind, reconciled by the operator into each of its
// three kinds of state, gets the kstatus a GitOps tool needs: Current when
// Ready, InProgress while it waits for something that will happen by itself
// (Reconciling), Failed when a person must act (Stalled).
func TestKStatus(t *testing.T) {
	ns := newNamespace(t)

	// In progress first: every platform call fails transiently, so the
	// Shop retries (PlatformError); a Role and a SubAccount wait for a Shop
	// that does not exist yet (ShopNotFound) and a SubAccount for a Role
	// (RoleNotFound).
	engine.SetFault(func(string) error {
		return fmt.Errorf("%w: the platform is down for maintenance", platform.ErrTransient)
	})
	t.Cleanup(func() { engine.SetFault(nil) })
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	newShop(t, ns, platform.Taobao, 10, nil)
	waitKStatus(t, shop, status.InProgressStatus, shopv1alpha1.ReasonPlatformError)

	orphanRole := newRole(ns, "cs-elsewhere", "客服", "customer-service")
	orphanRole.Spec.ShopRef.Name = "later"
	create(t, orphanRole)
	waitKStatus(t, orphanRole, status.InProgressStatus, shopv1alpha1.ReasonShopNotFound)
	waiting := newSubAccount(ns, "waits-for-role", "not-yet")
	create(t, waiting)
	engine.SetFault(nil)
	waitCurrent(t, shop)
	waitKStatus(t, waiting, status.InProgressStatus, shopv1alpha1.ReasonRoleNotFound)

	// Ready: Current.
	role := newRole(ns, "not-yet", "客服", "customer-service")
	create(t, role)
	for _, obj := range []conditioned{shop, role, waiting} {
		waitKStatus(t, obj, status.CurrentStatus, shopv1alpha1.ReasonSucceeded)
	}

	// Failed: a person must act.
	broken := &shopv1alpha1.Shop{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-secret"},
		Spec: shopv1alpha1.ShopSpec{Platform: shopv1alpha1.PlatformTaobao, MainAccount: "nobody",
			CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: "missing"}},
	}
	create(t, broken)
	waitKStatus(t, broken, status.FailedStatus, shopv1alpha1.ReasonSecretNotFound)
	badRole := newRole(ns, "bad", "坏岗位", "", "no-such-permission")
	create(t, badRole)
	waitKStatus(t, badRole, status.FailedStatus, shopv1alpha1.ReasonUnknownPermissions)
	badSA := newSubAccount(ns, "bad-agent", "not-yet")
	badSA.Spec.ExtraPermissions = []string{"no-such-permission"}
	create(t, badSA)
	waitKStatus(t, badSA, status.FailedStatus, shopv1alpha1.ReasonUnknownPermissions)

	// A spec change not yet reconciled is InProgress for kstatus whatever
	// the conditions say: status.observedGeneration lags the generation.
	u := role.DeepCopy()
	u.Generation++
	got, err := kstatusOf(u)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	NewWithT(t).Expect(got).To(Equal(status.InProgressStatus))
}
