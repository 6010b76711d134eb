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
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// The bad input catalogue (docs/reliability.md): every input there that
// admission cannot refuse is refused by a controller with a documented
// reason and exactly the message the catalogue shows, and nothing reaches
// the platform. The admission part is TestAdmission (validation_test.go)
// plus TestBadInputCatalogueAdmission below.

// catalogueCase is one bad input a controller refuses.
type catalogueCase struct {
	name string
	// setup creates the bad input in ns and returns the object refusing it.
	setup     func(t *testing.T, ns string) (conditioned, testShop)
	condition string
	status    metav1.ConditionStatus
	reason    string
	// want is the exact condition message, given the namespace.
	want func(ns string) string
}

func exactly(s string) func(string) string { return func(string) string { return s } }

// saWithRoles is a SubAccount named name on a shop with Roles created from
// the given templates (named after them).
func saWithRoles(t *testing.T, ns string, p platform.Name, name string, templates ...shopv1alpha1.RoleTemplate) (*shopv1alpha1.SubAccount, testShop) {
	t.Helper()
	ts := newShop(t, ns, p, 10, nil)
	var names []string
	for _, tmpl := range templates {
		create(t, newRole(ns, string(tmpl), "岗位"+string(tmpl[:2]), tmpl))
		names = append(names, string(tmpl))
	}
	return newSubAccount(ns, name, names...), ts
}

