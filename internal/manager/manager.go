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

// Package manager is the operator's manager process: its flags, and the
// controller-runtime manager wired with the controllers, the platform
// drivers and the metrics endpoint's guard. cmd/main.go runs it; the
// bench's manager (hack/bench-manager) runs the same with its instruments
// attached through Hooks, so the bench measures what ships.
package manager

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"runtime/debug"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/controller"
	"github.com/subaccount-operator/subaccount-operator/internal/metrics"
	"github.com/subaccount-operator/subaccount-operator/internal/metricsauth"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/pinduoduo"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao"
)

// Scheme holds the kinds the manager reads and writes: client-go's and
// the operator's.
var Scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(Scheme))
	utilruntime.Must(shopv1alpha1.AddToScheme(Scheme))
}

// Hooks let a caller watch the manager from inside its process without
// changing what it does. The zero value is the manager as it ships.
type Hooks struct {
	// Config, when set, may wrap the API client's transport (the bench
	// counts the manager's writes) before the manager is made.
	Config func(*rest.Config)
	// Cache, when set, may change the cache's options (the bench's steady
	// state resyncs every drift interval).
	Cache func(*cache.Options)
	// Limited, when set, is given the per-shop rate-limited platform
	// factory (the bench times the waits of urgent calls).
	Limited func(*platform.LimitedFactory)
}

// flags are the manager's command-line flags.
type flags struct {
	metricsAddr, probeAddr string
	secureMetrics          bool
	leaderElect            bool
	leaderElectionNS       string
	leaderElectionID       string
	driver                 string
	memorySeats            int
	watchNamespaces        string
	shardSelector          string
	allowedEndpointHosts   string
	tuning                 tuning
	zap                    zap.Options
}

func (f *flags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", "0", "Address the metrics endpoint binds to, e.g. :8443 (https) or :8080 (http); 0 disables it.")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "Address the health probe endpoint binds to.")
	fs.BoolVar(&f.secureMetrics, "metrics-secure", true, "Serve metrics over https with authentication and authorization.")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "Elect a leader so that only one replica reconciles at a time.")
	fs.StringVar(&f.leaderElectionNS, "leader-election-namespace", "", "Namespace of the leader election Lease; empty = the namespace the manager runs in (required outside a cluster).")
	fs.StringVar(&f.driver, "platform-driver", "gateway", "How shops are reached: gateway (the platform gateway protocol at each Shop's spec.endpoint, e.g. shopsim) or memory (an in-process simulator for demos).")
	fs.StringVar(&f.leaderElectionID, "leader-election-id", "subaccount-operator.shop.subaccount.io", "Name of the leader election Lease; each shard (each install) needs its own.")
	fs.StringVar(&f.watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces to watch (e.g. shop-a,shop-b); empty watches all namespaces.")
	fs.StringVar(&f.shardSelector, "shard-selector", "", "Label selector of the Shops, Roles and SubAccounts this manager reconciles (e.g. 'shard=a'); a Role or SubAccount follows its Shop's shard by carrying the same labels. Empty reconciles all. See docs/sharding.md.")
	fs.IntVar(&f.memorySeats, "memory-seat-quota", 20, "Seat quota of each shop in the memory driver.")
	fs.StringVar(&f.allowedEndpointHosts, "allowed-endpoint-hosts", "", "Comma-separated endpoint hosts Shops may name, e.g. '*.example.com,gateway.internal:8443' "+
		"(a host, '*.' for any host under a domain, ':port' for that port only); a Shop whose endpoint (or its platform's default) is not allowed is Stalled "+
		"and never called. Empty allows every host.")
	f.tuning.bindFlags(fs)
	f.zap.BindFlags(fs)
}

