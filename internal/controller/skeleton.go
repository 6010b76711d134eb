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

// The reconcile skeleton every kind runs, in cluster-api's shape:
//
//	fetch → cache-lag guard → source and urgency on the context →
//	one deferred status patch → reconcileDelete, or finalizer then
//	reconcile → Ready/Reconciling/Stalled from the error (summarize);
//	observedGeneration only on success.
//
// A kind plugs in with a kindInfo value, a skeleton field and a one-line
// Reconcile; its reconciler implements kindSteps:
//
//	var fooKind = kindInfo[*shopv1alpha1.Foo]{
//		name:      "Foo",      // platform writes' audit source "Foo/<ns>/<name>"
//		finalizer: fooFinalizer,
//		newObject: func() *shopv1alpha1.Foo { return &shopv1alpha1.Foo{} },
//		observedGeneration: func(f *shopv1alpha1.Foo) *int64 { return &f.Status.ObservedGeneration },
//		urgency:   nil,        // or a func(*Foo) (shop string, urgent bool), as the fair queue's
//	}
//
//	type FooReconciler struct {
//		client.Client // the reconciler's client is the skeleton's
//		...
//		skeleton skeleton[*shopv1alpha1.Foo] // zero value ready
//	}
//
//	func (r *FooReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
//		return r.skeleton.run(ctx, req, fooKind, r)
//	}
//
// A kind's reconcile is a list of named steps over a scope struct of its
// own (the object and what the steps learn), run by runSteps:
//
//	type fooScope struct{ foo *shopv1alpha1.Foo; shop *shopv1alpha1.Shop; ... }
//	func (s *fooScope) object() conditioned { return s.foo }
//
//	func (r *FooReconciler) reconcile(ctx context.Context, foo *shopv1alpha1.Foo) (time.Duration, error) {
//		next, _, err := runSteps(ctx, &fooScope{foo: foo}, []step[*fooScope]{
//			{name: "shop", run: r.loadShop},
//			{name: "apply", run: r.apply, condition: shopv1alpha1.ConditionSynced, ok: fixed("the platform foo matches")},
//		})
//		return next, err
//	}
//
// A step returns a stepResult (when to look again; done ends the list
// early, successfully) and an error. What the error is decides the rest
// (outcome.go): nil, stalled(...), waiting(...), platformOutcome(...), a
// plain error (backoff), or errCacheBehind (stop without writing status and
// look again shortly). The step's condition, if it has one, is set by the
// runner, in one place: False with the outcome's reason when the step
// fails, True with ok's message when the last step of a run of steps with
// that condition succeeds.