var controllerCatalogue = []catalogueCase{
	{name: "Role with an unknown permission code", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonUnknownPermissions,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			ts := newShop(t, ns, platform.Taobao, 10, nil)
			r := newRole(ns, "cs", "客服", "", "wangwang-chat", "no-such-code", "also-unknown")
			create(t, r)
			return r, ts
		},
		want: exactly("permissions: taobao does not know the permission codes also-unknown, no-such-code")},
	{name: "SubAccount with an unknown extra permission", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonUnknownPermissions,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa, ts := saWithRoles(t, ns, platform.Pinduoduo, "agent", "customer-service")
			sa.Spec.ExtraPermissions = []string{"sm-design"} // a Taobao code
			create(t, sa)
			return sa, ts
		},
		want: exactly("extraPermissions: pinduoduo does not know the permission codes sm-design")},
	{name: "Role with high-risk permissions without allowHighRisk", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonHighRiskNotAllowed,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			ts := newShop(t, ns, platform.Taobao, 10, nil)
			r := newRole(ns, "boss", "店长", "admin")
			create(t, r)
			return r, ts
		},
		want: exactly("permissions grant high-risk permissions funds-payment, funds-view, item-delete, item-price, subaccount-manage; set allowHighRisk: true to grant them on purpose")},
	{name: "SubAccount with a high-risk extra permission", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonHighRiskNotAllowed,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa, ts := saWithRoles(t, ns, platform.Taobao, "agent", "customer-service")
			sa.Spec.ExtraPermissions = []string{"item-delete"}
			create(t, sa)
			return sa, ts
		},
		want: exactly("extraPermissions grant high-risk permissions item-delete; set allowHighRisk: true to grant them on purpose")},
	{name: "Taobao Role name of 21 characters", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonInvalidSpec,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			ts := newShop(t, ns, platform.Taobao, 10, nil)
			r := newRole(ns, "cs", strings.Repeat("客", 21), "customer-service")
			create(t, r)
			return r, ts
		},
		want: exactly(`displayName "` + strings.Repeat("客", 21) + `" has 21 characters; taobao allows at most 20`)},
	{name: "SubAccount using a Role of another Shop", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonRoleShopMismatch,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			ts := newShop(t, ns, platform.Taobao, 10, nil)
			other := newRole(ns, "other-cs", "客服", "customer-service")
			other.Spec.ShopRef.Name = "another-shop"
			create(t, other)
			sa := newSubAccount(ns, "xiaohong", "other-cs")
			create(t, sa)
			return sa, ts
		},
		want: exactly(`Roles other-cs (shop another-shop) belong to another Shop; a SubAccount of Shop "shop" can use only that Shop's Roles`)},
	{name: "SubAccount naming a missing Role", condition: shopv1alpha1.ConditionRolesResolved, status: metav1.ConditionFalse,
		reason: shopv1alpha1.ReasonRoleNotFound,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			ts := newShop(t, ns, platform.Taobao, 10, nil)
			sa := newSubAccount(ns, "xiaohong", "cs", "ghost")
			create(t, sa)
			return sa, ts
		},
		want: func(ns string) string { return fmt.Sprintf("Roles cs, ghost not found in namespace %q", ns) }},
	{name: "SubAccount of a missing Shop", condition: shopv1alpha1.ConditionReady, status: metav1.ConditionFalse,
		reason: shopv1alpha1.ReasonShopNotFound,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa := newSubAccount(ns, "xiaohong")
			sa.Spec.ShopRef.Name = "no-such-shop"
			create(t, sa)
			return sa, testShop{}
		},
		want: func(ns string) string { return fmt.Sprintf("Shop %q not found in namespace %q", "no-such-shop", ns) }},
	{name: "Shop credentials Secret with a missing key", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonSecretInvalid,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			ts := newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) { s.Spec.CredentialsSecretRef.Name = "partial-api" })
			data := credentialsData(ts.creds)
			delete(data, shopv1alpha1.SecretKeyAccessToken)
			create(t, shopAPISecret(ns, "partial-api", data))
			return &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}, testShop{}
		},
		want: exactly(`credentials Secret "partial-api" lacks the keys ` + shopv1alpha1.SecretKeyAccessToken)},
	{name: "Pinduoduo app Secret with a missing key", condition: shopv1alpha1.ConditionOpenPlatformCredentialsValid, status: metav1.ConditionFalse,
		reason: shopv1alpha1.ReasonSecretInvalid,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			ts := newShop(t, ns, platform.Pinduoduo, 10, func(s *shopv1alpha1.Shop) {
				s.Spec.OpenPlatform = &shopv1alpha1.OpenPlatformApp{CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: "pdd-app"}}
			})
			data := appData(ts.creds, "")
			create(t, shopAPISecret(ns, "pdd-app", data))
			return &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}, testShop{}
		},
		want: exactly(`open platform credentials Secret "pdd-app" lacks the keys ` + shopv1alpha1.SecretKeyAccessToken)},
	{name: "Shop credentials Secret missing", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonSecretNotFound,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) { s.Spec.CredentialsSecretRef.Name = "no-such-secret" })
			return &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}, testShop{}
		},
		want: func(ns string) string {
			return fmt.Sprintf("credentials Secret %q not found in namespace %q", "no-such-secret", ns)
		}},
	{name: "password Secret without the named key", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonSecretInvalid,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa, ts := saWithRoles(t, ns, platform.Taobao, "agent", "customer-service")
			create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vault-pw", Labels: passwordLabel},
				StringData: map[string]string{"other": "long-enough-Passw0rd"}})
			sa.Spec.Password.SecretRef = &shopv1alpha1.SecretKeyReference{Name: "vault-pw", Key: "pw"}
			create(t, sa)
			return sa, ts
		},
		want: exactly(`password Secret "vault-pw" has no key "pw"`)},
	{name: "supplied password below the platform minimum", condition: shopv1alpha1.ConditionReady, status: metav1.ConditionFalse,
		reason: shopv1alpha1.ReasonPasswordTooShort,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa, ts := saWithRoles(t, ns, platform.Taobao, "agent", "customer-service")
			create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vault-pw", Labels: passwordLabel},
				StringData: map[string]string{"pw": "密码1234567"[:len("密码12345")]}}) // 7 characters, 11 bytes
			sa.Spec.Password.SecretRef = &shopv1alpha1.SecretKeyReference{Name: "vault-pw", Key: "pw"}
			create(t, sa)
			return sa, ts
		},
		want: exactly(`the password in Secret "vault-pw" key "pw" is too short; taobao requires at least 8 characters`)},
	{name: "supplied password that is weak", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonPasswordTooWeak,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa, ts := saWithRoles(t, ns, platform.Taobao, "agent", "customer-service")
			create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vault-pw", Labels: passwordLabel},
				StringData: map[string]string{"pw": "password123"}})
			sa.Spec.Password.SecretRef = &shopv1alpha1.SecretKeyReference{Name: "vault-pw", Key: "pw"}
			create(t, sa)
			return sa, ts
		},
		want: exactly(`the password in Secret "vault-pw" key "pw" is weak: it mixes 2 kinds of character; use at least 3 of lower-case letters, upper-case letters, digits and symbols`)},
	{name: "generated password length below the platform minimum", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonInvalidSpec,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa, ts := saWithRoles(t, ns, platform.Taobao, "agent", "customer-service")
			sa.Spec.Password.Length = 6 // admission allows 6 (Pinduoduo's minimum)
			create(t, sa)
			return sa, ts
		},
		want: exactly("password.length 6 is below taobao's minimum of 8")},
	{name: "Douyin sub-account with two positions", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonInvalidSpec,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa, ts := saWithRoles(t, ns, platform.Douyin, "agent", "customer-service", "marketing")
			sa.Spec.Phone = uniquePhone()
			create(t, sa)
			return sa, ts
		},
		want: exactly("a Douyin sub-account needs exactly one Role (its position); 2 given")},
	{name: "Douyin sub-account without a phone", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonInvalidSpec,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa, ts := saWithRoles(t, ns, platform.Douyin, "agent", "customer-service")
			create(t, sa)
			return sa, ts
		},
		want: exactly("a Douyin sub-account needs a phone number for SMS verification")},
	{name: "overlapping seat schedule windows", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonInvalidSpec,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa, ts := saWithRoles(t, ns, platform.Taobao, "agent", "customer-service")
			sa.Spec.ChatSeat = &shopv1alpha1.ChatSeatSpec{Chat: true, Capacity: 5, Presence: shopv1alpha1.PresenceOnline,
				Schedule: &shopv1alpha1.ChatSeatSchedule{TimeZone: "Asia/Shanghai", Windows: []shopv1alpha1.ScheduleWindow{
					{Name: "lunch", Start: "12:00", End: "12:30", Presence: shopv1alpha1.PresenceBreak},
					{Name: "meeting", Start: "12:15", End: "13:00", Presence: shopv1alpha1.PresenceBusy},
				}}}
			create(t, sa)
			return sa, ts
		},
		want: exactly(`seat.schedule: windows[1] (window "meeting"): overlaps windows[0] "lunch" on Mon 12:15–12:30 (also Tue, Wed, Thu, Fri, Sat, Sun), with a different presence (Break vs Busy); windows that overlap must have the same presence`)},
	{name: "account name already used on the platform", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonNameTaken,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			sa, ts := saWithRoles(t, ns, platform.Taobao, "taken", "customer-service")
			_, err := ts.client(t).CreateAccount(context.Background(), platform.CreateAccount{Name: "taken", Password: "their-Passw0rd"}, "")
			if err != nil {
				t.Fatal(err)
			}
			create(t, sa)
			return sa, testShop{} // their account exists: do not check for none
		},
		want: exactly(`account name "taken" is already used in shop "shop" by an account this SubAccount did not create; choose another accountName, or set adoption: Preview to see what adopting it would change`)},
	{name: "a second SubAccount claiming an existing account name", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonNameTaken,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			first, _ := saWithRoles(t, ns, platform.Taobao, "xiaohong", "customer-service")
			create(t, first)
			waitCurrent(t, first)
			second := newSubAccount(ns, "xiaohong-again", "customer-service")
			second.Spec.AccountName = "xiaohong"
			create(t, second)
			return second, testShop{}
		},
		want: exactly(`account name "xiaohong" is already used in shop "shop" by an account this SubAccount did not create; choose another accountName, or set adoption: Preview to see what adopting it would change`)},
	{name: "every seat used", condition: shopv1alpha1.ConditionStalled, status: metav1.ConditionTrue,
		reason: shopv1alpha1.ReasonSeatsExhausted,
		setup: func(t *testing.T, ns string) (conditioned, testShop) {
			newShop(t, ns, platform.Taobao, 1, func(s *shopv1alpha1.Shop) { s.Spec.Seats = &shopv1alpha1.ShopAccountQuota{Included: 1} })
			create(t, newRole(ns, "cs", "客服", "customer-service"))
			first := newSubAccount(ns, "first", "cs")
			create(t, first)
			waitCurrent(t, first)
			NewWithT(t).Eventually(func() int32 {
				shop := shopObject(t, ns)
				if shop.Status.Seats == nil {
					return 0
				}
				return shop.Status.Seats.Used
			}, timeout, interval).Should(BeEquivalentTo(1))
			second := newSubAccount(ns, "second", "cs")
			create(t, second)
			return second, testShop{}
		},
		want: exactly(`Shop "shop" uses all 1 of its sub-account seats; free a seat or raise spec.seats.purchased on the Shop`)},
}

