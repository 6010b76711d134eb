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
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	runtimemetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/subaccount-operator/subaccount-operator/internal/controller"
	"github.com/subaccount-operator/subaccount-operator/internal/metrics"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway"
)

// managerOptions are the knobs the manager process runs with: the same
// flags cmd/main.go has.
type managerOptions struct {
	Kubeconfig  string
	QPS         float64
	Burst       int
	Concurrency controller.Concurrency
	BatchDelay  time.Duration
	SyncPeriod  time.Duration
	// MemoryLimit is the manager process's GOMEMLIMIT (the Go runtime's
	// soft memory limit, as --memory-limit-ratio sets it from a
	// container's limit in a cluster); empty leaves it unset.
	MemoryLimit string
	// CPUs, when set, are the only CPUs the manager process runs on
	// (--split-cpus).
	CPUs []int
	// ProfileDir, when set, is where the manager writes the profiles and
	// execution trace of the phases the bench asks for (profile.go).
	ProfileDir string
}

func (m managerOptions) args() []string {
	return []string{"--manager-mode", "--kubeconfig", m.Kubeconfig,
		"--qps", strconv.FormatFloat(m.QPS, 'f', -1, 64), "--burst", strconv.Itoa(m.Burst),
		"--subaccount-concurrency", strconv.Itoa(m.Concurrency.SubAccount),
		"--role-concurrency", strconv.Itoa(m.Concurrency.Role), "--shop-concurrency", strconv.Itoa(m.Concurrency.Shop),
		"--staff-concurrency", strconv.Itoa(m.Concurrency.Staff),
		"--status-batch-delay", m.BatchDelay.String(), "--sync-period", m.SyncPeriod.String(),
		"--profile-dir", m.ProfileDir, "--cpus", cpuList(m.CPUs)}
}

// cpuList is cpus as the manager's --cpus takes them: "1" or "2,3".
func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// managerStats is what the manager process reports about itself.
type managerStats struct {
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
	// Sampled is the CPU of the last phase stopped, as its CPU profile
	// sampled it: the garbage collector's real share (gcShare).
	Sampled sampledCPU `json:"sampled"`
	// PeakAnon and PeakFile are the highest anonymous (heap, stacks) and
	// file-backed (the binary's code and data) resident memory seen,
	// sampled every 100ms: VmHWM is at most their sum.
	PeakAnon uint64 `json:"peakAnon"`
	PeakFile uint64 `json:"peakFile"`
	// AtPeakAnon is what the Go runtime held when the anonymous memory
	// was at its peak.
	AtPeakAnon anonParts `json:"atPeakAnon"`
	// QueueWait and ReconcileTime are controller-runtime's
	// workqueue_queue_duration_seconds and
	// controller_runtime_reconcile_time_seconds by controller: where a
	// request's time goes, waiting for a worker or being worked on.
	QueueWait     map[string]durations `json:"queueWait"`
	ReconcileTime map[string]durations `json:"reconcileTime"`
	// UrgentWait is the platform limiter's wait of urgent calls
	// (offboardings, disables), all shops together.
	UrgentWait durations `json:"urgentWait"`
}

// anonParts splits the Go runtime's resident memory (runtime.MemStats):
// the heap's spans in use, the heap's free pages not yet returned to the
// OS, goroutine stacks, and the runtime's own structures (span and cache
// metadata, the collector's bitmaps, profiling buckets, the rest).
type anonParts struct {
	HeapInuse   uint64 `json:"heapInuse"`
	HeapFree    uint64 `json:"heapFree"`
	Stacks      uint64 `json:"stacks"`
	RuntimeMeta uint64 `json:"runtimeMeta"`
}

func partsOf(ms *runtime.MemStats) anonParts {
	return anonParts{HeapInuse: ms.HeapInuse, HeapFree: ms.HeapIdle - ms.HeapReleased, Stacks: ms.StackSys,
		RuntimeMeta: ms.MSpanSys + ms.MCacheSys + ms.BuckHashSys + ms.GCSys + ms.OtherSys}
}

// durations is a sum of durations, how many, and the longest (where
// known), in seconds.
type durations struct {
	Sum   float64 `json:"sum"`
	Count uint64  `json:"count"`
	Max   float64 `json:"max,omitempty"`
}

// minus is d since an earlier reading (Max is not a difference: it stays).
func (d durations) minus(earlier durations) durations {
	return durations{Sum: d.Sum - earlier.Sum, Count: d.Count - earlier.Count, Max: d.Max}
}

// mean is the average duration, 0 without any.
func (d durations) mean() time.Duration {
	if d.Count == 0 {
		return 0
	}
	return time.Duration(d.Sum / float64(d.Count) * float64(time.Second))
}

// urgentWaits adds up the limiter's waits of urgent calls.
type urgentWaits struct {
	mu sync.Mutex
	d  durations
}

func (u *urgentWaits) observe(_ string, d time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.d.Sum += d.Seconds()
	u.d.Count++
	u.d.Max = max(u.d.Max, d.Seconds())
}

func (u *urgentWaits) snapshot() durations {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.d
}

