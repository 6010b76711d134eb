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

// Command bench measures the operator on a local control plane ('make
// bench', issue 7). For each platform latency asked for it starts envtest
// (etcd and kube-apiserver), shopsim in-process on loopback, and the
// manager in a process of its own (bench-manager, built beside this binary
// from hack/bench/manager: the manager as cmd/main.go runs it, with the
// bench's instruments), then:
//
//  1. onboarding wave: --shops Shops with two Roles each, then --per-shop
//     SubAccounts per Shop, each with both Roles; time until every one is
//     Ready, reconciles, platform calls by kind and API writes per
//     SubAccount, the manager's peak heap and RSS, with --unrelated-secrets
//     unlabelled Secrets in the cluster;
//  2. steady state: the manager restarted (every object reconciled again,
//     informer resync every drift-check interval) and left alone for
//     --steady-intervals drift-check intervals: writes, calls, memory;
//  3. fairness: --backlog creates in shop 0, then one create in shop 1, one
//     offboarding in shop 2, and an offboarding and a disable in shop 0
//     behind its backlog: how long each took, and shop 0's achieved call
//     rate against its limit; every shop's calls replayed through its token
//     bucket to show the limit was never exceeded;
//  4. the floors: the physical floor (for as many SubAccounts, the
//     SubAccount, its Secret, finalizer, status and Event written by a
//     plain client at the SubAccount controller's concurrency, with no
//     client rate limit and no operator), the platform floor (the busiest
//     shop's creates at its rate limit), and with --qps the same writes at
//     the manager's client rate limit.
//
// It prints one markdown table per latency (and, with --out, writes them to
// a file).
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/hack/bench/internal/probe"
	"github.com/subaccount-operator/subaccount-operator/internal/controller"
	"github.com/subaccount-operator/subaccount-operator/internal/controlplane"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

var scheme = kruntime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(shopv1alpha1.AddToScheme(scheme))
}

const (
	benchNamespace = "bench"
	floorNamespace = "bench-floor"
	// throttledFloorNamespace holds the floor written at the manager's
	// client rate limit.
	throttledFloorNamespace = "bench-floor-throttled"
	unrelatedNamespace      = "bench-unrelated"
	pollInterval            = 200 * time.Millisecond
	probePoll               = 20 * time.Millisecond
	// The workload's own client (creating Shops, SubAccounts, unrelated
	// Secrets) must not be what the operator waits for.
	workloadQPS = 1000
)

type options struct {
	Shops, PerShop   int
	Latencies        []time.Duration
	Timeout          time.Duration
	Manager          managerOptions
	ShopRate         int
	ShopBurst        int
	DriftInterval    time.Duration
	WaveDrift        time.Duration
	SteadyIntervals  int
	UnrelatedSecrets int
	Backlog          int
	Floor            bool
	// floorStatus is the status the operator wrote for a SubAccount of
	// the wave, which the floor writes for its own (floorStatus).
	floorStatus *shopv1alpha1.SubAccountStatus
	// SplitCPUs gives the manager CPUs of its own (Manager.CPUs), and the
	// rest (OtherCPUs) to the control plane and the bench.
	SplitCPUs bool
	OtherCPUs []int
	// Repeat runs every latency this many times, in turns.
	Repeat          int
	ThrottledFloor  bool
	Offboarding     bool
	APF             bool
	FinalizerPolicy bool
	// ScrapeEvery is how often the bench scrapes the manager's metrics
	// endpoint during the wave and the steady state (scrape.go); 0: never.
	ScrapeEvery time.Duration
	AssetsDir   string
	CRDDir      string
	Out         string
	Command     string
}

