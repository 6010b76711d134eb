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

// Command dev runs the operator's main job on a machine without a cluster
// ('make dev'): it starts a local control plane (etcd and kube-apiserver,
// through envtest), serves the platform gateway on loopback with shopsim
// (hack/shopsim.example.yaml's shops), runs the operator in-process with the
// gateway driver exactly as cmd/main.go does, applies config/samples in the
// "default" namespace, waits until every Shop, Role and SubAccount is Ready,
// writes an admin kubeconfig and prints kubectl commands to look around. It
// then serves until SIGINT/SIGTERM and stops everything; with --once it
// exits as soon as everything is Ready.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/controller"
	"github.com/subaccount-operator/subaccount-operator/internal/controlplane"
	"github.com/subaccount-operator/subaccount-operator/internal/manager"
	"github.com/subaccount-operator/subaccount-operator/internal/metrics"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/samples"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
)

// scheme holds the kinds the manager reads and writes, as the shipped
// manager's.
var scheme = manager.Scheme

const (
	// devNamespace is where the samples are applied.
	devNamespace = "default"
	// devUser is the admin the written kubeconfig authenticates as.
	devUser = "dev-admin"
	// pollInterval is how often the samples' Ready conditions are read.
	pollInterval = 250 * time.Millisecond
	// reportInterval is how often the resources still waited for are listed.
	reportInterval = 10 * time.Second
)

// controlPlaneBinaries must all be in options.AssetsDir.
var controlPlaneBinaries = []string{controlplane.Etcd, controlplane.APIServer, controlplane.Kubectl}

// options configure run.
type options struct {
	// AssetsDir holds etcd, kube-apiserver and kubectl (KUBEBUILDER_ASSETS).
	AssetsDir string
	// CRDDir holds the CRDs to install (config/crd/bases).
	CRDDir string
	// SamplesDir holds the kustomization.yaml listing the samples.
	SamplesDir string
	// KubeconfigOut is where the admin kubeconfig is written; it is removed
	// when run returns.
	KubeconfigOut string
	// Once makes run return as soon as every sample is Ready (an error if
	// they are not Ready within Timeout) instead of serving until ctx ends.
	Once bool
	// Timeout bounds the wait for the samples to become Ready.
	Timeout time.Duration
	// ShopsimConfig lists the shops shopsim serves (hack/shopsim.example.yaml).
	ShopsimConfig string
	// ShopsimListen is shopsim's loopback address; the samples' Shops are
	// pointed at it.
	ShopsimListen string
	// Out receives progress and instructions (never a secret value).
	Out io.Writer
	// OnReady, when set, is called once every sample is Ready, while the
	// control plane and the operator still run; an error fails run.
	OnReady func(ctx context.Context) error
}

