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
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// sampledCPU is a phase's CPU as its CPU profile sampled it (seconds):
// all of it, the garbage collector's, and of that the marking done by
// idle mark workers. Over the same phase: the process's CPU time
// (getrusage), which the samples nearly add up to, and the runtime's
// estimates of its collector's CPU and of the idle marking in it.
type sampledCPU struct {
	Total         float64 `json:"total"`
	GC            float64 `json:"gc"`
	GCIdle        float64 `json:"gcIdle"`
	Process       float64 `json:"process"`
	RuntimeGC     float64 `json:"runtimeGC"`
	RuntimeGCIdle float64 `json:"runtimeGCIdle"`
}

// gcFrames are the functions under which the garbage collector works:
// the background mark workers, mark assists, the start and end of a cycle
// (their stop-the-world pauses), the marking a goroutine does when its
// write-barrier buffer fills, and sweeping, in the background or by an
// allocation that sweeps a span before using it. gcIdleFrame marks a
// worker's idle-time marking. (The scavenger, which returns memory to the
// OS, is not the collector: Go counts it apart too.)
var gcFrames = map[string]bool{
	"runtime.gcBgMarkWorker":       true,
	"runtime.gcAssistAlloc":        true,
	"runtime.gcStart":              true,
	"runtime.gcMarkDone":           true,
	"runtime.gcMarkTermination":    true,
	"runtime.bgsweep":              true,
	"runtime.sweepone":             true,
	"runtime.(*sweepLocked).sweep": true,
}

const gcIdleFrame = "runtime.gcDrainMarkWorkerIdle"

// percent is the collector's share of the sampled CPU.
func (s sampledCPU) percent() float64 { return 100 * s.GC / max(s.Total, 1e-9) }

// boundPercent is a bound from above on the collector's share of the
// process's CPU: the runtime's estimate of everything but idle marking
// (itself an overestimate: a dedicated worker's time on a processor
// counts whole, whether or not the kernel ran its thread), plus the idle
// marking the samples saw, scaled up by how much of the process's CPU
// time the samples cover.
func (s sampledCPU) boundPercent() float64 {
	if s.Process <= 0 || s.Total <= 0 {
		return 0
	}
	idle := s.GCIdle * max(s.Process/s.Total, 1)
	return 100 * (s.RuntimeGC - s.RuntimeGCIdle + idle) / s.Process
}

// gcShare sums a CPU profile's samples, and those with a garbage
// collector's frame on their stack (inlined frames included).
//
// Why a profile: the Go runtime's /cpu/classes/gc/total counts an idle
// mark worker's whole time on a processor as CPU, though the kernel may
// have run other processes' threads meanwhile; its documentation calls the
// figure an overestimate "not directly comparable to system CPU time
// measurements". A CPU profile samples CPU time the threads really used
// (Linux: a per-thread CPU-time timer), so the collector's share of it is
// comparable to the process's CPU time.
func gcShare(p *profile.Profile) sampledCPU {
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			idx = i
		}
	}
	var out sampledCPU
	if idx < 0 {
		return out
	}
	for _, s := range p.Sample {
		v := float64(s.Value[idx]) / 1e9
		out.Total += v
		gc, idle := false, false
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if line.Function == nil {
					continue
				}
				gc = gc || gcFrames[line.Function.Name]
				idle = idle || line.Function.Name == gcIdleFrame
			}
		}
		if gc {
			out.GC += v
			if idle {
				out.GCIdle += v
			}
		}
	}
	return out
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
