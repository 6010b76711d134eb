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

// --offboarding (issue 18): how long from a Staff's active: false to every
// one of its platform accounts disabled, read from shopsim's engine (the
// platform's own truth), for one person across 4 shops and for 100 people
// across the shops while a wave of creates is queued behind.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/hack/bench/internal/probe"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// offboardingResult is what --offboarding measures.
type offboardingResult struct {
	// Solo: one person across SoloShops shops.
	SoloShops               int
	SoloOnboard, SoloToGone time.Duration
	// Many people, each across ManyShopsEach shops, offboarded at once
	// while Wave creates are queued.
	People, ManyShopsEach, Wave int
	ManyOnboard, ManyDisabled   time.Duration
	// WaveReadyAtDisabled is how many of the wave's SubAccounts were Ready
	// when the last account was disabled: the offboarding did not wait for
	// the wave.
	WaveReadyAtDisabled int
	// StaffReady is when every Staff reported the offboarding done.
	StaffReady time.Duration
	// Breakdown is where the many people's offboarding spent its time.
	Breakdown offboardingBreakdown
}

// offboardingBreakdown splits the time from active: false to an account
// disabled on its platform in two, per account: the Staff's part (its
// queue and reconcile, until the SubAccount carries disabled: true, seen
// through the bench's watch) and the SubAccount's (its queue, reconcile
// and the platform limiter, until the platform has the account disabled,
// read from shopsim's engine every 20ms); and, from the manager's own
// metrics over the same time, the queue wait and reconcile time of each
// controller and the limiter's wait of urgent calls.
type offboardingBreakdown struct {
	// StaffPart and SubAccountPart are each account's two parts: median,
	// 90th percentile and longest.
	StaffPart, SubAccountPart [3]time.Duration
	// LastWritten is when the last SubAccount got disabled: true.
	LastWritten time.Duration
	// Staff and SubAccount are the controllers' figures over the
	// offboarding: requests served, mean queue wait and reconcile time.
	Staff, SubAccount controllerFigures
	// UrgentWait is the platform limiter's wait of urgent calls.
	UrgentWait probe.Durations
	// Calls are the platform calls made meanwhile (the wave's too), by
	// method.
	Calls map[string]int
}

// controllerFigures is one controller's queue over a phase.
type controllerFigures struct {
	Reconciles          uint64
	QueueWait, WorkTime time.Duration
}

func figuresOf(name string, before, after probe.Stats) controllerFigures {
	q, w := after.QueueWait[name].Minus(before.QueueWait[name]), after.ReconcileTime[name].Minus(before.ReconcileTime[name])
	return controllerFigures{Reconciles: w.Count, QueueWait: q.Mean(), WorkTime: w.Mean()}
}

// disableTimeline records, per account of the people offboarded ("<shop>/<account
// name>"), when its SubAccount carried disabled: true and when the
// platform had it disabled.
type disableTimeline struct {
	mu                sync.Mutex
	t0                time.Time
	people            map[string]bool
	written, disabled map[string]time.Time
}

// watchDisables starts recording when the people's SubAccounts get
// disabled: true (from start on).
func watchDisables(ctx context.Context, watched cache.Cache, people map[string]bool) (*disableTimeline, error) {
	tl := &disableTimeline{people: people, written: map[string]time.Time{}, disabled: map[string]time.Time{}}
	inf, err := watched.GetInformer(ctx, &shopv1alpha1.SubAccount{})
	if err != nil {
		return nil, err
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{UpdateFunc: func(_, obj any) {
		sa, ok := obj.(*shopv1alpha1.SubAccount)
		if !ok || !sa.Spec.Disabled || !people[sa.Labels[shopv1alpha1.LabelStaff]] {
			return
		}
		now := time.Now()
		tl.mu.Lock()
		defer tl.mu.Unlock()
		key := sa.Spec.ShopRef.Name + "/" + sa.Spec.AccountName
		if _, seen := tl.written[key]; !seen && !tl.t0.IsZero() {
			tl.written[key] = now
		}
	}})
	return tl, err
}

