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
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// contacts adds the declared notification contacts the platform lacks
// (each is sent an SMS code), renames changed ones, removes those the
// operator added and the spec dropped (planContacts decides; this step
// carries the plan out), and takes each pending contact's code as a
// SubAccount's (handleCode).
func (r *ShopReconciler) contacts(ctx context.Context, s *shopScope) (stepResult, error) {
	shop := s.shop
	report := &contactsReport{platform: shop.Spec.Platform, declared: len(shop.Spec.NotificationContacts)}
	if report.declared == 0 && len(shop.Status.NotificationContacts) == 0 {
		s.contacts = report
		return stepResult{}, nil
	}
	pc, err := s.client(ctx)
	if err != nil {
		return stepResult{}, err
	}
	if !s.caps.NotificationContacts {
		report.notSupported = true
		shop.Status.NotificationContacts = nil
		s.contacts = report
		return stepResult{}, nil
	}
	current, err := pc.ListContacts(ctx)
	if err != nil {
		return stepResult{}, platformOutcome("listing the notification contacts", err)
	}
	plan := planContacts(shop, current)
	for _, ct := range plan.remove {
		if err := report.issues.add(r.removeContact(ctx, s, ct)); err != nil {
			return stepResult{}, err
		}
	}
	statuses := make([]shopv1alpha1.ContactStatus, 0, len(plan.contacts))
	for _, c := range plan.contacts {
		ct, err := r.ensureContact(ctx, s, c)
		if err := report.issues.add(err); err != nil {
			return stepResult{}, err
		}
		if ct == nil {
			continue
		}
		res := r.contactCode(ctx, s, c, *ct)
		statuses = append(statuses, shopv1alpha1.ContactStatus{Name: c.spec.Name, ID: ct.ID, Verification: *res.status, LastHandledResend: res.resendHandled})
		if err := report.code(c.spec.Name, res); err != nil {
			return stepResult{}, err
		}
	}
	shop.Status.NotificationContacts = statuses
	if len(statuses) == 0 {
		shop.Status.NotificationContacts = nil
	}
	s.contacts = report
	return report.result(), nil
}

// removeContact removes a contact the operator added and the spec dropped.
func (r *ShopReconciler) removeContact(ctx context.Context, s *shopScope, ct platform.Contact) error {
	if err := s.pc.DeleteContact(ctx, ct.ID); err != nil && !errors.Is(err, platform.ErrNotFound) {
		return platformOutcome("removing notification contact "+ct.Name, err)
	}
	r.Recorder.Eventf(s.shop, nil, corev1.EventTypeNormal, "ContactRemoved", "DeleteContact",
		"removed notification contact %s (%s)", ct.Name, ct.Verification.Phone)
	return nil
}

// ensureContact adds or renames a declared contact as planned, and returns
// it as it is on the platform: nil when it could not be added, the
// contact under its old name when it could not be renamed (err says why).
func (r *ShopReconciler) ensureContact(ctx context.Context, s *shopScope, c plannedContact) (*platform.Contact, error) {
	switch {
	case c.add:
		ct, err := s.pc.AddContact(ctx, c.spec)
		if err != nil {
			return nil, platformOutcome("adding notification contact "+c.spec.Name, err)
		}
		r.Recorder.Eventf(s.shop, nil, corev1.EventTypeNormal, "ContactAdded", "AddContact",
			"added notification contact %s; the platform sent an SMS code to %s", c.spec.Name, ct.Verification.Phone)
		return &ct, nil
	case c.rename:
		ct, err := s.pc.UpdateContact(ctx, c.current.ID, c.spec)
		if err != nil {
			return &c.current, platformOutcome("renaming notification contact "+c.spec.Name, err)
		}
		return &ct, nil
	}
	return &c.current, nil
}

// contactCode hands contact ct's code over to the platform, or asks for a
// new one, as for a SubAccount's phone (handleCode).
func (r *ShopReconciler) contactCode(ctx context.Context, s *shopScope, c plannedContact, ct platform.Contact) codeResult {
	shop, pc, id := s.shop, s.pc, ct.ID
	annotation := shopv1alpha1.ContactResendAnnotation(c.spec.Phone)
	contactVerification := func(ct platform.Contact, err error) (*platform.Verification, error) {
		return &ct.Verification, err
	}
	deps := codeDeps{client: r.Client, connector: r.Connector, recorder: r.Recorder, now: r.now()}
	return handleCode(ctx, deps, smsCode{
		owner: shop, what: "notification contact " + c.spec.Name, authorised: "receives the shop's notifications",
		secretName:  shop.ContactSecretName(c.spec.Phone),
		resendToken: shop.Annotations[annotation], resendHandled: c.resendHandled,
		resendHow: fmt.Sprintf("kubectl annotate shop %s %s=$(date +%%s) --overwrite", shop.Name, annotation),
		status:    verificationStatus(&ct.Verification),
		verify: func(ctx context.Context, code string) (*platform.Verification, error) {
			return contactVerification(pc.VerifyContact(ctx, id, code))
		},
		resend: func(ctx context.Context) (*platform.Verification, error) {
			return contactVerification(pc.ResendContactCode(ctx, id))
		},
		current: func(ctx context.Context) (*platform.Verification, error) { return r.contactVerification(ctx, pc, id) },
	})
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

// add reports err, or returns it when it must fail the reconcile; nil is
// nothing to report.
func (s *sideIssues) add(err error) error {
	if err == nil {
		return nil
	}
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
