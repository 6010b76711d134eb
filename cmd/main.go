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

// Command manager runs the subaccount-operator controllers.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"runtime/debug"

	// Mozilla's root certificates, used only when the system has none: the
	// image ('make image') has no CA bundle, and the manager speaks TLS to
	// each Shop's gateway and to Taobao's TOP. SSL_CERT_FILE (a mounted
	// bundle, e.g. for a private CA) takes precedence.
	_ "golang.org/x/crypto/x509roots/fallback"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/controller"
	"github.com/subaccount-operator/subaccount-operator/internal/metrics"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/pinduoduo"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(shopv1alpha1.AddToScheme(scheme))
}

func main() {
	var (
		metricsAddr, probeAddr string
		secureMetrics          bool
		enableLeaderElection   bool
		leaderElectionNS       string
		driver                 string
		memorySeats            int
		tuning                 tuning
		leaderElectionID       string
		watchNamespaces        string
		shardSelector          string
		allowedEndpointHosts   string
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address the metrics endpoint binds to, e.g. :8443 (https) or :8080 (http); 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health probe endpoint binds to.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over https with authentication and authorization.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", true, "Elect a leader so that only one replica reconciles at a time.")
	flag.StringVar(&leaderElectionNS, "leader-election-namespace", "", "Namespace of the leader election Lease; empty = the namespace the manager runs in (required outside a cluster).")
	flag.StringVar(&driver, "platform-driver", "gateway", "How shops are reached: gateway (the platform gateway protocol at each Shop's spec.endpoint, e.g. shopsim) or memory (an in-process simulator for demos).")
	flag.StringVar(&leaderElectionID, "leader-election-id", "subaccount-operator.shop.subaccount.io", "Name of the leader election Lease; each shard (each install) needs its own.")
	flag.StringVar(&watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces to watch (e.g. shop-a,shop-b); empty watches all namespaces.")
	flag.StringVar(&shardSelector, "shard-selector", "", "Label selector of the Shops, Roles and SubAccounts this manager reconciles (e.g. 'shard=a'); a Role or SubAccount follows its Shop's shard by carrying the same labels. Empty reconciles all. See docs/sharding.md.")
	flag.IntVar(&memorySeats, "memory-seat-quota", 20, "Seat quota of each shop in the memory driver.")
	flag.StringVar(&allowedEndpointHosts, "allowed-endpoint-hosts", "", "Comma-separated endpoint hosts Shops may name, e.g. '*.example.com,gateway.internal:8443' "+
		"(a host, '*.' for any host under a domain, ':port' for that port only); a Shop whose endpoint (or its platform's default) is not allowed is Stalled "+
		"and never called. Empty allows every host.")
	tuning.bindFlags(flag.CommandLine)
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	if limit, err := softMemoryLimit(os.DirFS("/"), os.Getenv("GOMEMLIMIT"), tuning.memoryLimitRatio); err != nil {
		log.Error(err, "the container's memory limit is unreadable; the Go runtime's memory limit is left alone")
	} else if limit > 0 {
		debug.SetMemoryLimit(limit)
		log.Info("soft memory limit set from the container's limit", "bytes", limit, "ratio", tuning.memoryLimitRatio)
	}

	scope, err := controller.ParseScope(watchNamespaces, shardSelector)
	if err != nil {
		log.Error(err, "invalid flags")
		os.Exit(2)
	}
	allowed, err := platform.ParseEndpointHosts(allowedEndpointHosts)
	if err != nil {
		log.Error(err, "invalid flags")
		os.Exit(2)
	}
	factory, err := platformFactory(driver, int32(memorySeats), allowed)
	if err != nil {
		log.Error(err, "invalid flags")
		os.Exit(2)
	}
	if err := run(metricsAddr, probeAddr, secureMetrics, enableLeaderElection, leaderElectionID, leaderElectionNS, scope, factory, driver, allowed, tuning); err != nil {
		log.Error(err, "manager stopped")
		os.Exit(1)
	}
}

func run(metricsAddr, probeAddr string, secureMetrics, leaderElect bool, leaderElectionID, leaderElectionNS string, scope controller.Scope,
	factory platform.Factory, driver string, allowed platform.EndpointHosts, tune tuning) error {
	cacheOpts, err := scope.CacheOptions()
	if err != nil {
		return err
	}
	metricsOpts := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		TLSOpts:       []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(tune.restConfig(ctrl.GetConfigOrDie()), ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        leaderElectionID,
		LeaderElectionNamespace: leaderElectionNS,
		Cache:                   cacheOpts,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	// Shops' open-platform apps (Pinduoduo) are held to the same allowed
	// endpoint hosts as their gateways.
	open := pinduoduo.NewClient(pinduoduo.Options{AllowedHosts: allowed})
	if err := controller.Setup(context.Background(), mgr, factory, append(tune.options(), controller.WithScope(scope),
		controller.WithOpenPlatform(open))...); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the ready check: %w", err)
	}
	ctrl.Log.WithName("setup").Info("starting manager", "platformDriver", driver, "leaderElection", leaderElect,
		"leaderElectionID", leaderElectionID, "scope", scope.String(), "allowedEndpointHosts", allowed.String())
	return mgr.Start(ctrl.SetupSignalHandler())
}

// platformFactory picks the platform driver. Every driver's calls are timed
// (metrics.InstrumentFactory) inside the per-shop rate limiter the Shop spec
// configures, so call durations exclude waits for the limiter; the waits
// are observed through the limiter's OnWait hook. Outside them all, a
// Shop whose endpoint host is not allowed is refused before any of it
// runs (platform.RestrictEndpoints; an empty list allows every host).
func platformFactory(driver string, memorySeats int32, allowed platform.EndpointHosts) (platform.Factory, error) {
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
	limited := platform.NewLimitedFactory(metrics.InstrumentFactory(inner))
	limited.OnWait = metrics.ObserveRateLimitWait
	return platform.RestrictEndpoints(limited, allowed), nil
}
