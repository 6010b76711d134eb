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

// Issue 15: someone who may create Shops, Roles and SubAccounts in a
// namespace, but not read its Secrets, must not get the operator to use
// a Secret for them (docs/reliability.md, threat model).

import (
	"context"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// passwordLabel opts a Secret in as a password source.
var passwordLabel = map[string]string{shopv1alpha1.LabelSecretRole: shopv1alpha1.SecretRolePassword}

// shopInfoCallsOf is how many times the operator asked the platform about
// the shop with that main account.
func shopInfoCallsOf(main string) int64 {
	if n, ok := shopInfoCalls.Load(main); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

// Item 3: a Shop naming a Secret that is not labelled as a Shop's API
// Secret (here the real shop's credentials, unlabelled) is Stalled with
// SecretNotLabelled and no call is made with it.
func TestShopCredentialsSecretMustOptIn(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) { s.Spec.CredentialsSecretRef.Name = "db-password" })
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db-password"}, StringData: credentialsData(ts.creds)})
	// The cache holds no unlabelled Secret, so its creation wakes no Shop:
	// one that looked before it existed (Stalled SecretNotFound: it
	// happened in CI) is asked to look again.
	shop := shopObject(t, ns)
	update(t, shop, func(s *shopv1alpha1.Shop) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[shopv1alpha1.AnnotationRequestedAt] = "secret-created"
	})
	cond := waitCondition(t, shop, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSecretNotLabelled)
	g.Expect(cond.Message).To(Equal(`credentials Secret "db-password" is not labelled shop.subaccount.io/secret=shop-api, ` +
		`so the operator does not use it: label it if it is meant for this (kubectl label secret db-password shop.subaccount.io/secret=shop-api)`))
	g.Expect(shopInfoCallsOf(ts.main)).To(BeZero(), "no call with an unlabelled Secret's credentials")
	// Item 5: nor is it made undeletable.
	secret := &corev1.Secret{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "db-password"}, secret)).To(Succeed())
	g.Expect(secret.Finalizers).NotTo(ContainElement(credentialsFinalizer))
}

// Item 5: a Shop whose credentialsSecretRef moves to another Secret lets
// go of the first one (its finalizer removed), and holds the new one.
func TestCredentialsFinalizerFollowsTheRef(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	shop := shopObject(t, ns)
	waitCurrent(t, shop)
	first := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop-api"}, first)).To(Succeed())
	g.Expect(first.Finalizers).To(ContainElement(credentialsFinalizer))

	create(t, shopAPISecret(ns, "rotated-api", credentialsData(ts.creds)))
	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.CredentialsSecretRef.Name = "rotated-api" })
	finalizersOf := func(name string) func() []string {
		return func() []string {
			s := &corev1.Secret{}
			_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s)
			return s.Finalizers
		}
	}
	g.Eventually(finalizersOf("rotated-api"), timeout, interval).Should(ContainElement(credentialsFinalizer))
	g.Eventually(finalizersOf("shop-api"), timeout, interval).ShouldNot(ContainElement(credentialsFinalizer), "the former Secret is let go")
}

// Item 5, the sweep: a Secret that held the credentials finalizer and
// then stops opting in (its label removed) is no longer the Shop's to
// hold: the finalizer goes, so it can be deleted, and the Shop says why it
// does not use it.
func TestCredentialsFinalizerLeavesASecretThatStopsOptingIn(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	newShop(t, ns, platform.Taobao, 10, nil)
	shop := shopObject(t, ns)
	waitCurrent(t, shop)
	secret := &corev1.Secret{}
	key := client.ObjectKey{Namespace: ns, Name: "shop-api"}
	g.Expect(k8s.Get(ctx, key, secret)).To(Succeed())
	g.Expect(secret.Finalizers).To(ContainElement(credentialsFinalizer))

	update(t, secret, func(s *corev1.Secret) { delete(s.Labels, shopv1alpha1.LabelSecretRole) })
	waitCondition(t, shop, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSecretNotLabelled)
	g.Eventually(func() []string {
		_ = k8s.Get(ctx, key, secret)
		return secret.Finalizers
	}, timeout, interval).ShouldNot(ContainElement(credentialsFinalizer), "an unlabelled Secret is let go")
	g.Expect(k8s.Delete(ctx, secret)).To(Succeed())
	waitGone(t, secret)
}