// cpuSeconds returns the process's CPU time (user + system), the
// runtime's estimate of its garbage collection CPU time, and the part of
// that spent marking on processors that had nothing else to run (idle
// mark workers: CPU the process would not have used otherwise, taken on
// this machine from the other processes sharing its cores), in seconds.
func cpuSeconds() (total, gc, gcIdle float64) {
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

// runManager is the manager process: the three controllers wired as
// cmd/main.go wires them (gateway driver behind per-shop rate limits, the
// operator's cache options), with its API writes counted, serving its
// figures as JSON on a loopback port it prints on stdout.
func runManager(m managerOptions) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", m.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = float32(m.QPS), m.Burst
	if m.QPS <= 0 {
		cfg.QPS = -1 // client-go: 0 is its default (5), negative is none
	}
	writes := newWriteCounter()
	cfg.Wrap(writes.wrap)
	cacheOpts, err := controller.CacheOptions()
	if err != nil {
		return err
	}
	if m.SyncPeriod > 0 {
		cacheOpts.SyncPeriod = &m.SyncPeriod
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0", Cache: cacheOpts})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	factory := metrics.LimitedFactory(gateway.NewFactory(gateway.Options{UserAgent: "subaccount-operator-bench"}))
	urgent := &urgentWaits{}
	factory.OnUrgentWait = urgent.observe
	if err := controller.Setup(ctx, mgr, factory, controller.WithConcurrency(m.Concurrency),
		controller.WithStatusBatchDelay(m.BatchDelay)); err != nil {
		return err
	}

	var peakHeap, peakAnon, peakFile atomic.Uint64
	var atPeak atomic.Pointer[anonParts]
	atPeak.Store(&anonParts{})
	raise := func(peak *atomic.Uint64, v uint64) {
		if v > peak.Load() {
			peak.Store(v)
		}
	}
	status, err := openProcStatus()
	if err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats // kept: the sampler allocates nothing
		for {
			runtime.ReadMemStats(&ms)
			raise(&peakHeap, ms.HeapAlloc)
			now := status.sample()
			if now.Anon > peakAnon.Load() {
				peakAnon.Store(now.Anon)
				atPeak.Store(new(partsOf(&ms)))
			}
			raise(&peakFile, now.File)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// The figures at /, and Go's profiles at /debug/pprof/ (where the heap
	// goes: `go tool pprof http://ADDR/debug/pprof/heap`, ADDR from
	// `ss -ltnp` while the bench runs).
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	prof := &profiler{dir: m.ProfileDir}
	mux.HandleFunc("POST /phase/start", prof.start)
	mux.HandleFunc("POST /phase/stop", prof.stop)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rec, _ := reconcileTotals()
		queueWait, _ := histogramSums("workqueue_queue_duration_seconds", "name")
		reconcileTime, _ := histogramSums("controller_runtime_reconcile_time_seconds", "controller")
		cpu, gc, gcIdle := cpuSeconds()
		now := status.sample()
		_ = json.NewEncoder(w).Encode(managerStats{Writes: writes.snapshot(), WriteSeconds: writes.latency(), Reconciles: rec,
			PeakHeap: max(peakHeap.Load(), ms.HeapAlloc), Heap: ms.HeapAlloc,
			PeakRSS: now.HWM, RSS: now.RSS, CPU: cpu, GCCPU: gc, GCIdleCPU: gcIdle, Sampled: prof.lastPhase(),
			PeakAnon: max(peakAnon.Load(), now.Anon), PeakFile: max(peakFile.Load(), now.File),
			AtPeakAnon: *atPeak.Load(),
			QueueWait:  queueWait, ReconcileTime: reconcileTime, UrgentWait: urgent.snapshot()})
	})
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	fmt.Println(ln.Addr().String())
	return mgr.Start(ctx)
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
func histogramSums(name, by string) (map[string]durations, error) {
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		return nil, err
	}
	out := map[string]durations{}
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

// managerProc is a running manager process.
type managerProc struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

func startManager(m managerOptions) (*managerProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, m.args()...)
	cmd.Stderr = os.Stderr
	if m.MemoryLimit != "" {
		cmd.Env = append(os.Environ(), "GOMEMLIMIT="+m.MemoryLimit)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &managerProc{cmd: cmd, done: make(chan error, 1)}
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		_ = cmd.Process.Kill()
		return nil, errors.Join(errors.New("the manager process exited before serving its figures"), cmd.Wait())
	}
	p.addr = lines.Text()
	go func() {
		for lines.Scan() {
		}
		p.done <- cmd.Wait()
	}()
	return p, nil
}

func (p *managerProc) stats() (managerStats, error) {
	var s managerStats
	resp, err := http.Get("http://" + p.addr + "/")
	if err != nil {
		return s, fmt.Errorf("reading the manager's figures: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// startPhase asks the manager to profile from now on under name (no-op
// without --profile).
func (p *managerProc) startPhase(name string) error { return p.post("/phase/start?name=" + name) }

// stopPhase ends the profiled phase and has the manager write its files.
func (p *managerProc) stopPhase() error { return p.post("/phase/stop") }

func (p *managerProc) post(path string) error {
	resp, err := http.Post("http://"+p.addr+path, "", nil)
	if err != nil {
		return fmt.Errorf("asking the manager for %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("the manager answered %s to %s: %s", resp.Status, path, msg)
	}
	return nil
}

func (p *managerProc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return errors.New("the manager did not stop within 30s")
	}
}
