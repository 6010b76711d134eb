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
	"sync"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// shopObject is the Shop named "shop" in ns, as the API server holds it.
func shopObject(t *testing.T, ns string) *shopv1alpha1.Shop {
	t.Helper()
	shop := &shopv1alpha1.Shop{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop"}, shop); err != nil {
		t.Fatalf("reading Shop: %v", err)
	}
	return shop
}

// shopAPISecret is a Shop API credentials Secret labelled as the docs advise.
func shopAPISecret(ns, name string, data map[string]string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{shopv1alpha1.LabelSecretRole: "shop-api"}},
		StringData: data,
	}
}

func credentialsData(c platform.Credentials) map[string]string {
	return map[string]string{
		shopv1alpha1.SecretKeyAppKey:      c.AppKey,
		shopv1alpha1.SecretKeyAppSecret:   c.AppSecret,
		shopv1alpha1.SecretKeyAccessToken: c.AccessToken,
	}
}

// waitSeats waits until the Shop reports seats.
func waitSeats(t *testing.T, shop *shopv1alpha1.Shop, want shopv1alpha1.AccountQuotaStatus) {
	t.Helper()
	NewWithT(t).Eventually(func() *shopv1alpha1.AccountQuotaStatus {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(shop), shop); err != nil {
			return nil
		}
		return shop.Status.Seats
	}, timeout, interval).Should(Equal(&want))
}

func TestShopReadyReportsSeats(t *testing.T) {
	t.Run("platform quota", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		ns := newNamespace(t)
		ts := newShop(t, ns, platform.Taobao, 7, nil)
		shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
		waitCurrent(t, shop)
		waitCondition(t, shop, shopv1alpha1.ConditionCredentialsValid, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
		g.Expect(shop.Status.Seats).To(Equal(&shopv1alpha1.AccountQuotaStatus{Used: 0, Total: 7, Managed: 0}))
		g.Expect(shop.Status.LastSyncTime).NotTo(BeNil())

		// One account made by hand in the back office, then one by the
		// operator: used counts both, managed only the operator's, unmanaged the other. The
		// operator's own account is counted from the cache at once, without
		// asking the platform; the one made by hand when the platform is
		// next asked (a drift check, here requested).
		calls := shopInfoCount(ts.main)
		_, err := ts.client(t).CreateAccount(context.Background(),
			platform.CreateAccount{Name: "by-hand", Password: "their-Passw0rd"}, "")
		g.Expect(err).NotTo(HaveOccurred())
		sa := newSubAccount(ns, "xiaohong")
		create(t, sa)
		waitCurrent(t, sa)
		waitSeats(t, shop, shopv1alpha1.AccountQuotaStatus{Used: 1, Total: 7, Managed: 1})
		g.Expect(shopInfoCount(ts.main)).To(Equal(calls), "no ShopInfo call for a SubAccount arriving")
		requestDriftCheck(t, ns)
		waitSeats(t, shop, shopv1alpha1.AccountQuotaStatus{Used: 2, Total: 7, Managed: 1, Unmanaged: 1})
		// The drift check's listing names it for the access review.
		g.Eventually(func() *shopv1alpha1.UnmanagedAccountsStatus {
			_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(shop), shop)
			return shop.Status.UnmanagedAccounts
		}, timeout, interval).Should(Equal(&shopv1alpha1.UnmanagedAccountsStatus{Count: 1, Logins: []string{ts.main + ":by-hand"}}))
	})
	t.Run("declared seats", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		ns := newNamespace(t)
		newShop(t, ns, platform.Pinduoduo, 7, func(s *shopv1alpha1.Shop) {
			s.Spec.Seats = &shopv1alpha1.ShopAccountQuota{Included: 3, Purchased: 2}
		})
		shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
		waitCurrent(t, shop)
		g.Expect(shop.Status.Seats).To(Equal(&shopv1alpha1.AccountQuotaStatus{Used: 0, Total: 5, Managed: 0}))
		g.Expect(conditionsOf(shop)).To(ContainSubstring("0 of 5 seats used"))

		update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.Seats.Purchased = 4 })
		waitCurrent(t, shop)
		g.Expect(shop.Status.Seats.Total).To(BeEquivalentTo(7))
	})
}

