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

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// scrape reads the manager's /metrics and parses the text exposition.
func scrape() (map[string]*dto.MetricFamily, error) {
	resp, err := httpClient.Get("http://" + suite.metricsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET /metrics: %s: %.200s", resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// sample is one series' value: a counter's or gauge's value, a
// histogram's sample count.
type sample struct {
	labels map[string]string
	value  float64
	sum    float64 // histograms only
}

// seriesOf returns the series of family name whose labels include want.
func seriesOf(families map[string]*dto.MetricFamily, name string, want map[string]string) []sample {
	f, ok := families[name]
	if !ok {
		return nil
	}
	var out []sample
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		s := sample{labels: labels}
		switch {
		case m.Counter != nil:
			s.value = m.GetCounter().GetValue()
		case m.Gauge != nil:
			s.value = m.GetGauge().GetValue()
		case m.Histogram != nil:
			s.value = float64(m.GetHistogram().GetSampleCount())
			s.sum = m.GetHistogram().GetSampleSum()
		}
		out = append(out, s)
	}
	return out
}

// total sums the values of the series of name whose labels include want.
func total(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	sum := 0.0
	for _, s := range seriesOf(families, name, want) {
		sum += s.value
	}
	return sum
}

// one returns the value of the single series of name with exactly the
// labels want, or an error.
func one(families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, error) {
	for _, s := range seriesOf(families, name, want) {
		if len(s.labels) == len(want) {
			return s.value, nil
		}
	}
	return 0, fmt.Errorf("no series %s%v in the scrape (%d series of %s)", name, want, len(seriesOf(families, name, nil)), name)
}

// TestMetrics scrapes the manager's /metrics during the run and checks the
// operator's metrics (docs/observability.md) against what the run did: the
// samples' platform calls and latencies, rate-limit waits, SubAccounts by
// condition, the shops' seats, a drift correction it provokes on a
// Pinduoduo account, a Douyin agent whose SMS code is pending, and no
// Event dropped for a full queue.
func TestMetrics(t *testing.T) {
	g := begin(t)
	samplesNS := samples(t)
	ns := namespace(t, "e2e-metrics")

	kubectlIn(t, shopYAML(pdd, "pdd-api", "pdd", "")+"---\n"+shopYAML(douyin, "douyin-api", "douyin", "")+`
---
apiVersion: shop.subaccount.io/v1alpha1
kind: SubAccount
metadata:
  name: metrics-drift
spec:
  shopRef: {name: pdd}
  accountName: metrics-drift
  deletionPolicy: Delete
---
apiVersion: shop.subaccount.io/v1alpha1
kind: Role
metadata:
  name: cs
spec:
  shopRef: {name: douyin}
  displayName: 客服岗
  template: customer-service
---
apiVersion: shop.subaccount.io/v1alpha1
kind: SubAccount
metadata:
  name: metrics-agent
spec:
  shopRef: {name: douyin}
  accountName: metrics-agent
  phone: "13900139001"
  roles: [{name: cs}]
`, "apply", "-n", ns, "-f", "-")
	waitReady(t, ns, "shop/pdd", "shop/douyin", "subaccount/metrics-drift", "shoprole/cs")
	kubectl(t, "wait", "-n", ns, "subaccount/metrics-agent", "--timeout=60s", `--for=jsonpath={.status.conditions[?(@.type=="Verified")].reason}=PendingVerification`)

	// Drift: disable the account in the back office, then ask for a drift
	// check; the operator enables it again.
	id := jsonpath(t, ns, "subaccount/metrics-drift", "{.status.accountID}")
	g.Expect(id).NotTo(BeEmpty())
	_, err := pdd.Call(http.MethodPut, strings.Replace(wire.PathStatus, "{id}", url.PathEscape(id), 1), nil, wire.AccountStatus{Disabled: true}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	requested := strconv.FormatInt(time.Now().UnixNano(), 10)
	kubectl(t, "annotate", "-n", ns, "shop/pdd", "--overwrite", "shop.subaccount.io/requested-at="+requested)
	g.Eventually(func() (bool, error) {
		a, _, err := pdd.AccountByName("metrics-drift")
		return a.Disabled, err
	}).Should(BeFalse(), "the drift was not corrected on shopsim")

	hongxingShop := map[string]string{"namespace": samplesNS, "shop": "hongxing"}
	// The SubAccounts of config/samples' Taobao shop (they are all Ready).
	sampleSubAccounts := float64(len(strings.Fields(kubectl(t, "get", "subaccounts", "-n", samplesNS,
		"-o", `jsonpath={.items[?(@.spec.shopRef.name=="hongxing")].metadata.name}`))))
	g.Expect(sampleSubAccounts).To(BeNumerically(">=", 2))
	withPlatform := func(m map[string]string, p string) map[string]string {
		out := map[string]string{"platform": p}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	var families map[string]*dto.MetricFamily
	// The state gauges come from the cache, and the drift counter is
	// incremented after the correction: scrape until all is seen.
	g.Eventually(func() error {
		var err error
		if families, err = scrape(); err != nil {
			return err
		}
		checks := []struct {
			name   string
			labels map[string]string
			ok     func(float64) bool
			want   string
		}{
			// SubAccounts by condition: the samples are Ready.
			{"subaccount_subaccounts", map[string]string{"namespace": samplesNS, "shop": "hongxing", "condition": "Ready", "status": "True", "reason": "Succeeded"},
				eq(sampleSubAccounts), fmt.Sprint(sampleSubAccounts)},
			// The Douyin agent waits for its code, and is counted so.
			{"subaccount_verification_codes_pending", map[string]string{"namespace": ns, "shop": "douyin"}, eq(1), "1"},
			{"subaccount_verification_codes_pending", map[string]string{"namespace": ns, "shop": "pdd"}, eq(0), "0"},
			{"subaccount_subaccounts", map[string]string{"namespace": ns, "shop": "douyin", "condition": "Ready", "status": "False", "reason": "PendingVerification"}, eq(1), "1"},
			// Credentials accepted.
			{"subaccount_shop_credentials_valid", withPlatform(hongxingShop, "taobao"), eq(1), "1"},
			{"subaccount_shop_credentials_valid", map[string]string{"namespace": ns, "shop": "douyin", "platform": "douyin"}, eq(1), "1"},
			// The provoked drift.
			{"subaccount_drift_corrections_total", map[string]string{"namespace": ns, "shop": "pdd", "kind": "SubAccount"}, atLeast(1), ">= 1"},
			// A run of this size never fills the Event queue.
			{"subaccount_events_dropped_total", map[string]string{"reason": "queue_full"}, eq(0), "0"},
		}
		for _, c := range checks {
			v, err := one(families, c.name, c.labels)
			if err != nil {
				return err
			}
			if !c.ok(v) {
				return fmt.Errorf("%s%v = %v, want %s", c.name, c.labels, v, c.want)
			}
		}
		// Seats: the gauges say what the Shop's status says, once the
		// Shop has counted the new accounts (seat counts are batched:
		// --status-batch-delay), and used <= total.
		for _, s := range []struct {
			ns, shop, platform string
			accounts           float64
		}{{samplesNS, "hongxing", "taobao", sampleSubAccounts}, {ns, "pdd", "pinduoduo", 1}} {
			labels := map[string]string{"namespace": s.ns, "shop": s.shop, "platform": s.platform}
			used, err := one(families, "subaccount_shop_seats_used", labels)
			if err != nil {
				return err
			}
			capacity, err := one(families, "subaccount_shop_seats_capacity", labels)
			if err != nil {
				return err
			}
			total, err := strconv.ParseFloat(jsonpath(t, s.ns, "shop/"+s.shop, "{.status.seats.total}"), 64)
			if err != nil {
				return err
			}
			if used < s.accounts || used > capacity || capacity != total {
				return fmt.Errorf("seats of %s/%s: used %v (want >= %v), capacity %v (status.seats.total %v)", s.ns, s.shop, used, s.accounts, capacity, total)
			}
		}
		return nil
	}).Should(Succeed())

	// Platform calls by shop, platform, method and result, with latency
	// histograms: the samples' accounts were created once each, and every
	// counted call was timed.
	creates := total(families, "subaccount_platform_calls_total", map[string]string{
		"namespace": samplesNS, "shop": "hongxing", "platform": "taobao", "method": "CreateAccount", "result": "ok"})
	g.Expect(creates).To(BeNumerically(">=", len(sampleAccounts)), "CreateAccount calls of the samples")
	methods := map[string]bool{}
	calls := 0.0
	for _, s := range seriesOf(families, "subaccount_platform_calls_total", withPlatform(hongxingShop, "taobao")) {
		methods[s.labels["method"]] = true
		calls += s.value
		timed, err := one(families, "subaccount_platform_call_duration_seconds", s.labels)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(timed).To(Equal(s.value), "calls and timed calls of %v", s.labels)
	}
	g.Expect(methods).To(HaveKey("ShopInfo"))
	g.Expect(methods).To(HaveKey("CreateRole"))
	for _, s := range seriesOf(families, "subaccount_platform_call_duration_seconds", withPlatform(hongxingShop, "taobao")) {
		g.Expect(s.sum).To(BeNumerically(">", 0), "latency of %v", s.labels)
		g.Expect(s.sum/s.value).To(BeNumerically("<", 5), "mean latency of %v on loopback", s.labels)
	}
	// Every call waited for the shop's token bucket once (near zero);
	// calls the limiter refused never reached the platform.
	waits, err := one(families, "subaccount_platform_ratelimit_wait_seconds", hongxingShop)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(waits).To(BeNumerically(">=", calls), "rate-limit waits of hongxing vs its %v platform calls", calls)
	// Results are ok or an error kind, never anything else.
	kinds := []string{"ok", "not_found", "name_taken", "invalid", "unauthorized", "forbidden", "rate_limited",
		"quota_exhausted", "conflict", "not_supported", "transient", "other"}
	for _, s := range seriesOf(families, "subaccount_platform_calls_total", nil) {
		g.Expect(kinds).To(ContainElement(s.labels["result"]), "result label of %v", s.labels)
	}

	// controller-runtime's own metrics are served beside ours.
	for _, name := range []string{"controller_runtime_reconcile_total", "workqueue_depth", "rest_client_requests_total"} {
		g.Expect(families).To(HaveKey(name))
	}
	g.Expect(total(families, "controller_runtime_reconcile_total", map[string]string{"controller": "subaccount"})).To(BeNumerically(">", 0))

	names := make([]string, 0, len(families))
	for name := range families {
		if strings.HasPrefix(name, "subaccount_") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	t.Logf("scraped %d metric families; ours: %s; hongxing: %v platform calls by %d methods, %v rate-limit waits",
		len(families), strings.Join(names, ", "), calls, len(methods), waits)
}

func eq(want float64) func(float64) bool      { return func(v float64) bool { return v == want } }
func atLeast(want float64) func(float64) bool { return func(v float64) bool { return v >= want } }
