//go:build e2e

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

// Package e2e is the end-to-end suite ('make test-e2e'): the real manager
// and shopsim binaries, built from ./cmd, against a local control plane
// (envtest's etcd and kube-apiserver), driven only with the project's
// kubectl and shopsim's signed HTTP API. The machinery (processes,
// kubectl, shopsim's API, the secret hygiene search) is test/internal/harness,
// shared with test/reliability.
//
// TestMain builds both binaries, starts the control plane, starts shopsim
// on a free loopback port with a state file and the example shops, starts
// the manager with the gateway driver (its metrics on a loopback port) and
// waits for /readyz. Both
// processes' output goes to files under a temporary directory; their tails
// are printed when a test fails. The temporary directory is removed unless
// a test failed or E2E_KEEP is set.
//
// Run it once per process (-count=1, as 'make test-e2e' does): the
// platform's account names are unique per shop, and TestSecretHygiene,
// the last test, stops the manager and shopsim to search their output.
package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// suite is what this suite's setup started.
var suite struct {
	manager   *harness.Proc
	watches   []*harness.Watch
	stateFile string
	// shopsimConfig is the example shops plus the conformance suite's.
	shopsimConfig string
	// metricsAddr is the manager's /metrics, plain http on loopback.
	metricsAddr string
}

// env is the harness's environment.
var env = harness.E

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, "e2e", func(e *harness.Env) error {
		suite.stateFile = filepath.Join(e.WorkDir, "shopsim-state.json")
		var err error
		if suite.shopsimConfig, err = writeShopsimConfig(e.WorkDir); err != nil {
			return err
		}
		// Every Event and every version of the operator's objects, for
		// TestSecretHygiene.
		for _, what := range harness.Watched {
			w, err := e.Watch(what, what)
			if err != nil {
				return err
			}
			suite.watches = append(suite.watches, w)
		}
		if err := startShopsim(); err != nil {
			return err
		}
		// Metrics over plain http on loopback, scraped by TestMetrics.
		suite.manager, err = e.StartManager(harness.ManagerOptions{Name: "manager", Metrics: true})
		if err == nil {
			suite.metricsAddr = suite.manager.MetricsAddr
		}
		return err
	}))
}

// startShopsim starts shopsim (again: same address and state file) with
// the example shops and the conformance suite's, and waits until it
// answers.
func startShopsim() error {
	_, err := env.StartShopsim(harness.ShopsimOptions{
		Config:    suite.shopsimConfig,
		StateFile: suite.stateFile,
	})
	return err
}

// stopShopsim stops shopsim with SIGTERM (a graceful shutdown that
// flushes the state file) and returns its exit error.
func stopShopsim() error {
	return env.Shopsim().Stop()
}
