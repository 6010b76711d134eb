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
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// urgentPriority is the queue priority of work that takes access away
// (an offboarding, a disable): it is served ahead of every create.
const urgentPriority = 1000

// classifyFunc tells which shop (namespace/name) a request belongs to,
// whether it is urgent, and whether its object has work pending (a
// generation not yet reconciled). An unknown object is ("", false, false).
type classifyFunc func(reconcile.Request) (shop string, urgent, pending bool)

// fairQueue is controller-runtime's priority queue with priorities chosen
// per shop, so that a shop with a backlog does not delay the others:
//
//   - an urgent request (deletion, disable) gets urgentPriority;
//   - any other request gets the priority it was added with (0, or
//     controller-runtime's low priority for the initial listing) minus the
//     number of its shop's requests of the same kind (low or not) already
//     waiting: the n-th waiting request of every shop has the same
//     priority, so the queue serves the shops in turn, and a lone create of
//     a quiet shop (priority 0) goes ahead of a busy shop's 1,000 pending
//     creates (0, -1, ..., -999);
//   - a request of the initial listing whose object has work pending (one
//     created or changed while no manager ran, or never reconciled to
//     success at its generation, as a stalled one) is not low: after a
//     restart it goes ahead of the reconciles that only confirm what is
//     done (at 10,000 SubAccounts a create made during a restart waited
//     8.7 s for all of them).
//
// Delayed and rate-limited re-adds (requeue after, backoff) keep the
// priority they come with and are not counted as waiting.
type fairQueue struct {
	priorityqueue.PriorityQueue[reconcile.Request]
	classify classifyFunc

	mu      sync.Mutex
	queued  map[reconcile.Request]queuedItem // while counted as waiting
	waiting map[waitKey]int                  // requests counted, by shop and kind
	// peak is the most requests queued counted since queued was made: a Go
	// map keeps the room of its largest moment, so once a wave has drained
	// queued is made anew (shrinkAfter).
	peak int
}

// shrinkAfter is the size of a wave after which the drained queue's map is
// made anew: a 10,000 wave leaves about a megabyte of empty map behind.
const shrinkAfter = 1024

func newFairQueue(inner priorityqueue.PriorityQueue[reconcile.Request], classify classifyFunc) *fairQueue {
	return &fairQueue{PriorityQueue: inner, classify: classify,
		queued: map[reconcile.Request]queuedItem{}, waiting: map[waitKey]int{}}
}

// waitKey counts a shop's waiting requests apart by kind: those of
// the initial listing or a resync (low) and the others.
type waitKey struct {
	shop string
	low  bool
}

type queuedItem struct {
	key      waitKey
	priority int
}

// fairQueueFactory returns a controller.Options.NewQueue building a
// fairQueue around controller-runtime's priority queue.
func fairQueueFactory(classify classifyFunc) func(string, workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	return func(name string, rl workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
		return newFairQueue(priorityqueue.New(name, func(o *priorityqueue.Opts[reconcile.Request]) {
			o.Log = ctrl.Log.WithName("queue").WithValues("controller", name)
			o.RateLimiter = rl
		}), classify)
	}
}

// AddWithOpts adds items with the priority their shop's backlog gives them.
func (q *fairQueue) AddWithOpts(o priorityqueue.AddOpts, items ...reconcile.Request) {
	if o.After > 0 || o.RateLimited {
		q.PriorityQueue.AddWithOpts(o, items...)
		return
	}
	base := 0
	if o.Priority != nil {
		base = *o.Priority
	}
	for _, item := range items {
		shop, urgent, pending := q.classify(item)
		b := base
		if pending && b < 0 {
			b = 0
		}
		key := waitKey{shop: shop, low: b < 0 && !urgent}
		q.mu.Lock()
		var p int
		switch prev, counted := q.queued[item]; {
		case urgent:
			p = urgentPriority
		case counted:
			// Already waiting: keep its place (the queue keeps the higher
			// of two priorities).
			p = min(b, prev.priority)
		default:
			p = b - q.waiting[key]
		}
		if prev, counted := q.queued[item]; counted {
			prev.priority = max(prev.priority, p)
			q.queued[item] = prev
		} else {
			q.queued[item] = queuedItem{key: key, priority: p}
			q.waiting[key]++
			q.peak = max(q.peak, len(q.queued))
		}
		q.mu.Unlock()
		q.PriorityQueue.AddWithOpts(priorityqueue.AddOpts{Priority: &p}, item)
	}
}

// Add adds an item at once.
func (q *fairQueue) Add(item reconcile.Request) { q.AddWithOpts(priorityqueue.AddOpts{}, item) }

// GetWithPriority hands out the next item and stops counting it as waiting.
func (q *fairQueue) GetWithPriority() (reconcile.Request, int, bool) {
	item, p, shutdown := q.PriorityQueue.GetWithPriority()
	q.mu.Lock()
	if prev, ok := q.queued[item]; ok {
		delete(q.queued, item)
		if q.waiting[prev.key]--; q.waiting[prev.key] <= 0 {
			delete(q.waiting, prev.key)
		}
		if len(q.queued) == 0 && q.peak > shrinkAfter {
			q.queued, q.peak = map[reconcile.Request]queuedItem{}, 0
		}
	}
	q.mu.Unlock()
	return item, p, shutdown
}

// Get is GetWithPriority without the priority.
func (q *fairQueue) Get() (reconcile.Request, bool) {
	item, _, shutdown := q.GetWithPriority()
	return item, shutdown
}

// classifyFromCache builds a classifyFunc reading objects of kind from the
// cache: of tells their shop and urgency, the kind's observedGeneration
// whether work is pending.
func classifyFromCache[T conditioned](c client.Reader, kind kindInfo[T], of func(T) (shop string, urgent bool)) classifyFunc {
	return func(req reconcile.Request) (string, bool, bool) {
		obj := kind.newObject()
		// Read only, on every enqueue: the cache's own object, no copy.
		if err := c.Get(context.Background(), req.NamespacedName, obj, client.UnsafeDisableDeepCopy); err != nil {
			return "", false, false
		}
		shop, urgent := of(obj)
		return req.Namespace + "/" + shop, urgent, *kind.observedGeneration(obj) != obj.GetGeneration()
	}
}

// subAccountUrgency: an offboarding, or a disable not yet applied, is
// served ahead of creates.
func subAccountUrgency(sa *shopv1alpha1.SubAccount) (string, bool) {
	return sa.Spec.ShopRef.Name, !sa.DeletionTimestamp.IsZero() ||
		(sa.Spec.Disabled && sa.Status.ObservedGeneration != sa.Generation)
}

// roleUrgency: a Role being deleted is served first.
func roleUrgency(role *shopv1alpha1.Role) (string, bool) {
	return role.Spec.ShopRef.Name, !role.DeletionTimestamp.IsZero()
}

// delayedRequests enqueues the requests mapFn returns delay after the
// event (at once when delay is zero). The queue keeps the earliest time of
// repeated adds, so a burst of events within delay costs one reconcile.
func delayedRequests(delay time.Duration, mapFn handler.MapFunc) handler.EventHandler {
	enqueue := func(ctx context.Context, obj client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		for _, req := range mapFn(ctx, obj) {
			if delay > 0 {
				q.AddAfter(req, delay)
			} else {
				q.Add(req)
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.ObjectNew, q)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q)
		},
	}
}