import (
	"context"
	"errors"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// kindInfo describes one kind to the skeleton.
type kindInfo[T conditioned] struct {
	// name is the kind's name ("SubAccount"): platform writes name their
	// source "<name>/<namespace>/<object>" in the audit log.
	name string
	// finalizer is added before reconcile runs and must be removed by
	// reconcileDelete when the clean-up is done.
	finalizer string
	// newObject returns an empty object to read into.
	newObject func() T
	// observedGeneration points at the object's status.observedGeneration.
	observedGeneration func(T) *int64
	// urgency, when set, reports whether the object's reconcile takes
	// access away: its platform calls then go ahead of the shop's queued
	// ones (platform.WithUrgent). The fair queue classifies with the same
	// function.
	urgency func(T) (shop string, urgent bool)
}

// kindSteps is what a kind's reconciler gives the skeleton.
type kindSteps[T conditioned] interface {
	// Client reads the object and patches its finalizers and status.
	client.Client
	// reconcile brings a live object, finalizer in place, to its spec. It
	// changes obj's status in memory only: the skeleton writes it once.
	// It returns when to look again (0: only on events).
	reconcile(ctx context.Context, obj T) (time.Duration, error)
	// reconcileDelete carries out the clean-up of an object being deleted
	// that still holds the kind's finalizer, and removes the finalizer
	// when done (removeFinalizer; summarizeDelete turns an error into the
	// result).
	reconcileDelete(ctx context.Context, obj T) (ctrl.Result, error)
	// readyMessage is the Ready condition's message after a successful
	// reconcile.
	readyMessage(obj T) string
	// forget drops what the reconciler remembers in memory about an object
	// that is gone.
	forget(key client.ObjectKey)
}

// skeleton runs one kind's reconciles. Its zero value is ready; it holds
// the kind's cache-lag guard, so it lives as long as the reconciler.
type skeleton[T conditioned] struct {
	writes writes
	// meta, when set, writes status through the metadata client
	// (patchStatus).
	meta *metadataClient
}

// staleRetry is how soon a reconcile that found an older copy of its object
// than its own last write looks again: the cache is normally a few
// milliseconds behind.
const staleRetry = 100 * time.Millisecond

// writes remembers, per object, the resourceVersion of the controller's own
// last write. A reconcile that reads an older copy from the cache (an event
// raced ahead of the informer) waits for the cache rather than act on
// status it has already replaced: acting on it could repeat a platform call
// or patch status against the wrong base. Resource versions are compared
// as the API allows (k8s.io/apimachinery/pkg/util/resourceversion).
type writes struct {
	m sync.Map // client.ObjectKey → resourceVersion
}

// stale reports whether obj, as read, is older than the last write; once
// obj has caught up, the write is forgotten.
func (w *writes) stale(obj client.Object) bool {
	key := client.ObjectKeyFromObject(obj)
	last, ok := w.m.Load(key)
	if !ok {
		return false
	}
	cmp, err := resourceversion.CompareResourceVersion(obj.GetResourceVersion(), last.(string))
	if err != nil || cmp >= 0 {
		w.m.CompareAndDelete(key, last)
		return false
	}
	return true
}

// wrote records obj's resourceVersion after a write, if it changed from
// the one read.
func (w *writes) wrote(obj client.Object, read string) {
	if rv := obj.GetResourceVersion(); rv != read {
		w.m.Store(client.ObjectKeyFromObject(obj), rv)
	}
}

// forget drops what is remembered about key (the object is gone).
func (w *writes) forget(key client.ObjectKey) { w.m.Delete(key) }

// pruner is an event handler of the kind's own watch that enqueues
// nothing: it lets writes forget a write once the cache holds it or a
// later version, as stale does at the next reconcile. Without it the memo
// kept one entry per object written until that object's next reconcile:
// 10,000 after a wave of 10,000 new SubAccounts (about 2 MB).
func (w *writes) pruner() handler.EventHandler {
	return handler.Funcs{
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			w.stale(e.ObjectNew)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			w.forget(client.ObjectKeyFromObject(e.Object))
		},
	}
}

// errCacheBehind says the cache has not caught up with the operator's own
// writes yet: the reconcile stops without writing and looks again shortly.
var errCacheBehind = errors.New("the cache has not caught up with our own writes")