func main() {
	opts, zapOpts, err := parseFlags(flag.CommandLine, os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "dev: %v\n", err)
		os.Exit(2)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(zapOpts)))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-signals
		fmt.Fprintf(os.Stderr, "\ndev: got %s, stopping the operator and the control plane...\n", s)
		cancel()
		for s := range signals {
			fmt.Fprintf(os.Stderr, "dev: got %s again; still stopping (the control plane is shut down before exiting), please wait\n", s)
		}
	}()

	if err := run(ctx, opts); err != nil {
		fmt.Fprintf(os.Stderr, "dev: %v\n", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line. Paths default to the module root (the
// directory holding go.mod above the working directory), so the program
// also works when started from a subdirectory.
func parseFlags(fs *flag.FlagSet, args []string) (options, *zap.Options, error) {
	root := moduleRoot()
	opts := options{
		CRDDir:     filepath.Join(root, "config", "crd", "bases"),
		SamplesDir: filepath.Join(root, "config", "samples"),
		Out:        os.Stdout,
	}
	fs.StringVar(&opts.KubeconfigOut, "kubeconfig-out", displayPath(filepath.Join(root, ".dev", "kubeconfig")), "Where to write the admin kubeconfig of the local control plane (removed on exit).")
	fs.BoolVar(&opts.Once, "once", false, "Exit 0 as soon as every sample is Ready (non-zero if not Ready within --timeout) instead of serving until interrupted.")
	fs.DurationVar(&opts.Timeout, "timeout", 2*time.Minute, "How long the samples may take to become Ready.")
	fs.StringVar(&opts.AssetsDir, "assets-dir", "", "Directory holding etcd, kube-apiserver and kubectl (default $KUBEBUILDER_ASSETS, else the one directory in bin/k8s/).")
	fs.StringVar(&opts.SamplesDir, "samples", displayPath(opts.SamplesDir), "Directory whose kustomization.yaml lists the resources to apply.")
	fs.StringVar(&opts.ShopsimConfig, "shopsim-config", displayPath(filepath.Join(root, "hack", "shopsim.example.yaml")), "The shops shopsim serves, with their API credentials.")
	fs.StringVar(&opts.ShopsimListen, "shopsim-listen", "127.0.0.1:8089", "Loopback address of the shopsim platform gateway (its web page is at /).")
	// Readable console logs at info level (development mode alone would log
	// at debug level and drown the instructions).
	zapOpts := &zap.Options{Development: true, Level: zapcore.InfoLevel}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return options{}, nil, err
	}
	if fs.NArg() > 0 {
		return options{}, nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if opts.AssetsDir == "" {
		dir, err := defaultAssetsDir(root)
		if err != nil {
			return options{}, nil, err
		}
		opts.AssetsDir = dir
	}
	return opts, zapOpts, nil
}

// run starts the control plane and the operator, applies the samples and
// waits until they are Ready; then it returns (Once) or serves until ctx
// ends. Everything it started is stopped, and its files removed, before it
// returns.
func run(ctx context.Context, o options) (err error) {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	out := o.Out
	if err := o.validate(); err != nil {
		return err
	}
	objs, err := samples.Load(o.SamplesDir)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "Starting a local control plane (etcd, kube-apiserver from %s)...\n", displayPath(o.AssetsDir))
	started := time.Now()
	cp, err := controlplane.Start(controlplane.Options{AssetsDir: o.AssetsDir, CRDDir: o.CRDDir, Scheme: scheme})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "Stopping the control plane...")
		if stopErr := cp.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		} else {
			fmt.Fprintln(out, "Control plane stopped.")
		}
	}()
	cfg := cp.Config
	fmt.Fprintf(out, "Control plane up at %s (%s), CRDs installed.\n", cfg.Host, since(started))

	admin, err := cp.AddAdmin(devUser)
	if err != nil {
		return err
	}
	kubeconfig, err := controlplane.Kubeconfig(admin)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(o.KubeconfigOut, kubeconfig); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	defer removeIfUnchanged(o.KubeconfigOut, kubeconfig)

	// The operator, wired as cmd/main.go wires it; leader election, metrics
	// and health probes are off.
	cacheOpts, err := controller.CacheOptions()
	if err != nil {
		return err
	}
	skipNameValidation := true // run may be called more than once in one test binary
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
		Cache:                  cacheOpts,
		Controller:             config.Controller{SkipNameValidation: &skipNameValidation},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	// The manager has its own context so that it is stopped, and waited for,
	// before the control plane it talks to.
	mgrCtx, stopMgr := context.WithCancel(context.Background())
	defer stopMgr()
	shopsimURL, engine, stopShopsim, err := startShopsim(o)
	if err != nil {
		return err
	}
	defer stopShopsim()
	for _, u := range objs {
		// The samples' Shops reach the platform through this shopsim.
		if u.GetKind() == "Shop" {
			if err := unstructured.SetNestedField(u.Object, shopsimURL, "spec", "endpoint"); err != nil {
				return fmt.Errorf("pointing %s at shopsim: %w", ref(u), err)
			}
		}
	}
	factory := metrics.LimitedFactory(gateway.NewFactory(gateway.Options{UserAgent: "subaccount-operator-dev"}))
	if err := controller.Setup(mgrCtx, mgr, factory); err != nil {
		return err
	}
	mgrStopped := make(chan struct{})
	var mgrErr error
	go func() {
		defer close(mgrStopped)
		mgrErr = mgr.Start(mgrCtx)
	}()
	defer func() {
		fmt.Fprintln(out, "Stopping the operator...")
		stopMgr()
		<-mgrStopped
		if mgrErr != nil {
			err = errors.Join(err, fmt.Errorf("the operator failed: %w", mgrErr))
		}
	}()
	// work ends on a signal (ctx) or when the operator stops on its own.
	work, endWork := context.WithCancel(ctx)
	defer endWork()
	go func() {
		select {
		case <-mgrStopped:
			endWork()
		case <-work.Done():
		}
	}()
	operatorStopped := func() bool {
		select {
		case <-mgrStopped:
			return true
		default:
			return false
		}
	}
	fmt.Fprintf(out, "Operator started (gateway driver; shopsim at %s, its back-office page at %s/).\n", shopsimURL, shopsimURL)

	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("creating a client: %w", err)
	}
	// Every code shopsim texts, for the whole session: the samples' and the
	// user's own Douyin agents and notification contacts.
	printing, stopPrinting := context.WithCancel(context.Background())
	printed := make(chan struct{})
	go func() { defer close(printed); printCodes(printing, k8s, engine, o, out) }()
	defer func() { stopPrinting(); <-printed }()
	fmt.Fprintf(out, "Applying %d resources from %s in namespace %q:\n", len(objs), displayPath(o.SamplesDir), devNamespace)
	for _, u := range objs {
		namespaced, err := k8s.IsObjectNamespaced(u)
		if err != nil {
			return fmt.Errorf("%s: %w", ref(u), err)
		}
		if namespaced {
			u.SetNamespace(devNamespace)
		}
		if err := k8s.Create(work, u); err != nil {
			if operatorStopped() {
				return nil // the deferred stop reports the operator's error
			}
			if ctx.Err() != nil {
				return interrupted(o.Once)
			}
			return fmt.Errorf("creating %s: %w", ref(u), err)
		}
		fmt.Fprintf(out, "  created %s\n", ref(u))
	}

	// The samples' Douyin agents get an SMS code; make dev stands in for
	// their phones and hands each code over the conventional way.
	handing, stopHanding := context.WithCancel(work)
	handed := make(chan struct{})
	go func() { defer close(handed); handOverCodes(handing, k8s, engine, objs, out) }()
	waitErr := waitReady(work, k8s, objs, o.Timeout, out)
	stopHanding()
	<-handed
	switch {
	case operatorStopped():
		return errors.New("the operator stopped before every resource was Ready")
	case ctx.Err() != nil:
		return interrupted(o.Once)
	case waitErr != nil && o.Once:
		return waitErr
	case waitErr != nil:
		fmt.Fprintf(out, "WARNING: %v\nThe operator keeps running; the commands below show why.\n", waitErr)
	default:
		fmt.Fprintf(out, "Everything is Ready (%s since start).\n", since(started))
	}

	printInstructions(out, o, objs)

	if o.OnReady != nil && waitErr == nil {
		if err := o.OnReady(work); err != nil {
			return err
		}
	}
	if o.Once {
		fmt.Fprintln(out, "--once: stopping now.")
		return nil
	}
	fmt.Fprintln(out, "Serving; press Ctrl-C to stop the operator and the control plane.")
	<-work.Done()
	if operatorStopped() && ctx.Err() == nil {
		return errors.New("the operator stopped")
	}
	return nil
}

