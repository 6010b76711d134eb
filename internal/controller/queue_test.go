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
	"fmt"
	"reflect"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func req(name string) reconcile.Request {
	return reconcile.Request{NamespacedName: client.ObjectKey{Namespace: "ns", Name: name}}
}

// newTestFairQueue classifies "<shop>-<n>" by its prefix; names in urgent
// are deletions.
func newTestFairQueue(t *testing.T, urgent map[string]bool) *fairQueue {
	t.Helper()
	q := newFairQueue(priorityqueue.New[reconcile.Request]("test-"+randomSuffix()), func(r reconcile.Request) (string, bool, bool) {
		return r.Name[:1], urgent[r.Name], strings.HasSuffix(r.Name, "-new")
	})
	t.Cleanup(q.ShutDown)
	return q
}

func take(t *testing.T, q *fairQueue, n int) []string {
	t.Helper()
	q.Len() // flushes the queue's add buffer: every item added is in order
	var names []string
	for range n {
		item, _, shutdown := q.GetWithPriority()
		if shutdown {
			t.Fatal("queue shut down")
		}
		names = append(names, item.Name)
		q.Done(item)
	}
	return names
}

// A shop with 1,000 pending creates does not hold back another shop's
// create: shops are served in turn.
func TestFairQueueServesShopsInTurn(t *testing.T) {
	g := NewWithT(t)
	q := newTestFairQueue(t, nil)
	for i := range 1000 {
		q.Add(req(fmt.Sprintf("a-%04d", i)))
	}
	q.Add(req("b-0001"))
	q.Add(req("c-0001"))
	q.Add(req("b-0002"))
	g.Expect(take(t, q, 6)).To(Equal([]string{"a-0000", "b-0001", "c-0001", "a-0001", "b-0002", "a-0002"}))
	// Within a shop, first come first served; a re-add keeps the place.
	q.Add(req("a-0500"))
	g.Expect(take(t, q, 2)).To(Equal([]string{"a-0003", "a-0004"}))
}

// A deletion waiting behind its own shop's backlog is served first.
func TestFairQueueServesDeletionsFirst(t *testing.T) {
	g := NewWithT(t)
	q := newTestFairQueue(t, map[string]bool{"a-gone": true})
	for i := range 100 {
		q.Add(req(fmt.Sprintf("a-%04d", i)))
	}
	q.Add(req("a-gone"))
	g.Expect(take(t, q, 2)).To(Equal([]string{"a-gone", "a-0000"}))
}

// The initial listing's low priority stays below new work, still in turn.
func TestFairQueueKeepsLowPriority(t *testing.T) {
	g := NewWithT(t)
	q := newTestFairQueue(t, nil)
	low := handler.LowPriority
	q.AddWithOpts(priorityqueue.AddOpts{Priority: &low}, req("a-old1"), req("a-old2"), req("b-old1"))
	q.Add(req("c-new"))
	g.Expect(take(t, q, 4)).To(Equal([]string{"c-new", "a-old1", "b-old1", "a-old2"}))
	g.Expect(q.waiting).To(BeEmpty())
	g.Expect(q.queued).To(BeEmpty())
}

// After a restart the initial listing holds every object at the low
// priority; one created or changed while no manager ran (its generation
// not yet reconciled) is served first, whatever its place in the listing,
// and the rest in turn.
func TestFairQueueServesPendingWorkOfTheInitialListingFirst(t *testing.T) {
	g := NewWithT(t)
	q := newTestFairQueue(t, nil)
	low := handler.LowPriority
	var listing []reconcile.Request
	for _, shop := range []string{"a", "b"} {
		for i := range 100 {
			listing = append(listing, req(fmt.Sprintf("%s-%04d", shop, i)))
		}
		listing = append(listing, req(shop+"-new"))
	}
	q.AddWithOpts(priorityqueue.AddOpts{Priority: &low}, listing...)
	g.Expect(take(t, q, 4)).To(Equal([]string{"a-new", "b-new", "a-0000", "b-0000"}))
	// A create after the listing goes ahead of what is left of it.
	q.Add(req("a-0200"))
	g.Expect(take(t, q, 2)).To(Equal([]string{"a-0200", "a-0001"}))
}

// Once a wave larger than shrinkAfter has drained, the queue's map of
// waiting requests is made anew (a Go map keeps the room of its largest
// moment); after a small one it is kept. The queue serves on as before.
func TestFairQueueDropsItsMapAfterAWave(t *testing.T) {
	g := NewWithT(t)
	q := newTestFairQueue(t, nil)
	mapOf := func() uintptr { return reflect.ValueOf(q.queued).Pointer() }

	small := mapOf()
	for i := range 10 {
		q.Add(req(fmt.Sprintf("a-%04d", i)))
	}
	take(t, q, 10)
	g.Expect(mapOf()).To(Equal(small), "a small wave keeps the map")

	for i := range shrinkAfter + 1 {
		q.Add(req(fmt.Sprintf("a-%04d", i)))
	}
	take(t, q, shrinkAfter)
	g.Expect(mapOf()).To(Equal(small), "not drained yet")
	take(t, q, 1)
	g.Expect(mapOf()).NotTo(Equal(small), "drained after a wave: a new map")
	g.Expect(q.queued).To(BeEmpty())
	g.Expect(q.waiting).To(BeEmpty())

	q.Add(req("a-0001"))
	q.Add(req("a-0002"))
	q.Add(req("b-0001"))
	g.Expect(take(t, q, 3)).To(Equal([]string{"a-0001", "b-0001", "a-0002"}))
}