// run is the reconcile of one object of kind k.
func (s *skeleton[T]) run(ctx context.Context, req ctrl.Request, k kindInfo[T], steps kindSteps[T]) (result ctrl.Result, retErr error) {
	obj := k.newObject()
	if err := steps.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			s.writes.forget(req.NamespacedName)
			steps.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// An event raced ahead of the informer: acting on a copy older than
	// our own last write could repeat a platform call or patch status
	// against the wrong base.
	if s.writes.stale(obj) {
		return ctrl.Result{RequeueAfter: staleRetry}, nil
	}
	before := obj.DeepCopyObject().(T)
	// Platform writes name the resource they come from in the audit log.
	ctx = platform.WithSource(ctx, k.name+"/"+obj.GetNamespace()+"/"+obj.GetName())
	if k.urgency != nil {
		if _, urgent := k.urgency(obj); urgent {
			// Taking access away goes ahead of the shop's queued calls too.
			ctx = platform.WithUrgent(ctx)
		}
	}
	learnt := true
	defer func() {
		if learnt {
			if err := patchStatus(ctx, steps, s.meta, before, obj); err != nil {
				retErr = kerrors.NewAggregate([]error{retErr, err})
			}
		}
		s.writes.wrote(obj, before.GetResourceVersion())
	}()

	if !obj.GetDeletionTimestamp().IsZero() {
		if !controllerutil.ContainsFinalizer(obj, k.finalizer) {
			return ctrl.Result{}, nil
		}
		res, err := steps.reconcileDelete(ctx, obj)
		logDetail(ctx, err)
		return res, err
	}
	if err := ensureFinalizer(ctx, steps, obj, k.finalizer); err != nil {
		return ctrl.Result{}, err
	}
	next, err := steps.reconcile(ctx, obj)
	logDetail(ctx, err)
	if errors.Is(err, errCacheBehind) {
		learnt = false // nothing learnt: no status write
		return ctrl.Result{RequeueAfter: staleRetry}, nil
	}
	if err == nil {
		*k.observedGeneration(obj) = obj.GetGeneration()
	}
	return summarize(obj, err, steps.readyMessage(obj), next)
}

// stepScope is a kind's scope: the object is where the runner sets the
// steps' conditions.
type stepScope interface {
	object() conditioned
}

// step is one named step of a kind's reconcile.
type step[S stepScope] struct {
	// name says what the step does; runSteps returns the failed one's.
	name string
	run  func(ctx context.Context, s S) (stepResult, error)
	// condition, when set, is the condition type the step's outcome sets.
	condition string
	// ok is the condition's message on success.
	ok func(s S) string
}

// stepResult is what a step that did not fail tells the runner.
type stepResult struct {
	// requeueAfter asks for another look after this long (0: none); the
	// soonest of all the steps wins.
	requeueAfter time.Duration
	// done ends the reconcile here, successfully: the steps after have
	// nothing to do.
	done bool
}

// plain makes a step of a function that only succeeds or fails.
func plain[S stepScope](run func(context.Context, S) error) func(context.Context, S) (stepResult, error) {
	return func(ctx context.Context, s S) (stepResult, error) { return stepResult{}, run(ctx, s) }
}

// fixed is an ok message that does not depend on the scope.
func fixed[S stepScope](msg string) func(S) string {
	return func(S) string { return msg }
}

// runSteps runs steps in order until one fails or is done, setting their
// conditions (see above). It returns the soonest requeue the steps asked
// for, and the name of the step that failed with its error.
func runSteps[S stepScope](ctx context.Context, s S, steps []step[S]) (next time.Duration, failed string, err error) {
	for i, st := range steps {
		res, err := st.run(ctx, s)
		if err != nil {
			if st.condition != "" {
				markStep(s.object(), st.condition, err, "")
			}
			return 0, st.name, err
		}
		next = soonest(next, res.requeueAfter)
		last := res.done || i == len(steps)-1 || steps[i+1].condition != st.condition
		if st.condition != "" && last {
			msg := ""
			if st.ok != nil {
				msg = st.ok(s)
			}
			markStep(s.object(), st.condition, nil, msg)
		}
		if res.done {
			break
		}
	}
	return next, "", nil
}

// summarizeDelete turns a failed clean-up into a requeue.
func summarizeDelete(err error) (ctrl.Result, error) {
	var o *outcome
	if errors.As(err, &o) && o.requeueAfter > 0 {
		return ctrl.Result{RequeueAfter: o.requeueAfter}, nil
	}
	return ctrl.Result{}, err
}

// soonest is the smallest positive duration, or zero when none is.
func soonest(ds ...time.Duration) time.Duration {
	var out time.Duration
	for _, d := range ds {
		if d > 0 && (out == 0 || d < out) {
			out = d
		}
	}
	return out
}
