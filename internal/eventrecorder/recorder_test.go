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

package eventrecorder

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// t0 is the fake clock's start: whole seconds, so times survive the
// microsecond precision of an Event's JSON.
var t0 = time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)

// fixture is a Recorder writing to a fake API server whose writes can be
// made to fail, on a fake clock, with its logs and waits between tries
// kept.
type fixture struct {
	r     *Recorder
	c     client.Client
	clock *clocktesting.FakeClock

	mu sync.Mutex
	// createErrs and patchErrs are returned by the next Creates and
	// Patches, in order, instead of writing.
	createErrs, patchErrs []error
	creates, patches      int
	// discard makes writes succeed without storing anything (the fake
	// client slows down with thousands of objects).
	discard bool
	sleeps  []time.Duration
	logs    []string
	// created has the name of each Event created, for the tests that run
	// Start (buffered: the others do not read it).
	created chan string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := shopv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	f := &fixture{clock: clocktesting.NewFakeClock(t0), created: make(chan string, 16)}
	f.c = fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			f.mu.Lock()
			f.creates++
			err := pop(&f.createErrs)
			discard := f.discard
			f.mu.Unlock()
			if err == nil && !discard {
				err = c.Create(ctx, obj, opts...)
			}
			if err == nil {
				select {
				case f.created <- obj.GetName():
				default:
				}
			}
			return err
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			f.mu.Lock()
			f.patches++
			err := pop(&f.patchErrs)
			discard := f.discard
			f.mu.Unlock()
			if err != nil || discard {
				return err
			}
			return c.Patch(ctx, obj, patch, opts...)
		},
	}).Build()
	log := funcr.New(func(prefix, args string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.logs = append(f.logs, args)
	}, funcr.Options{Verbosity: 1})
	r, err := New(f.c, scheme, "subaccount-operator", WithClock(f.clock), WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	r.sleep = func(_ context.Context, d time.Duration) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.sleeps = append(f.sleeps, d)
		return nil
	}
	f.r = r
	return f
}

func pop(errs *[]error) error {
	if len(*errs) == 0 {
		return nil
	}
	err := (*errs)[0]
	*errs = (*errs)[1:]
	return err
}

// sendQueued writes every queued Event, as Start's goroutine does.
func (f *fixture) sendQueued() {
	for len(f.r.queue) > 0 {
		f.r.send(context.Background(), <-f.r.queue)
	}
}

