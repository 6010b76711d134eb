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
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// ensureContacts adds the declared notification contacts the platform
// lacks (each is sent an SMS code), renames changed ones, removes those
// the operator added and the spec dropped, and takes each pending
// contact's code as a SubAccount's (handleCode). It returns the fields the
// platform's API cannot apply and when to look again.
func (r *ShopReconciler) ensureContacts(ctx context.Context, shop *shopv1alpha1.Shop, pc platform.Client,
	caps platform.Capabilities) (unsupported []string, next time.Duration, err error) {
	declared := shop.Spec.NotificationContacts
	if len(declared) == 0 && len(shop.Status.NotificationContacts) == 0 {
		removeCondition(shop, shopv1alpha1.ConditionContactsVerified)
		return nil, 0, nil
	}
	if !caps.NotificationContacts {
		if len(declared) == 0 {
			removeCondition(shop, shopv1alpha1.ConditionContactsVerified)
			shop.Status.NotificationContacts = nil
			return nil, 0, nil
		}
		msg := fmt.Sprintf("%s's API cannot manage notification contacts; set them in the platform's back office", shop.Spec.Platform)
		setCondition(shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionFalse, shopv1alpha1.ReasonNotSupported, msg)
		shop.Status.NotificationContacts = nil
		return []string{"notificationContacts"}, 0, nil
	}
	current, err := pc.ListContacts(ctx)
	if err != nil {
		return nil, 0, platformOutcome("listing the notification contacts", err)
	}
	byPhone := map[string]platform.Contact{}
	for _, ct := range current {
		byPhone[ct.Phone] = ct
	}
	previous := map[string]shopv1alpha1.ContactStatus{}
	for _, st := range shop.Status.NotificationContacts {
		previous[st.ID] = st
	}

	var issues sideIssues
	// Remove the contacts the operator added and the spec dropped.
	wanted := map[string]bool{}
	for _, c := range declared {
		wanted[c.Phone] = true
	}
	for _, ct := range current {
		if _, ours := previous[ct.ID]; !ours || wanted[ct.Phone] {
			continue
		}
		if err := pc.DeleteContact(ctx, ct.ID); err != nil && !errors.Is(err, platform.ErrNotFound) {
			if err := issues.add(platformOutcome("removing notification contact "+ct.Name, err)); err != nil {
				return nil, 0, err
			}
			continue
		}
		r.Recorder.Eventf(shop, nil, corev1.EventTypeNormal, "ContactRemoved", "DeleteContact",
			"removed notification contact %s (%s)", ct.Name, ct.Verification.Phone)
	}

	deps := codeDeps{client: r.Client, connector: r.Connector, recorder: r.Recorder, now: r.now()}
	statuses := make([]shopv1alpha1.ContactStatus, 0, len(declared))
	var pending, expired []string
	for _, c := range declared {
		spec := platform.ContactSpec{Name: c.Name, Phone: c.Phone}
		ct, ok := byPhone[c.Phone]
		handled := previous[ct.ID].LastHandledResend
		switch {
		case !ok:
			// A resend request older than the contact is not for its code.
			handled = shop.Annotations[shopv1alpha1.ContactResendAnnotation(c.Phone)]
			ct, err = pc.AddContact(ctx, spec)
			if err != nil {
				if err := issues.add(platformOutcome("adding notification contact "+c.Name, err)); err != nil {
					return nil, 0, err
				}
				continue
			}
			r.Recorder.Eventf(shop, nil, corev1.EventTypeNormal, "ContactAdded", "AddContact",
				"added notification contact %s; the platform sent an SMS code to %s", c.Name, ct.Verification.Phone)
		case ct.Name != c.Name:
			renamed, err := pc.UpdateContact(ctx, ct.ID, spec)
			if err == nil {
				ct = renamed
			} else if err := issues.add(platformOutcome("renaming notification contact "+c.Name, err)); err != nil {
				return nil, 0, err
			}
		}
		id := ct.ID
		contactVerification := func(ct platform.Contact, err error) (*platform.Verification, error) {
			return &ct.Verification, err
		}
		res := handleCode(ctx, deps, smsCode{
			owner: shop, what: "notification contact " + c.Name, authorised: "receives the shop's notifications",
			secretName:  shop.ContactSecretName(c.Phone),
			resendToken: shop.Annotations[shopv1alpha1.ContactResendAnnotation(c.Phone)], resendHandled: handled,
			resendHow: fmt.Sprintf("kubectl annotate shop %s %s=$(date +%%s) --overwrite", shop.Name, shopv1alpha1.ContactResendAnnotation(c.Phone)),
			status:    verificationStatus(&ct.Verification),
			verify: func(ctx context.Context, code string) (*platform.Verification, error) {
				return contactVerification(pc.VerifyContact(ctx, id, code))
			},
			resend: func(ctx context.Context) (*platform.Verification, error) {
				return contactVerification(pc.ResendContactCode(ctx, id))
			},
			current: func(ctx context.Context) (*platform.Verification, error) { return r.contactVerification(ctx, pc, id) },
		})
		statuses = append(statuses, shopv1alpha1.ContactStatus{Name: c.Name, ID: id, Verification: *res.status, LastHandledResend: res.resendHandled})
		if res.failed != nil {
			if err := issues.add(fmt.Errorf("%s: %w", c.Name, res.failed)); err != nil {
				return nil, 0, err
			}
			continue
		}
		if res.verified {
			continue
		}
		line := fmt.Sprintf("%s: %s", c.Name, res.message)
		var o *outcome
		if errors.As(res.err, &o) && o.stalled {
			expired = append(expired, line)
			continue
		}
		pending = append(pending, line)
		if errors.As(res.err, &o) {
			next = soonest(next, o.requeueAfter)
		}
	}
	shop.Status.NotificationContacts = statuses
	if len(statuses) == 0 {
		shop.Status.NotificationContacts = nil
	}
	next = soonest(next, issues.next)
	switch {
	case len(declared) == 0 && len(issues.lines) == 0:
		removeCondition(shop, shopv1alpha1.ConditionContactsVerified)
	case len(issues.lines) > 0:
		setCondition(shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionFalse, issues.reason,
			strings.Join(append(append(issues.lines, expired...), pending...), "; "))
	case len(expired) > 0:
		setCondition(shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionFalse, shopv1alpha1.ReasonVerificationExpired,
			strings.Join(append(expired, pending...), "; "))
	case len(pending) > 0:
		setCondition(shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification,
			strings.Join(pending, "; "))
	default:
		setCondition(shop, shopv1alpha1.ConditionContactsVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
			fmt.Sprintf("all %d notification contacts are verified and receive the shop's notifications", len(declared)))
	}
	return nil, next, nil
}

