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
	"fmt"
	"slices"
	"strings"
	"time"
)

// eventWrites are the writes that are Events (issue 4: one per platform
// change, on the resource), reported apart from the target of three.
func eventWrites(w map[string]int) (events int, rest map[string]int) {
	rest = map[string]int{}
	for k, v := range w {
		if strings.HasSuffix(k, " events") {
			events += v
		} else {
			rest[k] = v
		}
	}
	return events, rest
}

// memRow renders a phase's peak heap and RSS, with the RSS's anonymous and
// file-backed peaks.
func memRow(heap, rss, anon, file uint64) string {
	return fmt.Sprintf("%s / %s (anonymous %s, file-backed %s)", mib(heap), mib(rss), mib(anon), mib(file))
}

func render(o options, latency time.Duration, r result) string {
	var b strings.Builder
	n := r.N
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, v) }
	d := func(t time.Duration) string { return t.Round(time.Millisecond).String() }
	fmt.Fprintf(&b, "\n### %d × %d, shopsim latency %s\n\n", o.Shops, o.PerShop, latency)
	fmt.Fprintf(&b, "| measure | value |\n|---|---|\n")
	row("SubAccounts (shops × per shop)", fmt.Sprintf("%d (%d × %d), 2 Roles each", n, o.Shops, o.PerShop))
	row("unrelated Secrets in the cluster", fmt.Sprint(r.Unrelated))
	memLimit := "none"
	if o.Manager.MemoryLimit != "" {
		memLimit = o.Manager.MemoryLimit
	}
	cpus := "every process on every CPU"
	if o.SplitCPUs {
		cpus = fmt.Sprintf("the manager alone on CPU %s; kube-apiserver, etcd and the bench on CPU %s (--split-cpus)", cpuList(o.Manager.CPUs), cpuList(o.OtherCPUs))
	}
	row("manager", fmt.Sprintf("own process; API client QPS %g, burst %d; concurrency SubAccount %d, Role %d, Shop %d; status batch delay %s; GOMEMLIMIT %s; %s",
		o.Manager.QPS, o.Manager.Burst, o.Manager.Concurrency.SubAccount, o.Manager.Concurrency.Role, o.Manager.Concurrency.Shop, o.Manager.BatchDelay, memLimit, cpus))
	cpu := func(p phase) string {
		out := fmt.Sprintf("%.1fs (%.2f ms per SubAccount), of which garbage collection %.1fs by the runtime's estimate (%.0f%%; marking on idle processors %.1fs)",
			p.CPU, 1000*p.CPU/float64(n), p.GCCPU, 100*p.GCCPU/max(p.CPU, 1e-9), p.GCIdleCPU)
		if s := p.Sampled; s.Total > 0 {
			out += fmt.Sprintf("; from the first create to the last Ready, sampled by its CPU profile, %.1fs of %.1fs (**%.1f%%**; marking on idle processors %.1fs), the samples covering %.0f%% of the process's %.1fs; at most %.1f%% (the runtime's estimate without idle marking, %.1fs, plus the sampled idle marking scaled to the process's time)",
				s.GC, s.Total, s.percent(), s.GCIdle, 100*s.Total/max(s.Process, 1e-9), s.Process, s.boundPercent(), s.RuntimeGC-s.RuntimeGCIdle)
		}
		return out
	}
	row("every Shop", fmt.Sprintf("rateLimit %d/s, burst %d; driftCheckInterval %s (wave, fairness), %s (steady state)", o.ShopRate, o.ShopBurst, o.WaveDrift, o.DriftInterval))
	row("setup: Shops + Roles Ready (not in the ratio)", d(r.SetupTime))
	row("setup: platform calls per Role (2 per Shop)", fmt.Sprintf("%.2f: %s", float64(sum(r.SetupCalls))/float64(2*o.Shops), perItem(r.SetupCalls, 2*o.Shops)))

	w := r.Wave
	row("**wave**: first create → all Ready", fmt.Sprintf("%s (the workload's last create returned after %s)", d(w.Duration), d(r.CreatesDone)))
	row("SubAccounts Ready per second", fmt.Sprintf("%.1f", float64(n)/w.Duration.Seconds()))
	rec := w.Reconciles["subaccount"]
	row("reconciles: subaccount (per second, per SubAccount); role; shop", fmt.Sprintf("%.0f (%.1f/s, %.2f); %.0f; %.0f",
		rec, rec/w.Duration.Seconds(), rec/float64(n), w.Reconciles["role"], w.Reconciles["shop"]))
	row("platform calls per SubAccount", fmt.Sprintf("%.2f: %s", float64(sum(w.PlatformCalls))/float64(n), perItem(w.PlatformCalls, n)))
	events, rest := eventWrites(w.Writes)
	row("API writes per SubAccount, without Events", fmt.Sprintf("%.2f: %s", float64(sum(rest))/float64(n), perItem(rest, n)))
	row("Events per SubAccount (one per platform change, issue 4)", fmt.Sprintf("%.2f", float64(events)/float64(n)))
	row("mean API write latency the manager saw, wave", fmt.Sprintf("%.1f ms", 1000*w.WriteSeconds/max(float64(sum(w.Writes)), 1)))
	mean, peak := 0.0, 0.0
	for _, x := range r.WaveShopRates {
		mean += x / float64(len(r.WaveShopRates))
		peak = max(peak, x)
	}
	row("platform calls per second per shop during the wave (mean, busiest)", fmt.Sprintf("%.1f, %.1f (limit %d)", mean, peak, o.ShopRate))
	row("manager peak Go heap / peak RSS (VmHWM), wave", memRow(r.WaveHeap, r.WaveRSS, r.WaveAnon, r.WaveFile))
	row("the bench's scrapes of the manager's metrics endpoint, wave (HTTPS, a token the metrics-reader ClusterRole allows)", r.WaveScrapes.String())
	if p := r.WaveAnonParts; p.HeapInuse > 0 {
		row("the Go runtime's memory at the wave's anonymous peak: heap spans in use; heap free, not yet returned; stacks; runtime structures",
			fmt.Sprintf("%s; %s; %s; %s", mib(p.HeapInuse), mib(p.HeapFree), mib(p.Stacks), mib(p.RuntimeMeta)))
	}
	row("manager CPU, wave", cpu(w))
	if a := r.WaveAPI; a.Writes.Count > 0 {
		row("API server, wave: writes served (every client's), mean latency server side; etcd requests, mean latency",
			fmt.Sprintf("%.0f, %.1f ms; %.0f, %.1f ms", a.Writes.Count, 1000*a.Writes.Sum/a.Writes.Count, a.Etcd.Count, 1000*a.Etcd.Sum/max(a.Etcd.Count, 1)))
		row("API Priority and Fairness, wave (the manager is the service-accounts FlowSchema's, workload-low, or with --apf its own level, subaccount-operator-controller-manager)", a.levels())
	}
	if c := r.WaveControlPlaneCPU; len(c) > 0 {
		row("control plane CPU, wave (kube-apiserver, etcd); the bench's own (workload, shopsim, its watch); all with the manager, per second of wave",
			fmt.Sprintf("%.1fs, %.1fs; %.1fs; %.2f", c["kube-apiserver"], c["etcd"], c["bench"],
				(c["kube-apiserver"]+c["etcd"]+c["bench"]+w.CPU)/w.Duration.Seconds()))
	}

	if s := r.Steady; s != nil {
		intervals := float64(o.SteadyIntervals)
		row("**steady state**: manager restarted, then watched", fmt.Sprintf("%s (%d drift-check intervals; informer resync every %s)", d(s.Duration), o.SteadyIntervals, o.DriftInterval))
		row("reconciles (restart included)", counts(s.Reconciles))
		row("API writes", fmt.Sprintf("%d: %s", sum(s.Writes), counts(s.Writes)))
		row("platform calls", fmt.Sprintf("%d: %s", sum(s.PlatformCalls), counts(s.PlatformCalls)))
		row("account listings per shop per interval", fmt.Sprintf("%.2f (%d pages of up to 200 per listing)",
			float64(s.PlatformCalls["ListAccounts"])/float64(o.Shops)/intervals, (o.PerShop+199)/200))
		row("SubAccounts not Ready afterwards", fmt.Sprint(r.SteadyNotReady))
		row("manager peak Go heap / peak RSS (VmHWM), restart + steady state", memRow(r.SteadyHeap, r.SteadyRSS, r.SteadyAnon, r.SteadyFile))
		row("the bench's scrapes of the manager's metrics endpoint, steady state", r.SteadyScrapes.String())
		row("manager CPU, restart + steady state", cpu(*s))
	} else {
		row("steady state", "not measured (--steady-intervals 0)")
	}

	if f := r.Fair; f != nil {
		row("**fairness**: shop 0's creates pending when probed", fmt.Sprintf("%d of %d", f.Pending, o.Backlog))
		row("a create in shop 1: applied → Ready (the same without a backlog; the delay shop 0's backlog adds)",
			fmt.Sprintf("%s (%s; %s)", d(f.OtherCreate), d(f.BaseCreate), d(f.OtherCreate-f.BaseCreate)))
		row("an offboarding in shop 2: deleted → gone (the same without a backlog; the delay shop 0's backlog adds)",
			fmt.Sprintf("%s (%s; %s)", d(f.OtherOffboard), d(f.BaseOffboard), d(f.OtherOffboard-f.BaseOffboard)))
		row("an offboarding in shop 0, behind its backlog", d(f.SameOffboard))
		row("a disable in shop 0, behind its backlog", d(f.SameDisable))
		row("shop 0's backlog: all Ready after", fmt.Sprintf("%s (%d platform calls)", d(f.BacklogTime), f.BacklogCalls))
		row("shop 0's achieved call rate under backlog", fmt.Sprintf("%.2f/s of %d/s configured (%.0f%%)", f.Achieved, o.ShopRate, 100*f.Achieved/float64(o.ShopRate)))
		row("manager peak Go heap / peak RSS (VmHWM), through fairness", memRow(f.ProbeHeap, f.ProbeRSS, f.ProbeAnon, f.ProbeFile))
	} else {
		row("fairness", "not measured (--backlog 0)")
	}
	verdict := "never exceeded"
	if r.LowestTokens < -1 {
		verdict = "EXCEEDED"
	}
	row("per-shop rate limits, every call of the run replayed through its shop's token bucket at shopsim",
		fmt.Sprintf("%s: lowest balance %.2f tokens (shop %d; below 0 = calls over the limit, -1 allowed for network jitter)", verdict, r.LowestTokens, r.LowestTokenShop))

	row("**platform floor**: the busiest shop's creates at its rate limit", fmt.Sprintf("%s (%d creates at %d/s after a burst of %d, plus one call's latency)",
		d(r.PlatformFloor), o.PerShop, o.ShopRate, o.ShopBurst))
	floorRow := func(f *floorResult) string {
		return fmt.Sprintf("%s (%d writes, %.2f per SubAccount: %s; mean latency %.1f ms; CPU of kube-apiserver, etcd, the bench's client: %.1fs, %.1fs, %.1fs)",
			d(f.Time), f.Writes, float64(f.Writes)/float64(n), perItem(f.ByKind, n), 1000*f.Latency/max(float64(f.Writes), 1),
			f.CPU["kube-apiserver"], f.CPU["etcd"], f.CPU["bench"])
	}
	if f := r.Floor; f != nil {
		row(fmt.Sprintf("**physical floor**: %d SubAccounts, each with its Secret, its finalizer or (with the finalizer policy) its login published, the status the operator wrote and its Event, plain client, concurrency %d, no client rate limit", n, o.Manager.Concurrency.SubAccount),
			floorRow(f))
		ratio, which := r.ratio()
		row("**wave time / the larger floor**", fmt.Sprintf("**%.2f** (%s)", ratio, which))
	} else {
		row("physical floor", "not measured (--floor=false)")
		row("wave time / platform floor", fmt.Sprintf("%.2f", w.Duration.Seconds()/r.PlatformFloor.Seconds()))
	}
	if f := r.ThrottledFloor; f != nil {
		row(fmt.Sprintf("client-throttled floor: the same writes at the manager's client rate limit (QPS %g, burst %d)", o.Manager.QPS, o.Manager.Burst), floorRow(f))
		row("wave time / client-throttled floor (says only what the operator adds to its own client limit)", fmt.Sprintf("%.2f", w.Duration.Seconds()/f.Time.Seconds()))
	}
	fmt.Fprintf(&b, "\nCommand: `%s`\n", o.Command)
	return b.String()
}

