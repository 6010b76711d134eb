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

// Package eventrecorder is the operator's Kubernetes Event recorder
// (events.k8s.io/v1), used instead of controller-runtime's
// mgr.GetEventRecorder.
//
// That one is client-go's events broadcaster, which keeps a deep copy of
// every Event it sent in an unbounded map for 6 to 12 minutes so that
// repeats can be folded into a series: about 1.1 KB per Event, 11 MB after
// a wave of 10,000 new SubAccounts, and no bound at all in an Event storm.
// This recorder makes the same Events and folds the same repeats, but
//
//   - Eventf only builds the Event and puts it in a queue of QueueLength;
//     when the queue is full the Event is dropped and counted
//     (subaccount_events_dropped_total), never waited for;
//   - per repeated Event it remembers only where the Event is and its
//     series count and time, for at most SeriesCapacity Events, the least
//     recently seen forgotten first;
//   - a fixed number of goroutines (Start, a manager.Runnable) write the
//     Events through a controller-runtime client, retrying transient
//     failures a few times.
package eventrecorder

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/record/util"
	"k8s.io/client-go/tools/reference"
	"k8s.io/utils/clock"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/subaccount-operator/subaccount-operator/internal/metrics"
)

const (
	// QueueLength is how many Events may wait to be written: client-go's
	// own queue length. An Event is about 1 KB, so a full queue holds
	// about 1 MB.
	QueueLength = 1000

	// SeriesCapacity is how many Events the recorder remembers to fold
	// repeats into. Each costs about 270 bytes with a 40-character Event
	// name (measured: a 32-byte key, the Event's namespace and name, its
	// count and time, the LRU's list element and map entry), about 560
	// with names of the longest, so 1.1 MB in all, at most 2.3 MB. An
	// Event forgotten early only means that a repeat of it is created
	// anew instead of counted.
	SeriesCapacity = 4096

	// SeriesWindow is how long after an Event was last seen a repeat of it
	// is counted in its series instead of created: client-go's finishTime.
	SeriesWindow = 6 * time.Minute

	// maxTries is how many times an Event's write is tried when the API
	// server cannot be reached or answers that it is overloaded: with
	// retryBackoff's 1, 2, 4 and 8 s between tries, about 15 s in all.
	maxTries = 5

	// drainTimeout bounds how long Start keeps writing queued Events once
	// the manager is stopping.
	drainTimeout = 5 * time.Second

	// Writers is how many Events are written at once. One write takes
	// 100 to 200 ms while a wave of new SubAccounts loads the API server,
	// so one writer would manage 5 to 10 Events a second against the
	// wave's 70; the client-go broadcaster this replaces started a
	// goroutine per Event.
	Writers = 16

	// dropLogInterval is the least time between two logs of Events dropped
	// because the queue was full: during a storm each drop is counted, but
	// one log line a while says how many.
	dropLogInterval = 30 * time.Second
)

// retryBackoff is the wait between tries of one Event's write.
var retryBackoff = wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: maxTries, Cap: 30 * time.Second}

// Recorder makes Kubernetes Events and writes them. It is an
// events.EventRecorder, and a manager.Runnable that must be started (with
// mgr.Add) for the Events to be written; it runs on every replica, leader
// or not, as controller-runtime's recorder does. Start it once.
type Recorder struct {
	client             client.Client
	scheme             *runtime.Scheme
	reportingComponent string
	reportingInstance  string
	clock              clock.Clock
	log                logr.Logger
	// sleep waits d between tries, or until ctx ends; tests replace it to
	// see the waits without waiting.
	sleep func(ctx context.Context, d time.Duration) error

	queue chan *eventsv1.Event
	// stopped is set once Start's context is done: Events made later are
	// not queued, as nothing would write them.
	stopped atomic.Bool
	// series remembers, by seriesKey, the last Event written of each kind
	// (a seriesEntry).
	series *lru.Cache
	// writing has the seriesKeys being written (at most Writers), each
	// with a channel closed when its write is done: the writes of one key
	// take turns, so that two writers never both create the first Event
	// of a series.
	writingMu sync.Mutex
	writing   map[seriesKey]chan struct{}

	// dropped counts Events dropped because the queue was full; unlogged
	// those not logged yet, lastDropLog when that was (UnixNano).
	dropped     atomic.Uint64
	unlogged    atomic.Uint64
	lastDropLog atomic.Int64
}