func main() {
	root := moduleRoot()
	o := options{CRDDir: filepath.Join(root, "config", "crd", "bases")}
	var workload, latencies string
	flag.StringVar(&workload, "workload", "", "A workload of issue 7: 1k (20 shops × 50) or 10k (100 × 100); overrides --shops and --per-shop.")
	flag.IntVar(&o.Shops, "shops", 20, "Number of Shops.")
	flag.IntVar(&o.PerShop, "per-shop", 50, "SubAccounts per Shop.")
	flag.StringVar(&latencies, "latency", "0", "Comma-separated latencies shopsim adds to every platform call; one run each (e.g. 0,20ms).")
	flag.DurationVar(&o.Timeout, "timeout", 60*time.Minute, "How long the SubAccounts may take to become Ready.")
	flag.Float64Var(&o.Manager.QPS, "qps", 500, "API client QPS of the manager and of the client-throttled floor (the manager's --kube-api-qps default); 0 or less: no client rate limit.")
	flag.IntVar(&o.Manager.Burst, "burst", 1000, "API client burst of the manager and of the client-throttled floor (the manager's --kube-api-burst default).")
	flag.BoolVar(&o.ThrottledFloor, "throttled-floor", true, "Also measure the client-throttled floor (with --qps > 0).")
	flag.IntVar(&o.Manager.Concurrency.SubAccount, "subaccount-concurrency", controller.DefaultConcurrency.SubAccount, "The manager's --subaccount-concurrency, and the floor's concurrency.")
	flag.IntVar(&o.Manager.Concurrency.Role, "role-concurrency", controller.DefaultConcurrency.Role, "The manager's --role-concurrency.")
	flag.IntVar(&o.Manager.Concurrency.Shop, "shop-concurrency", controller.DefaultConcurrency.Shop, "The manager's --shop-concurrency.")
	flag.IntVar(&o.Manager.Concurrency.Staff, "staff-concurrency", controller.DefaultConcurrency.Staff, "The manager's --staff-concurrency.")
	flag.DurationVar(&o.Manager.BatchDelay, "status-batch-delay", controller.DefaultStatusBatchDelay, "The manager's --status-batch-delay.")
	flag.IntVar(&o.ShopRate, "shop-rate", 10, "Every Shop's spec.rateLimit.requestsPerSecond.")
	flag.IntVar(&o.ShopBurst, "shop-burst", 10, "Every Shop's spec.rateLimit.burst.")
	flag.DurationVar(&o.DriftInterval, "drift-interval", 30*time.Second, "Every Shop's spec.driftCheckInterval in the steady state (at least 30s): an hour compressed into a few intervals.")
	flag.DurationVar(&o.WaveDrift, "wave-drift-interval", 10*time.Minute, "Every Shop's spec.driftCheckInterval during setup, the wave and fairness (the API's default, 10m; at least 30s).")
	flag.IntVar(&o.SteadyIntervals, "steady-intervals", 4, "Drift-check intervals of the steady state (0 skips it).")
	flag.IntVar(&o.UnrelatedSecrets, "unrelated-secrets", -1, "Unlabelled Secrets created in another namespace before the wave (-1: as many as SubAccounts).")
	flag.IntVar(&o.Backlog, "backlog", 1000, "Pending creates in shop 0 for the fairness measure (0 skips it).")
	flag.BoolVar(&o.Floor, "floor", true, "Measure the floor.")
	flag.BoolVar(&o.SplitCPUs, "split-cpus", false, "Run the manager on a CPU of its own, as in a cluster, where it runs on a node and the API server on the control plane: the last of this machine's CPUs for the manager, the others for kube-apiserver, etcd and the bench itself (its workload, shopsim, the floor's client). Without it every process shares every CPU, and the manager's own CPU slows the API server's. Linux, at least 2 CPUs.")
	flag.IntVar(&o.Repeat, "repeat", 1, "Run every latency this many times, in turns (with --latency 0,20ms: 0, 20ms, 0, 20ms, ...), each on a fresh control plane; then print a table of the runs in order and the median of each latency. One run's wave and floor each move with the machine's speed.")
	flag.BoolVar(&o.FinalizerPolicy, "finalizer-policy", true, "Install config/finalizer-policy's MutatingAdmissionPolicy, as the chart does by default where the API server serves it (finalizerPolicy.enabled: auto; this control plane does): new SubAccounts get the operator's finalizer at creation, one API write fewer each. --finalizer-policy=false measures a cluster without it.")
	flag.BoolVar(&o.APF, "apf", false, "Install config/flowcontrol's PriorityLevelConfiguration and FlowSchema for the manager's service account (the chart's apiPriority.enabled); with --qps 0 the manager runs as the chart then runs it, without a client-side limit.")
	flag.BoolVar(&o.Offboarding, "offboarding", false, "Measure only offboarding (issue 18; at least 20 --shops): one Staff across 4 shops, then 100 Staff across 4 shops each offboarded while 1,000 creates are queued; time from active: false to every platform account disabled.")
	flag.StringVar(&o.Manager.MemoryLimit, "manager-memory-limit", "", "GOMEMLIMIT of the manager process (e.g. 110MiB): the soft memory limit --memory-limit-ratio derives from a container's limit in a cluster. Empty: none.")
	flag.DurationVar(&o.ScrapeEvery, "scrape-interval", 30*time.Second, "Scrape the manager's metrics endpoint this often during the wave and the steady state, as Prometheus does (over HTTPS, with a token the chart's metrics-reader ClusterRole allows; the Prometheus Operator's default interval is 30s); 0: never.")
	flag.StringVar(&o.AssetsDir, "assets-dir", os.Getenv("KUBEBUILDER_ASSETS"), "Directory holding etcd and kube-apiserver (default $KUBEBUILDER_ASSETS).")
	flag.StringVar(&o.Out, "out", "", "Also write the markdown tables to this file.")
	flag.StringVar(&o.Manager.ProfileDir, "profile", "", "Write the manager's CPU, block, mutex and goroutine profiles and its execution trace during the wave (and the fairness phase) to this directory, one subdirectory per latency (go tool pprof, go tool trace).")
	flag.Parse()
	o.Command = fmt.Sprintf("make bench BENCH_ARGS=%q", strings.Join(os.Args[1:], " "))
	switch workload {
	case "":
	case "1k":
		o.Shops, o.PerShop = 20, 50
	case "10k":
		o.Shops, o.PerShop = 100, 100
	default:
		fail(fmt.Errorf("--workload %q: want 1k or 10k", workload))
	}
	for _, l := range strings.Split(latencies, ",") {
		if l == "0" {
			o.Latencies = append(o.Latencies, 0)
			continue
		}
		d, err := time.ParseDuration(strings.TrimSpace(l))
		if err != nil {
			fail(fmt.Errorf("--latency: %w", err))
		}
		o.Latencies = append(o.Latencies, d)
	}
	if o.UnrelatedSecrets < 0 {
		o.UnrelatedSecrets = o.Shops * o.PerShop
	}
	if o.Offboarding && o.Shops < 20 {
		fail(errors.New("--offboarding needs at least 20 --shops"))
	}
	if o.Shops < 3 || o.PerShop < 2 || o.AssetsDir == "" || min(o.DriftInterval, o.WaveDrift) < 30*time.Second {
		fail(errors.New("--shops must be at least 3, --per-shop at least 2, --drift-interval and --wave-drift-interval at least 30s, and KUBEBUILDER_ASSETS (or --assets-dir) set"))
	}
	if o.SplitCPUs {
		cpus, err := probe.AllowedCPUs()
		if err == nil && len(cpus) < 2 {
			err = fmt.Errorf("%d CPU: nothing to split", len(cpus))
		}
		if err != nil {
			fail(fmt.Errorf("--split-cpus: %w", err))
		}
		rest := cpus[:len(cpus)-1]
		o.Manager.CPUs, o.OtherCPUs = cpus[len(cpus)-1:], rest
		// The control plane and the manager, started from here, begin on
		// the rest too; the manager then moves itself (its --cpus).
		if err := probe.PinProcess("self", rest); err != nil {
			fail(fmt.Errorf("--split-cpus: %w", err))
		}
		runtime.GOMAXPROCS(len(rest))
	}
	ctrl.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	var tables []string
	var runs []latencyRun
	for range max(o.Repeat, 1) {
		for _, latency := range o.Latencies {
			res, err := run(context.Background(), o, latency)
			if err != nil {
				fail(err)
			}
			table := render(o, latency, res)
			if o.Offboarding {
				table = renderOffboarding(o, latency, res.Offboarding)
			}
			fmt.Print(table)
			tables = append(tables, table)
			runs = append(runs, latencyRun{latency, res})
		}
	}
	if o.Repeat > 1 && !o.Offboarding {
		table := renderTurns(o, runs)
		fmt.Print(table)
		tables = append(tables, table)
	}
	if o.Out != "" {
		if err := os.WriteFile(o.Out, []byte(strings.Join(tables, "\n")), 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bench: %v\n", err)
	os.Exit(1)
}

func shopName(i int) string    { return fmt.Sprintf("shop-%03d", i) }
func mainAccount(i int) string { return fmt.Sprintf("bench%03d", i) }
func subName(i, j int) string  { return fmt.Sprintf("s%03d-%04d", i, j) }
func credentials(i int) platform.Credentials {
	return platform.Credentials{AppKey: fmt.Sprintf("%08d", 10000000+i), AppSecret: fmt.Sprintf("bench-secret-%d", i), AccessToken: fmt.Sprintf("bench-token-%d", i)}
}

func subAccount(namespace string, i, j int) *shopv1alpha1.SubAccount {
	return &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: subName(i, j)},
		Spec: shopv1alpha1.SubAccountSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: shopName(i)},
			AccountName: fmt.Sprintf("staff%04d", j),
			Roles:       []shopv1alpha1.LocalObjectReference{{Name: shopName(i) + "-cs"}, {Name: shopName(i) + "-ops"}}}}
}

