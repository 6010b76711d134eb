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
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/pinduoduo"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

// appData is an open-platform app Secret's data for the shop: shopsim's
// router takes the shop's app key as client_id and its app secret as the
// client secret.
func appData(c platform.Credentials, token string) map[string]string {
	return map[string]string{shopv1alpha1.SecretKeyClientID: c.AppKey, shopv1alpha1.SecretKeyClientSecret: c.AppSecret,
		shopv1alpha1.SecretKeyAccessToken: token}
}

// A Pinduoduo Shop naming its open-platform app: the app's credentials
// are checked and the shop's name read through shopsim's Pinduoduo
// router; an expired token stalls the Shop with its own reason, and a new
// token in the Secret heals it at once (the Secret's watch, not a timer:
// a stalled Shop is otherwise looked at every 5 minutes).
func TestPinduoduoOpenPlatform(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	sim := shopsim.New(engine, shopsim.Options{Clock: testNow})
	router := httptest.NewServer(sim.Handler())
	t.Cleanup(router.Close)
	// The shop's credentials are made with it, so the app Secret holds
	// none at first: unlabelled, it is not used anyway.
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pdd-app"}}
	create(t, secret)
	ts := newShop(t, ns, platform.Pinduoduo, 10, func(s *shopv1alpha1.Shop) {
		s.Spec.OpenPlatform = &shopv1alpha1.OpenPlatformApp{
			CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: "pdd-app"},
			Endpoint:             router.URL + pinduoduo.RouterPath,
		}
	})
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	waitCondition(t, shop, shopv1alpha1.ConditionOpenPlatformCredentialsValid, metav1.ConditionFalse, shopv1alpha1.ReasonSecretNotLabelled)
	waitCondition(t, shop, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSecretNotLabelled)

	// Labelled and filled in, it is used at once (the watch).
	update(t, secret, func(s *corev1.Secret) {
		s.Labels = map[string]string{shopv1alpha1.LabelSecretRole: shopv1alpha1.SecretRoleShopAPI}
		s.Data = map[string][]byte{}
		for k, v := range appData(ts.creds, ts.creds.AccessToken) {
			s.Data[k] = []byte(v)
		}
	})
	waitCurrent(t, shop)
	cond := waitCondition(t, shop, shopv1alpha1.ConditionOpenPlatformCredentialsValid, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(shop.Status.OpenPlatform).NotTo(BeNil())
	g.Expect(shop.Status.OpenPlatform.ShopName).To(Equal(ts.main))
	g.Expect(strconv.ParseInt(shop.Status.OpenPlatform.ShopID, 10, 64)).To(BeNumerically(">", 0))
	g.Expect(shop.Status.OpenPlatform.CheckedAt).NotTo(BeNil())
	g.Expect(cond.Message).To(ContainSubstring(ts.main))

	// The shop's authorisation lapses; the next look (a drift check asked
	// for) finds it.
	g.Expect(sim.ExpirePinduoduoToken(ts.main)).To(Succeed())
	// (A merge patch: an update would write spec.driftCheckInterval back
	// as "10m0s", a new generation.)
	g.Expect(k8s.Patch(context.Background(), shop, client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"`+shopv1alpha1.AnnotationRequestedAt+`":"expired"}}}`)))).To(Succeed())
	cond = waitCondition(t, shop, shopv1alpha1.ConditionOpenPlatformCredentialsValid, metav1.ConditionFalse, shopv1alpha1.ReasonPinduoduoTokenExpired)
	g.Expect(cond.Message).To(ContainSubstring("10019"))
	waitCondition(t, shop, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonPinduoduoTokenExpired)
	waitCondition(t, shop, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonPinduoduoTokenExpired)
	waitKStatus(t, shop, status.FailedStatus, shopv1alpha1.ReasonPinduoduoTokenExpired)
	// The gateway's own credentials are still good.
	g.Expect(conditionsOf(shop)).To(ContainSubstring("[CredentialsValid=True"))
	for _, s := range []string{ts.creds.AppSecret, ts.creds.AccessToken} {
		g.Expect(conditionsOf(shop)).NotTo(ContainSubstring(s), "status must not show credentials")
		for _, e := range eventsFor(t, shop) {
			g.Expect(e.Note).NotTo(ContainSubstring(s))
		}
	}

	// The shop authorises the app again; the new token in the Secret heals
	// the Shop.
	token, err := sim.AuthorizePinduoduoApp(ts.main)
	g.Expect(err).NotTo(HaveOccurred())
	update(t, secret, func(s *corev1.Secret) { s.Data[shopv1alpha1.SecretKeyAccessToken] = []byte(token) })
	waitCurrent(t, shop)
	waitCondition(t, shop, shopv1alpha1.ConditionOpenPlatformCredentialsValid, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(conditionsOf(shop)).NotTo(ContainSubstring(shopv1alpha1.ConditionStalled))

	// Dropping openPlatform drops its condition and status.
	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.OpenPlatform = nil })
	waitCurrent(t, shop)
	g.Expect(conditionsOf(shop)).NotTo(ContainSubstring(shopv1alpha1.ConditionOpenPlatformCredentialsValid))
	g.Expect(shop.Status.OpenPlatform).To(BeNil())
}

// Only a Pinduoduo Shop may name an open-platform app.
func TestOpenPlatformAdmission(t *testing.T) {
	ns := newNamespace(t)
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tb"},
		Spec: shopv1alpha1.ShopSpec{Platform: shopv1alpha1.Platform(platform.Taobao), MainAccount: "tb",
			CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: "tb-api"},
			OpenPlatform:         &shopv1alpha1.OpenPlatformApp{CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: "app"}}}}
	err := k8s.Create(context.Background(), shop)
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring("only a pinduoduo Shop can name one")))
}

// What a failed check means for the Shop.
func TestOpenPlatformOutcome(t *testing.T) {
	for _, tc := range []struct {
		err     error
		reason  string
		stalled bool
	}{
		{pinduoduo.ErrorFrom(pinduoduo.MethodMallInfo, pinduoduo.ErrorResponse{ErrorCode: pinduoduo.CodeTokenExpired}), shopv1alpha1.ReasonPinduoduoTokenExpired, true},
		{pinduoduo.ErrorFrom(pinduoduo.MethodMallInfo, pinduoduo.ErrorResponse{ErrorCode: 10000}), shopv1alpha1.ReasonCredentialsRejected, true},
		{pinduoduo.ErrorFrom(pinduoduo.MethodMallInfo, pinduoduo.ErrorResponse{ErrorCode: pinduoduo.CodeThrottled}), shopv1alpha1.ReasonRateLimited, false},
		{pinduoduo.ErrorFrom(pinduoduo.MethodMallInfo, pinduoduo.ErrorResponse{ErrorCode: pinduoduo.CodeUnavailable}), shopv1alpha1.ReasonPlatformError, false},
		{&platform.Error{Kind: platform.ErrEndpointNotAllowed, Field: "endpoint"}, shopv1alpha1.ReasonEndpointNotAllowed, true},
		{platform.NewError(platform.ErrInvalid, "endpoint", "HTTP status 404"), shopv1alpha1.ReasonInvalidSpec, true},
		{errors.New("connection reset"), shopv1alpha1.ReasonPlatformError, false},
	} {
		o := openPlatformOutcome(tc.err)
		NewWithT(t).Expect([]any{o.reason, o.stalled}).To(Equal([]any{tc.reason, tc.stalled}), "%v", tc.err)
	}
}

// countingOpenPlatform answers MallInfo with err and counts the calls.
type countingOpenPlatform struct {
	err   error
	calls int
}

func (c *countingOpenPlatform) MallInfo(context.Context, pinduoduo.App) (pinduoduo.MallInfo, error) {
	c.calls++
	return pinduoduo.MallInfo{MallID: 42, MallName: "小店"}, c.err
}

// A refused check is answered from memory until the wait is over or the
// Secret changes, even while a drift check is due (it waits behind the
// refusal); a success is asked again at each drift check, since a token
// expires by itself.
func TestOpenPlatformRefusalIsRemembered(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// The fake client keeps Data only (no stringData conversion).
	secret := shopAPISecret("ns", "pdd-app", nil)
	secret.Data = map[string][]byte{}
	for k, v := range appData(platform.Credentials{AppKey: "cid", AppSecret: "cs"}, "token") {
		secret.Data[k] = []byte(v)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(secret).Build()
	op := &countingOpenPlatform{err: pinduoduo.ErrorFrom(pinduoduo.MethodMallInfo, pinduoduo.ErrorResponse{ErrorCode: pinduoduo.CodeTokenExpired})}
	r := &ShopReconciler{Connector: &Connector{Client: c, OpenPlatform: op}, Now: func() time.Time { return now }}
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop", UID: "u1", Generation: 1},
		Spec: shopv1alpha1.ShopSpec{Platform: shopv1alpha1.Platform(platform.Pinduoduo),
			OpenPlatform: &shopv1alpha1.OpenPlatformApp{CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: "pdd-app"}}}}
	check := func(driftDue bool) string {
		_, err := r.openPlatform(ctx, &shopScope{shop: shop, memo: r.memo(shop), conn: r.Connector, driftDue: driftDue})
		if err == nil {
			return ""
		}
		var o *outcome
		g.Expect(errors.As(err, &o)).To(BeTrue())
		return o.reason
	}

	g.Expect(check(false)).To(Equal(shopv1alpha1.ReasonPinduoduoTokenExpired))
	g.Expect(op.calls).To(Equal(1))
	now = now.Add(time.Minute)
	g.Expect(check(false)).To(Equal(shopv1alpha1.ReasonPinduoduoTokenExpired))
	g.Expect(check(true)).To(Equal(shopv1alpha1.ReasonPinduoduoTokenExpired))
	g.Expect(op.calls).To(Equal(1), "a refused token was sent again")
	g.Expect(conditionsOf(shop)).To(ContainSubstring("[OpenPlatformCredentialsValid=False PinduoduoTokenExpired"))

	// The wait over, it is asked again.
	now = now.Add(credentialsRetry)
	g.Expect(check(false)).To(Equal(shopv1alpha1.ReasonPinduoduoTokenExpired))
	g.Expect(op.calls).To(Equal(2))

	// A new token in the Secret is checked at once.
	op.err = nil
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(secret), secret)).To(Succeed())
	secret.Data[shopv1alpha1.SecretKeyAccessToken] = []byte("new-token")
	g.Expect(c.Update(ctx, secret)).To(Succeed())
	g.Expect(check(false)).To(BeEmpty())
	g.Expect(op.calls).To(Equal(3))
	g.Expect(shop.Status.OpenPlatform).To(Equal(&shopv1alpha1.OpenPlatformStatus{ShopName: "小店", ShopID: "42",
		CheckedAt: &metav1.Time{Time: now}}))
	g.Expect(check(false)).To(BeEmpty())
	g.Expect(op.calls).To(Equal(3), "nothing changed, no drift check due")
	g.Expect(check(true)).To(BeEmpty())
	g.Expect(op.calls).To(Equal(4), "a drift check due asks again")

	// Transient failures are not remembered.
	op.err = pinduoduo.ErrorFrom(pinduoduo.MethodMallInfo, pinduoduo.ErrorResponse{ErrorCode: pinduoduo.CodeUnavailable})
	g.Expect(check(true)).To(Equal(shopv1alpha1.ReasonPlatformError))
	g.Expect(check(false)).To(Equal(shopv1alpha1.ReasonPlatformError))
	g.Expect(op.calls).To(Equal(6))
}