// Main parses the command line's flags (flag.CommandLine, where
// controller-runtime also registers --kubeconfig; a caller may add its own
// before) and runs the manager until SIGTERM or SIGINT. It returns the
// process's exit code: 2 for invalid flags, 1 when the manager stopped on
// an error.
func Main(hooks Hooks) int {
	var f flags
	f.bind(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&f.zap)))
	log := ctrl.Log.WithName("setup")

	if limit, err := softMemoryLimit(os.DirFS("/"), os.Getenv("GOMEMLIMIT"), f.tuning.memoryLimitRatio); err != nil {
		log.Error(err, "the container's memory limit is unreadable; the Go runtime's memory limit is left alone")
	} else if limit > 0 {
		debug.SetMemoryLimit(limit)
		log.Info("soft memory limit set from the container's limit", "bytes", limit, "ratio", f.tuning.memoryLimitRatio)
	}

	scope, err := controller.ParseScope(f.watchNamespaces, f.shardSelector)
	if err != nil {
		log.Error(err, "invalid flags")
		return 2
	}
	allowed, err := platform.ParseEndpointHosts(f.allowedEndpointHosts)
	if err != nil {
		log.Error(err, "invalid flags")
		return 2
	}
	factory, err := platformFactory(f.driver, int32(f.memorySeats), allowed, hooks.Limited)
	if err != nil {
		log.Error(err, "invalid flags")
		return 2
	}
	if err := run(ctrl.SetupSignalHandler(), f, scope, factory, allowed, hooks); err != nil {
		log.Error(err, "manager stopped")
		return 1
	}
	return 0
}

func run(ctx context.Context, f flags, scope controller.Scope, factory platform.Factory, allowed platform.EndpointHosts, hooks Hooks) error {
	cacheOpts, err := scope.CacheOptions()
	if err != nil {
		return err
	}
	if hooks.Cache != nil {
		hooks.Cache(&cacheOpts)
	}
	metricsOpts := metricsserver.Options{
		BindAddress:   f.metricsAddr,
		SecureServing: f.secureMetrics,
		TLSOpts:       []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if f.secureMetrics {
		// TokenReview and SubjectAccessReview, as controller-runtime's
		// filters.WithAuthenticationAndAuthorization, without k8s.io/apiserver.
		metricsOpts.FilterProvider = metricsauth.New
	}
	cfg := f.tuning.restConfig(ctrl.GetConfigOrDie())
	if hooks.Config != nil {
		hooks.Config(cfg)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  Scheme,
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  f.probeAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        f.leaderElectionID,
		LeaderElectionNamespace: f.leaderElectionNS,
		// The process ends when the manager stops, so the Lease is let go
		// at once: a rolling update's new leader starts within seconds,
		// not after the Lease's 15 s.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         cacheOpts,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	// Shops' open-platform apps (Pinduoduo) are held to the same allowed
	// endpoint hosts as their gateways.
	open := pinduoduo.NewClient(pinduoduo.Options{AllowedHosts: allowed})
	if err := controller.Setup(ctx, mgr, factory, append(f.tuning.options(), controller.WithScope(scope),
		controller.WithOpenPlatform(open))...); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the ready check: %w", err)
	}
	ctrl.Log.WithName("setup").Info("starting manager", "platformDriver", f.driver, "leaderElection", f.leaderElect,
		"leaderElectionID", f.leaderElectionID, "scope", scope.String(), "allowedEndpointHosts", allowed.String())
	return mgr.Start(ctx)
}

// platformFactory picks the platform driver. Every driver's calls are timed
// (metrics.InstrumentFactory) inside the per-shop rate limiter the Shop spec
// configures, so call durations exclude waits for the limiter; the waits
// are observed through the limiter's OnWait hook. Outside them all, a
// Shop whose endpoint host is not allowed is refused before any of it
// runs (platform.RestrictEndpoints; an empty list allows every host).
func platformFactory(driver string, memorySeats int32, allowed platform.EndpointHosts, hook func(*platform.LimitedFactory)) (platform.Factory, error) {
	var inner platform.Factory
	switch driver {
	case "gateway":
		// Shops with spec.api TOP speak Taobao's own open API instead.
		inner = platform.APIFactory{
			Default: gateway.NewFactory(gateway.Options{UserAgent: "subaccount-operator"}),
			ByAPI:   map[string]platform.Factory{string(shopv1alpha1.ShopAPITOP): taobao.NewFactory(taobao.Options{})},
		}
	case "memory":
		inner = memory.NewEngine().AutoRegisterFactory(memorySeats)
	default:
		return nil, fmt.Errorf("unknown --platform-driver %q (known: gateway, memory)", driver)
	}
	limited := metrics.LimitedFactory(inner)
	if hook != nil {
		hook(limited)
	}
	return platform.RestrictEndpoints(limited, allowed), nil
}