// interrupted is what run returns when a signal arrives before the samples
// are Ready: an error with --once (the job was not done), nil otherwise.
func interrupted(once bool) error {
	if once {
		return errors.New("interrupted before every resource was Ready")
	}
	return nil
}

func (o options) validate() error {
	if o.Timeout <= 0 {
		return fmt.Errorf("the timeout must be positive, not %s", o.Timeout)
	}
	if o.KubeconfigOut == "" {
		return errors.New("no kubeconfig output path")
	}
	if o.ShopsimConfig == "" || o.ShopsimListen == "" {
		return errors.New("the shopsim config and listen address are required")
	}
	if o.AssetsDir == "" {
		return errors.New("no control plane binaries directory: " + assetsHint)
	}
	for _, b := range controlPlaneBinaries {
		if !controlplane.IsExecutable(filepath.Join(o.AssetsDir, b)) {
			return fmt.Errorf("%s is not an executable: %s", filepath.Join(o.AssetsDir, b), assetsHint)
		}
	}
	return nil
}

const assetsHint = "run 'make dev', which builds etcd, kube-apiserver and kubectl into bin/k8s/ (hack/envtest-assets.sh), or set KUBEBUILDER_ASSETS"

// defaultAssetsDir is $KUBEBUILDER_ASSETS, else the only directory under
// root/bin/k8s holding the control plane binaries.
func defaultAssetsDir(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	candidates, _ := filepath.Glob(filepath.Join(root, "bin", "k8s", "*"))
	var found []string
	for _, dir := range candidates {
		complete := true
		for _, b := range controlPlaneBinaries {
			complete = complete && controlplane.IsExecutable(filepath.Join(dir, b))
		}
		if complete {
			found = append(found, dir)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", errors.New("KUBEBUILDER_ASSETS is not set and bin/k8s/ has no control plane: " + assetsHint)
	default:
		return "", fmt.Errorf("KUBEBUILDER_ASSETS is not set and bin/k8s/ has several control planes (%s): use 'make dev' or set KUBEBUILDER_ASSETS", strings.Join(found, ", "))
	}
}

// waitReady polls the samples of the operator's API group until each is
// Ready for its current generation, printing progress to out. It fails when
// they are not all Ready within timeout, naming those that are not and why.
func waitReady(ctx context.Context, c client.Reader, objs []*unstructured.Unstructured, timeout time.Duration, out io.Writer) error {
	var pending []*unstructured.Unstructured
	for _, u := range objs {
		if u.GroupVersionKind().Group == shopv1alpha1.GroupVersion.Group {
			pending = append(pending, u)
		}
	}
	started := time.Now()
	deadline := started.Add(timeout)
	lastReport := started
	fmt.Fprintf(out, "Waiting for %d resources to become Ready (timeout %s):\n", len(pending), timeout)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		why := map[string]string{}
		var still []*unstructured.Unstructured
		for _, want := range pending {
			ready, reason := readiness(ctx, c, want)
			if ready {
				fmt.Fprintf(out, "  %-30s Ready (%s)\n", ref(want), since(started))
				continue
			}
			still = append(still, want)
			why[ref(want)] = reason
		}
		pending = still
		if len(pending) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("not Ready within %s: %s", timeout, describe(why))
		}
		if time.Since(lastReport) >= reportInterval {
			fmt.Fprintf(out, "  still waiting (%s): %s\n", since(started), describe(why))
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// readiness reads obj and reports whether its Ready condition is True for
// its current generation, or why not.
func readiness(ctx context.Context, c client.Reader, obj *unstructured.Unstructured) (bool, string) {
	cur := &unstructured.Unstructured{}
	cur.SetGroupVersionKind(obj.GroupVersionKind())
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), cur); err != nil {
		return false, fmt.Sprintf("cannot read it: %v", err)
	}
	conds, _, _ := unstructured.NestedSlice(cur.Object, "status", "conditions")
	for _, raw := range conds {
		cond, _ := raw.(map[string]any)
		if cond["type"] != shopv1alpha1.ConditionReady {
			continue
		}
		status, _ := cond["status"].(string)
		if status != string(metav1.ConditionTrue) {
			return false, fmt.Sprintf("Ready=%s %v: %v", status, cond["reason"], cond["message"])
		}
		observed, _, _ := unstructured.NestedInt64(cur.Object, "status", "observedGeneration")
		if g, ok := cond["observedGeneration"].(int64); ok && g > observed {
			observed = g
		}
		if observed < cur.GetGeneration() {
			return false, fmt.Sprintf("Ready for generation %d, not yet for %d", observed, cur.GetGeneration())
		}
		return true, ""
	}
	return false, "no Ready condition yet"
}

