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
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// A Shop's notification contacts are verified by SMS code as SubAccounts
// are: verify shop/SHOP --contact PHONE|NAME CODE, resend shop/SHOP
// --contact PHONE|NAME.

func (k *cli) getShop(ctx context.Context, name string) (*shopv1alpha1.Shop, error) {
	shop := &shopv1alpha1.Shop{}
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: name}, shop); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("shop %q not found in namespace %q", name, k.ns)
		}
		return nil, fmt.Errorf("reading shop %q: %w", name, err)
	}
	return shop, nil
}

// shopContact reads the shop and finds --contact among its contacts.
func (k *cli) shopContact(ctx context.Context, shopName string) (*shopv1alpha1.Shop, shopv1alpha1.NotificationContact, error) {
	shop, err := k.getShop(ctx, shopName)
	if err != nil {
		return nil, shopv1alpha1.NotificationContact{}, err
	}
	contact, err := k.contactOf(shop)
	return shop, contact, err
}

// contactOf finds --contact among the shop's contacts, by phone (with or
// without the leading '+') or by name.
func (k *cli) contactOf(shop *shopv1alpha1.Shop) (shopv1alpha1.NotificationContact, error) {
	names := make([]string, 0, len(shop.Spec.NotificationContacts))
	for _, c := range shop.Spec.NotificationContacts {
		if c.Name == k.contact || shopv1alpha1.PhoneDigits(c.Phone) == shopv1alpha1.PhoneDigits(k.contact) {
			return c, nil
		}
		names = append(names, c.Name)
	}
	if len(names) == 0 {
		return shopv1alpha1.NotificationContact{}, fmt.Errorf("shop %s has no notification contacts", shop.Name)
	}
	return shopv1alpha1.NotificationContact{}, fmt.Errorf("shop %s has no notification contact %q (its contacts: %s)",
		shop.Name, k.contact, strings.Join(names, ", "))
}

// contactStatus is the contact's entry in the shop's status, if any.
func contactStatus(shop *shopv1alpha1.Shop, name string) *shopv1alpha1.ContactStatus {
	for i := range shop.Status.NotificationContacts {
		if shop.Status.NotificationContacts[i].Name == name {
			return &shop.Status.NotificationContacts[i]
		}
	}
	return nil
}

func (k *cli) verifyContact(ctx context.Context, shopName, code string) error {
	shop, contact, err := k.shopContact(ctx, shopName)
	if err != nil {
		return err
	}
	if st := contactStatus(shop, contact.Name); st != nil && st.Verification.Verified {
		fmt.Fprintf(k.out, "notification contact %s of shop %s is already verified\n", contact.Name, shopName)
		return nil
	}
	var cur *shopv1alpha1.Shop
	cond, err := k.handOver(ctx, shop.ContactSecretName(contact.Phone), code,
		meta.FindStatusCondition(shop.Status.Conditions, shopv1alpha1.ConditionContactsVerified),
		"the ContactsVerified condition of shop "+shopName, func(ctx context.Context) (*metav1.Condition, error) {
			var err error
			if cur, err = k.getShop(ctx, shopName); err != nil {
				return nil, err
			}
			return meta.FindStatusCondition(cur.Status.Conditions, shopv1alpha1.ConditionContactsVerified), nil
		})
	if err != nil {
		return err
	}
	if st := contactStatus(cur, contact.Name); st != nil && st.Verification.Verified {
		fmt.Fprintf(k.out, "phone %s verified; notification contact %s receives the shop's notifications\n", st.Verification.Phone, contact.Name)
		return nil
	}
	fmt.Fprintln(k.out, cond.Message)
	return fmt.Errorf("notification contact %s is not verified (%s)", contact.Name, cond.Reason)
}

func (k *cli) resendContact(ctx context.Context, shopName string) error {
	shop, contact, err := k.shopContact(ctx, shopName)
	if err != nil {
		return err
	}
	st := contactStatus(shop, contact.Name)
	handled := ""
	if st != nil {
		if st.Verification.Verified {
			return fmt.Errorf("notification contact %s is already verified; no code to resend", contact.Name)
		}
		handled = st.LastHandledResend
	}
	key := shopv1alpha1.ContactResendAnnotation(contact.Phone)
	token := k.token(shop.Annotations[key], handled)
	if err := k.annotate(ctx, shop, key, token); err != nil {
		return err
	}
	phone := "the contact's phone"
	err = k.waitFor(ctx, "the operator to ask for a new code", func(ctx context.Context) (bool, error) {
		cur, err := k.getShop(ctx, shopName)
		if err != nil {
			return false, err
		}
		st := contactStatus(cur, contact.Name)
		if st == nil || st.LastHandledResend != token {
			return false, nil
		}
		phone = st.Verification.Phone
		return true, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(k.out, "a new verification code was sent to %s; enter it with: kubectl subaccount verify shop/%s --contact %s CODE\n",
		phone, shopName, contact.Name)
	return nil
}
