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
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// stallRetry is how often a stalled object is looked at again in case the
// platform's state, not the spec, changed (a seat freed, a name released).
const stallRetry = 5 * time.Minute

// waitRetry is the fallback re-check for an object waiting on another one;
// watches normally re-queue it sooner.
const waitRetry = time.Minute

// outcome is a reconcile result other than success. It decides the Ready
// condition's reason and message and whether the object is Stalled (needs a
// person) or Reconciling (will get there by itself).
type outcome struct {
	// reason is one of the documented Reason constants.
	reason string
	// message is shown to people; never a secret.
	message string
	// stalled means progress needs a change by a person.
	stalled bool
	// requeueAfter, when set, schedules the next attempt; otherwise the
	// error goes back to the work queue for exponential backoff.
	requeueAfter time.Duration
	// cause is the underlying error, if any.
	cause error
}

func (o *outcome) Error() string { return o.message }
func (o *outcome) Unwrap() error { return o.cause }

// stalled reports that a person must act.
func stalled(reason, format string, args ...any) error {
	return &outcome{reason: reason, message: fmt.Sprintf(format, args...), stalled: true, requeueAfter: stallRetry}
}

// waiting reports that the object waits for something that will happen by
// itself (another object becoming ready); it is re-queued by a watch or
// after a minute.
func waiting(reason, format string, args ...any) error {
	return &outcome{reason: reason, message: fmt.Sprintf(format, args...), requeueAfter: waitRetry}
}

// platformOutcome translates a platform error met while doing something
// into an outcome: what was being done, and whether a retry can help.
func platformOutcome(doing string, err error) error {
	msg := fmt.Sprintf("%s: %v", doing, err)
	o := &outcome{message: msg, cause: err}
	switch {
	case errors.Is(err, platform.ErrRateLimited):
		o.reason = shopv1alpha1.ReasonRateLimited
		o.requeueAfter, _ = platform.RetryAfter(err)
		if o.requeueAfter <= 0 {
			o.requeueAfter = 10 * time.Second
		}
	case errors.Is(err, platform.ErrUnauthorized), errors.Is(err, platform.ErrForbidden):
		o.reason, o.stalled, o.requeueAfter = shopv1alpha1.ReasonCredentialsRejected, true, stallRetry
	case errors.Is(err, platform.ErrNameTaken):
		o.reason, o.stalled, o.requeueAfter = shopv1alpha1.ReasonNameTaken, true, stallRetry
	case errors.Is(err, platform.ErrQuotaExhausted):
		o.reason, o.stalled, o.requeueAfter = shopv1alpha1.ReasonSeatsExhausted, true, stallRetry
	case errors.Is(err, platform.ErrInvalid):
		o.reason, o.stalled, o.requeueAfter = shopv1alpha1.ReasonPlatformRejected, true, stallRetry
	case errors.Is(err, platform.ErrConflict):
		o.reason, o.stalled, o.requeueAfter = shopv1alpha1.ReasonConflict, true, stallRetry
	case errors.Is(err, platform.ErrNotSupported):
		o.reason, o.stalled, o.requeueAfter = shopv1alpha1.ReasonNotSupported, true, stallRetry
	default:
		// Transient, not found at a bad moment, network: back off and retry.
		o.reason = shopv1alpha1.ReasonPlatformError
		if after, ok := platform.RetryAfter(err); ok && after > 0 {
			o.requeueAfter = after
		}
	}
	return o
}

// conditioned is an API object with conditions.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// Bounds on what the controllers write for people to read. Every
// condition goes through setCondition and every Event through the
// boundedRecorder, so no message from a platform, a Secret's name or a
// joined list of errors can make the API server refuse the write (and the
// object show nothing at all).
const (
	// MaxConditionMessageBytes bounds a condition's message; the CRDs
	// allow 32,768 bytes (metav1.Condition), far more than a person reads.
	MaxConditionMessageBytes = 4096
	// MaxEventNoteBytes bounds an Event's note: the API server refuses a
	// note over 1 KiB.
	MaxEventNoteBytes = 1024
)