func (tl *disableTimeline) start(t0 time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.t0 = t0
}

// platformDisabled counts the people's accounts the platform has
// disabled, over shops, noting when each was first seen so.
func (tl *disableTimeline) platformDisabled(engine *memory.Engine, shops int) int {
	now := time.Now()
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for i := 0; i < shops; i++ {
		for _, a := range engine.Accounts(platform.Taobao, mainAccount(i)) {
			key := shopName(i) + "/" + a.Name
			if _, seen := tl.disabled[key]; !seen && tl.people[a.Name] && a.Disabled {
				tl.disabled[key] = now
			}
		}
	}
	return len(tl.disabled)
}

// breakdown is the offboarding's breakdown, the manager's figures read
// before and after.
func (tl *disableTimeline) breakdown(before, after probe.Stats) offboardingBreakdown {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var staffPart, subPart []time.Duration
	b := offboardingBreakdown{Staff: figuresOf("staff", before, after), SubAccount: figuresOf("subaccount", before, after),
		UrgentWait: after.UrgentWait.Minus(before.UrgentWait)}
	for key, done := range tl.disabled {
		written, ok := tl.written[key]
		if !ok || written.After(done) {
			// The watch saw the write after the platform had it: count it
			// as written when done (the SubAccount's part is then ~0).
			written = done
		}
		staffPart = append(staffPart, written.Sub(tl.t0))
		subPart = append(subPart, done.Sub(written))
		b.LastWritten = max(b.LastWritten, written.Sub(tl.t0))
	}
	b.StaffPart, b.SubAccountPart = spread(staffPart), spread(subPart)
	return b
}

// spread is the median, 90th percentile and maximum of ds.
func spread(ds []time.Duration) [3]time.Duration {
	if len(ds) == 0 {
		return [3]time.Duration{}
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return [3]time.Duration{at(0.5), at(0.9), ds[len(ds)-1]}
}

// offboardingPeople is the second measure's head count.
const offboardingPeople = 100

func staffSpec(name string, shops []string) *shopv1alpha1.Staff {
	return &shopv1alpha1.Staff{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: name},
		Spec: shopv1alpha1.StaffSpec{
			Employee: shopv1alpha1.Employee{Name: name}, AccountName: name,
			Assignments: []shopv1alpha1.StaffAssignment{{Shops: shops,
				RoleSelector: shopv1alpha1.StaffSelector{MatchLabels: map[string]string{"job": "customer-service"}}}},
		},
	}
}

// staffShops are the shops person p works in: each in shopsEach of them,
// spread over all the shops.
func staffShops(p, shopsEach, shops int) []string {
	out := make([]string, 0, shopsEach)
	for k := 0; k < shopsEach; k++ {
		out = append(out, shopName((p+k*(shops/shopsEach))%shops))
	}
	return out
}

// platformDisabled counts the accounts named in names that the platform
// has disabled, over shops.
func platformDisabled(engine *memory.Engine, shops int, names map[string]bool) int {
	n := 0
	for i := 0; i < shops; i++ {
		for _, a := range engine.Accounts(platform.Taobao, mainAccount(i)) {
			if names[a.Name] && a.Disabled {
				n++
			}
		}
	}
	return n
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not done after %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(probePoll):
		}
	}
}

// staffDone says whether every Staff named is Ready at its generation.
func staffDone(ctx context.Context, k8s client.Client, names []string) (bool, error) {
	list := &shopv1alpha1.StaffList{}
	if err := k8s.List(ctx, list, client.InNamespace(benchNamespace)); err != nil {
		return false, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	ready := 0
	for _, s := range list.Items {
		c := apimetaReady(s.Status.Conditions)
		if want[s.Name] && c != nil && c.Status == metav1.ConditionTrue && s.Status.ObservedGeneration == s.Generation {
			ready++
		}
	}
	return ready == len(names), nil
}

func apimetaReady(conds []metav1.Condition) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == shopv1alpha1.ConditionReady {
			return &conds[i]
		}
	}
	return nil
}

