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

package manager

import (
	"flag"
	"testing"

	"k8s.io/client-go/rest"
)

// TestClientRateLimit: the default client limit is 500/1000 per resource,
// and 0 or less turns it off (client-go reads 0 as its own default of 5 and
// only a negative QPS as none).
func TestClientRateLimit(t *testing.T) {
	for _, c := range []struct {
		args  []string
		qps   float32
		burst int
	}{
		{nil, 500, 1000},
		{[]string{"--kube-api-qps=50", "--kube-api-burst=100"}, 50, 100},
		{[]string{"--kube-api-qps=0"}, -1, 1000},
		{[]string{"--kube-api-qps=-1"}, -1, 1000},
	} {
		var tu tuning
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		tu.bindFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		cfg := tu.restConfig(&rest.Config{Host: "https://example"})
		if cfg.QPS != c.qps || cfg.Burst != c.burst {
			t.Errorf("%v: QPS %v, burst %d; want %v, %d", c.args, cfg.QPS, cfg.Burst, c.qps, c.burst)
		}
	}
}