// TestBadInputCatalogue proves the controller rows of the catalogue: the
// reason, the exact message, and no platform account or role for it.
func TestBadInputCatalogue(t *testing.T) {
	for _, tc := range controllerCatalogue {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ns := newNamespace(t)
			obj, ts := tc.setup(t, ns)
			cond := waitCondition(t, obj, tc.condition, tc.status, tc.reason)
			g.Expect(cond.Message).To(Equal(tc.want(ns)))
			if ts.main != "" {
				g.Expect(engine.Accounts(ts.platform, ts.main)).To(BeEmpty(), "a refused input must not reach the platform")
				if _, isRole := obj.(*shopv1alpha1.Role); isRole {
					g.Expect(engine.Roles(ts.platform, ts.main)).To(BeEmpty(), "a refused Role must not reach the platform")
				}
			}
		})
	}
}

// TestBadInputCatalogueAdmission: unicode and very long names. The API
// server counts characters, not bytes (32 Chinese characters, 96 bytes, are
// accepted), although its message says "bytes".
func TestBadInputCatalogueAdmission(t *testing.T) {
	ns := newNamespace(t)
	for i, tc := range []admissionCase{
		{name: "accountName of 33 Chinese characters", kind: "SubAccount",
			create: `{"spec":{"accountName":"` + strings.Repeat("客", 33) + `"}}`,
			want:   "spec.accountName: Too long: may not be more than 32"},
		{name: "SubAccount displayName of 200 characters", kind: "SubAccount",
			create: `{"spec":{"displayName":"` + strings.Repeat("小", 200) + `"}}`,
			want:   "spec.displayName: Too long: may not be more than 32"},
		{name: "SubAccount displayName of 32 Chinese characters", kind: "SubAccount",
			create: `{"spec":{"displayName":"` + strings.Repeat("小", 32) + `"}}`},
		{name: "Role displayName of 200 characters", kind: "Role",
			create: `{"spec":{"displayName":"` + strings.Repeat("客", 200) + `"}}`,
			want:   "spec.displayName: Too long: may not be more than 64"},
		{name: "accountName with an emoji", kind: "SubAccount",
			create: `{"spec":{"accountName":"xiao😀hong"}}`, want: msgAccountNamePattern},
		{name: "Role permission code of 129 characters", kind: "Role",
			create: `{"spec":{"permissions":["` + strings.Repeat("a", 129) + `"]}}`,
			want:   "spec.permissions[0]: Too long: may not be more than 128"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			obj := validObject(tc.kind, ns, fmt.Sprintf("catalogue-%d", i))
			var patch map[string]any
			g.Expect(json.Unmarshal([]byte(tc.create), &patch)).To(Succeed())
			mergePatch(obj, patch)
			err := k8s.Create(context.Background(), &unstructured.Unstructured{Object: obj})
			expectAdmission(g, err, tc.want)
		})
	}
}