var (
	_ events.EventRecorder           = (*Recorder)(nil)
	_ manager.Runnable               = (*Recorder)(nil)
	_ manager.LeaderElectionRunnable = (*Recorder)(nil)
)

// Option adjusts New.
type Option func(*Recorder)

// WithClock makes the recorder read the time from c (Events' times and
// names, series windows, waits between tries).
func WithClock(c clock.Clock) Option {
	return func(r *Recorder) { r.clock = c }
}

// WithLogger sets the logger of the recorder's own failures (the default
// discards them).
func WithLogger(l logr.Logger) Option {
	return func(r *Recorder) { r.log = l }
}

// New returns a Recorder that writes Events through c, making the
// references to the objects they regard with scheme, and reporting them
// as component: reportingController, and reportingInstance
// component-<hostname>, as client-go does.
func New(c client.Client, scheme *runtime.Scheme, component string, opts ...Option) (*Recorder, error) {
	if !scheme.Recognizes(eventsv1.SchemeGroupVersion.WithKind("Event")) {
		return nil, fmt.Errorf("making the Event recorder: the scheme has no %s Event (add k8s.io/client-go/kubernetes/scheme)", eventsv1.SchemeGroupVersion)
	}
	hostname, _ := os.Hostname()
	r := &Recorder{
		client:             c,
		scheme:             scheme,
		reportingComponent: component,
		reportingInstance:  component + "-" + hostname,
		clock:              clock.RealClock{},
		log:                logr.Discard(),
		queue:              make(chan *eventsv1.Event, QueueLength),
		series:             lru.New(SeriesCapacity),
		writing:            make(map[seriesKey]chan struct{}, Writers),
	}
	r.sleep = r.clockSleep
	for _, opt := range opts {
		opt(r)
	}
	return r, nil
}

// NeedLeaderElection is false: as with controller-runtime's recorder, a
// replica that is not the leader writes what it records too (its
// controllers do not run, but whatever else records an Event is not lost).
func (r *Recorder) NeedLeaderElection() bool { return false }

// Dropped is how many Events were dropped because the queue was full.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Eventf makes an Event as client-go's events/v1 recorder does and queues
// it for writing. It never blocks and makes no API call: when the queue is
// full, the Event is dropped and counted. An Event whose type is neither
// Normal nor Warning, or whose regarding object has no reference, is
// dropped with an error log.
func (r *Recorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	if r.stopped.Load() {
		r.log.V(1).Info("Event recorder stopped: Event not sent", "type", eventtype, "reason", reason)
		return
	}
	ev, ok := r.makeEvent(regarding, related, eventtype, reason, action, note, args...)
	if !ok {
		return
	}
	select {
	case r.queue <- ev:
	default:
		r.queueFull()
	}
}

// makeEvent is client-go's eventf and makeEvent (k8s.io/client-go/tools/
// events/event_recorder.go): the same fields, names and refusals.
func (r *Recorder) makeEvent(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) (*eventsv1.Event, bool) {
	now := r.clock.Now()
	refRegarding, err := reference.GetReference(r.scheme, regarding)
	if err != nil {
		r.log.Error(err, "Could not make a reference to the Event's object: Event not sent", "type", eventtype, "reason", reason)
		return nil, false
	}
	var refRelated *corev1.ObjectReference
	if related != nil {
		// As client-go: an unusable related object leaves the Event without one.
		if refRelated, err = reference.GetReference(r.scheme, related); err != nil {
			r.log.V(1).Info("Could not make a reference to the Event's related object", "error", err.Error(), "reason", reason)
		}
	}
	if !util.ValidateEventType(eventtype) {
		r.log.Error(nil, "Unsupported Event type: Event not sent", "type", eventtype, "reason", reason,
			"regarding", refRegarding.Kind+"/"+refRegarding.Namespace+"/"+refRegarding.Name)
		return nil, false
	}
	namespace := refRegarding.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	return &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      util.GenerateEventName(refRegarding.Name, now.UnixNano()),
			Namespace: namespace,
		},
		EventTime:           metav1.MicroTime{Time: now},
		ReportingController: r.reportingComponent,
		ReportingInstance:   r.reportingInstance,
		Action:              action,
		Reason:              reason,
		Regarding:           *refRegarding,
		Related:             refRelated,
		Note:                fmt.Sprintf(note, args...),
		Type:                eventtype,
	}, true
}