// sideIssues collects the errors of the departments and contacts steps that
// do not fail the Shop's reconcile: what a person must act on (a refused
// name, a conflict, a code asked for again too soon: the platform's
// rate limit) is reported on the step's own condition, the Shop staying
// Ready, and looked at again when the outcome says. Anything else, a
// platform failure a retry may cure, fails the reconcile.
type sideIssues struct {
	lines  []string
	reason string
	next   time.Duration
}

// add reports err, or returns it when it must fail the reconcile.
func (s *sideIssues) add(err error) error {
	var o *outcome
	if !errors.As(err, &o) || (!o.stalled && o.reason != shopv1alpha1.ReasonRateLimited) {
		return err
	}
	if s.reason == "" {
		s.reason = o.reason
	}
	s.lines = append(s.lines, err.Error())
	s.next = soonest(s.next, o.requeueAfter)
	return nil
}

// contactVerification reads one contact's verification after a refused code.
func (r *ShopReconciler) contactVerification(ctx context.Context, pc platform.Client, id string) (*platform.Verification, error) {
	all, err := pc.ListContacts(ctx)
	if err != nil {
		return nil, err
	}
	for _, ct := range all {
		if ct.ID == id {
			return &ct.Verification, nil
		}
	}
	return nil, platform.NewError(platform.ErrNotFound, "id", "no notification contact with ID %q", id)
}

// contactSecretOwner maps "<shop>-contact-<digits>-verification" to the Shop.
func contactSecretOwner(_ context.Context, o client.Object) []reconcile.Request {
	rest, ok := strings.CutSuffix(o.GetName(), shopv1alpha1.VerificationSecretSuffix)
	i := strings.LastIndex(rest, shopv1alpha1.ContactSecretInfix)
	if !ok || i <= 0 {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: rest[:i]}}}
}
