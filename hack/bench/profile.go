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
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// profiler records what the manager does during one phase of the bench
// (--profile): a CPU profile and an execution trace from start to stop,
// and at stop the block, mutex and goroutine profiles. Block and mutex
// profiling are off until the first phase starts, so the profiles of the
// first phase hold only that phase's waits (later phases add to them: read
// them with -base against the earlier phase's).
type profiler struct {
	dir string

	mu    sync.Mutex
	name  string
	files []*os.File
}

// blockProfileRate samples one blocking event per this many nanoseconds
// spent blocked: fine enough to see every wait of a millisecond.
const blockProfileRate = int(100 * time.Microsecond)

func (p *profiler) start(w http.ResponseWriter, r *http.Request) {
	if p.dir == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.name != "" {
		http.Error(w, "phase "+p.name+" is still being profiled", http.StatusConflict)
		return
	}
	name := r.URL.Query().Get("name")
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	cpu, err := os.Create(filepath.Join(p.dir, name+"-cpu.pprof"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	tr, err := os.Create(filepath.Join(p.dir, name+"-trace.out"))
	if err != nil {
		_ = cpu.Close()
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	runtime.SetBlockProfileRate(blockProfileRate)
	runtime.SetMutexProfileFraction(10)
	if err := errors.Join(pprof.StartCPUProfile(cpu), trace.Start(tr)); err != nil {
		_, _ = cpu.Close(), tr.Close()
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	p.name, p.files = name, []*os.File{cpu, tr}
}

func (p *profiler) stop(w http.ResponseWriter, _ *http.Request) {
	if p.dir == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.name == "" {
		http.Error(w, "no phase is being profiled", http.StatusConflict)
		return
	}
	trace.Stop()
	pprof.StopCPUProfile()
	var errs []error
	for _, f := range p.files {
		errs = append(errs, f.Close())
	}
	for _, prof := range []string{"block", "mutex", "goroutine", "heap"} {
		errs = append(errs, writeProfile(filepath.Join(p.dir, p.name+"-"+prof+".pprof"), prof))
	}
	p.name, p.files = "", nil
	if err := errors.Join(errs...); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
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

// controlPlaneCPU returns the CPU seconds (user + system) used so far by
// this process's children kube-apiserver and etcd (envtest starts them),
// by name, and by this process itself as "bench" (the workload's client,
// shopsim, the watch that sees SubAccounts Ready, the floor's client).
func controlPlaneCPU() map[string]float64 {
	out := map[string]float64{}
	self := strconv.Itoa(os.Getpid())
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): comm may hold
		// spaces, so the fields are counted after its closing parenthesis.
		open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		if open < 0 || end < open {
			continue
		}
		comm, fields := string(data[open+1:end]), strings.Fields(string(data[end+1:]))
		if len(fields) < 13 {
			continue
		}
		switch {
		case e.Name() == self:
			comm = "bench"
		case fields[1] != self || (comm != "kube-apiserver" && comm != "etcd"):
			continue
		}
		utime, _ := strconv.ParseFloat(fields[11], 64)
		stime, _ := strconv.ParseFloat(fields[12], 64)
		out[comm] += (utime + stime) / clockTicks
	}
	return out
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// apiServerProfileSeconds is how long the API server's CPU profile of a
// phase runs (from the phase's start).
const apiServerProfileSeconds = 15

// profileAPIServer fetches kube-apiserver's CPU profile of the first
// apiServerProfileSeconds of a phase into dir (with --profile; the channel
// says when it is written).
func profileAPIServer(ctx context.Context, cfg *rest.Config, dir, phase string) <-chan error {
	done := make(chan error, 1)
	if dir == "" {
		done <- nil
		return done
	}
	go func() {
		done <- func() error {
			rc, err := rest.RESTClientFor(restConfigForRaw(cfg))
			if err != nil {
				return err
			}
			data, err := rc.Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(apiServerProfileSeconds)).
				Timeout(2 * apiServerProfileSeconds * time.Second).DoRaw(ctx)
			if err != nil {
				return fmt.Errorf("kube-apiserver's CPU profile: %w", err)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, phase+"-apiserver-cpu.pprof"), data, 0o644)
		}()
	}()
	return done
}

// restConfigForRaw is cfg for a raw REST client (no group or codec needed
// beyond the defaults).
func restConfigForRaw(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &schema.GroupVersion{Version: "v1"}
	c.APIPath = "/api"
	c.NegotiatedSerializer = clientgoscheme.Codecs.WithoutConversion()
	c.QPS, c.Burst = workloadQPS, workloadQPS
	return c
}