// phase is what the manager did between two readings of its figures.
type phase struct {
	Duration      time.Duration
	Reconciles    map[string]float64
	PlatformCalls map[string]int
	Writes        map[string]int
	WriteSeconds  float64 // the writes' latency, summed
	CPU, GCCPU    float64 // the manager's CPU seconds, and those of its garbage collector
	GCIdleCPU     float64 // of GCCPU, the idle mark workers'
	// Sampled is the phase's CPU as the manager's CPU profile sampled it
	// (the wave only).
	Sampled sampledCPU
}

type result struct {
	N, Unrelated  int
	SetupTime     time.Duration
	SetupCalls    map[string]int // platform calls while the Shops and Roles became Ready
	Wave          phase
	WaveRSS       uint64
	WaveHeap      uint64
	WaveAnon      uint64
	WaveAnonParts probe.AnonParts
	WaveFile      uint64
	WaveShopRates []float64 // per shop, calls per second during the wave
	// WaveScrapes and SteadyScrapes are the bench's scrapes of the
	// manager's metrics endpoint in the wave and the steady state.
	WaveScrapes, SteadyScrapes scrapes
	// WaveControlPlaneCPU is the CPU seconds kube-apiserver, etcd and the
	// bench itself used during the wave, by process name.
	WaveControlPlaneCPU map[string]float64
	Steady              *phase
	SteadyRSS           uint64
	SteadyHeap          uint64
	SteadyAnon          uint64
	SteadyFile          uint64
	SteadyNotReady      int
	Fair                *fairness
	LowestTokens        float64
	LowestTokenShop     int
	// Floor is the physical floor (no client rate limit), ThrottledFloor
	// the same writes at the manager's client rate limit (nil without
	// one), PlatformFloor the busiest shop's creates at its rate limit.
	Floor, ThrottledFloor *floorResult
	PlatformFloor         time.Duration
	// WaveAPI is what the API server served during the wave.
	WaveAPI apiView
	// Offboarding is the --offboarding measure.
	Offboarding *offboardingResult
	// CreatesDone is when the workload's last SubAccount create of the
	// wave returned, from the first: the wave cannot end before.
	CreatesDone time.Duration
}

type fairness struct {
	Pending                    int // shop 0's creates not yet Ready when the probes started
	OtherCreate, OtherOffboard time.Duration
	// BaseCreate and BaseOffboard are the same probes with no backlog.
	BaseCreate, BaseOffboard  time.Duration
	SameOffboard, SameDisable time.Duration
	BacklogTime               time.Duration
	BacklogCalls              int
	Achieved                  float64
	ProbeRSS, ProbeHeap       uint64
	ProbeAnon, ProbeFile      uint64
}

