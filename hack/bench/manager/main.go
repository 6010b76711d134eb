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

// Command manager is the bench's manager: the operator's manager as
// cmd/main.go runs it (internal/manager, the same flags), with the bench's
// instruments attached (hack/bench/internal/probe). It serves its figures
// as JSON on a loopback port whose address it prints as its first line on
// stdout. 'make bench' builds it next to the bench, which runs it.
//
// Its own flags, besides the manager's:
//
//	--profile-dir DIR   write each phase's profiles and trace into DIR
//	--cpus 1,2          run on these CPUs only (GOMAXPROCS follows)
//	--sync-period D     the cache's resync period (the steady state's)
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	// As cmd/main.go: the fallback roots and the client auth plugins are
	// part of the manager that ships.
	_ "golang.org/x/crypto/x509roots/fallback"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/subaccount-operator/subaccount-operator/hack/bench/internal/probe"
	"github.com/subaccount-operator/subaccount-operator/internal/manager"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func main() {
	profileDir := flag.String("profile-dir", "", "Write each phase's profiles and execution trace into this directory.")
	cpus := flag.String("cpus", "", "Comma-separated CPUs to run on (GOMAXPROCS follows); empty runs on every CPU.")
	syncPeriod := flag.Duration("sync-period", 0, "The cache's resync period; 0 keeps controller-runtime's.")
	var in *probe.Instruments
	hooks := manager.Hooks{
		// The manager has parsed the flags when it asks for its client's
		// config, and made nothing yet.
		Config: func(cfg *rest.Config) {
			if err := start(&in, *profileDir, *cpus); err != nil {
				fmt.Fprintf(os.Stderr, "bench manager: %v\n", err)
				os.Exit(1)
			}
			cfg.Wrap(in.Writes.Wrap)
		},
		Cache: func(o *cache.Options) {
			if *syncPeriod > 0 {
				o.SyncPeriod = syncPeriod
			}
		},
		Limited: func(f *platform.LimitedFactory) {
			f.OnUrgentWait = func(shop string, d time.Duration) {
				if in != nil {
					in.Urgent.Observe(shop, d)
				}
			}
		},
	}
	os.Exit(manager.Main(hooks))
}

// start pins the process to cpus, makes the instruments and serves them.
func start(in **probe.Instruments, profileDir, cpus string) error {
	if cpus != "" {
		var set []int
		for _, c := range strings.Split(cpus, ",") {
			n, err := strconv.Atoi(c)
			if err != nil {
				return fmt.Errorf("--cpus: %w", err)
			}
			set = append(set, n)
		}
		if err := probe.PinProcess("self", set); err != nil {
			return err
		}
		runtime.GOMAXPROCS(len(set))
	}
	instruments, err := probe.NewInstruments(profileDir)
	if err != nil {
		return err
	}
	*in = instruments
	go instruments.Sample(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: instruments.Handler()}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(ln.Addr().String())
	return nil
}
