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

// The contacts step's decisions, as pure functions of the Shop and the
// platform's contacts: tested without a control plane or a platform
// (shop_contacts_plan_test.go). The step itself (shop_contacts.go) only
// carries them out.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// contactPlan is what the contacts step is to do on the platform.
type contactPlan struct {
	// remove is the contacts the operator added (they are in status) and
	// the spec dropped.
	remove []platform.Contact
	// contacts is every declared contact, in the spec's order.
	contacts []plannedContact
}

// plannedContact is one declared contact and what it needs.
type plannedContact struct {
	spec platform.ContactSpec
	// current is the contact on the platform, found by phone; add when
	// there is none, rename when its name differs from the spec's.
	current     platform.Contact
	add, rename bool
	// resendHandled is the last request for a new code already acted on.
	resendHandled string
}

// planContacts decides which contacts to add, rename and remove: a
// contact is known by its phone, and only those the operator added are
// ever removed.
func planContacts(shop *shopv1alpha1.Shop, current []platform.Contact) contactPlan {
	byPhone := map[string]platform.Contact{}
	for _, ct := range current {
		byPhone[ct.Phone] = ct
	}
	previous := map[string]shopv1alpha1.ContactStatus{}
	for _, st := range shop.Status.NotificationContacts {
		previous[st.ID] = st
	}
	wanted := map[string]bool{}
	for _, c := range shop.Spec.NotificationContacts {
		wanted[c.Phone] = true
	}
	var p contactPlan
	for _, ct := range current {
		if _, ours := previous[ct.ID]; ours && !wanted[ct.Phone] {
			p.remove = append(p.remove, ct)
		}
	}
	for _, c := range shop.Spec.NotificationContacts {
		ct, ok := byPhone[c.Phone]
		pc := plannedContact{spec: platform.ContactSpec{Name: c.Name, Phone: c.Phone}, current: ct,
			add: !ok, rename: ok && ct.Name != c.Name, resendHandled: previous[ct.ID].LastHandledResend}
		if !ok {
			// A resend request older than the contact is not for its code.
			pc.resendHandled = shop.Annotations[shopv1alpha1.ContactResendAnnotation(c.Phone)]
		}
		p.contacts = append(p.contacts, pc)
	}
	return p
}

// contactsReport is what the contacts step found.
type contactsReport struct {
	platform shopv1alpha1.Platform
	// declared is how many contacts the spec declares.
	declared int
	// notSupported: the platform's API cannot manage contacts.
	notSupported bool
	// issues is what a person must act on; expired and pending name the
	// contacts whose code expired or is awaited.
	issues           sideIssues
	expired, pending []string
	// next is when an awaited code is looked for again.
	next time.Duration
}

// code sorts where a contact's verification stands: a platform or API
// error met on the way is an issue, or fails the reconcile (returned); an
// expired code and an awaited one are named.
func (c *contactsReport) code(name string, res codeResult) error {
	switch {
	case res.failed != nil:
		return c.issues.add(fmt.Errorf("%s: %w", name, res.failed))
	case res.verified:
		return nil
	}
	line := fmt.Sprintf("%s: %s", name, res.message)
	var o *outcome
	if errors.As(res.err, &o) && o.stalled {
		c.expired = append(c.expired, line)
		return nil
	}
	c.pending = append(c.pending, line)
	if o != nil {
		c.next = soonest(c.next, o.requeueAfter)
	}
	return nil
}

// condition is ContactsVerified.
func (c contactsReport) condition() stepCondition {
	switch {
	case c.declared == 0 && len(c.issues.lines) == 0:
		return stepCondition{}
	case c.notSupported:
		return stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonNotSupported,
			fmt.Sprintf("%s's API cannot manage notification contacts; set them in the platform's back office", c.platform)}
	case len(c.issues.lines) > 0:
		return stepCondition{metav1.ConditionFalse, c.issues.reason,
			strings.Join(slices.Concat(c.issues.lines, c.expired, c.pending), "; ")}
	case len(c.expired) > 0:
		return stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonVerificationExpired, strings.Join(slices.Concat(c.expired, c.pending), "; ")}
	case len(c.pending) > 0:
		return stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification, strings.Join(c.pending, "; ")}
	default:
		return stepCondition{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
			fmt.Sprintf("all %d notification contacts are verified and receive the shop's notifications", c.declared)}
	}
}

// unsupported names, for PlatformLimits, the contacts the platform's API
// cannot manage.
func (c contactsReport) unsupported() []string {
	if c.notSupported && c.declared > 0 {
		return []string{"notificationContacts"}
	}
	return nil
}

// result asks for another look when an awaited code or an issue says.
func (c contactsReport) result() stepResult {
	return stepResult{requeueAfter: soonest(c.next, c.issues.next)}
}
