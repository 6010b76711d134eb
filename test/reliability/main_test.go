//go:build reliability

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

// Package reliability is the reliability suite of issue 6 ('make
// test-reliability'): the real manager and shopsim binaries against a local
// control plane (test/internal/harness, shared with test/e2e), put through
// crashes, platform faults, bad credentials, out-of-band drift, a leader
// hand-over and deletion under pressure. docs/reliability.md has the
// scenarios and the figures of the last runs.
//
// RELIABILITY_SCALE=small (what .ci/run uses) runs every scenario with
// fewer objects and kills, in a few minutes; the default is the full size.
// Every test logs its figures as "figure: ..." lines.
//
// The tests run in file order; TestSecretHygiene (zz_hygiene_test.go) is
// last and searches everything the run wrote.
package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// env is the harness's environment.
var env = harness.E

// watches are the kubectl watches of Events and statuses.
var watches []*harness.Watch

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, "reliability", func(e *harness.Env) error {
		cfg := filepath.Join(e.WorkDir, "shops.yaml")
		if err := os.WriteFile(cfg, []byte(shopsimConfig()), 0o600); err != nil {
			return err
		}
		for _, what := range harness.Watched {
			w, err := e.Watch(what, what)
			if err != nil {
				return err
			}
			watches = append(watches, w)
		}
		if _, err := e.StartShopsim(harness.ShopsimOptions{Config: cfg}); err != nil {
			return err
		}
		return startManager()
	}))
}

// shops are every shop of the run, by name; their main account is the name.
var shops = map[string]harness.Shop{}

// shopNames lists the shops each scenario uses.
func shopNames() []string {
	var names []string
	for i := range scale.crashShops {
		names = append(names, fmt.Sprintf("crash-%d", i))
	}
	return append(names, "baseline", "faulted", "creds-good", "creds-bad", "drift", "ha", "deletion")
}

// shopsimConfig declares every shop with credentials of its own.
func shopsimConfig() string {
	var b strings.Builder
	b.WriteString("shops:\n")
	for _, name := range shopNames() {
		s := harness.Shop{
			Platform:    platform.Taobao,
			MainAccount: name,
			AppKey:      "key-" + name,
			AppSecret:   "app-secret-" + name + "-" + randomString(12),
			AccessToken: "access-token-" + name + "-" + randomString(12),
		}
		shops[name] = s
		s.RememberSecrets()
		fmt.Fprintf(&b, "  - platform: %s\n    mainAccount: %s\n    seatQuota: 2000\n    appKey: %q\n    appSecret: %q\n    accessToken: %q\n",
			s.Platform, s.MainAccount, s.AppKey, s.AppSecret, s.AccessToken)
	}
	return b.String()
}
