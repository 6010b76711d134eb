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

package main

// The API server's view of a phase: what its own metrics say about the
// requests it served (latency, etcd) and about API Priority and Fairness
// (requests dispatched, queued, rejected per priority level).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// The manager's identity in the bench: its service account's user name and
// groups, as a cluster's API server sees the chart's manager. Priority and
// fairness classify it as in a cluster (the service-accounts FlowSchema,
// or the chart's own), and RBAC grants it the chart's ClusterRole only.
const (
	managerNamespace = "subaccount-system"
	managerAccount   = "subaccount-operator"
)

var managerUser = "system:serviceaccount:" + managerNamespace + ":" + managerAccount

var managerGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + managerNamespace, "system:authenticated"}

// grantManagerRole gives the manager's user what the chart gives its
// service account: the operator's ClusterRole (config/rbac/role.yaml,
// generated from the controllers' RBAC markers), the metrics endpoint's
// ClusterRole (TokenReview and SubjectAccessReview), and the leader
// election Role in the manager's namespace, which it makes.
func grantManagerRole(ctx context.Context, c client.Client, root string) error {
	manager := rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: managerUser}
	bind := func(role client.Object, kind string) error { return bindRole(ctx, c, role, kind, manager) }
	for _, file := range []string{"role.yaml", "metrics_auth_role.yaml"} {
		role := &rbacv1.ClusterRole{}
		if err := readObjects(filepath.Join(root, "config", "rbac", file), role); err != nil {
			return fmt.Errorf("the manager's ClusterRole: %w", err)
		}
		if err := bind(role, "ClusterRole"); err != nil {
			return err
		}
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", managerNamespace, err)
	}
	election := &rbacv1.Role{}
	if err := readObjects(filepath.Join(root, "config", "rbac", "leader_election_role.yaml"), election); err != nil {
		return fmt.Errorf("the manager's leader election Role: %w", err)
	}
	election.Namespace = managerNamespace
	return bind(election, "Role")
}

// bindRole creates role (a ClusterRole or, with kind "Role", a Role) and
// binds it to subject, as bench-<role>.
func bindRole(ctx context.Context, c client.Client, role client.Object, kind string, subject rbacv1.Subject) error {
	if err := c.Create(ctx, role); err != nil {
		return fmt.Errorf("creating %s %s: %w", kind, role.GetName(), err)
	}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role.GetName()}
	subjects := []rbacv1.Subject{subject}
	var binding client.Object = &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bench-" + role.GetName()},
		RoleRef: ref, Subjects: subjects}
	if kind == "Role" {
		binding = &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bench-" + role.GetName(), Namespace: role.GetNamespace()},
			RoleRef: ref, Subjects: subjects}
	}
	if err := c.Create(ctx, binding); err != nil {
		return fmt.Errorf("binding %s %s: %w", kind, role.GetName(), err)
	}
	return nil
}

// installFlowControl installs config/flowcontrol's PriorityLevelConfiguration
// and FlowSchema (what the chart's apiPriority.enabled renders) for the
// manager's service account, so APF classifies the manager into a level of
// its own; it returns the level's name.
func installFlowControl(ctx context.Context, c client.Client, root string) (string, error) {
	level, schema := &flowcontrolv1.PriorityLevelConfiguration{}, &flowcontrolv1.FlowSchema{}
	if err := readObjects(filepath.Join(root, "config", "flowcontrol", "flowcontrol.yaml"), level, schema); err != nil {
		return "", err
	}
	// The names config/default's prefix would give them, and the bench's
	// service account.
	level.Name = "subaccount-operator-" + level.Name
	schema.Name = "subaccount-operator-" + schema.Name
	schema.Spec.PriorityLevelConfiguration.Name = level.Name
	for i := range schema.Spec.Rules {
		for j := range schema.Spec.Rules[i].Subjects {
			if sa := schema.Spec.Rules[i].Subjects[j].ServiceAccount; sa != nil {
				sa.Namespace, sa.Name = managerNamespace, managerAccount
			}
		}
	}
	if err := c.Create(ctx, level); err != nil {
		return "", fmt.Errorf("creating PriorityLevelConfiguration %s: %w", level.Name, err)
	}
	if err := c.Create(ctx, schema); err != nil {
		return "", fmt.Errorf("creating FlowSchema %s: %w", schema.Name, err)
	}
	return level.Name, nil
}

