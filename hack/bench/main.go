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
// bench', issue 7). It starts envtest (etcd and kube-apiserver), shopsim
// in-process on loopback and the operator in-process with the gateway driver
// (as cmd/dev does), creates --shops Shops with two Roles each, then
// --per-shop SubAccounts per Shop, and measures the time until every
// SubAccount is Ready, reconciles per second, platform calls and API server
// writes per SubAccount, and peak heap and RSS. With the operator stopped it
// then measures the floor on the same control plane: the same number of
// Secrets, SubAccounts and status patches written by a plain client at the
// SubAccount controller's concurrency. It prints one markdown table
// (and, with --out, writes it to a file).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/controller"
	"github.com/subaccount-operator/subaccount-operator/internal/metrics"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway"
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
	pollInterval   = 200 * time.Millisecond
	// The client rate limit ctrl.GetConfig gives cmd/main.go's manager when
	// the kubeconfig sets none; the floor client uses the same.
	clientQPS   = 20
	clientBurst = 30
	// floorConcurrency is the SubAccount controller's MaxConcurrentReconciles
	// (controller-runtime's default, 1: the controller does not set it).
	floorConcurrency = 1
)

type options struct {
	Shops, PerShop int
	Latency        time.Duration
	Timeout        time.Duration
	AssetsDir      string
	CRDDir         string
	Out            string
	Command        string
}

func main() {
	root := moduleRoot()
	o := options{CRDDir: filepath.Join(root, "config", "crd", "bases")}
	flag.IntVar(&o.Shops, "shops", 20, "Number of Shops.")
	flag.IntVar(&o.PerShop, "per-shop", 50, "SubAccounts per Shop.")
	flag.DurationVar(&o.Latency, "latency", 0, "Latency shopsim adds to every platform API call.")
	flag.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "How long the SubAccounts may take to become Ready.")
	flag.StringVar(&o.AssetsDir, "assets-dir", os.Getenv("KUBEBUILDER_ASSETS"), "Directory holding etcd and kube-apiserver (default $KUBEBUILDER_ASSETS).")
	flag.StringVar(&o.Out, "out", "", "Also write the markdown table to this file.")
	flag.Parse()
	o.Command = "go run ./hack/bench " + strings.Join(os.Args[1:], " ")
	if o.Shops < 1 || o.PerShop < 1 || o.AssetsDir == "" {
		fmt.Fprintln(os.Stderr, "bench: --shops and --per-shop must be positive and KUBEBUILDER_ASSETS (or --assets-dir) set")
		os.Exit(2)
	}
	ctrl.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel)))
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// writeCounter counts the write requests (POST/PUT/PATCH/DELETE) sent
// through a rest.Config, by verb and resource.
type writeCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (w *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			w.mu.Lock()
			w.counts[r.Method+" "+resourceOf(r.URL.Path)]++
			w.mu.Unlock()
		}
		return rt.RoundTrip(r)
	})
}

func (w *writeCounter) snapshot() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.counts))
	for k, v := range w.counts {
		out[k] = v
	}
	return out
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// resourceOf extracts "resource[/subresource]" from an API path such as
// /apis/g/v/namespaces/ns/subaccounts/name/status.
func resourceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return path
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	switch len(parts) {
	case 0:
		return "namespaces"
	case 1, 2:
		return parts[0]
	default:
		return parts[0] + "/" + parts[2]
	}
}

// delta is after minus before, dropping zeros.
func delta(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// perItem renders m's entries divided by n, largest first.
func perItem(m map[string]int, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, float64(m[k])/float64(n)))
	}
	return strings.Join(parts, ", ")
}