func TestShopWrongCredentialsThenFixed(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) {
		s.Spec.CredentialsSecretRef.Name = "wrong-api"
	})
	wrong := ts.creds
	wrong.AppSecret = "wrong-secret-" + randomSuffix()
	secret := shopAPISecret(ns, "wrong-api", credentialsData(wrong))
	create(t, secret)

	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	cond := waitCondition(t, shop, shopv1alpha1.ConditionCredentialsValid, metav1.ConditionFalse, shopv1alpha1.ReasonCredentialsRejected)
	g.Expect(cond.Message).NotTo(BeEmpty())
	waitCondition(t, shop, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonCredentialsRejected)
	waitCondition(t, shop, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonCredentialsRejected)
	for _, s := range []string{wrong.AppSecret, ts.creds.AppSecret, ts.creds.AppKey, ts.creds.AccessToken} {
		g.Expect(conditionsOf(shop)).NotTo(ContainSubstring(s), "status must not show credentials")
		for _, e := range eventsFor(t, shop) {
			g.Expect(e.Note).NotTo(ContainSubstring(s))
		}
	}

	update(t, secret, func(s *corev1.Secret) {
		s.Data[shopv1alpha1.SecretKeyAppSecret] = []byte(ts.creds.AppSecret)
	})
	waitCurrent(t, shop)
	waitCondition(t, shop, shopv1alpha1.ConditionCredentialsValid, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(conditionsOf(shop)).NotTo(ContainSubstring(shopv1alpha1.ConditionStalled))
}

func TestShopCredentialsSecretNotFound(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) {
		s.Spec.CredentialsSecretRef.Name = "no-such-secret"
	})
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	cond := waitCondition(t, shop, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSecretNotFound)
	g.Expect(cond.Message).To(ContainSubstring(`"no-such-secret"`))
	waitCondition(t, shop, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonSecretNotFound)

	// Created afterwards, labelled: the Shop notices at once.
	create(t, shopAPISecret(ns, "no-such-secret", credentialsData(ts.creds)))
	waitCurrent(t, shop)
}

func TestShopCredentialsSecretMissingKey(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) {
		s.Spec.CredentialsSecretRef.Name = "partial-api"
	})
	data := credentialsData(ts.creds)
	delete(data, shopv1alpha1.SecretKeyAccessToken)
	secret := shopAPISecret(ns, "partial-api", data)
	create(t, secret)
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	cond := waitCondition(t, shop, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSecretInvalid)
	g.Expect(cond.Message).To(ContainSubstring(shopv1alpha1.SecretKeyAccessToken))
	g.Expect(cond.Message).To(ContainSubstring(`"partial-api"`))
	g.Expect(cond.Message).NotTo(ContainSubstring(ts.creds.AppSecret))

	update(t, secret, func(s *corev1.Secret) {
		s.Data[shopv1alpha1.SecretKeyAccessToken] = []byte(ts.creds.AccessToken)
	})
	waitCurrent(t, shop)
}

// The credentials Secret outlives its Shop: deleting the namespace must not
// take the Secret first and leave the dependants unable to clean up.
func TestShopCredentialsSecretFinalizer(t *testing.T) {
	t.Run("released when the Shop is deleted", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		ns := newNamespace(t)
		newShop(t, ns, platform.Taobao, 10, nil)
		shop := shopObject(t, ns)
		waitCurrent(t, shop)
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-api"}}
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(secret), secret)).To(Succeed())
		g.Expect(controllerutil.ContainsFinalizer(secret, credentialsFinalizer)).To(BeTrue())

		g.Expect(k8s.Delete(context.Background(), shop)).To(Succeed())
		waitGone(t, shop)
		g.Eventually(func() []string {
			_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(secret), secret)
			return secret.Finalizers
		}, timeout, interval).ShouldNot(ContainElement(credentialsFinalizer))
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(secret), secret)).To(Succeed(), "the Secret itself stays")
	})
	t.Run("Secret deleted first", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		ns := newNamespace(t)
		newShop(t, ns, platform.Taobao, 10, nil)
		shop := shopObject(t, ns)
		waitCurrent(t, shop)
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-api"}}
		g.Eventually(func() []string {
			_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(secret), secret)
			return secret.Finalizers
		}, timeout, interval).Should(ContainElement(credentialsFinalizer))

		g.Expect(k8s.Delete(context.Background(), secret)).To(Succeed())
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(secret), secret)).To(Succeed(), "held by the finalizer")
		g.Expect(secret.DeletionTimestamp).NotTo(BeNil())
		g.Expect(k8s.Delete(context.Background(), shop)).To(Succeed())
		waitGone(t, shop)
		waitGone(t, secret)
	})
}