// Item 3: a SubAccount whose password.secretRef names a Secret not
// labelled as a password source (a TLS key) is Stalled; nothing of it is
// copied or sent.
func TestPasswordSecretMustOptIn(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	key := "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tls-cert"},
		StringData: map[string]string{"tls.key": key}})
	sa := newSubAccount(ns, "mallory", "cs")
	sa.Spec.Password.SecretRef = &shopv1alpha1.SecretKeyReference{Name: "tls-cert", Key: "tls.key"}
	create(t, sa)
	cond := waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSecretNotLabelled)
	g.Expect(cond.Message).To(HavePrefix(`password Secret "tls-cert" is not labelled shop.subaccount.io/secret=password`))
	g.Expect(engine.Accounts(ts.platform, ts.main)).To(BeEmpty(), "nothing reaches the platform")
	secret := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: sa.CredentialsSecretName()}, secret); err == nil {
		g.Expect(string(secret.Data[shopv1alpha1.SecretKeyPassword])).NotTo(Equal(key), "the TLS key is not copied")
	}
}

// Item 3: a Shop's credentials Secret bound to endpoint hosts by its
// annotation is used only with those: a Shop naming it with another
// endpoint is Stalled with EndpointNotAllowed before any call; the
// listed endpoint works.
func TestCredentialsSecretBoundToEndpointHosts(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) {
		s.Spec.CredentialsSecretRef.Name = "bound-api"
		s.Spec.Endpoint = "https://attacker.example.net:8443"
	})
	secret := shopAPISecret(ns, "bound-api", credentialsData(ts.creds))
	secret.Annotations = map[string]string{shopv1alpha1.AnnotationAllowedEndpointHosts: "gateway.example.com, *.gw.example.com"}
	create(t, secret)
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	cond := waitCondition(t, shop, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonEndpointNotAllowed)
	g.Expect(cond.Message).To(Equal(`credentials Secret "bound-api" may be used only with the endpoint hosts "gateway.example.com, *.gw.example.com" ` +
		`(annotation shop.subaccount.io/allowed-endpoint-hosts); endpoint https://attacker.example.net:8443 (host attacker.example.net, port 8443) ` +
		`is not one of them, so nothing is sent to it`))
	g.Expect(shopInfoCallsOf(ts.main)).To(BeZero(), "no call to an endpoint the Secret is not bound to")

	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.Endpoint = "https://eu.gw.example.com" })
	waitCondition(t, shop, shopv1alpha1.ConditionReady, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(shopInfoCallsOf(ts.main)).To(BeNumerically(">", 0))
}

// Item 10: a SubAccount refused with NameTaken has a credentials Secret
// that says its login is not live and holds no username (before, it held
// "main:xiaohong", someone else's login, beside a password that does not
// work); one that got its account has a live Secret with the username.
func TestRefusedSubAccountPublishesNoLogin(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	if _, err := ts.client(t).CreateAccount(ctx, platform.CreateAccount{Name: "xiaohong", Password: "their-Passw0rd"}, ""); err != nil {
		t.Fatal(err)
	}
	refused := newSubAccount(ns, "mallory", "cs")
	refused.Spec.AccountName = "xiaohong"
	create(t, refused)
	waitCondition(t, refused, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonNameTaken)
	secret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: refused.CredentialsSecretName()}, secret)).To(Succeed())
	g.Expect(secret.Annotations).To(HaveKeyWithValue(shopv1alpha1.AnnotationLogin, shopv1alpha1.LoginPending))
	g.Expect(secret.Data).NotTo(HaveKey(shopv1alpha1.SecretKeyUsername))

	ours := newSubAccount(ns, "agent", "cs")
	create(t, ours)
	waitCurrent(t, ours)
	g.Eventually(func() map[string]string {
		_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: ours.CredentialsSecretName()}, secret)
		return secret.Annotations
	}, timeout, interval).Should(HaveKeyWithValue(shopv1alpha1.AnnotationLogin, shopv1alpha1.LoginLive))
	g.Expect(string(secret.Data[shopv1alpha1.SecretKeyUsername])).To(Equal(ts.main + ":" + ours.Spec.AccountName))
}
