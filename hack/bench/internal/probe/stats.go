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

// Package probe is what the bench's manager (hack/bench/manager) measures
// of itself, and the figures it serves the bench (hack/bench): the
// manager's API writes, memory, CPU, reconciles and queue waits, and a
// CPU profile of each phase the bench asks for.
package probe

import (
	"sync"
	"syscall"
	"time"

	"runtime"
	runtimemetrics "runtime/metrics"

	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Stats is what the manager process reports about itself (GET /).
type Stats struct {
	Writes map[string]int `json:"writes"`
	// WriteSeconds is the time the writes took, summed.
	WriteSeconds float64            `json:"writeSeconds"`
	Reconciles   map[string]float64 `json:"reconciles"`
	PeakHeap     uint64             `json:"peakHeap"`
	Heap         uint64             `json:"heap"`
	PeakRSS      uint64             `json:"peakRSS"`
	RSS          uint64             `json:"rss"`
	// CPU is the process's user and system CPU time so far, GCCPU the Go
	// runtime's estimate of the part spent collecting garbage (seconds).
	CPU   float64 `json:"cpu"`
	GCCPU float64 `json:"gcCPU"`
	// GCIdleCPU is the part of GCCPU spent by idle mark workers.
	GCIdleCPU float64 `json:"gcIdleCPU"`
	// PeakAnon and PeakFile are the highest anonymous (heap, stacks) and
	// file-backed (the binary's code and data) resident memory seen,
	// sampled every 100ms: VmHWM is at most their sum.
	PeakAnon uint64 `json:"peakAnon"`
	PeakFile uint64 `json:"peakFile"`
	// AtPeakAnon is what the Go runtime held when the anonymous memory
	// was at its peak.
	AtPeakAnon AnonParts `json:"atPeakAnon"`
	// QueueWait and ReconcileTime are controller-runtime's
	// workqueue_queue_duration_seconds and
	// controller_runtime_reconcile_time_seconds by controller: where a
	// request's time goes, waiting for a worker or being worked on.
	QueueWait     map[string]Durations `json:"queueWait"`
	ReconcileTime map[string]Durations `json:"reconcileTime"`
	// UrgentWait is the platform limiter's wait of urgent calls
	// (offboardings, disables), all shops together.
	UrgentWait Durations `json:"urgentWait"`
}

// AnonParts splits the Go runtime's resident memory (runtime.MemStats):
// the heap's spans in use, the heap's free pages not yet returned to the
// OS, goroutine stacks, and the runtime's own structures (span and cache
// metadata, the collector's bitmaps, profiling buckets, the rest).
type AnonParts struct {
	HeapInuse   uint64 `json:"heapInuse"`
	HeapFree    uint64 `json:"heapFree"`
	Stacks      uint64 `json:"stacks"`
	RuntimeMeta uint64 `json:"runtimeMeta"`
}

// PartsOf is ms's AnonParts.
func PartsOf(ms *runtime.MemStats) AnonParts {
	return AnonParts{HeapInuse: ms.HeapInuse, HeapFree: ms.HeapIdle - ms.HeapReleased, Stacks: ms.StackSys,
		RuntimeMeta: ms.MSpanSys + ms.MCacheSys + ms.BuckHashSys + ms.GCSys + ms.OtherSys}
}

// Durations is a sum of durations, how many, and the longest (where
// known), in seconds.
type Durations struct {
	Sum   float64 `json:"sum"`
	Count uint64  `json:"count"`
	Max   float64 `json:"max,omitempty"`
}

// Minus is d since an earlier reading (Max is not a difference: it stays).
func (d Durations) Minus(earlier Durations) Durations {
	return Durations{Sum: d.Sum - earlier.Sum, Count: d.Count - earlier.Count, Max: d.Max}
}

// Mean is the average duration, 0 without any.
func (d Durations) Mean() time.Duration {
	if d.Count == 0 {
		return 0
	}
	return time.Duration(d.Sum / float64(d.Count) * float64(time.Second))
}

// UrgentWaits adds up the platform limiter's waits of urgent calls
// (platform.LimitedFactory.OnUrgentWait).
type UrgentWaits struct {
	mu sync.Mutex
	d  Durations
}

// Observe is the limiter's hook.
func (u *UrgentWaits) Observe(_ string, d time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.d.Sum += d.Seconds()
	u.d.Count++
	u.d.Max = max(u.d.Max, d.Seconds())
}

func (u *UrgentWaits) snapshot() Durations {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.d
}

// CPUSeconds returns the process's CPU time (user + system), the
// runtime's estimate of its garbage collection CPU time, and the part of
// that spent marking on processors that had nothing else to run (idle
// mark workers: CPU the process would not have used otherwise, taken on
// this machine from the other processes sharing its cores), in seconds.
func CPUSeconds() (total, gc, gcIdle float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		total = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	sample := []runtimemetrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/gc/mark/idle:cpu-seconds"}}
	runtimemetrics.Read(sample)
	if sample[0].Value.Kind() == runtimemetrics.KindFloat64 {
		gc = sample[0].Value.Float64()
	}
	if sample[1].Value.Kind() == runtimemetrics.KindFloat64 {
		gcIdle = sample[1].Value.Float64()
	}
	return total, gc, gcIdle
}

// reconcileTotals sums controller_runtime_reconcile_total by controller.
func reconcileTotals() (map[string]float64, error) {
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out, nil
}

// histogramSums reads the sums and counts of the histogram named, by the
// value of its label by.
func histogramSums(name, by string) (map[string]Durations, error) {
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		return nil, err
	}
	out := map[string]Durations{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == by {
					d := out[l.GetValue()]
					d.Sum += m.GetHistogram().GetSampleSum()
					d.Count += m.GetHistogram().GetSampleCount()
					out[l.GetValue()] = d
				}
			}
		}
	}
	return out, nil
}