func run(ctx context.Context, o options, latency time.Duration) (res result, err error) {
	started := time.Now()
	res.N, res.Unrelated = o.Shops*o.PerShop, o.UnrelatedSecrets
	logf("latency %s: starting the control plane...", latency)
	cp, err := controlplane.Start(controlplane.Options{AssetsDir: o.AssetsDir, CRDDir: o.CRDDir, Scheme: scheme})
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, cp.Stop()) }()
	cfg := cp.Config
	dir, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return res, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	// The manager is its service account, as in a cluster: the API
	// server's priority and fairness queues its requests apart from the
	// workload's (which is system:masters, exempt), and RBAC gives it the
	// chart's ClusterRole only.
	manager, err := cp.AddUser(managerUser, managerGroups)
	if err != nil {
		return res, err
	}
	m := o.Manager
	m.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if m.ProfileDir != "" {
		m.ProfileDir = filepath.Join(m.ProfileDir, latency.String())
	}
	if err := controlplane.WriteKubeconfig(manager, m.Kubeconfig); err != nil {
		return res, err
	}

	// shopsim, in-process on loopback; its calls recorded per shop.
	engine := memory.NewEngine()
	calls := newCallRecorder()
	for i := 0; i < o.Shops; i++ {
		if err := engine.AddShop(memory.ShopSetup{Platform: platform.Taobao, MainAccount: mainAccount(i),
			MainPhone: fmt.Sprintf("139%08d", i), Credentials: credentials(i), SeatQuota: int32(o.PerShop + o.Backlog + 10)}); err != nil {
			return res, err
		}
		calls.register(credentials(i).AppKey, i)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	srv := &http.Server{Handler: calls.wrap(shopsim.New(engine, shopsim.Options{Faults: shopsim.Faults{Latency: latency},
		Logger: slog.New(slog.DiscardHandler)}).Handler()), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	shopsimURL := "http://" + ln.Addr().String()

	wcfg := rest.CopyConfig(cfg)
	wcfg.QPS, wcfg.Burst = workloadQPS, workloadQPS
	k8s, err := client.New(wcfg, client.Options{Scheme: scheme})
	if err != nil {
		return res, err
	}
	for _, ns := range []string{benchNamespace, floorNamespace, throttledFloorNamespace, unrelatedNamespace} {
		if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return res, err
		}
	}
	if err := grantManagerRole(ctx, k8s, moduleRoot()); err != nil {
		return res, err
	}
	var scr *scraper
	if o.ScrapeEvery > 0 {
		if m.MetricsAddr, err = loopbackAddr(); err != nil {
			return res, err
		}
		if scr, err = newScraper(ctx, k8s, moduleRoot(), m.MetricsAddr); err != nil {
			return res, err
		}
	}
	if o.APF {
		level, err := installFlowControl(ctx, k8s, moduleRoot())
		if err != nil {
			return res, err
		}
		logf("the manager's requests go to priority level %s", level)
	}
	if o.FinalizerPolicy {
		if err := installFinalizerPolicy(ctx, k8s, moduleRoot()); err != nil {
			return res, err
		}
	}
	if o.UnrelatedSecrets > 0 {
		logf("creating %d unrelated Secrets...", o.UnrelatedSecrets)
		filler := strings.Repeat("x", 1024)
		if err := forEach(ctx, o.UnrelatedSecrets, 8, func(ctx context.Context, k int) error {
			return k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: unrelatedNamespace, Name: fmt.Sprintf("unrelated-%05d", k)},
				StringData: map[string]string{"data": filler}})
		}); err != nil {
			return res, fmt.Errorf("unrelated Secrets: %w", err)
		}
	}

	// The bench follows progress through a watch (an in-process cache of
	// the bench namespace), not by listing: listing 10,000 SubAccounts
	// every poll interval would cost the API server more CPU than the
	// operator's own writes, and the floor pays no such cost.
	watched, err := cache.New(wcfg, cache.Options{Scheme: scheme,
		DefaultNamespaces: map[string]cache.Config{benchNamespace: {}}})
	if err != nil {
		return res, err
	}
	cacheCtx, stopCache := context.WithCancel(ctx)
	defer stopCache()
	go func() { _ = watched.Start(cacheCtx) }()
	for _, obj := range []client.Object{&shopv1alpha1.SubAccount{}, &shopv1alpha1.Role{}} {
		if _, err := watched.GetInformer(ctx, obj); err != nil {
			return res, err
		}
	}
	if !watched.WaitForCacheSync(ctx) {
		return res, errors.New("the bench's cache did not sync")
	}

	mgr, err := startManager(m)
	if err != nil {
		return res, err
	}
	defer func() {
		if mgr != nil {
			err = errors.Join(err, mgr.stop())
		}
	}()

	// Shops and Roles.
	logf("creating %d Shops with 2 Roles each...", o.Shops)
	setupStart, setupCalls := time.Now(), engine.Calls()
	for i := 0; i < o.Shops; i++ {
		c := credentials(i)
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: shopName(i) + "-api",
			Labels: map[string]string{shopv1alpha1.LabelSecretRole: "shop-api"}},
			StringData: map[string]string{"appKey": c.AppKey, "appSecret": c.AppSecret, "accessToken": c.AccessToken}}
		shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: shopName(i)},
			Spec: shopv1alpha1.ShopSpec{Platform: shopv1alpha1.Platform(platform.Taobao), MainAccount: mainAccount(i), Endpoint: shopsimURL,
				CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: sec.Name},
				RateLimit:            shopv1alpha1.RateLimit{RequestsPerSecond: int32(o.ShopRate), Burst: int32(o.ShopBurst)},
				DriftCheckInterval:   &metav1.Duration{Duration: o.WaveDrift}}}
		roles := []client.Object{
			&shopv1alpha1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: shopName(i) + "-cs",
				Labels: map[string]string{"job": "customer-service"}}, // picked by the offboarding measure's Staff
				Spec: shopv1alpha1.RoleSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: shop.Name}, DisplayName: "客服", Template: "customer-service"}},
			&shopv1alpha1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: shopName(i) + "-ops"},
				Spec: shopv1alpha1.RoleSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: shop.Name}, DisplayName: "运营", Template: "operations"}},
		}
		for _, obj := range append([]client.Object{sec, shop}, roles...) {
			if err := k8s.Create(ctx, obj); err != nil {
				return res, fmt.Errorf("creating %s: %w", obj.GetName(), err)
			}
		}
	}
	if err := waitReady(ctx, watched, &shopv1alpha1.RoleList{}, 2*o.Shops, o.Timeout); err != nil {
		return res, fmt.Errorf("roles: %w", err)
	}
	res.SetupTime = time.Since(setupStart)
	res.SetupCalls = delta(setupCalls, engine.Calls())
	if o.Offboarding {
		if res.Offboarding, err = measureOffboarding(ctx, o, k8s, watched, engine, mgr); err != nil {
			return res, fmt.Errorf("offboarding: %w", err)
		}
		return res, nil
	}
	logf("%d Roles Ready in %s; creating %d SubAccounts...", 2*o.Shops, res.SetupTime.Round(time.Millisecond), res.N)

	// 1. The onboarding wave.
	before, err := mgr.stats()
	if err != nil {
		return res, err
	}
	callsBefore := engine.Calls()
	if err := mgr.startPhase("wave"); err != nil {
		return res, err
	}
	cpBefore := controlPlaneCPU()
	apiBefore, err := scrapeAPIServer(ctx, cfg)
	if err != nil {
		return res, err
	}
	apiProfile := profileAPIServer(ctx, cfg, m.ProfileDir, "wave")
	t0 := time.Now()
	createErr := make(chan error, 1)
	go func() {
		err := forEach(ctx, res.N, 8, func(ctx context.Context, k int) error {
			return k8s.Create(ctx, subAccount(benchNamespace, k/o.PerShop, k%o.PerShop))
		})
		res.CreatesDone = time.Since(t0)
		if err != nil {
			logf("creating the SubAccounts failed: %v", err)
		}
		createErr <- err
	}()
	stopScrapes := scr.during(ctx, o.ScrapeEvery)
	waitErr := waitReady(ctx, watched, &shopv1alpha1.SubAccountList{}, res.N, o.Timeout)
	res.Wave.Duration = time.Since(t0)
	var scrapeErr error
	res.WaveScrapes, scrapeErr = stopScrapes()
	res.WaveControlPlaneCPU = delta(cpBefore, controlPlaneCPU())
	apiAfter, err := scrapeAPIServer(ctx, cfg)
	if err != nil {
		return res, err
	}
	res.WaveAPI = apiViewBetween(apiBefore, apiAfter)
	sampled, stopErr := mgr.stopPhase()
	if err := errors.Join(<-createErr, waitErr, stopErr, scrapeErr, <-apiProfile); err != nil {
		return res, fmt.Errorf("the wave: %w", err)
	}
	// The batched aggregates (Shop seats, Role member counts) are written
	// up to one batch delay after the last SubAccount arrived: they belong
	// to the wave, not to the steady state.
	time.Sleep(m.BatchDelay + 2*time.Second)
	after, err := mgr.stats()
	if err != nil {
		return res, err
	}
	res.Wave.Reconciles = delta(before.Reconciles, after.Reconciles)
	res.Wave.Writes = delta(before.Writes, after.Writes)
	res.Wave.WriteSeconds = after.WriteSeconds - before.WriteSeconds
	res.Wave.PlatformCalls = delta(callsBefore, engine.Calls())
	res.Wave.CPU, res.Wave.GCCPU, res.Wave.GCIdleCPU = after.CPU-before.CPU, after.GCCPU-before.GCCPU, after.GCIdleCPU-before.GCIdleCPU
	res.Wave.Sampled = sampled
	res.WaveRSS, res.WaveHeap, res.WaveAnon, res.WaveFile = after.PeakRSS, after.PeakHeap, after.PeakAnon, after.PeakFile
	res.WaveAnonParts = after.AtPeakAnon
	for i := 0; i < o.Shops; i++ {
		res.WaveShopRates = append(res.WaveShopRates, float64(len(calls.between(i, t0, t0.Add(res.Wave.Duration))))/res.Wave.Duration.Seconds())
	}
	logf("%d SubAccounts Ready in %s", res.N, res.Wave.Duration.Round(time.Millisecond))

	// 2. Steady state: a fresh manager, left alone.
	if err := mgr.stop(); err != nil {
		return res, fmt.Errorf("the manager failed: %w", err)
	}
	mgr = nil
	// Every Shop gets the steady state's drift-check interval while no
	// manager runs; the next one starts with it.
	if err := setDriftInterval(ctx, k8s, o.Shops, o.DriftInterval); err != nil {
		return res, err
	}
	steady := m
	steady.SyncPeriod = o.DriftInterval
	callsBefore = engine.Calls()
	t1 := time.Now()
	if mgr, err = startManager(steady); err != nil {
		return res, err
	}
	if o.SteadyIntervals > 0 {
		wait := time.Duration(o.SteadyIntervals)*o.DriftInterval + 5*time.Second
		logf("steady state: the manager restarted; watching %d drift-check intervals (%s)...", o.SteadyIntervals, wait)
		stopScrapes := scr.during(ctx, o.ScrapeEvery)
		time.Sleep(wait) // the bench observes a quiet period; nothing to wait on
		if res.SteadyScrapes, err = stopScrapes(); err != nil {
			return res, fmt.Errorf("the steady state: %w", err)
		}
		st, err := mgr.stats()
		if err != nil {
			return res, err
		}
		res.Steady = &phase{Duration: time.Since(t1), Reconciles: st.Reconciles, Writes: st.Writes,
			PlatformCalls: delta(callsBefore, engine.Calls()), CPU: st.CPU, GCCPU: st.GCCPU, GCIdleCPU: st.GCIdleCPU}
		res.SteadyRSS, res.SteadyHeap, res.SteadyAnon, res.SteadyFile = st.PeakRSS, st.PeakHeap, st.PeakAnon, st.PeakFile
		list := &shopv1alpha1.SubAccountList{}
		if err := k8s.List(ctx, list, client.InNamespace(benchNamespace)); err != nil {
			return res, err
		}
		ready, total, _ := countReady(list)
		res.SteadyNotReady = total - ready
	}

	// 3. Fairness, at the wave's drift-check interval again.
	if o.Backlog > 0 {
		if err := setDriftInterval(ctx, k8s, o.Shops, o.WaveDrift); err != nil {
			return res, err
		}
		if res.Fair, err = measureFairness(ctx, o, k8s, watched, mgr, calls); err != nil {
			return res, fmt.Errorf("fairness: %w", err)
		}
	}
	res.LowestTokens, res.LowestTokenShop = float64(o.ShopBurst), -1
	for shop, ts := range calls.all() {
		if low := overdraft(ts, float64(o.ShopRate), o.ShopBurst); low < res.LowestTokens {
			res.LowestTokens, res.LowestTokenShop = low, shop
		}
	}
	if err := mgr.stop(); err != nil {
		return res, fmt.Errorf("the manager failed: %w", err)
	}
	mgr = nil

	// 4. The floors: same control plane, no operator.
	res.PlatformFloor = platformFloor(o, latency)
	if o.Floor {
		floorCfg, err := cp.AddUser(floorUser, managerGroups)
		if err != nil {
			return res, err
		}
		if err := k8s.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bench-floor"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: floorUser}}}); err != nil {
			return res, err
		}
		// The status the operator wrote, as the floor's status write: a
		// status of five conditions and the permission lists costs the API
		// server more to patch, store and send than a bare Ready.
		// Shop 1's first: the fairness measure deletes or disables some of
		// shop 0's and shop 2's, never this one.
		written := &shopv1alpha1.SubAccount{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: benchNamespace, Name: subName(1, 0)}, written); err != nil {
			return res, fmt.Errorf("reading a SubAccount of the wave for the floor's status: %w", err)
		}
		o.floorStatus = &written.Status
		logf("the physical floor: %d SubAccounts at concurrency %d, no client rate limit...", res.N, m.Concurrency.SubAccount)
		// With --profile, kube-apiserver's profile of the floor beside the
		// wave's: `go tool pprof -diff_base floor-apiserver-cpu.pprof
		// wave-apiserver-cpu.pprof` is what the operator costs it beyond
		// the floor's writes.
		apiProfile := profileAPIServer(ctx, cfg, m.ProfileDir, "floor")
		f, err := floor(ctx, floorCfg, o, res.N, floorNamespace, -1, 0)
		if err = errors.Join(err, <-apiProfile); err != nil {
			return res, fmt.Errorf("floor: %w", err)
		}
		res.Floor = &f
		if m.QPS > 0 && o.ThrottledFloor {
			logf("the client-throttled floor: the same at QPS %g, burst %d...", m.QPS, m.Burst)
			f, err := floor(ctx, floorCfg, o, res.N, throttledFloorNamespace, float32(m.QPS), m.Burst)
			if err != nil {
				return res, fmt.Errorf("throttled floor: %w", err)
			}
			res.ThrottledFloor = &f
		}
	}
	logf("latency %s done in %s", latency, time.Since(started).Round(time.Second))
	return res, nil
}

