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

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

const contactPhone = "+8613900000001"

// contactShop is a Shop with two notification contacts, 值班's code
// pending (attempts left), 店长 verified.
func contactShop(t *testing.T, ns string) *shopv1alpha1.Shop {
	t.Helper()
	s := &shopv1alpha1.Shop{
		ObjectMeta: metav1.ObjectMeta{Name: "hongxing", Namespace: ns},
		Spec: shopv1alpha1.ShopSpec{Platform: shopv1alpha1.PlatformTaobao, MainAccount: "hongxing",
			CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: "hongxing-api"},
			NotificationContacts: []shopv1alpha1.NotificationContact{{Name: "值班", Phone: contactPhone}, {Name: "店长", Phone: "13900000002"}}},
	}
	mustCreate(t, s)
	s.Status.NotificationContacts = []shopv1alpha1.ContactStatus{
		{Name: "值班", ID: "1", Verification: shopv1alpha1.VerificationStatus{Phone: "+86****0001", AttemptsLeft: 5}},
		{Name: "店长", ID: "2", Verification: shopv1alpha1.VerificationStatus{Verified: true, Phone: "139****0002"}},
	}
	s.Status.Conditions = []metav1.Condition{{Type: shopv1alpha1.ConditionContactsVerified, Status: metav1.ConditionFalse,
		Reason: shopv1alpha1.ReasonPendingVerification, Message: "值班: " + pendingMsg, LastTransitionTime: metav1.Now()}}
	if err := k8s.Status().Update(context.Background(), s); err != nil {
		t.Fatalf("updating shop status: %v", err)
	}
	return s
}

// consumeContact plays the operator for a contact's code: it waits for the
// Secret named by convention, checks and deletes it, then writes the
// contact's status and the ContactsVerified condition.
func consumeContact(t *testing.T, ns, wantCode string, verified bool) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		secret := &corev1.Secret{}
		key := client.ObjectKey{Namespace: ns, Name: "hongxing-contact-8613900000001-verification"}
		err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
			err := k8s.Get(ctx, key, secret)
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return err == nil, err
		})
		if err == nil && (string(secret.Data[shopv1alpha1.SecretKeyCode]) != wantCode ||
			secret.Labels[shopv1alpha1.LabelSecretRole] != "verification") {
			t.Errorf("Secret %s: code %q, labels %v", key.Name, secret.Data[shopv1alpha1.SecretKeyCode], secret.Labels)
		}
		if err == nil {
			err = k8s.Delete(ctx, secret)
		}
		shop := &shopv1alpha1.Shop{}
		if err == nil {
			err = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hongxing"}, shop)
		}
		if err != nil {
			done <- err
			return
		}
		cond := metav1.Condition{Type: shopv1alpha1.ConditionContactsVerified, Status: metav1.ConditionTrue,
			Reason: shopv1alpha1.ReasonSucceeded, Message: "all 2 notification contacts are verified"}
		if verified {
			shop.Status.NotificationContacts[0].Verification.Verified = true
		} else {
			shop.Status.NotificationContacts[0].Verification.AttemptsLeft--
			cond.Status, cond.Reason = metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification
			cond.Message = "值班: the platform refused the code: wrong code; 4 attempts left"
		}
		meta.SetStatusCondition(&shop.Status.Conditions, cond)
		done <- k8s.Status().Update(ctx, shop)
	}()
	return done
}

func TestVerifyContact(t *testing.T) {
	for _, by := range []string{contactPhone, "8613900000001", "值班"} {
		t.Run(by, func(t *testing.T) {
			ns := newNamespace(t)
			contactShop(t, ns)
			done := consumeContact(t, ns, "654321", true)
			r := plugin(t, ns, "verify", "shop/hongxing", "--contact", by, "654321")
			if err := <-done; err != nil {
				t.Fatalf("operator: %v", err)
			}
			expectOK(t, r)
			contains(t, r.stdout, "phone +86****0001 verified; notification contact 值班 receives the shop's notifications")
			if strings.Contains(r.stdout+r.stderr, "654321") {
				t.Errorf("the code was printed:\n%s%s", r.stdout, r.stderr)
			}
		})
	}
}

func TestVerifyContactWrongCode(t *testing.T) {
	ns := newNamespace(t)
	contactShop(t, ns)
	done := consumeContact(t, ns, "111111", false)
	r := plugin(t, ns, "verify", "shop/hongxing", "--contact", "值班", "111111")
	if err := <-done; err != nil {
		t.Fatalf("operator: %v", err)
	}
	expectFail(t, r, "notification contact 值班 is not verified (PendingVerification)")
	contains(t, r.stdout, "wrong code; 4 attempts left")
}

func TestResendContact(t *testing.T) {
	ns := newNamespace(t)
	contactShop(t, ns)
	key := shopv1alpha1.ContactResendAnnotation(contactPhone)
	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		shop := &shopv1alpha1.Shop{}
		err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hongxing"}, shop); err != nil {
				return false, err
			}
			return shop.Annotations[key] != "", nil
		})
		if err == nil {
			shop.Status.NotificationContacts[0].LastHandledResend = shop.Annotations[key]
			shop.Status.NotificationContacts[0].Verification = shopv1alpha1.VerificationStatus{Phone: "+86****0001", AttemptsLeft: 5}
			err = k8s.Status().Update(ctx, shop)
		}
		done <- err
	}()
	r := plugin(t, ns, "resend", "shop/hongxing", "--contact", "值班")
	if err := <-done; err != nil {
		t.Fatalf("operator: %v", err)
	}
	expectOK(t, r)
	contains(t, r.stdout, "a new verification code was sent to +86****0001", "kubectl subaccount verify shop/hongxing --contact 值班 CODE")
}

func TestContactUsageErrors(t *testing.T) {
	ns := newNamespace(t)
	contactShop(t, ns)
	expectFail(t, plugin(t, ns, "verify", "shop/hongxing", "123456"), "name the notification contact with --contact")
	expectFail(t, plugin(t, ns, "verify", "xiaohong", "--contact", "值班", "123456"), "--contact goes with shop/SHOP")
	expectFail(t, plugin(t, ns, "verify", "shop/hongxing", "--contact", "nobody", "123456"),
		`shop hongxing has no notification contact "nobody" (its contacts: 值班, 店长)`)
	expectFail(t, plugin(t, ns, "resend", "shop/hongxing", "--contact", "店长"), "notification contact 店长 is already verified")
	expectFail(t, plugin(t, ns, "resend", "shop/nowhere", "--contact", "值班"), `shop "nowhere" not found`)
	r := plugin(t, ns, "verify", "shop/hongxing", "--contact", "店长", "123456")
	expectOK(t, r)
	contains(t, r.stdout, "already verified")
}

// status counts each shop's departments and verified contacts.
func TestStatusDepartmentsAndContacts(t *testing.T) {
	ns := newNamespace(t)
	s := contactShop(t, ns)
	s.Status.Departments = []shopv1alpha1.DepartmentStatus{{Path: "客服部", ID: "1"}, {Path: "客服部/售前", ID: "2", Members: 3}}
	if err := k8s.Status().Update(context.Background(), s); err != nil {
		t.Fatalf("updating shop status: %v", err)
	}
	r := plugin(t, ns, "status")
	expectOK(t, r)
	contains(t, r.stdout, "DEPARTMENTS", "CONTACTS VERIFIED")
	hasRow(t, r.stdout, "hongxing taobao - - - 2 1/2")
}
