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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"
)

// Profiler records what the manager does during one phase of the bench.
// Every phase gets a CPU profile, kept in memory and handed to the bench
// at Stop (Phase), from which the bench measures the garbage collector's
// share of the CPU the process really used. With a directory it also writes that CPU profile and an
// execution trace from start to stop, and at stop the block, mutex and
// goroutine profiles. Block and mutex profiling are off until the first
// phase starts, so the profiles of the first phase hold only that phase's
// waits (later phases add to them: read them with -base against the
// earlier phase's).
type Profiler struct {
	dir string

	mu    sync.Mutex
	name  string
	cpu   bytes.Buffer
	files []*os.File
	// began is the process's CPU time, and the runtime's estimates of its
	// collector's and idle marking's, when the phase started.
	began, beganGC, beganGCIdle float64
}

// NewProfiler is a Profiler that writes its files into dir; with dir
// empty it only keeps each phase's CPU profile, for Phase.
func NewProfiler(dir string) *Profiler { return &Profiler{dir: dir} }

// Phase is what stop answers about the phase it ended: its CPU profile
// (pprof's format), the process's CPU time over the phase, and the
// runtime's estimates of its collector's share and of the idle marking in
// that (seconds). The bench reads the collector's share from the profile
// (hack/bench, gcShare).
type Phase struct {
	CPUProfile    []byte  `json:"cpuProfile"`
	Process       float64 `json:"process"`
	RuntimeGC     float64 `json:"runtimeGC"`
	RuntimeGCIdle float64 `json:"runtimeGCIdle"`
}

// blockProfileRate samples one blocking event per this many nanoseconds
// spent blocked: fine enough to see every wait of a millisecond.
const blockProfileRate = int(100 * time.Microsecond)

// Start (POST /phase/start?name=NAME) starts profiling the phase NAME.
func (p *Profiler) Start(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.name != "" {
		http.Error(w, "phase "+p.name+" is still being profiled", http.StatusConflict)
		return
	}
	name := r.URL.Query().Get("name")
	p.cpu.Reset()
	if err := pprof.StartCPUProfile(&p.cpu); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p.name = name
	p.began, p.beganGC, p.beganGCIdle = CPUSeconds()
	if p.dir == "" {
		return
	}
	// A phase that cannot write its files is no phase: the CPU profile
	// stops with it.
	fail := func(err error) {
		pprof.StopCPUProfile()
		p.name = ""
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		fail(err)
		return
	}
	tr, err := os.Create(filepath.Join(p.dir, name+"-trace.out"))
	if err != nil {
		fail(err)
		return
	}
	runtime.SetBlockProfileRate(blockProfileRate)
	runtime.SetMutexProfileFraction(10)
	if err := trace.Start(tr); err != nil {
		_ = tr.Close()
		fail(err)
		return
	}
	p.files = []*os.File{tr}
}

// Stop (POST /phase/stop) ends the phase, writes its files and answers
// its Phase as JSON.
func (p *Profiler) Stop(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.name == "" {
		http.Error(w, "no phase is being profiled", http.StatusConflict)
		return
	}
	pprof.StopCPUProfile()
	ended, endedGC, endedGCIdle := CPUSeconds()
	phase := Phase{CPUProfile: bytes.Clone(p.cpu.Bytes()), Process: ended - p.began,
		RuntimeGC: endedGC - p.beganGC, RuntimeGCIdle: endedGCIdle - p.beganGCIdle}
	var errs []error
	if p.dir != "" {
		trace.Stop()
		for _, f := range p.files {
			errs = append(errs, f.Close())
		}
		errs = append(errs, os.WriteFile(filepath.Join(p.dir, p.name+"-cpu.pprof"), p.cpu.Bytes(), 0o644))
		for _, prof := range []string{"block", "mutex", "goroutine", "heap"} {
			errs = append(errs, writeProfile(filepath.Join(p.dir, p.name+"-"+prof+".pprof"), prof))
		}
	}
	p.name, p.files = "", nil
	if err := errors.Join(errs...); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(phase)
}

func writeProfile(path, name string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	prof := pprof.Lookup(name)
	if prof == nil {
		return fmt.Errorf("no %s profile", name)
	}
	return prof.WriteTo(f, 0)
}