// queueFull counts an Event dropped for a full queue, and logs the count
// at most once per dropLogInterval.
func (r *Recorder) queueFull() {
	r.dropped.Add(1)
	r.unlogged.Add(1)
	metrics.EventsDropped(metrics.EventsQueueFull, 1)
	now := r.clock.Now().UnixNano()
	last := r.lastDropLog.Load()
	if now-last < int64(dropLogInterval) || !r.lastDropLog.CompareAndSwap(last, now) {
		return
	}
	r.log.Info("Event queue full: Events dropped", "dropped", r.unlogged.Swap(0), "queueLength", QueueLength)
}

// Start writes the queued Events with Writers goroutines until ctx is
// done, then stops taking new ones, writes those still queued for at most
// drainTimeout, and returns. (The manager stops the runnables that need
// no leader election before the controllers: an Event of a reconcile
// still running then is not written, as a queued one would not be.)
func (r *Recorder) Start(ctx context.Context) error {
	// Writes, those under way when ctx ends included, go on for
	// drainTimeout after it: an Event made by the last reconciles is
	// still written when the manager stops.
	writeCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(drainTimeout, cancel) })
	defer stop()
	var writers sync.WaitGroup
	for range Writers {
		writers.Go(func() { r.write(ctx, writeCtx) })
	}
	writers.Wait()
	if n := len(r.queue); n > 0 {
		metrics.EventsDropped(metrics.EventsSendFailed, n)
		r.log.Info("Events still queued at shutdown not sent", "count", n)
	}
	return nil
}

// write is one writer: it sends queued Events until ctx is done, then
// what is left in the queue until writeCtx ends.
func (r *Recorder) write(ctx, writeCtx context.Context) {
	for {
		select {
		case ev := <-r.queue:
			r.send(writeCtx, ev)
		case <-ctx.Done():
			r.stopped.Store(true)
			for writeCtx.Err() == nil {
				select {
				case ev := <-r.queue:
					r.send(writeCtx, ev)
				default:
					return
				}
			}
			return
		}
	}
}

// seriesKey identifies Events that are repeats of each other: a hash of
// client-go's getKey fields (type, action, reason, reporting controller
// and instance, the regarding and related references) and of the note, so
// that a repeat with another message is an Event of its own and its text
// is not lost. 32 bytes, whatever the Event's size.
type seriesKey [sha256.Size]byte

// seriesEntry is what is remembered of the last Event written of a
// seriesKey: where it is, its series count (1 before a repeat), and when it
// was last seen.
type seriesEntry struct {
	namespace, name string
	count           int32
	last            time.Time
}

func keyOf(ev *eventsv1.Event) seriesKey {
	h := sha256.New()
	for _, s := range []string{ev.Type, ev.Action, ev.Reason, ev.ReportingController, ev.ReportingInstance, ev.Note} {
		writeField(h, s)
	}
	writeRef(h, &ev.Regarding)
	writeRef(h, ev.Related)
	var k seriesKey
	h.Sum(k[:0])
	return k
}

func writeRef(h hash.Hash, ref *corev1.ObjectReference) {
	if ref == nil {
		h.Write([]byte{0})
		return
	}
	h.Write([]byte{1})
	for _, s := range []string{ref.Kind, ref.Namespace, ref.Name, string(ref.UID), ref.APIVersion, ref.ResourceVersion, ref.FieldPath} {
		writeField(h, s)
	}
}

// writeField writes s with its length first, so that no two different
// lists of fields hash the same bytes.
func writeField(h hash.Hash, s string) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
	h.Write([]byte(s))
}

