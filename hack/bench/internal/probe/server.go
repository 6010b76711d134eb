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

package probe

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"runtime"
	"sync/atomic"
	"time"
)

// Instruments are the figures the manager process keeps for the bench.
type Instruments struct {
	// Writes counts the API writes (wrap the manager's rest.Config with
	// Writes.Wrap); Urgent adds up the urgent calls' waits (the platform
	// limiter's OnUrgentWait); Profiler profiles the bench's phases.
	Writes   *WriteCounter
	Urgent   *UrgentWaits
	Profiler *Profiler

	status                       *ProcStatusReader
	peakHeap, peakAnon, peakFile atomic.Uint64
	atPeak                       atomic.Pointer[AnonParts]
}

// NewInstruments are the instruments of this process; profileDir as for
// NewProfiler.
func NewInstruments(profileDir string) (*Instruments, error) {
	status, err := OpenProcStatus()
	if err != nil {
		return nil, err
	}
	in := &Instruments{Writes: NewWriteCounter(), Urgent: &UrgentWaits{}, Profiler: NewProfiler(profileDir), status: status}
	in.atPeak.Store(&AnonParts{})
	return in, nil
}

// Sample records the peak heap, anonymous and file-backed memory every
// 100ms until ctx ends. It allocates nothing per sample.
func (in *Instruments) Sample(ctx context.Context) {
	raise := func(peak *atomic.Uint64, v uint64) {
		if v > peak.Load() {
			peak.Store(v)
		}
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var ms runtime.MemStats // kept: the sampler allocates nothing
	for {
		runtime.ReadMemStats(&ms)
		raise(&in.peakHeap, ms.HeapAlloc)
		now := in.status.Sample()
		if now.Anon > in.peakAnon.Load() {
			in.peakAnon.Store(now.Anon)
			in.atPeak.Store(new(PartsOf(&ms)))
		}
		raise(&in.peakFile, now.File)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stats are the figures now.
func (in *Instruments) Stats() Stats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rec, _ := reconcileTotals()
	queueWait, _ := histogramSums("workqueue_queue_duration_seconds", "name")
	reconcileTime, _ := histogramSums("controller_runtime_reconcile_time_seconds", "controller")
	cpu, gc, gcIdle := CPUSeconds()
	now := in.status.Sample()
	return Stats{Writes: in.Writes.Snapshot(), WriteSeconds: in.Writes.Latency(), Reconciles: rec,
		PeakHeap: max(in.peakHeap.Load(), ms.HeapAlloc), Heap: ms.HeapAlloc,
		PeakRSS: now.HWM, RSS: now.RSS, CPU: cpu, GCCPU: gc, GCIdleCPU: gcIdle,
		PeakAnon: max(in.peakAnon.Load(), now.Anon), PeakFile: max(in.peakFile.Load(), now.File),
		AtPeakAnon: *in.atPeak.Load(),
		QueueWait:  queueWait, ReconcileTime: reconcileTime, UrgentWait: in.Urgent.snapshot()}
}

// Handler serves the Stats as JSON at /, the phases at POST /phase/start
// and /phase/stop, and Go's profiles at /debug/pprof/ (where the heap
// goes: `go tool pprof http://ADDR/debug/pprof/heap`, ADDR from
// `ss -ltnp` while the bench runs).
func (in *Instruments) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("POST /phase/start", in.Profiler.Start)
	mux.HandleFunc("POST /phase/stop", in.Profiler.Stop)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(in.Stats())
	})
	return mux
}