// reconcileTotal sums controller_runtime_reconcile_total for controller.
func reconcileTotal(name string) (float64, error) {
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == name {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total, nil
}

// memSampler records the peak heap in use while it runs.
type memSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func startMemSampler() *memSampler {
	s := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > s.peak.Load() {
				s.peak.Store(ms.HeapAlloc)
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *memSampler) Stop() uint64 {
	close(s.stop)
	<-s.done
	return s.peak.Load()
}

// vmHWM is the process's peak resident set size in bytes (0 if unknown).
func vmHWM() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func shopName(i int) string    { return fmt.Sprintf("shop-%03d", i) }
func mainAccount(i int) string { return fmt.Sprintf("bench%03d", i) }
func subName(i, j int) string  { return fmt.Sprintf("s%03d-%04d", i, j) }
func credentials(i int) platform.Credentials {
	return platform.Credentials{AppKey: fmt.Sprintf("%08d", 10000000+i), AppSecret: "bench-secret-" + strconv.Itoa(i), AccessToken: "bench-token-" + strconv.Itoa(i)}
}

type result struct {
	N                 int
	OperatorTime      time.Duration
	Reconciles        float64
	PlatformCalls     map[string]int
	Writes            map[string]int
	PeakHeap, PeakRSS uint64
	FloorTime         time.Duration
	FloorWrites       int
	SetupTime         time.Duration
}

func run(ctx context.Context, o options) (err error) {
	started := time.Now()
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{o.CRDDir},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: o.AssetsDir,
		Scheme:                scheme,
	}
	env.ControlPlane.GetAPIServer().Path = filepath.Join(o.AssetsDir, "kube-apiserver")
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(o.AssetsDir, "etcd")}
	fmt.Fprintf(os.Stderr, "bench: starting the control plane...\n")
	cfg, err := env.Start()
	if err != nil {
		return errors.Join(fmt.Errorf("starting the control plane: %w", err), env.Stop())
	}
	defer func() { err = errors.Join(err, env.Stop()) }()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = clientQPS, clientBurst

	// shopsim, in-process on loopback.
	engine := memory.NewEngine()
	for i := 0; i < o.Shops; i++ {
		if err := engine.AddShop(memory.ShopSetup{Platform: platform.Taobao, MainAccount: mainAccount(i),
			MainPhone: fmt.Sprintf("139%08d", i), Credentials: credentials(i), SeatQuota: int32(o.PerShop + 10)}); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: shopsim.New(engine, shopsim.Options{Faults: shopsim.Faults{Latency: o.Latency},
		Logger: slog.New(slog.DiscardHandler)}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	shopsimURL := "http://" + ln.Addr().String()

	// The manager, wired as cmd/dev wires it, on a config counting writes.
	writes := &writeCounter{counts: map[string]int{}}
	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.Wrap(writes.wrap)
	cacheOpts, err := controller.CacheOptions()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(mgrCfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cacheOpts,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	factory := metrics.LimitedFactory(gateway.NewFactory(gateway.Options{UserAgent: "subaccount-operator-bench"}))
	mgrCtx, stopMgr := context.WithCancel(ctx)
	defer stopMgr()
	if err := controller.Setup(mgrCtx, mgr, factory); err != nil {
		return err
	}
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	mgrStopped := false
	stopManager := func() error {
		if mgrStopped {
			return nil
		}
		mgrStopped = true
		stopMgr()
		return <-mgrDone
	}
	defer func() { err = errors.Join(err, stopManager()) }()

	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	for _, ns := range []string{benchNamespace, floorNamespace} {
		if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return err
		}
	}

	// Shops and Roles.
	fmt.Fprintf(os.Stderr, "bench: creating %d Shops with 2 Roles each...\n", o.Shops)
	setupStart := time.Now()
	for i := 0; i < o.Shops; i++ {
		c := credentials(i)
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: shopName(i) + "-api",
			Labels: map[string]string{shopv1alpha1.LabelSecretRole: "shop-api"}},
			StringData: map[string]string{"appKey": c.AppKey, "appSecret": c.AppSecret, "accessToken": c.AccessToken}}
		shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: shopName(i)},
			Spec: shopv1alpha1.ShopSpec{Platform: shopv1alpha1.Platform(platform.Taobao), MainAccount: mainAccount(i), Endpoint: shopsimURL,
				CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: sec.Name},
				Seats:                &shopv1alpha1.ShopSeats{Included: int32(o.PerShop + 10)},
				RateLimit:            shopv1alpha1.RateLimit{RequestsPerSecond: 1000, Burst: 1000}}}
		roles := []client.Object{
			&shopv1alpha1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: shopName(i) + "-cs"},
				Spec: shopv1alpha1.RoleSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: shop.Name}, DisplayName: "客服", Template: "customer-service"}},
			&shopv1alpha1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: shopName(i) + "-ops"},
				Spec: shopv1alpha1.RoleSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: shop.Name}, DisplayName: "运营", Template: "operations"}},
		}
		for _, obj := range append([]client.Object{sec, shop}, roles...) {
			if err := k8s.Create(ctx, obj); err != nil {
				return fmt.Errorf("creating %s: %w", obj.GetName(), err)
			}
		}
	}
	if err := waitReady(ctx, k8s, &shopv1alpha1.RoleList{}, 2*o.Shops, o.Timeout); err != nil {
		return fmt.Errorf("Roles: %w", err)
	}
	res := result{N: o.Shops * o.PerShop, SetupTime: time.Since(setupStart)}
	fmt.Fprintf(os.Stderr, "bench: %d Roles Ready in %s; creating %d SubAccounts...\n", 2*o.Shops, res.SetupTime.Round(time.Millisecond), res.N)

	// The measured run.
	callsBefore := engine.Calls()
	writesBefore := writes.snapshot()
	recBefore, err := reconcileTotal("subaccount")
	if err != nil {
		return err
	}
	sampler := startMemSampler()
	t0 := time.Now()
	createErr := make(chan error, 1)
	go func() {
		createErr <- forEach(ctx, res.N, 4, func(ctx context.Context, k int) error {
			i, j := k/o.PerShop, k%o.PerShop
			sa := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: subName(i, j)},
				Spec: shopv1alpha1.SubAccountSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: shopName(i)},
					AccountName: fmt.Sprintf("staff%04d", j),
					Roles:       []shopv1alpha1.LocalObjectReference{{Name: shopName(i) + "-cs"}, {Name: shopName(i) + "-ops"}}}}
			return k8s.Create(ctx, sa)
		})
	}()
	waitErr := waitReady(ctx, k8s, &shopv1alpha1.SubAccountList{}, res.N, o.Timeout)
	res.OperatorTime = time.Since(t0)
	res.PeakHeap = sampler.Stop()
	res.PeakRSS = vmHWM()
	if err := <-createErr; err != nil {
		return fmt.Errorf("creating SubAccounts: %w", err)
	}
	if waitErr != nil {
		return fmt.Errorf("SubAccounts: %w", waitErr)
	}
	recAfter, err := reconcileTotal("subaccount")
	if err != nil {
		return err
	}
	res.Reconciles = recAfter - recBefore
	res.PlatformCalls = delta(callsBefore, engine.Calls())
	res.Writes = delta(writesBefore, writes.snapshot())
	fmt.Fprintf(os.Stderr, "bench: %d SubAccounts Ready in %s; stopping the operator for the floor...\n", res.N, res.OperatorTime.Round(time.Millisecond))

	// The floor: same control plane, operator stopped.
	if err := stopManager(); err != nil {
		return fmt.Errorf("the operator failed: %w", err)
	}
	floorWrites := &writeCounter{counts: map[string]int{}}
	floorCfg := rest.CopyConfig(cfg)
	floorCfg.Wrap(floorWrites.wrap)
	floor, err := client.New(floorCfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	t1 := time.Now()
	if err := forEach(ctx, res.N, floorConcurrency, func(ctx context.Context, k int) error {
		i, j := k/o.PerShop, k%o.PerShop
		sa := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: floorNamespace, Name: subName(i, j)},
			Spec: shopv1alpha1.SubAccountSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: shopName(i)},
				AccountName: fmt.Sprintf("staff%04d", j),
				Roles:       []shopv1alpha1.LocalObjectReference{{Name: shopName(i) + "-cs"}, {Name: shopName(i) + "-ops"}}}}
		if err := floor.Create(ctx, sa); err != nil {
			return err
		}
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: floorNamespace, Name: sa.Name + "-credentials",
			Labels: map[string]string{shopv1alpha1.LabelSecretRole: "credentials"}},
			StringData: map[string]string{"username": mainAccount(i) + ":" + sa.Spec.AccountName, "password": "floor-password-0123456789"}}
		if err := floor.Create(ctx, sec); err != nil {
			return err
		}
		patch := client.MergeFrom(sa.DeepCopy())
		sa.Status.ObservedGeneration = sa.Generation
		apimeta.SetStatusCondition(&sa.Status.Conditions, metav1.Condition{Type: shopv1alpha1.ConditionReady,
			Status: metav1.ConditionTrue, Reason: "Synced", Message: "floor", ObservedGeneration: sa.Generation})
		return floor.Status().Patch(ctx, sa, patch)
	}); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	res.FloorTime = time.Since(t1)
	res.FloorWrites = sum(floorWrites.snapshot())

	table := render(o, res)
	fmt.Print(table)
	if o.Out != "" {
		if err := os.WriteFile(o.Out, []byte(table), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "bench: done in %s\n", time.Since(started).Round(time.Second))
	return nil
}

