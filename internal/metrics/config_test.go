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

package metrics

// Checks of the files that use the metrics: the Grafana dashboard, the
// alerting rules and docs/observability.md name only registered metrics,
// and cover all of ours.

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	// Registers controller-runtime's controller metrics, as the manager does.
	_ "sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"
)

const (
	dashboardPath = "../../config/grafana/subaccount-operator.json"
	rulesPath     = "../../config/prometheus/rules.yaml"
	docPath       = "../../docs/observability.md"
)

// registered reports whether controller-runtime's registry has a metric
// called name. The registry lists no names, and Gather leaves out vectors
// without series, so it is asked to register a gauge of that name: it
// refuses when the name is taken.
func registered(name string) bool {
	probe := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "probe"})
	if err := ctrlmetrics.Registry.Register(probe); err != nil {
		return true
	}
	ctrlmetrics.Registry.Unregister(probe)
	return false
}

// registeredSeries reports whether name is a registered metric, or a
// histogram's _bucket, _sum or _count series of one (a registered metric
// not named like a counter, *_total).
func registeredSeries(name string) bool {
	if registered(name) {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && !strings.HasSuffix(base, "_total") && registered(base) {
			return true
		}
	}
	return false
}

var (
	reString    = regexp.MustCompile(`"(\\.|[^"\\])*"`)
	reMatchers  = regexp.MustCompile(`\{[^{}]*\}`)
	reRange     = regexp.MustCompile(`\[[^\[\]]*\]`)
	reGrouping  = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	reVariable  = regexp.MustCompile(`\$\{?\w+\}?`)
	reOffset    = regexp.MustCompile(`\boffset\s+-?[0-9][0-9a-z]*`)
	reLabelArg  = regexp.MustCompile(`^label_values\((.*),\s*\w+\s*\)$`)
	reIdent     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promKeyword = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true}
)

// metricNames returns the metric names a PromQL expression (or a Grafana
// label_values query) reads: identifiers that are not functions, keywords,
// label names or Grafana variables.
func metricNames(expr string) []string {
	s := strings.TrimSpace(reVariable.ReplaceAllString(expr, "x"))
	if m := reLabelArg.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	s = reString.ReplaceAllString(s, `""`)
	s = reMatchers.ReplaceAllString(s, "")
	s = reRange.ReplaceAllString(s, "")
	s = reGrouping.ReplaceAllString(s, "")
	s = reOffset.ReplaceAllString(s, "")
	var names []string
	for _, m := range reIdent.FindAllString(s, -1) {
		if strings.HasSuffix(m, "(") || promKeyword[strings.ToLower(m)] {
			continue
		}
		names = append(names, m)
	}
	return names
}

func TestMetricNames(t *testing.T) {
	got := metricNames(`histogram_quantile(0.95, sum by (le, method) (rate(a_bucket{x="y",z=~"$shop"}[$__rate_interval]))) / on (shop) b_sum offset 5m or vector(0)`)
	if !slices.Equal(got, []string{"a_bucket", "b_sum"}) {
		t.Errorf("metricNames = %q", got)
	}
	if got := metricNames(`label_values(c{namespace=~"$namespace"}, shop)`); !slices.Equal(got, []string{"c"}) {
		t.Errorf("metricNames(label_values) = %q", got)
	}
}

// queries collects the PromQL of a dashboard: every "expr", and the
// template variables' queries.
func queries(v any, key string, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if s, ok := child.(string); ok && (k == "expr" || (k == "query" && key == "query")) {
				*out = append(*out, s)
				continue
			}
			queries(child, k, out)
		}
	case []any:
		for _, child := range v {
			queries(child, key, out)
		}
	}
}

// checkNames fails for each metric the expressions read that is not
// registered, and for each of our metrics none of them reads.
func checkNames(t *testing.T, what string, exprs []string) {
	t.Helper()
	if err := RegisterState(failingReader{}); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, e := range exprs {
		for _, name := range metricNames(e) {
			used[name] = true
			if !registeredSeries(name) {
				t.Errorf("%s reads %q, which is not a registered metric, in %s", what, name, e)
			}
		}
	}
	for _, name := range Names() {
		found := used[name]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			found = found || used[name+suffix]
		}
		if !found {
			t.Errorf("%s has no query of %s", what, name)
		}
	}
}

func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr  string `json:"expr"`
				RefID string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardPath, err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard without title, uid or panels")
	}
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.RefID == "" {
				t.Errorf("panel %q has a query without expr or refId", p.Title)
			}
		}
	}
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	queries(raw, "", &exprs)
	checkNames(t, "the dashboard", exprs)
}

func TestAlertRules(t *testing.T) {
	data, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Alert       string            `json:"alert"`
					Expr        string            `json:"expr"`
					For         string            `json:"for"`
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(data, &rule); err != nil {
		t.Fatalf("%s: %v", rulesPath, err)
	}
	if rule.APIVersion != "monitoring.coreos.com/v1" || rule.Kind != "PrometheusRule" {
		t.Fatalf("%s is a %s %s, want a monitoring.coreos.com/v1 PrometheusRule", rulesPath, rule.APIVersion, rule.Kind)
	}
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s lacks a severity, summary or description", r.Alert)
			}
			anchor := "#" + strings.ToLower(r.Alert)
			if !strings.HasSuffix(r.Annotations["runbook_url"], "docs/observability.md"+anchor) {
				t.Errorf("alert %s: runbook_url %q does not point to docs/observability.md%s", r.Alert, r.Annotations["runbook_url"], anchor)
			}
			if !strings.Contains(string(doc), "### "+r.Alert+"\n") {
				t.Errorf("%s has no section (runbook) for alert %s", docPath, r.Alert)
			}
		}
	}
	if len(exprs) != 5 {
		t.Errorf("%d alerts, want 5", len(exprs))
	}
	used := map[string]bool{}
	for _, e := range exprs {
		for _, name := range metricNames(e) {
			used[name] = true
			if !registeredSeries(name) {
				t.Errorf("alert reads %q, which is not a registered metric, in %s", name, e)
			}
		}
	}
	if !used["controller_runtime_reconcile_errors_total"] {
		t.Errorf("no alert on controller_runtime_reconcile_errors_total")
	}
}

// docs/observability.md documents every metric.
func TestDocumentation(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		if !strings.Contains(string(doc), "| `"+name+"` |") {
			t.Errorf("%s has no table row for %s", docPath, name)
		}
	}
	for _, r := range resultKinds {
		if !strings.Contains(string(doc), "`"+r.label+"`") {
			t.Errorf("%s does not list the result %s", docPath, r.label)
		}
	}
}

// The probe behind the checks above tells registered names from others.
func TestRegistered(t *testing.T) {
	for _, name := range append(Names(), "controller_runtime_reconcile_errors_total") {
		if name == SubAccountsName {
			if err := RegisterState(failingReader{}); err != nil {
				t.Fatal(err)
			}
		}
		if !registered(name) {
			t.Errorf("%s is not registered", name)
		}
	}
	if registered("subaccount_no_such_metric") || registeredSeries("subaccount_platform_calls_total_bucket") {
		t.Error("an unregistered name counts as registered")
	}
}