// send writes one Event: a repeat of an Event written less than
// SeriesWindow ago bumps that Event's series; any other is created (also a
// repeat whose earlier Event is gone).
func (r *Recorder) send(ctx context.Context, ev *eventsv1.Event) {
	key := keyOf(ev)
	defer r.take(key)()
	seen := ev.EventTime.Time
	if v, ok := r.series.Get(key); ok {
		prev := v.(seriesEntry)
		if seen.Sub(prev.last) < SeriesWindow {
			// Writers may take two repeats out of order: the series
			// keeps the later time.
			next := seriesEntry{namespace: prev.namespace, name: prev.name, count: prev.count + 1, last: latest(prev.last, seen)}
			err := r.retry(ctx, func(ctx context.Context) error { return r.patchSeries(ctx, next) })
			if err == nil {
				r.series.Add(key, next)
				return
			}
			if !apierrors.IsNotFound(err) {
				r.failed(ctx, err, ev, "patching the series of Event "+prev.namespace+"/"+prev.name)
				return
			}
			// The earlier Event expired (the API server's --event-ttl)
			// or was deleted: this one starts anew.
		}
		r.series.Remove(key)
	}
	if err := r.retry(ctx, func(ctx context.Context) error { return r.client.Create(ctx, ev) }); err != nil {
		r.failed(ctx, err, ev, "creating the Event")
		return
	}
	r.series.Add(key, seriesEntry{namespace: ev.Namespace, name: ev.Name, count: 1, last: seen})
}

// take waits until no other writer writes an Event of key, and returns
// the function that lets the next one.
func (r *Recorder) take(key seriesKey) (release func()) {
	for {
		r.writingMu.Lock()
		busy, ok := r.writing[key]
		if !ok {
			done := make(chan struct{})
			r.writing[key] = done
			r.writingMu.Unlock()
			return func() {
				r.writingMu.Lock()
				delete(r.writing, key)
				r.writingMu.Unlock()
				close(done)
			}
		}
		r.writingMu.Unlock()
		<-busy
	}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// patchSeries sets the series of the Event e names to e's count and time,
// as client-go's createPatchBytesForSeries does (its two-way merge patch
// of an Event without and with a series comes down to this).
func (r *Recorder) patchSeries(ctx context.Context, e seriesEntry) error {
	patch, err := json.Marshal(map[string]eventsv1.EventSeries{
		"series": {Count: e.count, LastObservedTime: metav1.MicroTime{Time: e.last}},
	})
	if err != nil {
		return fmt.Errorf("encoding the series patch: %w", err)
	}
	target := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: e.namespace, Name: e.name}}
	return r.client.Patch(ctx, target, client.RawPatch(types.MergePatchType, patch))
}

// retry runs write until it succeeds, fails for good (see transient), or
// has been tried maxTries times, waiting retryBackoff between tries.
func (r *Recorder) retry(ctx context.Context, write func(context.Context) error) error {
	backoff := retryBackoff
	for try := 1; ; try++ {
		err := write(ctx)
		if err == nil || !transient(err) {
			return err
		}
		if try == maxTries {
			return fmt.Errorf("giving up after %d tries: %w", try, err)
		}
		if werr := r.sleep(ctx, backoff.Step()); werr != nil {
			return fmt.Errorf("stopped retrying: %w", err)
		}
	}
}

// transient reports whether a write that failed with err may succeed if
// tried again. client-go's recordEvent retries only errors that are not
// the API server's answer (the connection failed, the answer was not
// understood); an answer saying the server is overloaded or timed out is
// retried too. Every other answer is final: AlreadyExists, Invalid,
// Forbidden (also a namespace being terminated), NotFound, BadRequest.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var construction *rest.RequestConstructionError
	if errors.As(err, &construction) {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
			apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err)
	}
	return true
}

// failed counts and logs an Event not written. The note is not logged:
// it is meant for the Event only.
func (r *Recorder) failed(ctx context.Context, err error, ev *eventsv1.Event, doing string) {
	metrics.EventsDropped(metrics.EventsSendFailed, 1)
	keys := []any{"event", ev.Namespace + "/" + ev.Name, "type", ev.Type, "reason", ev.Reason,
		"regarding", ev.Regarding.Kind + "/" + ev.Regarding.Namespace + "/" + ev.Regarding.Name}
	if apierrors.IsAlreadyExists(err) || ctx.Err() != nil {
		// An Event of the same name is already there (made in the same
		// nanosecond), or the manager is stopping: nothing to act on.
		r.log.V(1).Info("Event not written", append(keys, "error", err.Error(), "while", doing)...)
		return
	}
	r.log.Error(err, "Event not written: "+doing, keys...)
}

// clockSleep waits d on the recorder's clock, or until ctx is done.
func (r *Recorder) clockSleep(ctx context.Context, d time.Duration) error {
	t := r.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}