func describe(why map[string]string) string {
	keys := make([]string, 0, len(why))
	for k := range why {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" ("+why[k]+")")
	}
	return strings.Join(parts, "; ")
}

// printInstructions prints the kubeconfig path and kubectl commands to look
// around. It names a Secret but never prints a secret value.
func printInstructions(out io.Writer, o options, objs []*unstructured.Unstructured) {
	kubectl := devKubectl(o)
	fmt.Fprintf(out, "\nKubeconfig (user %s): %s\n", devUser, displayPath(o.KubeconfigOut))
	fmt.Fprintln(out, "Look around:")
	fmt.Fprintf(out, "  %s get shopstaff\n", kubectl)
	fmt.Fprintf(out, "  %s get subaccounts -o wide\n", kubectl)
	for _, u := range objs {
		if u.GroupVersionKind() != shopv1alpha1.GroupVersion.WithKind("SubAccount") {
			continue
		}
		sa := &shopv1alpha1.SubAccount{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, sa); err != nil {
			continue
		}
		fmt.Fprintf(out, "  %s get secret %s -o jsonpath='{.data.username}' | base64 -d\n", kubectl, shellQuote(sa.CredentialsSecretName()))
		break
	}
	for _, u := range objs {
		if deps, _, _ := unstructured.NestedSlice(u.Object, "spec", "departments"); u.GroupVersionKind() == shopv1alpha1.GroupVersion.WithKind("Shop") && len(deps) > 0 {
			fmt.Fprintf(out, "  %s get shop %s -o jsonpath='{range .status.departments[*]}{.path}{\"\\t\"}{.id}{\"\\t\"}{.members}{\"\\n\"}{end}'\n",
				kubectl, shellQuote(u.GetName()))
			break
		}
	}
	fmt.Fprintln(out)
}