// deactivate sets active: false on the Staff named.
func deactivate(ctx context.Context, k8s client.Client, names []string) error {
	return forEach(ctx, len(names), 8, func(ctx context.Context, k int) error {
		s := &shopv1alpha1.Staff{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: names[k]}}
		return k8s.Patch(ctx, s, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"active":false}}`)))
	})
}

// measureOffboarding runs both measures on the Shops and Roles of run's
// setup (at least 20 Shops).
func measureOffboarding(ctx context.Context, o options, k8s client.Client, watched cache.Cache, engine *memory.Engine, mgr *managerProc) (*offboardingResult, error) {
	r := &offboardingResult{SoloShops: 4, People: offboardingPeople, ManyShopsEach: 4, Wave: 1000}
	// 1. One person across 4 shops.
	logf("offboarding: one person across %d shops...", r.SoloShops)
	t0 := time.Now()
	if err := k8s.Create(ctx, staffSpec("solo", staffShops(0, r.SoloShops, o.Shops))); err != nil {
		return r, err
	}
	if err := waitFor(ctx, o.Timeout, "solo onboarding", func() (bool, error) { return staffDone(ctx, k8s, []string{"solo"}) }); err != nil {
		return r, err
	}
	r.SoloOnboard = time.Since(t0)
	t0 = time.Now()
	if err := deactivate(ctx, k8s, []string{"solo"}); err != nil {
		return r, err
	}
	solo := map[string]bool{"solo": true}
	if err := waitFor(ctx, o.Timeout, "solo offboarding", func() (bool, error) {
		return platformDisabled(engine, o.Shops, solo) == r.SoloShops, nil
	}); err != nil {
		return r, err
	}
	r.SoloToGone = time.Since(t0)
	logf("offboarding: one person, %d accounts disabled in %s", r.SoloShops, r.SoloToGone.Round(time.Millisecond))

	// 2. 100 people, each across 4 of the shops; then a wave of 1,000
	// creates queued, and everyone offboarded at once behind it.
	logf("offboarding: %d people across %d shops, %d accounts each...", r.People, o.Shops, r.ManyShopsEach)
	names := make([]string, r.People)
	many := map[string]bool{}
	for p := range names {
		names[p] = fmt.Sprintf("p%03d", p)
		many[names[p]] = true
	}
	t0 = time.Now()
	if err := forEach(ctx, r.People, 8, func(ctx context.Context, p int) error {
		return k8s.Create(ctx, staffSpec(names[p], staffShops(p, r.ManyShopsEach, o.Shops)))
	}); err != nil {
		return r, err
	}
	if err := waitFor(ctx, o.Timeout, "onboarding the people", func() (bool, error) { return staffDone(ctx, k8s, names) }); err != nil {
		return r, err
	}
	r.ManyOnboard = time.Since(t0)
	logf("offboarding: %d people onboarded in %s; queuing %d creates...", r.People, r.ManyOnboard.Round(time.Second), r.Wave)
	if err := forEach(ctx, r.Wave, 8, func(ctx context.Context, k int) error {
		sa := subAccount(benchNamespace, k%o.Shops, o.PerShop+k/o.Shops)
		sa.Name = "wave-" + sa.Name
		return k8s.Create(ctx, sa)
	}); err != nil {
		return r, err
	}
	tl, err := watchDisables(ctx, watched, many)
	if err != nil {
		return r, err
	}
	before, err := mgr.stats()
	if err != nil {
		return r, err
	}
	callsBefore := engine.Calls()
	t0 = time.Now()
	tl.start(t0)
	if err := deactivate(ctx, k8s, names); err != nil {
		return r, err
	}
	want := r.People * r.ManyShopsEach
	if err := waitFor(ctx, o.Timeout, "offboarding the people", func() (bool, error) {
		return tl.platformDisabled(engine, o.Shops) == want, nil
	}); err != nil {
		return r, err
	}
	r.ManyDisabled = time.Since(t0)
	after, err := mgr.stats()
	if err != nil {
		return r, err
	}
	r.Breakdown = tl.breakdown(before, after)
	r.Breakdown.Calls = delta(callsBefore, engine.Calls())
	list := &shopv1alpha1.SubAccountList{}
	if err := watched.List(ctx, list, client.InNamespace(benchNamespace), client.UnsafeDisableDeepCopy); err != nil {
		return r, err
	}
	for _, sa := range list.Items {
		if c := apimetaReady(sa.Status.Conditions); strings.HasPrefix(sa.Name, "wave-") && c != nil && c.Status == metav1.ConditionTrue {
			r.WaveReadyAtDisabled++
		}
	}
	if err := waitFor(ctx, o.Timeout, "the Staff reporting it", func() (bool, error) { return staffDone(ctx, k8s, names) }); err != nil {
		return r, err
	}
	r.StaffReady = time.Since(t0)
	logf("offboarding: %d accounts disabled in %s (%d of the wave's %d Ready by then)", want,
		r.ManyDisabled.Round(time.Millisecond), r.WaveReadyAtDisabled, r.Wave)
	return r, nil
}

// renderOffboarding is the --offboarding table.
func renderOffboarding(o options, latency time.Duration, r *offboardingResult) string {
	var b strings.Builder
	d := func(t time.Duration) string { return t.Round(time.Millisecond).String() }
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, v) }
	fmt.Fprintf(&b, "\n### Offboarding a person: %d shops, shopsim latency %s\n\n| measure | value |\n|---|---|\n", o.Shops, latency)
	row("manager", fmt.Sprintf("own process; API client QPS %g, burst %d; concurrency SubAccount %d, Staff %d; every Shop rateLimit %d/s, burst %d",
		o.Manager.QPS, o.Manager.Burst, o.Manager.Concurrency.SubAccount, o.Manager.Concurrency.Staff, o.ShopRate, o.ShopBurst))
	row(fmt.Sprintf("one person, %d shops: onboarded (Staff Ready)", r.SoloShops), d(r.SoloOnboard))
	row(fmt.Sprintf("**one person, %d shops: active: false → every platform account disabled**", r.SoloShops), d(r.SoloToGone))
	row(fmt.Sprintf("%d people × %d shops each (%d accounts): onboarded", r.People, r.ManyShopsEach, r.People*r.ManyShopsEach), d(r.ManyOnboard))
	row(fmt.Sprintf("**%d people: active: false → all %d platform accounts disabled, %d creates queued**", r.People, r.People*r.ManyShopsEach, r.Wave),
		fmt.Sprintf("%s (%d of the %d creates Ready by then)", d(r.ManyDisabled), r.WaveReadyAtDisabled, r.Wave))
	row(fmt.Sprintf("%d people: active: false → every Staff Ready (offboarded)", r.People), d(r.StaffReady))
	bd := r.Breakdown
	three := func(v [3]time.Duration) string {
		return fmt.Sprintf("median %s, p90 %s, max %s", d(v[0]), d(v[1]), d(v[2]))
	}
	row("per account: active: false → its SubAccount carries disabled: true (the Staff's part)", three(bd.StaffPart)+
		fmt.Sprintf("; the last written at %s", d(bd.LastWritten)))
	row("per account: disabled: true → disabled on the platform (the SubAccount's part)", three(bd.SubAccountPart))
	ctl := func(f controllerFigures) string {
		return fmt.Sprintf("%d reconciles, mean queue wait %s, mean reconcile %s", f.Reconciles, d(f.QueueWait), d(f.WorkTime))
	}
	row("Staff controller during the offboarding", ctl(bd.Staff))
	row("SubAccount controller during the offboarding (the wave's creates included)", ctl(bd.SubAccount))
	row("platform limiter, urgent calls", fmt.Sprintf("%d waits, mean %s, max %s", bd.UrgentWait.Count, d(bd.UrgentWait.Mean()),
		d(time.Duration(bd.UrgentWait.Max*float64(time.Second)))))
	var calls []string
	for _, m := range slices.Sorted(maps.Keys(bd.Calls)) {
		calls = append(calls, fmt.Sprintf("%s %d", m, bd.Calls[m]))
	}
	row("platform calls meanwhile (the wave's included)", strings.Join(calls, ", "))
	return b.String()
}