func (f *fixture) events(t *testing.T) []eventsv1.Event {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := f.c.List(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func (f *fixture) counts() (creates, patches int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates, f.patches
}

func subAccount(name string) *shopv1alpha1.SubAccount {
	return &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{
		Namespace: "shop-a", Name: name, UID: types.UID("uid-" + name), ResourceVersion: "7"}}
}

func shop() *shopv1alpha1.Shop {
	return &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-a", Name: "hongxing", UID: "uid-shop"}}
}

func TestEventfCreatesTheEventAsClientGoDoes(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.r.Start(ctx) }()

	f.r.Eventf(subAccount("alice"), shop(), corev1.EventTypeWarning, "PlatformError", "Create", "creating %s: %d", "the account", 503)
	select {
	case <-f.created:
	case <-time.After(30 * time.Second):
		t.Fatal("no Event created within 30 s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Start: %v", err)
	}

	evs := f.events(t)
	if len(evs) != 1 {
		t.Fatalf("%d Events, want 1", len(evs))
	}
	ev := evs[0]
	hostname, _ := os.Hostname()
	wantName := fmt.Sprintf("alice.%x", t0.UnixNano())
	checks := []struct{ field, got, want string }{
		{"name", ev.Name, wantName},
		{"namespace", ev.Namespace, "shop-a"},
		{"type", ev.Type, "Warning"},
		{"reason", ev.Reason, "PlatformError"},
		{"action", ev.Action, "Create"},
		{"note", ev.Note, "creating the account: 503"},
		{"reportingController", ev.ReportingController, "subaccount-operator"},
		{"reportingInstance", ev.ReportingInstance, "subaccount-operator-" + hostname},
		{"regarding.kind", ev.Regarding.Kind, "SubAccount"},
		{"regarding.apiVersion", ev.Regarding.APIVersion, shopv1alpha1.GroupVersion.String()},
		{"regarding.namespace", ev.Regarding.Namespace, "shop-a"},
		{"regarding.name", ev.Regarding.Name, "alice"},
		{"regarding.uid", string(ev.Regarding.UID), "uid-alice"},
		{"eventTime", ev.EventTime.UTC().String(), t0.String()},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if ev.Related == nil || ev.Related.Kind != "Shop" || ev.Related.Name != "hongxing" || ev.Related.UID != "uid-shop" {
		t.Errorf("related = %+v, want the Shop hongxing", ev.Related)
	}
	if ev.Series != nil {
		t.Errorf("a first Event has a series: %+v", ev.Series)
	}
}

func TestEventOfAClusterScopedObjectIsInTheDefaultNamespace(t *testing.T) {
	f := newFixture(t)
	f.r.Eventf(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop-a", UID: "uid-ns"}}, nil, corev1.EventTypeNormal, "Seen", "Look", "")
	f.sendQueued()
	evs := f.events(t)
	if len(evs) != 1 || evs[0].Namespace != metav1.NamespaceDefault || evs[0].Related != nil {
		t.Fatalf("Events = %+v, want one in namespace default without a related object", evs)
	}
}

func TestRepeatsCountInTheFirstEventsSeries(t *testing.T) {
	f := newFixture(t)
	emit := func() {
		f.r.Eventf(subAccount("alice"), nil, corev1.EventTypeWarning, "PlatformError", "Create", "the platform is down")
		f.sendQueued()
	}
	emit()
	first := f.events(t)[0].Name
	for _, count := range []int32{2, 3} {
		f.clock.Step(time.Minute)
		emit()
		evs := f.events(t)
		if len(evs) != 1 {
			t.Fatalf("after repeat %d: %d Events, want 1", count, len(evs))
		}
		s := evs[0].Series
		if s == nil || s.Count != count || !s.LastObservedTime.Equal(&metav1.MicroTime{Time: f.clock.Now()}) {
			t.Fatalf("series = %+v, want count %d last observed %s", s, count, f.clock.Now())
		}
	}
	if creates, patches := f.counts(); creates != 1 || patches != 2 {
		t.Errorf("%d creates and %d patches, want 1 and 2", creates, patches)
	}

	// Another note, or the object at another resourceVersion, is another
	// Event (client-go's key holds the whole reference).
	f.r.Eventf(subAccount("alice"), nil, corev1.EventTypeWarning, "PlatformError", "Create", "the platform is still down")
	f.clock.Step(time.Nanosecond) // two Events of one object in one nanosecond would have one name
	later := subAccount("alice")
	later.ResourceVersion = "8"
	f.r.Eventf(later, nil, corev1.EventTypeWarning, "PlatformError", "Create", "the platform is down")
	f.sendQueued()
	if n := len(f.events(t)); n != 3 {
		t.Fatalf("%d Events after a different note and a different resourceVersion, want 3", n)
	}

	// SeriesWindow after the last repeat, the series is over: a new Event.
	f.clock.Step(SeriesWindow)
	emit()
	var again []eventsv1.Event
	for _, ev := range f.events(t) {
		if ev.Note == "the platform is down" && ev.Regarding.ResourceVersion == "7" {
			again = append(again, ev)
		}
	}
	if len(again) != 2 {
		t.Fatalf("%d Events of the first kind after the series window, want 2", len(again))
	}
	for _, ev := range again {
		if ev.Name != first && ev.Series != nil {
			t.Errorf("the new Event %s has a series %+v", ev.Name, ev.Series)
		}
	}
}

func TestRepeatOfADeletedEventCreatesANewOne(t *testing.T) {
	f := newFixture(t)
	emit := func() {
		f.r.Eventf(subAccount("alice"), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
		f.sendQueued()
	}
	emit()
	first := f.events(t)[0]
	if err := f.c.Delete(context.Background(), &first); err != nil {
		t.Fatal(err)
	}
	f.clock.Step(time.Second)
	emit()
	evs := f.events(t)
	if len(evs) != 1 || evs[0].Name == first.Name || evs[0].Series != nil {
		t.Fatalf("Events = %+v, want one new Event without a series", evs)
	}
	// The new Event is the one repeats now count in.
	f.clock.Step(time.Second)
	emit()
	if evs := f.events(t); len(evs) != 1 || evs[0].Series == nil || evs[0].Series.Count != 2 {
		t.Fatalf("Events = %+v, want the new one with count 2", evs)
	}
}

func TestRememberedEventsAreBounded(t *testing.T) {
	f := newFixture(t)
	f.discard = true
	for i := range SeriesCapacity + 50 {
		f.r.Eventf(subAccount(fmt.Sprintf("a%05d", i)), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
		if len(f.r.queue) == QueueLength {
			f.sendQueued()
		}
	}
	f.sendQueued()
	if creates, _ := f.counts(); creates != SeriesCapacity+50 {
		t.Fatalf("%d Events created, want %d", creates, SeriesCapacity+50)
	}
	if n := f.r.series.Len(); n > SeriesCapacity {
		t.Errorf("%d Events remembered, want at most %d", n, SeriesCapacity)
	}
	// The latest are remembered, the oldest forgotten: a repeat of the
	// last is counted, one of the first created anew.
	f.clock.Step(time.Nanosecond)
	f.r.Eventf(subAccount(fmt.Sprintf("a%05d", SeriesCapacity+49)), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
	f.r.Eventf(subAccount("a00000"), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
	f.sendQueued()
	creates, patches := f.counts()
	if creates != SeriesCapacity+51 || patches != 1 {
		t.Errorf("%d creates and %d patches, want %d and 1", creates, patches, SeriesCapacity+51)
	}
}

func TestEventfDoesNotBlockWhenTheQueueIsFull(t *testing.T) {
	f := newFixture(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range QueueLength + 3 {
			f.r.Eventf(subAccount(fmt.Sprintf("a%d", i)), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Eventf blocked on a full queue")
	}
	if len(f.r.queue) != QueueLength || f.r.Dropped() != 3 {
		t.Errorf("%d queued and %d dropped, want %d and 3", len(f.r.queue), f.r.Dropped(), QueueLength)
	}
	logged := 0
	for _, l := range f.logs {
		if strings.Contains(l, "Event queue full") {
			logged++
		}
	}
	if logged != 1 {
		t.Errorf("%d logs of a full queue, want 1 (at most one per %s)", logged, dropLogInterval)
	}
	if creates, _ := f.counts(); creates != 0 {
		t.Errorf("Eventf wrote %d Events itself", creates)
	}
}

func TestWritesAreRetriedOnlyWhenTheFailureIsTransient(t *testing.T) {
	gr := schema.GroupResource{Group: "events.k8s.io", Resource: "events"}
	refused := &url.Error{Op: "Post", URL: "https://apiserver/apis/events.k8s.io/v1", Err: syscall.ECONNREFUSED}
	terminating := apierrors.NewForbidden(gr, "x", errors.New("unable to create new content in namespace shop-a because it is being terminated"))
	unavailable := apierrors.NewServiceUnavailable("etcd leader changed")
	cases := []struct {
		name        string
		errs        []error
		wantCreates int
		wantEvents  int
	}{
		{"connection refused twice, then written", []error{refused, refused}, 3, 1},
		{"overloaded, then written", []error{apierrors.NewTooManyRequests("slow down", 1), unavailable}, 3, 1},
		{"unavailable every time: gives up", []error{unavailable, unavailable, unavailable, unavailable, unavailable, unavailable}, maxTries, 0},
		{"already exists: not retried", []error{apierrors.NewAlreadyExists(gr, "alice.1")}, 1, 0},
		{"namespace terminating: not retried", []error{terminating}, 1, 0},
		{"invalid: not retried", []error{apierrors.NewInvalid(schema.GroupKind{Group: "events.k8s.io", Kind: "Event"}, "alice.1",
			field.ErrorList{field.Required(field.NewPath("note"), "")})}, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.createErrs = tc.errs
			f.r.Eventf(subAccount("alice"), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
			f.sendQueued()
			creates, _ := f.counts()
			if creates != tc.wantCreates || len(f.events(t)) != tc.wantEvents {
				t.Fatalf("%d creates, %d Events; want %d and %d", creates, len(f.events(t)), tc.wantCreates, tc.wantEvents)
			}
			if len(f.sleeps) != tc.wantCreates-1 {
				t.Fatalf("waited %v between %d tries", f.sleeps, tc.wantCreates)
			}
			for i, d := range f.sleeps {
				base := time.Second << i
				if d < base || d > base+base/10 {
					t.Errorf("wait %d is %s, want %s to %s", i+1, d, base, base+base/10)
				}
			}
		})
	}
}

func TestPatchOfASeriesIsRetried(t *testing.T) {
	f := newFixture(t)
	f.r.Eventf(subAccount("alice"), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
	f.sendQueued()
	f.patchErrs = []error{apierrors.NewInternalError(errors.New("boom"))}
	f.clock.Step(time.Second)
	f.r.Eventf(subAccount("alice"), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
	f.sendQueued()
	evs := f.events(t)
	if _, patches := f.counts(); patches != 2 || len(evs) != 1 || evs[0].Series == nil || evs[0].Series.Count != 2 {
		t.Fatalf("%d patches, Events %+v; want 2 patches and one Event with count 2", patches, evs)
	}
}

func TestUnsupportedTypeIsDropped(t *testing.T) {
	f := newFixture(t)
	f.r.Eventf(subAccount("alice"), nil, "Info", "Created", "Create", "account created")
	if n := len(f.r.queue); n != 0 {
		t.Fatalf("%d Events queued for type Info, want none", n)
	}
	if len(f.logs) != 1 || !strings.Contains(f.logs[0], "Unsupported Event type") || !strings.Contains(f.logs[0], `"Info"`) {
		t.Errorf("logs = %q, want one error naming the type", f.logs)
	}
	f.r.Eventf(subAccount("alice"), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
	if n := len(f.r.queue); n != 1 {
		t.Fatalf("%d Events queued for type Normal, want 1", n)
	}
}

func TestStopWritesWhatIsQueuedThenTakesNoMore(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"alice", "bob", "carol"} {
		f.r.Eventf(subAccount(name), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.r.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if n := len(f.events(t)); n != 3 {
		t.Errorf("%d Events written at stop, want 3", n)
	}
	f.r.Eventf(subAccount("dave"), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
	if n := len(f.r.queue); n != 0 {
		t.Errorf("%d Events queued after stop, want none", n)
	}
}

func TestWritersWriteAtOnce(t *testing.T) {
	f := newFixture(t)
	entered, release := make(chan struct{}, Writers), make(chan struct{})
	f.c = interceptor.NewClient(f.c.(client.WithWatch), interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			entered <- struct{}{}
			<-release
			return c.Create(ctx, obj, opts...)
		},
	})
	f.r.client = f.c
	for i := range Writers {
		f.r.Eventf(subAccount(fmt.Sprintf("a%d", i)), nil, corev1.EventTypeNormal, "Created", "Create", "account created")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.r.Start(ctx) }()
	// A wave of new SubAccounts makes about 70 Events a second, and a
	// write then takes up to 200 ms: 14 must be under way at once.
	const atOnce = 14
	for i := range atOnce {
		select {
		case <-entered:
		case <-time.After(30 * time.Second):
			t.Fatalf("%d writes under way at once, want %d", i, atOnce)
		}
	}
	close(release)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(f.events(t)); n != Writers {
		t.Errorf("%d Events, want %d", n, Writers)
	}
}

func TestRepeatsTakenByManyWritersMakeOneSeries(t *testing.T) {
	f := newFixture(t)
	const repeats = 50
	for range repeats {
		f.r.Eventf(subAccount("alice"), nil, corev1.EventTypeWarning, "PlatformError", "Create", "the platform is down")
		f.clock.Step(time.Second)
	}
	last := metav1.MicroTime{Time: f.clock.Now().Add(-time.Second)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Start writes the queue, with all its writers, and returns
	if err := f.r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	evs := f.events(t)
	if len(evs) != 1 || evs[0].Series == nil || evs[0].Series.Count != repeats || !evs[0].Series.LastObservedTime.Equal(&last) {
		t.Fatalf("Events = %+v, want one with count %d last observed %s", evs, repeats, last)
	}
}

func TestNewRefusesASchemeWithoutEvents(t *testing.T) {
	if _, err := New(fake.NewClientBuilder().Build(), runtime.NewScheme(), "x"); err == nil {
		t.Fatal("New accepted a scheme without events.k8s.io/v1 Event")
	}
}

func TestRunsOnEveryReplica(t *testing.T) {
	if newFixture(t).r.NeedLeaderElection() {
		t.Error("the recorder waits for leader election: a replica that is not the leader would queue Events and never write them")
	}
}