// ratio is the wave's time over the larger of the two floors, and which
// one that is; over the platform floor alone when the physical floor was
// not measured.
func (r result) ratio() (float64, string) {
	larger, which := r.PlatformFloor, "platform"
	if r.Floor != nil && r.Floor.Time > larger {
		larger, which = r.Floor.Time, "physical"
	}
	return r.Wave.Duration.Seconds() / larger.Seconds(), which
}

// latencyRun is one run of the bench: a latency and what it measured.
type latencyRun struct {
	latency time.Duration
	res     result
}

// renderTurns is the runs of --repeat in the order they ran, each with
// its wave, floors, ratio and the CPU the processes used, then the median
// of each latency: a single run's wave and floor both move with the
// machine's speed, runs in turns on fresh control planes show how much.
func renderTurns(o options, runs []latencyRun) string {
	var b strings.Builder
	d := func(t time.Duration) string { return t.Round(10 * time.Millisecond).String() }
	fmt.Fprintf(&b, "\n### %d × %d, %d runs in turns\n\n", o.Shops, o.PerShop, len(runs))
	fmt.Fprintf(&b, "| run | latency | wave | physical floor; platform floor | **ratio** | manager CPU, wave (garbage collection) | kube-apiserver, etcd, bench CPU: wave; physical floor |\n|---|---|---|---|---|---|---|\n")
	byLatency := map[time.Duration][]result{}
	var order []time.Duration
	for i, run := range runs {
		r := run.res
		if _, seen := byLatency[run.latency]; !seen {
			order = append(order, run.latency)
		}
		byLatency[run.latency] = append(byLatency[run.latency], r)
		ratio, _ := r.ratio()
		physical, floorCPU := "not measured", "not measured"
		if f := r.Floor; f != nil {
			physical = d(f.Time)
			floorCPU = fmt.Sprintf("%.1fs, %.1fs, %.1fs", f.CPU["kube-apiserver"], f.CPU["etcd"], f.CPU["bench"])
		}
		c := r.WaveControlPlaneCPU
		fmt.Fprintf(&b, "| %d | %s | %s | %s; %s | %.2f | %.1fs (%.0f%%; sampled %.1f%%, at most %.1f%%) | %.1fs, %.1fs, %.1fs; %s |\n", i+1, run.latency, d(r.Wave.Duration),
			physical, d(r.PlatformFloor), ratio, r.Wave.CPU, 100*r.Wave.GCCPU/max(r.Wave.CPU, 1e-9), r.Wave.Sampled.percent(), r.Wave.Sampled.boundPercent(),
			c["kube-apiserver"], c["etcd"], c["bench"], floorCPU)
	}
	for _, latency := range order {
		rs := byLatency[latency]
		var waves, floors, ratios []float64
		for _, r := range rs {
			waves = append(waves, r.Wave.Duration.Seconds())
			if r.Floor != nil {
				floors = append(floors, r.Floor.Time.Seconds())
			}
			ratio, _ := r.ratio()
			ratios = append(ratios, ratio)
		}
		floor := "not measured"
		if len(floors) > 0 {
			floor = d(seconds(median(floors)))
		}
		fmt.Fprintf(&b, "| **median of %d** | %s | %s | %s | **%.2f** (%.2f to %.2f) | | |\n", len(rs), latency,
			d(seconds(median(waves))), floor, median(ratios), slices.Min(ratios), slices.Max(ratios))
	}
	fmt.Fprintf(&b, "\nCommand: `%s`\n", o.Command)
	return b.String()
}

// median of xs (not empty), the mean of the middle two for an even count.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