func TestShopDeletionWaitsForSubAccounts(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	sa := newSubAccount(ns, "xiaohong")
	create(t, sa)
	waitCurrent(t, sa)
	shop := shopObject(t, ns)

	g.Expect(k8s.Delete(context.Background(), shop)).To(Succeed())
	cond := waitCondition(t, shop, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonInUse)
	g.Expect(cond.Message).To(ContainSubstring("SubAccount/xiaohong"))
	g.Expect(shop.DeletionTimestamp).NotTo(BeNil())
	_, exists := ts.account(t, "xiaohong")
	g.Expect(exists).To(BeTrue())

	g.Expect(k8s.Delete(context.Background(), sa)).To(Succeed())
	waitGone(t, sa)
	waitGone(t, shop)
	// The SubAccount could still reach the platform to clean up.
	_, exists = ts.account(t, "xiaohong")
	g.Expect(exists).To(BeFalse())
}

func TestSuspendedShopWritesNothing(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) { s.Spec.Suspend = true })
	shop := shopObject(t, ns)
	waitCurrent(t, shop) // reads go on: the credentials are checked
	role := newRole(ns, "cs", "客服", "customer-service")
	create(t, role)
	sa := newSubAccount(ns, "xiaohong")
	create(t, sa)

	cond := waitCondition(t, sa, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonSuspended)
	g.Expect(cond.Message).To(ContainSubstring(`"shop"`))
	waitCondition(t, role, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonSuspended)
	g.Expect(conditionsOf(sa)).NotTo(ContainSubstring(shopv1alpha1.ConditionStalled), "suspended is waiting, not stalled")
	g.Expect(engine.Accounts(ts.platform, ts.main)).To(BeEmpty())
	g.Expect(engine.Roles(ts.platform, ts.main)).To(BeEmpty())
	g.Expect(engine.Audit(ts.platform, ts.main)).To(BeEmpty(), "nothing is written to the platform")

	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.Suspend = false })
	waitCurrent(t, role)
	waitCurrent(t, sa)
	g.Expect(engine.Accounts(ts.platform, ts.main)).To(HaveLen(1))
}

// shopInfoCalls counts the ShopInfo calls the controllers make, per main
// account (the suite's factory wraps every client in shopInfoCounter).
var shopInfoCalls sync.Map // main account → *atomic.Int64

func shopInfoCount(main string) int64 {
	n, _ := shopInfoCalls.LoadOrStore(main, &atomic.Int64{})
	return n.(*atomic.Int64).Load()
}

// getAccountCalls counts the GetAccount calls per main account, likewise.
var getAccountCalls sync.Map // main account → *atomic.Int64

func getAccountCount(main string) int64 {
	n, _ := getAccountCalls.LoadOrStore(main, &atomic.Int64{})
	return n.(*atomic.Int64).Load()
}

type shopInfoCounter struct{ inner platform.Factory }

func (f shopInfoCounter) ClientFor(ctx context.Context, cfg platform.ShopConfig) (platform.Client, error) {
	c, err := f.inner.ClientFor(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return countingClient{Client: c, main: cfg.MainAccount}, nil
}

type countingClient struct {
	platform.Client
	main string
}

func (c countingClient) Capabilities() platform.Capabilities {
	return platform.CapabilitiesOf(c.Client)
}

func (c countingClient) ShopInfo(ctx context.Context) (platform.ShopInfo, error) {
	n, _ := shopInfoCalls.LoadOrStore(c.main, &atomic.Int64{})
	n.(*atomic.Int64).Add(1)
	return c.Client.ShopInfo(ctx)
}

func (c countingClient) GetAccount(ctx context.Context, id string) (platform.Account, error) {
	n, _ := getAccountCalls.LoadOrStore(c.main, &atomic.Int64{})
	n.(*atomic.Int64).Add(1)
	return c.Client.GetAccount(ctx, id)
}