// setDriftInterval sets every Shop's spec.driftCheckInterval.
func setDriftInterval(ctx context.Context, k8s client.Client, shops int, d time.Duration) error {
	for i := 0; i < shops; i++ {
		shop := &shopv1alpha1.Shop{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: benchNamespace, Name: shopName(i)}, shop); err != nil {
			return err
		}
		patch := client.MergeFrom(shop.DeepCopy())
		shop.Spec.DriftCheckInterval = &metav1.Duration{Duration: d}
		if err := k8s.Patch(ctx, shop, patch); err != nil {
			return fmt.Errorf("setting %s's drift-check interval: %w", shop.Name, err)
		}
	}
	return nil
}

// measureFairness queues --backlog creates in shop 0, then times a create
// in shop 1, an offboarding in shop 2, and an offboarding and a disable in
// shop 0 behind its backlog.
func measureFairness(ctx context.Context, o options, k8s client.Client, watched client.Reader, mgr *managerProc, calls *callRecorder) (*fairness, error) {
	f := &fairness{}
	logf("fairness: %d creates in shop 0...", o.Backlog)
	if err := mgr.startPhase("fairness"); err != nil {
		return nil, err
	}
	probe := func(what string, do func() error, done func() (bool, error), out *time.Duration) func() error {
		return func() error {
			start := time.Now()
			if err := do(); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			for {
				ok, err := done()
				if err != nil {
					return fmt.Errorf("%s: %w", what, err)
				}
				if ok {
					*out = time.Since(start)
					return nil
				}
				if time.Since(start) > o.Timeout {
					return fmt.Errorf("%s: not done after %s", what, o.Timeout)
				}
				time.Sleep(probePoll)
			}
		}
	}
	readyAt := func(key client.ObjectKey) func() (bool, error) {
		return func() (bool, error) {
			sa := &shopv1alpha1.SubAccount{}
			if err := k8s.Get(ctx, key, sa); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			c := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionReady)
			return c != nil && c.Status == metav1.ConditionTrue && sa.Status.ObservedGeneration == sa.Generation, nil
		}
	}
	goneAt := func(key client.ObjectKey) func() (bool, error) {
		return func() (bool, error) {
			err := k8s.Get(ctx, key, &shopv1alpha1.SubAccount{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		}
	}
	runProbes := func(probes ...func() error) error {
		var wg sync.WaitGroup
		errs := make([]error, len(probes))
		for i, p := range probes {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = p() }()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	// The same probes in other shops with no backlog anywhere: what a
	// backlog adds is the difference.
	baseSA := subAccount(benchNamespace, 1, o.PerShop+1)
	baseGone := subAccount(benchNamespace, 2, 1)
	if err := runProbes(
		probe("create in shop 1 without a backlog", func() error { return k8s.Create(ctx, baseSA) }, readyAt(client.ObjectKeyFromObject(baseSA)), &f.BaseCreate),
		probe("offboard in shop 2 without a backlog", func() error { return k8s.Delete(ctx, baseGone) }, goneAt(client.ObjectKeyFromObject(baseGone)), &f.BaseOffboard),
	); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := forEach(ctx, o.Backlog, 8, func(ctx context.Context, k int) error {
		return k8s.Create(ctx, subAccount(benchNamespace, 0, o.PerShop+k))
	}); err != nil {
		return nil, err
	}
	list := &shopv1alpha1.SubAccountList{}
	if err := k8s.List(ctx, list, client.InNamespace(benchNamespace)); err != nil {
		return nil, err
	}
	ready, total, _ := countReady(list)
	f.Pending = total - ready

	newSA := subAccount(benchNamespace, 1, o.PerShop)
	otherGone := subAccount(benchNamespace, 2, 0)
	sameGone := subAccount(benchNamespace, 0, 0)
	sameDisabled := client.ObjectKey{Namespace: benchNamespace, Name: subName(0, 1)}
	probes := []func() error{
		probe("create in shop 1", func() error { return k8s.Create(ctx, newSA) }, readyAt(client.ObjectKeyFromObject(newSA)), &f.OtherCreate),
		probe("offboard in shop 2", func() error { return k8s.Delete(ctx, otherGone) }, goneAt(client.ObjectKeyFromObject(otherGone)), &f.OtherOffboard),
		probe("offboard in shop 0", func() error { return k8s.Delete(ctx, sameGone) }, goneAt(client.ObjectKeyFromObject(sameGone)), &f.SameOffboard),
		probe("disable in shop 0", func() error {
			sa := &shopv1alpha1.SubAccount{}
			if err := k8s.Get(ctx, sameDisabled, sa); err != nil {
				return err
			}
			patch := client.MergeFrom(sa.DeepCopy())
			sa.Spec.Disabled = true
			return k8s.Patch(ctx, sa, patch)
		}, readyAt(sameDisabled), &f.SameDisable),
	}
	logf("fairness: %d of shop 0's creates pending; probing...", f.Pending)
	if err := runProbes(probes...); err != nil {
		return nil, err
	}
	// The backlog drains.
	if err := waitReady(ctx, watched, &shopv1alpha1.SubAccountList{}, o.Shops*o.PerShop+o.Backlog+1-2, o.Timeout); err != nil {
		return nil, err
	}
	f.BacklogTime = time.Since(t0)
	if _, err := mgr.stopPhase(); err != nil {
		return nil, err
	}
	shop0 := calls.between(0, t0, time.Now())
	f.BacklogCalls = len(shop0)
	f.Achieved = achievedRate(shop0, o.ShopBurst)
	st, err := mgr.stats()
	if err != nil {
		return nil, err
	}
	f.ProbeRSS, f.ProbeHeap, f.ProbeAnon, f.ProbeFile = st.PeakRSS, st.PeakHeap, st.PeakAnon, st.PeakFile
	return f, nil
}

// floorResult is one floor's figures.
type floorResult struct {
	Time   time.Duration
	Writes int
	// ByKind is the writes by verb and resource ("PATCH secrets").
	ByKind  map[string]int
	Latency float64 // the writes' latency, summed (seconds)
	// CPU is what kube-apiserver, etcd and the bench (the floor's client)
	// used meanwhile, by name (controlPlaneCPU).
	CPU map[string]float64
}

// floorUser is the floor's client: a service account in the manager's
// groups (the same priority level as the manager's), allowed everything.
var floorUser = "system:serviceaccount:" + managerNamespace + ":bench-floor"

// floor writes, for each of n SubAccounts, what the operator must write at
// least for a new one (its target): the SubAccount itself (the workload's
// create), its credentials Secret, its finalizer, its status, and its
// Event, sent aside as the event recorder does. A plain client writes them
// at the SubAccount controller's concurrency, as the floor's user, with the
// client rate limit qps and burst (qps < 0: none).
func floor(ctx context.Context, cfg *rest.Config, o options, n int, namespace string, qps float32, burst int) (floorResult, error) {
	writes := probe.NewWriteCounter()
	fcfg := rest.CopyConfig(cfg)
	fcfg.QPS, fcfg.Burst = qps, burst
	fcfg.Wrap(writes.Wrap)
	c, err := client.New(fcfg, client.Options{Scheme: scheme})
	if err != nil {
		return floorResult{}, err
	}
	var events sync.WaitGroup
	var eventErr error
	var eventMu sync.Mutex
	runCtx := ctx
	cpuBefore := controlPlaneCPU()
	t := time.Now()
	err = forEach(ctx, n, o.Manager.Concurrency.SubAccount, func(ctx context.Context, k int) error {
		i, j := k/o.PerShop, k%o.PerShop
		sa := subAccount(namespace, i, j)
		if err := c.Create(ctx, sa); err != nil {
			return err
		}
		if err := c.Create(ctx, floorSecret(sa, i)); err != nil {
			return err
		}
		// The operator's third write: its finalizer, or, where the
		// finalizer policy gave the SubAccount its finalizer at creation
		// (the bench's default), the login published in the Secret
		// (issue 15). A finalizer patch there would change nothing: the
		// API server answers it without writing to etcd or sending a
		// watch event, a write the floor would not pay for.
		if !controllerutil.ContainsFinalizer(sa, floorFinalizer) {
			patch := client.MergeFrom(sa.DeepCopy())
			sa.Finalizers = append(sa.Finalizers, floorFinalizer)
			if err := c.Patch(ctx, sa, patch); err != nil {
				return err
			}
		} else {
			login := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}},"data":{%q:%q}}`,
				shopv1alpha1.AnnotationLogin, shopv1alpha1.LoginLive, shopv1alpha1.SecretKeyUsername,
				base64.StdEncoding.EncodeToString([]byte(mainAccount(i)+":"+sa.Spec.AccountName))))
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: sa.Name + "-credentials"}}
			if err := c.Patch(ctx, sec, client.RawPatch(types.MergePatchType, login)); err != nil {
				return err
			}
		}
		patch := client.MergeFrom(sa.DeepCopy())
		// Built now: the status patch below decodes into sa meanwhile.
		ev := floorEvent(sa)
		events.Go(func() {
			// The run's context: forEach's ends when the last worker does.
			if err := c.Create(runCtx, ev); err != nil {
				eventMu.Lock()
				eventErr = errors.Join(eventErr, err)
				eventMu.Unlock()
			}
		})
		sa.Status = floorStatus(o.floorStatus, sa, i, k)
		return c.Status().Patch(ctx, sa, patch)
	})
	events.Wait()
	took := time.Since(t)
	byKind := writes.Snapshot()
	return floorResult{Time: took, Writes: sum(byKind), ByKind: byKind, Latency: writes.Latency(), CPU: delta(cpuBefore, controlPlaneCPU())},
		errors.Join(err, eventErr)
}

// floorStatus is the status the floor writes for sa, the k-th SubAccount
// (of shop i): the operator's status of a SubAccount of the wave
// (written) with sa's names, account ID and generation; a bare Ready
// without one.
func floorStatus(written *shopv1alpha1.SubAccountStatus, sa *shopv1alpha1.SubAccount, i, k int) shopv1alpha1.SubAccountStatus {
	if written == nil {
		st := shopv1alpha1.SubAccountStatus{ObservedGeneration: sa.Generation}
		apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: shopv1alpha1.ConditionReady,
			Status: metav1.ConditionTrue, Reason: "Synced", Message: "floor", ObservedGeneration: sa.Generation})
		return st
	}
	st := *written.DeepCopy()
	st.ObservedGeneration = sa.Generation
	st.AccountID = strconv.Itoa(90000000 + k)
	st.LoginName = mainAccount(i) + ":" + sa.Spec.AccountName
	st.SecretName = sa.Name + "-credentials"
	for c := range st.Conditions {
		st.Conditions[c].ObservedGeneration = sa.Generation
	}
	return st
}

// floorFinalizer is the SubAccount finalizer the operator writes, or the
// finalizer policy sets at creation.
const floorFinalizer = "shop.subaccount.io/subaccount"

// floorSecret is a credentials Secret as the operator first writes it:
// its labels, annotations and keys, owned by its SubAccount, the login not
// published yet.
func floorSecret(sa *shopv1alpha1.SubAccount, shop int) *corev1.Secret {
	yes := true
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: sa.Namespace, Name: sa.Name + "-credentials",
		Labels: map[string]string{shopv1alpha1.LabelManagedBy: shopv1alpha1.ManagedByValue, shopv1alpha1.LabelSecretRole: "credentials",
			shopv1alpha1.LabelShop: shopName(shop), shopv1alpha1.LabelSubAccount: sa.Name},
		Annotations: map[string]string{shopv1alpha1.AnnotationLogin: shopv1alpha1.LoginPending,
			shopv1alpha1.AnnotationPasswordRevision: "1", shopv1alpha1.AnnotationPasswordCreated: time.Now().UTC().Format(time.RFC3339)},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: shopv1alpha1.GroupVersion.String(), Kind: "SubAccount",
			Name: sa.Name, UID: sa.UID, Controller: &yes, BlockOwnerDeletion: &yes}}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{shopv1alpha1.SecretKeyShop: []byte(shopName(shop)), shopv1alpha1.SecretKeyPlatform: []byte(platform.Taobao),
			shopv1alpha1.SecretKeyAccountName: []byte(sa.Spec.AccountName), shopv1alpha1.SecretKeyPassword: []byte("floor-Passw0rd-0123456789")}}
}

// floorEvent is the Event the operator writes when it creates an account.
func floorEvent(sa *shopv1alpha1.SubAccount) *eventsv1.Event {
	return &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: sa.Namespace, Name: fmt.Sprintf("%s.%x", sa.Name, time.Now().UnixNano())},
		EventTime: metav1.NowMicro(), ReportingController: "subaccount-operator", ReportingInstance: "subaccount-operator-bench-floor",
		Action: "CreateAccount", Reason: "Created", Type: corev1.EventTypeNormal,
		Regarding: corev1.ObjectReference{APIVersion: shopv1alpha1.GroupVersion.String(), Kind: "SubAccount",
			Namespace: sa.Namespace, Name: sa.Name, UID: sa.UID, ResourceVersion: sa.ResourceVersion},
		Note: "created sub-account " + mainAccount(0) + ":" + sa.Spec.AccountName + " with 2 roles and 18 permissions"}
}

// platformFloor is how long the busiest shop's creates take at its rate
// limit: the burst at once, the rest at the rate, plus one call's latency.
func platformFloor(o options, latency time.Duration) time.Duration {
	rest := max(0, o.PerShop-o.ShopBurst)
	return time.Duration(float64(rest)/float64(o.ShopRate)*float64(time.Second)) + latency
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// forEach calls fn for 0..n-1 from workers goroutines; the first error stops it.
func forEach(ctx context.Context, n, workers int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				if err := fn(ctx, k); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for k := 0; k < n; k++ {
		select {
		case next <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return first
}

// waitReady lists list's kind in the bench namespace from c (the bench's
// watch cache) every pollInterval until want objects are Ready for their
// generation.
func waitReady(ctx context.Context, c client.Reader, list client.ObjectList, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	lastReport := time.Now()
	for {
		if err := c.List(ctx, list, client.InNamespace(benchNamespace), client.UnsafeDisableDeepCopy); err != nil {
			return err
		}
		ready, total, why := countReady(list)
		if ready >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d Ready after %s (%d exist); e.g. %s", ready, want, timeout, total, why)
		}
		if time.Since(lastReport) >= 30*time.Second {
			logf("%d of %d Ready (%d exist)%s", ready, want, total, why)
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

func countReady(list client.ObjectList) (ready, total int, why string) {
	check := func(gen, observed int64, conds []metav1.Condition) {
		total++
		c := apimeta.FindStatusCondition(conds, shopv1alpha1.ConditionReady)
		if c != nil && c.Status == metav1.ConditionTrue && max(observed, c.ObservedGeneration) >= gen {
			ready++
		} else if why == "" && c != nil {
			why = fmt.Sprintf("; one not Ready: %s %s", c.Reason, c.Message)
		}
	}
	switch l := list.(type) {
	case *shopv1alpha1.RoleList:
		for _, r := range l.Items {
			check(r.Generation, r.Status.ObservedGeneration, r.Status.Conditions)
		}
	case *shopv1alpha1.SubAccountList:
		for _, s := range l.Items {
			check(s.Generation, s.Status.ObservedGeneration, s.Status.Conditions)
		}
	}
	return ready, total, why
}

// moduleRoot is the nearest directory at or above the working directory
// holding a go.mod, or the working directory.
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}