// installFinalizerPolicy installs config/finalizer-policy's
// MutatingAdmissionPolicy and its binding (the chart's
// finalizerPolicy.enabled): every new SubAccount gets the operator's
// finalizer at creation.
func installFinalizerPolicy(ctx context.Context, c client.Client, root string) error {
	policy, binding := &admissionregistrationv1.MutatingAdmissionPolicy{}, &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
	if err := readObjects(filepath.Join(root, "config", "finalizer-policy", "finalizer_policy.yaml"), policy, binding); err != nil {
		return err
	}
	for _, obj := range []client.Object{policy, binding} {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// readObjects decodes the YAML documents of path into objs, in order,
// refusing unknown fields.
func readObjects(path string, objs ...any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	docs := bytes.Split(data, []byte("\n---\n"))
	if len(docs) != len(objs) {
		return fmt.Errorf("%s: want %d documents, have %d", path, len(objs), len(docs))
	}
	for i, doc := range docs {
		if err := yaml.UnmarshalStrict(doc, objs[i]); err != nil {
			return fmt.Errorf("%s, document %d: %w", path, i+1, err)
		}
	}
	return nil
}

// apiMetrics is one reading of kube-apiserver's /metrics.
type apiMetrics map[string]*dto.MetricFamily

func scrapeAPIServer(ctx context.Context, cfg *rest.Config) (apiMetrics, error) {
	rc, err := rest.RESTClientFor(restConfigForRaw(cfg))
	if err != nil {
		return nil, err
	}
	data, err := rc.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading kube-apiserver's metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing kube-apiserver's metrics: %w", err)
	}
	return families, nil
}

// sums adds up family name's series by key(labels) ("" drops a series): a
// counter's value, or a histogram's count and sum; le > 0 also counts a
// histogram's samples above le.
type seriesSum struct{ Count, Sum, Above float64 }

func (m apiMetrics) sums(name string, le float64, key func(labels map[string]string) string) map[string]seriesSum {
	out := map[string]seriesSum{}
	f, ok := m[name]
	if !ok {
		return out
	}
	for _, s := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range s.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		k := key(labels)
		if k == "" {
			continue
		}
		acc := out[k]
		switch {
		case s.GetHistogram() != nil:
			h := s.GetHistogram()
			acc.Count += float64(h.GetSampleCount())
			acc.Sum += h.GetSampleSum()
			if le > 0 {
				below := 0.0
				for _, b := range h.GetBucket() {
					if b.GetUpperBound() <= le {
						below = float64(b.GetCumulativeCount())
					}
				}
				acc.Above += float64(h.GetSampleCount()) - below
			}
		case s.GetCounter() != nil:
			acc.Count += s.GetCounter().GetValue()
		}
		out[k] = acc
	}
	return out
}

// apiView is what the API server saw during a phase.
type apiView struct {
	// Writes are the write requests it served (every client's) and their
	// summed latency, server side.
	Writes seriesSum
	// Etcd are its requests to etcd and their summed latency.
	Etcd seriesSum
	// Levels are, per APF priority level that dispatched requests: how
	// many it dispatched, how many waited in a queue longer than
	// queuedOver and their summed wait, and how many it rejected.
	Levels map[string]apfLevel
}

type apfLevel struct {
	Dispatched, Queued, Rejected float64
	Wait                         float64 // seconds, summed over every request
}

// queuedOver is the wait above which a request counts as queued: APF's
// histogram's smallest bucket above zero (5 ms), below which a request
// only went through the dispatcher.
const queuedOver = 0.005

var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "APPLY": true}

// apiViewBetween is what the API server served from before to after.
func apiViewBetween(before, after apiMetrics) apiView {
	diff := func(name string, le float64, key func(map[string]string) string) map[string]seriesSum {
		a, b := after.sums(name, le, key), before.sums(name, le, key)
		out := map[string]seriesSum{}
		for k, v := range a {
			w := b[k]
			out[k] = seriesSum{Count: v.Count - w.Count, Sum: v.Sum - w.Sum, Above: v.Above - w.Above}
		}
		return out
	}
	all := func(map[string]string) string { return "all" }
	v := apiView{Levels: map[string]apfLevel{}}
	v.Writes = diff("apiserver_request_duration_seconds", 0, func(l map[string]string) string {
		if writeVerbs[l["verb"]] {
			return "all"
		}
		return ""
	})["all"]
	v.Etcd = diff("etcd_request_duration_seconds", 0, all)["all"]
	level := func(l map[string]string) string { return l["priority_level"] }
	dispatched := diff("apiserver_flowcontrol_dispatched_requests_total", 0, level)
	waits := diff("apiserver_flowcontrol_request_wait_duration_seconds", queuedOver, level)
	rejected := diff("apiserver_flowcontrol_rejected_requests_total", 0, level)
	for name, d := range dispatched {
		if d.Count == 0 && rejected[name].Count == 0 {
			continue
		}
		v.Levels[name] = apfLevel{Dispatched: d.Count, Queued: waits[name].Above, Wait: waits[name].Sum, Rejected: rejected[name].Count}
	}
	return v
}

// String renders the priority levels, busiest first.
func (v apiView) levels() string {
	names := make([]string, 0, len(v.Levels))
	for k := range v.Levels {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return v.Levels[names[i]].Dispatched > v.Levels[names[j]].Dispatched })
	parts := make([]string, 0, len(names))
	for _, k := range names {
		l := v.Levels[k]
		parts = append(parts, fmt.Sprintf("%s: %.0f dispatched, %.0f queued over 5 ms (mean wait %.1f ms), %.0f rejected",
			k, l.Dispatched, l.Queued, 1000*l.Wait/max(l.Dispatched, 1), l.Rejected))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}
