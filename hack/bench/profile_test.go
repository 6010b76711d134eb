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

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/subaccount-operator/subaccount-operator/hack/bench/internal/probe"
)

// A synthetic profile: user code, an idle mark worker (its idle frame
// inlined into the worker's location), a mark assist under an allocation,
// and background sweeping.
func TestGCShareCountsTheCollectorsFramesAndItsIdleMarking(t *testing.T) {
	fns := map[string]*profile.Function{}
	fn := func(name string) *profile.Function {
		if fns[name] == nil {
			fns[name] = &profile.Function{ID: uint64(len(fns) + 1), Name: name}
		}
		return fns[name]
	}
	var locs []*profile.Location
	loc := func(names ...string) *profile.Location { // innermost first, like pprof's inlined lines
		l := &profile.Location{ID: uint64(len(locs) + 1)}
		for _, n := range names {
			l.Line = append(l.Line, profile.Line{Function: fn(n)})
		}
		locs = append(locs, l)
		return l
	}
	sample := func(ms int64, stack ...*profile.Location) *profile.Sample {
		return &profile.Sample{Value: []int64{ms, ms * 1e6}, Location: stack}
	}
	user := loc("main.work")
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		Sample: []*profile.Sample{
			sample(700, user),
			sample(100, loc("runtime.scanobject"), loc("runtime.gcDrain", "runtime.gcDrainMarkWorkerIdle"), loc("runtime.gcBgMarkWorker")),
			sample(50, loc("runtime.gcDrain", "runtime.gcDrainMarkWorkerDedicated"), loc("runtime.gcBgMarkWorker")),
			sample(30, loc("runtime.gcAssistAlloc1"), loc("runtime.gcAssistAlloc"), loc("runtime.mallocgc"), user),
			sample(20, loc("runtime.sweepone"), loc("runtime.bgsweep")),
			sample(100, loc("runtime.findRunnable"), loc("runtime.schedule")),
		},
		Location: locs,
	}
	for _, f := range fns {
		p.Function = append(p.Function, f)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	got := gcShare(p)
	want := sampledCPU{Total: 1.0, GC: 0.2, GCIdle: 0.1}
	if !near(got.Total, want.Total) || !near(got.GC, want.GC) || !near(got.GCIdle, want.GCIdle) {
		t.Fatalf("gcShare = %+v, want %+v", got, want)
	}
	if !near(got.percent(), 20) {
		t.Fatalf("percent = %v, want 20", got.percent())
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// node is a heap object with a pointer for the collector to follow.
type node struct{ next *node }

// pointerHeap is n small objects, each a pointer for the collector to
// mark: a heap that makes every collection cost something.
func pointerHeap(n int) []*node {
	live := make([]*node, 0, n)
	for range n {
		live = append(live, &node{})
	}
	return live
}

// The frames gcShare looks for are the ones this Go runtime really runs
// the collector under: a profile of forced collections over a large
// pointer-rich heap is mostly the collector's.
func TestGCShareFindsThisRuntimesCollector(t *testing.T) {
	live := pointerHeap(1 << 21)
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Fatal(err)
	}
	var got sampledCPU
	// Until enough of the collector's samples, or enough samples to say
	// it has none.
	for got.GC < 0.2 && got.Total < 5 {
		for range 20 {
			runtime.GC()
		}
		pprof.StopCPUProfile()
		p, err := profile.Parse(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		s := gcShare(p)
		got.Total, got.GC, got.GCIdle = got.Total+s.Total, got.GC+s.GC, got.GCIdle+s.GCIdle
		buf.Reset()
		if err := pprof.StartCPUProfile(&buf); err != nil {
			t.Fatal(err)
		}
	}
	pprof.StopCPUProfile()
	runtime.KeepAlive(live)
	if got.percent() < 50 {
		t.Fatalf("forced collections: the collector's share of the samples is %.0f%% (%+v), want most", got.percent(), got)
	}
}

// The bound takes the runtime's estimate without its idle marking, and
// the idle marking the samples saw scaled to the process's CPU time.
func TestBoundPercentReplacesTheRuntimesIdleMarkingBySampledIdleMarking(t *testing.T) {
	s := sampledCPU{Total: 32, GC: 3, GCIdle: 1.6, Process: 40, RuntimeGC: 6.4, RuntimeGCIdle: 3.2}
	if got := s.boundPercent(); !near(got, 13) { // (6.4-3.2 + 1.6*40/32) / 40
		t.Fatalf("boundPercent = %v, want 13", got)
	}
	// Samples never scale the idle marking down.
	s.Total = 50
	if got := s.boundPercent(); !near(got, 12) { // (3.2 + 1.6) / 40
		t.Fatalf("boundPercent with more samples than CPU time = %v, want 12", got)
	}
	if got := (sampledCPU{}).boundPercent(); got != 0 {
		t.Fatalf("boundPercent of nothing = %v, want 0", got)
	}
}

// A phase without --profile still measures; a phase whose files cannot be
// written fails and leaves no CPU profile running behind it.
func TestProfilerPhases(t *testing.T) {
	p := probe.NewProfiler("")
	call := func(h http.HandlerFunc, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(http.MethodPost, target, nil))
		return rec
	}
	if rec := call(p.Start, "/phase/start?name=wave"); rec.Code != http.StatusOK {
		t.Fatalf("start: %d", rec.Code)
	}
	if rec := call(p.Start, "/phase/start?name=again"); rec.Code != http.StatusConflict {
		t.Fatalf("a second start while one runs: %d, want 409", rec.Code)
	}
	live := pointerHeap(1 << 20)
	for range 20 {
		runtime.GC()
	}
	runtime.KeepAlive(live)
	rec := call(p.Stop, "/phase/stop")
	if rec.Code != http.StatusOK {
		t.Fatalf("stop: %d", rec.Code)
	}
	// What the bench does with the answer (stopPhase): the collector's
	// share from the phase's CPU profile.
	var phase probe.Phase
	if err := json.Unmarshal(rec.Body.Bytes(), &phase); err != nil {
		t.Fatal(err)
	}
	if phase.Process <= 0 || phase.RuntimeGC <= 0 {
		t.Fatalf("the phase measured %+v: no CPU time or no collector", phase)
	}
	prof, err := profile.Parse(bytes.NewReader(phase.CPUProfile))
	if err != nil {
		t.Fatalf("the phase's CPU profile: %v", err)
	}
	if got := gcShare(prof); got.GC <= 0 || got.Total < got.GC {
		t.Fatalf("the phase's profile shows %+v: no collector", got)
	}

	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p = probe.NewProfiler(filepath.Join(file, "under-a-file"))
	if rec := call(p.Start, "/phase/start?name=wave"); rec.Code != http.StatusInternalServerError {
		t.Fatalf("start with a directory that cannot be made: %d, want 500", rec.Code)
	}
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatalf("the failed phase left its CPU profile running: %v", err)
	}
	pprof.StopCPUProfile()
	if rec := call(p.Stop, "/phase/stop"); rec.Code != http.StatusConflict {
		t.Fatalf("stop after a failed start: %d, want 409", rec.Code)
	}
}
