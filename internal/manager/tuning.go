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
	"time"

	"k8s.io/client-go/rest"

	"github.com/subaccount-operator/subaccount-operator/internal/controller"
)

// Defaults of the API client's rate limit, per resource. The API server
// protects itself with API Priority and Fairness (the manager's service
// account is in its service-accounts FlowSchema, priority level
// workload-low, which queues and, past its queues, rejects with 429 and
// Retry-After, which client-go honours); a client limit below what the
// server takes only makes a wave wait on the client. The earlier 50/100
// held a wave of 10,000 SubAccounts to 25 a second (two SubAccount writes
// each) while the API server had room for several times that
// (docs/benchmarks.md, issue 19); 500 per resource is above what one API
// server and its etcd take for these writes, so it never binds before the
// server does, and still caps a runaway loop.
const (
	defaultKubeAPIQPS   = 500
	defaultKubeAPIBurst = 1000
)

// tuning holds the manager's performance knobs (docs/benchmarks.md).
type tuning struct {
	qps         float64
	burst       int
	concurrency controller.Concurrency
	batchDelay  time.Duration
	// memoryLimitRatio of the container's memory limit becomes the Go
	// runtime's soft memory limit (memlimit.go).
	memoryLimitRatio float64
}

func (t *tuning) bindFlags(fs *flag.FlagSet) {
	fs.Float64Var(&t.qps, "kube-api-qps", defaultKubeAPIQPS,
		"Requests per second the manager's API client may send to the API server (each resource has its own budget); 0 or less turns the client-side limit off and leaves the pacing to the API server's priority and fairness.")
	fs.IntVar(&t.burst, "kube-api-burst", defaultKubeAPIBurst, "Burst of the manager's API client rate limit.")
	fs.IntVar(&t.concurrency.SubAccount, "subaccount-concurrency", controller.DefaultConcurrency.SubAccount,
		"SubAccounts reconciled at once. The queue serves shops in turn and offboardings first, so a busy shop cannot hold every worker.")
	fs.IntVar(&t.concurrency.Role, "role-concurrency", controller.DefaultConcurrency.Role, "Roles reconciled at once.")
	fs.IntVar(&t.concurrency.Shop, "shop-concurrency", controller.DefaultConcurrency.Shop, "Shops reconciled at once.")
	fs.IntVar(&t.concurrency.Staff, "staff-concurrency", controller.DefaultConcurrency.Staff,
		"Staff (people) reconciled at once. An offboarding goes first and writes its SubAccounts in parallel.")
	fs.DurationVar(&t.batchDelay, "status-batch-delay", controller.DefaultStatusBatchDelay,
		"How long a Shop's seat counts and a Role's member count wait to collect a burst of SubAccount changes before they are written.")
	fs.Float64Var(&t.memoryLimitRatio, "memory-limit-ratio", 0.9,
		"Fraction of the container's memory limit (cgroup) set as the Go runtime's soft memory limit, so the garbage collector works harder before the kernel would kill the process; 0 turns it off, and a GOMEMLIMIT environment variable always wins.")
}

// restConfig applies the client rate limit to cfg.
func (t tuning) restConfig(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = clientQPS(t.qps), t.burst
	return cfg
}

// clientQPS is rest.Config's QPS for qps: client-go takes 0 for its own
// default (5) and only a negative value for no limit.
func clientQPS(qps float64) float32 {
	if qps <= 0 {
		return -1
	}
	return float32(qps)
}

// options are the controller options of the tuning.
func (t tuning) options() []controller.Option {
	return []controller.Option{controller.WithConcurrency(t.concurrency), controller.WithStatusBatchDelay(t.batchDelay)}
}