func setCondition(obj conditioned, condType string, status metav1.ConditionStatus, reason, message string) {
	conds := obj.GetConditions()
	apimeta.SetStatusCondition(&conds, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            platform.Cut(message, MaxConditionMessageBytes),
		ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(conds)
}

func removeCondition(obj conditioned, condType string) {
	conds := obj.GetConditions()
	if apimeta.FindStatusCondition(conds, condType) == nil {
		return // RemoveStatusCondition would copy the list all the same
	}
	apimeta.RemoveStatusCondition(&conds, condType)
	obj.SetConditions(conds)
}

// markStep sets a specific condition from a step's error: True on success,
// False with the outcome's reason otherwise.
func markStep(obj conditioned, condType string, err error, okMessage string) {
	if err == nil {
		setCondition(obj, condType, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, okMessage)
		return
	}
	reason, message := shopv1alpha1.ReasonProgressing, err.Error()
	var o *outcome
	if errors.As(err, &o) {
		reason = o.reason
	}
	setCondition(obj, condType, metav1.ConditionFalse, reason, message)
}

// summarize sets Ready, Reconciling and Stalled from the reconcile's error,
// in the shape kstatus reads, and returns what controller-runtime should do
// next. readyMessage describes the object when all is well.
func summarize(obj conditioned, err error, readyMessage string, requeueAfter time.Duration) (ctrl.Result, error) {
	if err == nil {
		setCondition(obj, shopv1alpha1.ConditionReady, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, readyMessage)
		removeCondition(obj, shopv1alpha1.ConditionReconciling)
		removeCondition(obj, shopv1alpha1.ConditionStalled)
		return ctrl.Result{RequeueAfter: requeueAfter}, nil
	}
	var o *outcome
	if !errors.As(err, &o) {
		o = &outcome{reason: shopv1alpha1.ReasonProgressing, message: err.Error(), cause: err}
	}
	setCondition(obj, shopv1alpha1.ConditionReady, metav1.ConditionFalse, o.reason, o.message)
	if o.stalled {
		setCondition(obj, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, o.reason, o.message)
		removeCondition(obj, shopv1alpha1.ConditionReconciling)
	} else {
		setCondition(obj, shopv1alpha1.ConditionReconciling, metav1.ConditionTrue, o.reason, o.message)
		removeCondition(obj, shopv1alpha1.ConditionStalled)
	}
	if o.requeueAfter > 0 {
		return ctrl.Result{RequeueAfter: o.requeueAfter}, nil
	}
	return ctrl.Result{}, err
}

// markDeleting records that deletion waits for something.
func markDeleting(obj conditioned, err error) {
	reason, message := shopv1alpha1.ReasonDeleting, "deleting"
	if err != nil {
		message = err.Error()
		var o *outcome
		if errors.As(err, &o) {
			reason = o.reason
		}
	}
	setCondition(obj, shopv1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
	setCondition(obj, shopv1alpha1.ConditionReconciling, metav1.ConditionTrue, reason, message)
	removeCondition(obj, shopv1alpha1.ConditionStalled)
}

// logDetail logs the log-only detail of a platform error (the address and
// whether the connection was refused, timed out or met plain HTTP): status
// and Events get only the public text, so a Shop's endpoint cannot be used
// to probe which internal ports answer.
func logDetail(ctx context.Context, err error) {
	if d := platform.DetailOf(err); d != "" {
		ctrl.LoggerFrom(ctx).Info("platform call failed", "error", err.Error(), "detail", d)
	}
}

// boundedRecorder cuts every Event's note to MaxEventNoteBytes.
type boundedRecorder struct{ inner events.EventRecorder }

func (r boundedRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	r.inner.Eventf(regarding, related, eventtype, reason, action, "%s", platform.Cut(fmt.Sprintf(note, args...), MaxEventNoteBytes))
}