// devKubectl is the command line of the control plane's kubectl with the
// written kubeconfig.
func devKubectl(o options) string {
	return shellQuote(displayPath(filepath.Join(o.AssetsDir, "kubectl"))) + " --kubeconfig " + shellQuote(displayPath(o.KubeconfigOut))
}

func ref(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetName()
}

func since(t time.Time) string {
	return time.Since(t).Round(100 * time.Millisecond).String()
}

// writeFileAtomic writes data to path (mode 0600, creating its directory)
// through a temporary file, so a reader never sees half a kubeconfig.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kubeconfig-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// removeIfUnchanged removes path unless it no longer holds data (another dev
// session wrote its own kubeconfig there meanwhile).
func removeIfUnchanged(path string, data []byte) {
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
		_ = os.Remove(path)
	}
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

// displayPath shortens path to be relative to the working directory when it
// is inside it.
func displayPath(path string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(path) {
		return path
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return rel
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// startShopsim serves the platform gateway on loopback from an in-memory
// engine holding the configured shops, and returns its base URL and a stop
// function.
func startShopsim(o options) (string, *memory.Engine, func(), error) {
	shops, err := shopsim.LoadConfig(o.ShopsimConfig, os.Getenv)
	if err != nil {
		return "", nil, nil, err
	}
	engine := memory.NewEngine()
	if err := shopsim.AddShops(engine, shops, slog.New(slog.DiscardHandler)); err != nil {
		return "", nil, nil, err
	}
	ln, err := net.Listen("tcp", o.ShopsimListen)
	if err != nil {
		return "", nil, nil, fmt.Errorf("shopsim: %w (is another 'make dev' running? see --shopsim-listen)", err)
	}
	// shopsim is the employees' phones here: its page shows the codes it texts.
	srv := &http.Server{Handler: shopsim.New(engine, shopsim.Options{ShowSMSCodes: true}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), engine, stop, nil
}

// printCodes prints every verification code shopsim's SMS stand-in sends,
// when it is sent, with the command that hands it over: under make dev
// shopsim plays the employees' phones, so a Douyin SubAccount or a Shop's
// notification contact the user adds can be verified by hand. The lines
// are marked as the simulator's; the operator never sees or logs a code.
func printCodes(ctx context.Context, c client.Reader, engine *memory.Engine, o options, out io.Writer) {
	shown := map[string]time.Time{} // phone → sentAt of the code printed
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		outbox := engine.Outbox()
		phones := make([]string, 0, len(outbox))
		for phone, m := range outbox {
			if !shown[phone].Equal(m.SentAt) {
				phones = append(phones, phone)
			}
		}
		sort.Strings(phones)
		for _, phone := range phones {
			m := outbox[phone]
			shown[phone] = m.SentAt
			fmt.Fprintf(out, "  [shopsim SMS, a simulated phone] code %s texted to %s at %s\n",
				m.Code, memory.MaskPhone(phone), m.SentAt.UTC().Format("15:04:05Z"))
			for _, hint := range verifyCommands(ctx, c, phone, m.Code, o) {
				fmt.Fprintf(out, "      %s\n", hint)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// verifyCommands are the commands that hand code over for each SubAccount
// and Shop notification contact with that phone (the plugin's flags go
// after its subcommand: kubectl refuses them before a plugin's name).
func verifyCommands(ctx context.Context, c client.Reader, phone, code string, o options) []string {
	plugin := func(target string, ns string) string {
		return fmt.Sprintf("kubectl subaccount verify %s %s -n %s --kubeconfig %s", target, code, shellQuote(ns), shellQuote(displayPath(o.KubeconfigOut)))
	}
	var cmds []string
	subaccounts := &shopv1alpha1.SubAccountList{}
	if err := c.List(ctx, subaccounts); err == nil {
		for _, sa := range subaccounts.Items {
			if sa.Spec.Phone == phone {
				// The operator reads only a Secret labelled as a code.
				secret := shellQuote(sa.Name + shopv1alpha1.VerificationSecretSuffix)
				cmds = append(cmds, fmt.Sprintf("%s create secret generic -n %s %s --from-literal=code=%s && %s label secret -n %s %s %s=verification",
					devKubectl(o), shellQuote(sa.Namespace), secret, code, devKubectl(o), shellQuote(sa.Namespace), secret, shopv1alpha1.LabelSecretRole),
					"or: "+plugin(shellQuote(sa.Name), sa.Namespace))
			}
		}
	}
	shops := &shopv1alpha1.ShopList{}
	if err := c.List(ctx, shops); err == nil {
		for _, s := range shops.Items {
			for _, contact := range s.Spec.NotificationContacts {
				if contact.Phone == phone {
					cmds = append(cmds, plugin(shellQuote("shop/"+s.Name)+" --contact "+phone, s.Namespace))
				}
			}
		}
	}
	return cmds
}

// handOverCodes plays the employees of the samples' SubAccounts that wait
// for an SMS code (Douyin): it reads the code shopsim sent to the phone
// from its outbox and puts it in Secret "<name>-verification", key "code",
// as a person would (kubectl create secret generic ... or kubectl
// subaccount verify); the operator enters it and deletes the Secret. Each
// code is handed over once (printCodes prints it, as shopsim's).
func handOverCodes(ctx context.Context, c client.Client, engine *memory.Engine, objs []*unstructured.Unstructured, out io.Writer) {
	handed := map[string]time.Time{} // SubAccount → sentAt of the code handed over
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		for _, u := range objs {
			if u.GetKind() != "SubAccount" || u.GroupVersionKind().Group != shopv1alpha1.GroupVersion.Group {
				continue
			}
			sa := &shopv1alpha1.SubAccount{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(u), sa); err != nil {
				continue
			}
			v := sa.Status.Verification
			cond := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionVerified)
			if v == nil || v.Verified || cond == nil || cond.Reason != shopv1alpha1.ReasonPendingVerification || sa.Spec.Phone == "" {
				continue
			}
			code, sentAt, ok := engine.SMS(sa.Spec.Phone)
			if !ok || handed[sa.Name].Equal(sentAt) {
				continue
			}
			name := sa.Name + shopv1alpha1.VerificationSecretSuffix
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: sa.Namespace, Name: name,
				Labels: map[string]string{shopv1alpha1.LabelSecretRole: shopv1alpha1.SecretRoleVerification}},
				StringData: map[string]string{shopv1alpha1.SecretKeyCode: code}}
			if err := c.Create(ctx, secret); err != nil {
				continue
			}
			handed[sa.Name] = sentAt
			fmt.Fprintf(out, "  handed the SMS code texted to %s over in Secret %s, as the employee would (make dev stands in for the phone)\n",
				v.Phone, name)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