func render(o options, r result) string {
	var b strings.Builder
	n := r.N
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, v) }
	fmt.Fprintf(&b, "| %s | %s |\n|---|---|\n", "measure", "value")
	row("SubAccounts (shops × per shop)", fmt.Sprintf("%d (%d × %d), 2 Roles each", n, o.Shops, o.PerShop))
	row("platform latency added by shopsim", o.Latency.String())
	row("setup: Shops + Roles Ready (not in the ratio)", r.SetupTime.Round(time.Millisecond).String())
	row("operator: first create → all Ready", r.OperatorTime.Round(time.Millisecond).String())
	row("SubAccounts Ready per second", fmt.Sprintf("%.1f", float64(n)/r.OperatorTime.Seconds()))
	row("subaccount reconciles (per second, per SubAccount)", fmt.Sprintf("%.0f (%.1f/s, %.2f)", r.Reconciles, r.Reconciles/r.OperatorTime.Seconds(), r.Reconciles/float64(n)))
	row("platform calls per SubAccount", fmt.Sprintf("%.2f: %s", float64(sum(r.PlatformCalls))/float64(n), perItem(r.PlatformCalls, n)))
	row("API server writes per SubAccount (manager)", fmt.Sprintf("%.2f: %s", float64(sum(r.Writes))/float64(n), perItem(r.Writes, n)))
	row("peak Go heap (whole process)", mib(r.PeakHeap))
	row("peak RSS, VmHWM (whole process: operator + shopsim + bench)", mib(r.PeakRSS))
	row(fmt.Sprintf("floor: %d Secrets + SubAccounts + status patches, plain client, concurrency %d", n, floorConcurrency),
		fmt.Sprintf("%s (%d writes, %.2f per SubAccount)", r.FloorTime.Round(time.Millisecond), r.FloorWrites, float64(r.FloorWrites)/float64(n)))
	row("operator time / floor time", fmt.Sprintf("%.2f", r.OperatorTime.Seconds()/r.FloorTime.Seconds()))
	row("client rate limit (manager and floor)", fmt.Sprintf("QPS %d, burst %d", clientQPS, clientBurst))
	return b.String()
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

// waitReady lists list's kind in the bench namespace every pollInterval
// until want objects are Ready for their generation.
func waitReady(ctx context.Context, c client.Reader, list client.ObjectList, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	lastReport := time.Now()
	for {
		if err := c.List(ctx, list, client.InNamespace(benchNamespace)); err != nil {
			return err
		}
		ready, total, why := countReady(list)
		if ready >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d Ready after %s (%d exist); e.g. %s", ready, want, timeout, total, why)
		}
		if time.Since(lastReport) >= 10*time.Second {
			fmt.Fprintf(os.Stderr, "bench: %d of %d Ready (%d exist)%s\n", ready, want, total, why)
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
