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

// Package chart tests the Helm chart in charts/subaccount-operator: lint,
// rendering with default and with every value set, equality of its CRDs and
// RBAC with config/, the manager accepting the rendered flags, and the
// rendered manifests applied to a local control plane. Run with
// 'make test-chart', which builds helm and the envtest binaries first.
package chart

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestLint(t *testing.T) {
	for name, extra := range map[string][]string{
		"defaults":   nil,
		"all values": {"--values", allValues},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"lint", "--strict", chartPath}, extra...)
			if out, err := runHelm(t, args...); err != nil {
				t.Fatal(err)
			} else if !strings.Contains(out, "0 chart(s) failed") {
				t.Fatalf("helm lint: %s", out)
			}
		})
	}
}

// TestDefaults checks the default render object by object.
func TestDefaults(t *testing.T) {
	_, objs := render(t, defaultRelease, defaultNamespace)

	deploy := objs.get(t, "Deployment", "subaccount-operator-controller-manager")
	if deploy.GetNamespace() != defaultNamespace {
		t.Errorf("Deployment namespace %q, want %q", deploy.GetNamespace(), defaultNamespace)
	}
	expectEqual(t, "replicas", field(t, deploy.Object, "spec", "replicas"), float64(1))
	c := managerContainer(t, deploy)
	expectEqual(t, "args", stringList(t, c["args"]), []string{
		"--leader-elect=true",
		"--leader-election-id=subaccount-operator.shop.subaccount.io",
		"--health-probe-bind-address=:8081",
		"--metrics-bind-address=:8443",
		"--metrics-secure=true",
		"--platform-driver=gateway",
		"--zap-log-level=info",
	})
	expectEqual(t, "command", stringList(t, c["command"]), []string{"/manager"})
	expectEqual(t, "image", c["image"], "ghcr.io/subaccount-operator/subaccount-operator:"+chartAppVersion(t))
	expectEqual(t, "imagePullPolicy", c["imagePullPolicy"], "IfNotPresent")
	expectEqual(t, "container securityContext", c["securityContext"], toMap(t, `
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities: {drop: [ALL]}
seccompProfile: {type: RuntimeDefault}
`))
	expectEqual(t, "pod securityContext", field(t, deploy.Object, "spec", "template", "spec", "securityContext"), toMap(t, `
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile: {type: RuntimeDefault}
`))

	// The kustomize Deployment (config/manager) and the chart's agree on
	// resources, probes and the restricted security settings.
	kustomized := readObjects(t, "config/manager/manager.yaml").get(t, "Deployment", "controller-manager")
	kc := managerContainer(t, kustomized)
	expectEqual(t, "resources (chart vs config/manager)", c["resources"], kc["resources"])
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		got := c[probe].(map[string]any)
		want := kc[probe].(map[string]any)
		expectEqual(t, probe+" path", got["httpGet"].(map[string]any)["path"], want["httpGet"].(map[string]any)["path"])
		expectEqual(t, probe+" timing", []any{got["initialDelaySeconds"], got["periodSeconds"]}, []any{want["initialDelaySeconds"], want["periodSeconds"]})
	}
	for k, v := range kc["securityContext"].(map[string]any) {
		expectEqual(t, "container securityContext."+k+" (chart vs config/manager)", c["securityContext"].(map[string]any)[k], v)
	}

	// Labels: the selector is a subset of the pod labels, and every object
	// carries the chart's labels.
	selector := field(t, deploy.Object, "spec", "selector", "matchLabels").(map[string]any)
	expectEqual(t, "selector", selector, toMap(t, `
control-plane: controller-manager
app.kubernetes.io/name: subaccount-operator
app.kubernetes.io/instance: subaccount-operator
`))
	podLabels := field(t, deploy.Object, "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range selector {
		if podLabels[k] != v {
			t.Errorf("pod label %s=%v, want %v (selector)", k, podLabels[k], v)
		}
	}
	for _, obj := range objs {
		l := obj.GetLabels()
		if l["app.kubernetes.io/managed-by"] != "Helm" || l["app.kubernetes.io/instance"] != defaultRelease ||
			l["app.kubernetes.io/name"] != "subaccount-operator" || !strings.HasPrefix(l["helm.sh/chart"], "subaccount-operator-") {
			t.Errorf("%s/%s lacks the chart's labels: %v", obj.GetKind(), obj.GetName(), l)
		}
	}

	sa := objs.get(t, "ServiceAccount", "subaccount-operator-controller-manager")
	expectEqual(t, "serviceAccountName", field(t, deploy.Object, "spec", "template", "spec", "serviceAccountName"), sa.GetName())

	svc := objs.get(t, "Service", "subaccount-operator-metrics")
	expectEqual(t, "metrics Service ports", field(t, svc.Object, "spec", "ports"), toMap(t, `
- {name: https, port: 8443, protocol: TCP, targetPort: https}
`))
	expectEqual(t, "metrics Service selector", field(t, svc.Object, "spec", "selector"), any(selector))
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "ConfigMap"} {
		if got := objs.ofKind(kind); len(got) != 0 {
			t.Errorf("%s rendered by default: %v", kind, got.names())
		}
	}

	checkCRDs(t, objs, true)
	checkRBAC(t, objs)
}

// checkCRDs compares the chart's CRDs with config/crd/bases: equal but for
// the chart's labels and the keep annotation.
func checkCRDs(t *testing.T, objs objects, keep bool) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in config/crd/bases (%v)", err)
	}
	crds := objs.ofKind("CustomResourceDefinition")
	if len(crds) != len(files) {
		t.Errorf("chart renders %d CRDs, config/crd/bases has %d", len(crds), len(files))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(repoRoot, f)
		want := readObjects(t, rel)[0]
		got := crds.find("CustomResourceDefinition", want.GetName())
		if got == nil {
			t.Errorf("CRD %s (%s) not rendered", want.GetName(), rel)
			continue
		}
		got = got.DeepCopy()
		ann := got.GetAnnotations()
		if keep != (ann["helm.sh/resource-policy"] == "keep") {
			t.Errorf("CRD %s: helm.sh/resource-policy=%q, keep=%v", got.GetName(), ann["helm.sh/resource-policy"], keep)
		}
		delete(ann, "helm.sh/resource-policy")
		got.SetAnnotations(ann)
		got.SetLabels(nil)
		if !reflect.DeepEqual(got.Object, want.Object) {
			t.Errorf("CRD %s differs from %s: run 'make chart'", got.GetName(), rel)
		}
	}
}

// checkRBAC compares every Role, ClusterRole and binding of config/rbac with
// the chart's object of the same name (kustomize's namePrefix equals the
// chart's fullname for release "subaccount-operator").
func checkRBAC(t *testing.T, objs objects) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "config", "rbac", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "subaccount-operator-"
	const sa = prefix + "controller-manager"
	compared := map[string]bool{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		rel, _ := filepath.Rel(repoRoot, f)
		for _, want := range readObjects(t, rel) {
			kind := want.GetKind()
			if kind == "ServiceAccount" {
				continue
			}
			got := objs.find(kind, prefix+want.GetName())
			if got == nil {
				t.Errorf("%s %s (%s) not rendered by the chart", kind, prefix+want.GetName(), rel)
				continue
			}
			compared[kind+"/"+got.GetName()] = true
			if (want.GetNamespace() != "") != (got.GetNamespace() != "") {
				t.Errorf("%s %s: namespace %q vs %q in %s", kind, got.GetName(), got.GetNamespace(), want.GetNamespace(), rel)
			}
			for k, v := range want.GetLabels() {
				if strings.HasPrefix(k, "app.kubernetes.io/") {
					continue
				}
				if got.GetLabels()[k] != v {
					t.Errorf("%s %s: label %s=%q, want %q as in %s", kind, got.GetName(), k, got.GetLabels()[k], v, rel)
				}
			}
			switch kind {
			case "ClusterRole", "Role":
				if !reflect.DeepEqual(got.Object["rules"], want.Object["rules"]) {
					t.Errorf("%s %s: rules differ from %s: run 'make chart'", kind, got.GetName(), rel)
				}
			case "ClusterRoleBinding", "RoleBinding":
				ref := want.Object["roleRef"].(map[string]any)
				expectEqual(t, kind+" "+got.GetName()+" roleRef", got.Object["roleRef"], map[string]any{
					"apiGroup": ref["apiGroup"], "kind": ref["kind"], "name": prefix + ref["name"].(string),
				})
				expectEqual(t, kind+" "+got.GetName()+" subjects", got.Object["subjects"], []any{map[string]any{
					"kind": "ServiceAccount", "name": sa, "namespace": defaultNamespace,
				}})
				if objs.find(ref["kind"].(string), prefix+ref["name"].(string)) == nil {
					t.Errorf("%s %s binds %s %s, which is not rendered", kind, got.GetName(), ref["kind"], prefix+ref["name"].(string))
				}
			}
		}
	}
	for _, kind := range []string{"ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding"} {
		for _, obj := range objs.ofKind(kind) {
			if !compared[kind+"/"+obj.GetName()] {
				t.Errorf("the chart renders %s %s, which config/rbac does not have", kind, obj.GetName())
			}
		}
	}
	if !compared["ClusterRole/"+prefix+"manager-role"] {
		t.Error("the manager ClusterRole was not compared")
	}
}

// TestAllValues renders testdata/all-values.yaml, which sets every value, and
// checks that each one arrives where it should.
func TestAllValues(t *testing.T) {
	// The values file must set every value the chart has, so a new value
	// without a test here fails.
	defaults := loadYAML(t, filepath.Join(chartPath, "values.yaml"))
	set := loadYAML(t, allValues)
	have := map[string]bool{}
	for _, p := range leafPaths("", set) {
		have[p] = true
	}
	for _, p := range leafPaths("", defaults) {
		if !have[p] && !hasPrefixPath(have, p) {
			t.Errorf("testdata/all-values.yaml does not set %s", p)
		}
	}

	_, objs := render(t, "gitops", "staff", "--values", allValues)
	deploy := objs.get(t, "Deployment", "staff-operator-controller-manager")
	expectEqual(t, "replicas", field(t, deploy.Object, "spec", "replicas"), float64(3))
	c := managerContainer(t, deploy)
	expectEqual(t, "args", stringList(t, c["args"]), []string{
		"--leader-elect=false",
		"--health-probe-bind-address=:8081",
		"--metrics-bind-address=:9443",
		"--metrics-secure=true",
		"--platform-driver=memory",
		"--zap-log-level=debug",
		"--watch-namespaces=shop-hongxing,shop-lanting",
		"--shard-selector=shard in (east), tier!=test",
		"--allowed-endpoint-hosts=*.example.com,gateway.internal:8443",
		"--kube-api-qps=0",
		"--memory-seat-quota=50",
		"--zap-encoder=console",
	})
	expectEqual(t, "image", c["image"], "registry.example.com/shop/subaccount-operator:v9.8.7")
	expectEqual(t, "imagePullPolicy", c["imagePullPolicy"], "Always")
	expectEqual(t, "ports", c["ports"], toMap(t, `
- {name: https, containerPort: 9443, protocol: TCP}
- {name: probes, containerPort: 8081, protocol: TCP}
`))
	expectEqual(t, "resources", c["resources"], toMap(t, `
limits: {cpu: "1", memory: 512Mi}
requests: {cpu: 200m, memory: 256Mi}
`))
	expectEqual(t, "container securityContext", c["securityContext"], set.(map[string]any)["securityContext"])
	// metrics.certSecret: mounted where controller-runtime's metrics server
	// looks for its certificate.
	expectEqual(t, "volumeMounts", c["volumeMounts"], toMap(t, `
- {name: metrics-cert, mountPath: /tmp/k8s-metrics-server/serving-certs, readOnly: true}
`))
	expectEqual(t, "volumes", field(t, deploy.Object, "spec", "template", "spec", "volumes"), toMap(t, `
- name: metrics-cert
  secret:
    secretName: staff-metrics-cert
    items: [{key: tls.crt, path: tls.crt}, {key: tls.key, path: tls.key}]
`))

	pod := field(t, deploy.Object, "spec", "template").(map[string]any)
	spec := pod["spec"].(map[string]any)
	values := set.(map[string]any)
	for _, k := range []string{"nodeSelector", "tolerations", "affinity", "imagePullSecrets", "priorityClassName"} {
		expectEqual(t, k, spec[k], values[k])
	}
	expectEqual(t, "pod securityContext", spec["securityContext"], values["podSecurityContext"])
	expectEqual(t, "serviceAccountName", spec["serviceAccountName"], "staff-operator")
	meta := pod["metadata"].(map[string]any)
	labels := meta["labels"].(map[string]any)
	if labels["team"] != "platform" || labels["app.kubernetes.io/name"] != "staff" || labels["app.kubernetes.io/version"] != "v9.8.7" {
		t.Errorf("pod labels: %v", labels)
	}
	ann := meta["annotations"].(map[string]any)
	if ann["example.com/scrape"] != "true" || ann["kubectl.kubernetes.io/default-container"] != "manager" {
		t.Errorf("pod annotations: %v", ann)
	}

	sa := objs.get(t, "ServiceAccount", "staff-operator")
	expectEqual(t, "ServiceAccount annotations", sa.GetAnnotations(), map[string]string{"example.com/role": "staff-operator"})

	// crds.install false, rbac.aggregatedRoles false, leaderElection false
	// (no leader election Role); the manager's permissions are Roles in the
	// watched namespaces.
	if got := objs.ofKind("CustomResourceDefinition"); len(got) != 0 {
		t.Errorf("CRDs rendered although disabled: %v", got.names())
	}
	var clusterRoles []string
	for _, cr := range objs.ofKind("ClusterRole") {
		clusterRoles = append(clusterRoles, cr.GetName())
	}
	slices.Sort(clusterRoles)
	expectEqual(t, "ClusterRoles", clusterRoles, []string{"staff-operator-adoption-read", "staff-operator-metrics-auth-role", "staff-operator-metrics-reader"})
	checkAdoptionRead(t, objs, "staff-operator", "staff", "staff-operator")
	// With watchNamespaces no cluster-wide rule grants Secrets: only the
	// Roles in the watched namespaces do.
	for _, kind := range []string{"ClusterRole", "Role"} {
		for _, r := range objs.ofKind(kind) {
			rules, _ := r.Object["rules"].([]any)
			for _, rule := range rules {
				resources, _ := rule.(map[string]any)["resources"].([]any)
				if slices.Contains(resources, any("secrets")) && (kind == "ClusterRole" || !slices.Contains([]string{"shop-hongxing", "shop-lanting"}, r.GetNamespace())) {
					t.Errorf("%s %s/%s grants Secrets", kind, r.GetNamespace(), r.GetName())
				}
			}
		}
	}
	for _, crb := range objs.ofKind("ClusterRoleBinding") {
		expectEqual(t, crb.GetName()+" subjects", crb.Object["subjects"], toMap(t, `[{kind: ServiceAccount, name: staff-operator, namespace: staff}]`))
	}
	checkNamespacedManagerRBAC(t, objs, "staff-operator", "staff", "staff-operator", []string{"shop-hongxing", "shop-lanting"})

	rule := objs.get(t, "PrometheusRule", "staff-operator-alerts")
	expectEqual(t, "PrometheusRule namespace", rule.GetNamespace(), "staff")
	if rule.GetLabels()["release"] != "prometheus" {
		t.Errorf("PrometheusRule labels %v lack release=prometheus", rule.GetLabels())
	}
	expectEqual(t, "PrometheusRule spec (chart vs config/prometheus/rules.yaml)", rule.Object["spec"],
		readObjects(t, "config/prometheus/rules.yaml").get(t, "PrometheusRule", "alerts").Object["spec"])
	dashboard := objs.get(t, "ConfigMap", "staff-operator-dashboard")
	if l := dashboard.GetLabels(); l["grafana_dashboard"] != "1" || l["team"] != "platform" {
		t.Errorf("dashboard ConfigMap labels %v", l)
	}
	wantJSON, err := os.ReadFile(filepath.Join(repoRoot, "config", "grafana", "subaccount-operator.json"))
	if err != nil {
		t.Fatal(err)
	}
	expectEqual(t, "dashboard (chart vs config/grafana)", field(t, dashboard.Object, "data", "subaccount-operator.json"), strings.TrimRight(string(wantJSON), "\n"))

	svc := objs.get(t, "Service", "staff-operator-metrics")
	expectEqual(t, "metrics Service ports", field(t, svc.Object, "spec", "ports"), toMap(t, `
- {name: https, port: 9443, protocol: TCP, targetPort: https}
`))
	sm := objs.get(t, "ServiceMonitor", "staff-operator-metrics")
	if sm.GetLabels()["release"] != "prometheus" {
		t.Errorf("ServiceMonitor labels %v lack release=prometheus", sm.GetLabels())
	}
	expectEqual(t, "ServiceMonitor endpoints", field(t, sm.Object, "spec", "endpoints"), toMap(t, `
- path: /metrics
  port: https
  interval: 30s
  scrapeTimeout: 10s
  scheme: https
  bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
  tlsConfig:
    insecureSkipVerify: false
    serverName: staff-operator.example
    ca: {secret: {name: staff-metrics-cert, key: ca.crt}}
`))
	np := objs.get(t, "NetworkPolicy", "staff-operator-manager")
	expectEqual(t, "NetworkPolicy spec", np.Object["spec"], toMap(t, `
podSelector: {matchLabels: {control-plane: controller-manager, app.kubernetes.io/name: staff, app.kubernetes.io/instance: gitops}}
policyTypes: [Ingress, Egress]
ingress:
  - ports: [{port: 9443, protocol: TCP}]
    from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
egress:
  - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
  - to: [{ipBlock: {cidr: 10.0.0.1/32}}]
    ports: [{port: 6443, protocol: TCP}]
  - to: [{ipBlock: {cidr: 203.0.113.0/24}}]
    ports: [{port: 443, protocol: TCP}]
`))
	expectEqual(t, "ServiceMonitor selector", field(t, sm.Object, "spec", "selector", "matchLabels"),
		field(t, deploy.Object, "spec", "selector", "matchLabels"))
	policy := objs.get(t, "MutatingAdmissionPolicy", "staff-operator-subaccount-finalizer")
	binding := objs.get(t, "MutatingAdmissionPolicyBinding", "staff-operator-subaccount-finalizer")
	expectEqual(t, "the binding's policy", field(t, binding.Object, "spec", "policyName"), policy.GetName())
	expectEqual(t, "MutatingAdmissionPolicy spec (chart vs config/finalizer-policy)", policy.Object["spec"],
		readObjects(t, "config/finalizer-policy/finalizer_policy.yaml").get(t, "MutatingAdmissionPolicy", "subaccount-finalizer").Object["spec"])
	plc := objs.get(t, "PriorityLevelConfiguration", "staff-operator-controller-manager")
	expectEqual(t, "PriorityLevelConfiguration spec", plc.Object["spec"], toMap(t, `
type: Limited
limited:
  nominalConcurrencyShares: 45
  lendablePercent: 25
  limitResponse: {type: Queue, queuing: {queues: 32, handSize: 4, queueLengthLimit: 100}}
`))
	fs := objs.get(t, "FlowSchema", "staff-operator-controller-manager")
	expectEqual(t, "FlowSchema spec", fs.Object["spec"], toMap(t, `
priorityLevelConfiguration: {name: staff-operator-controller-manager}
matchingPrecedence: 1200
distinguisherMethod: {type: ByUser}
rules:
  - subjects: [{kind: ServiceAccount, serviceAccount: {name: staff-operator, namespace: staff}}]
    resourceRules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"], clusterScope: true, namespaces: ["*"]}]
`))
}

// hasPrefixPath reports whether a path below p is set (p is an empty map
// in values.yaml, set to a non-empty one).
func hasPrefixPath(have map[string]bool, p string) bool {
	for h := range have {
		if strings.HasPrefix(h, p+".") {
			return true
		}
	}
	return false
}

// checkAdoptionRead checks rbac.adoptionClusterRead's ClusterRole (get
// and list of Shops and SubAccounts, nothing more) and its binding to the
// manager's ServiceAccount.
func checkAdoptionRead(t *testing.T, objs objects, fullname, releaseNS, serviceAccount string) {
	t.Helper()
	role := objs.get(t, "ClusterRole", fullname+"-adoption-read")
	expectEqual(t, "adoption-read rules", role.Object["rules"], toMap(t, `
- apiGroups: [shop.subaccount.io]
  resources: [shops, subaccounts]
  verbs: [get, list]
`))
	b := objs.get(t, "ClusterRoleBinding", fullname+"-adoption-read")
	expectEqual(t, "adoption-read roleRef", b.Object["roleRef"], map[string]any{
		"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": fullname + "-adoption-read"})
	expectEqual(t, "adoption-read subjects", b.Object["subjects"], []any{map[string]any{
		"kind": "ServiceAccount", "name": serviceAccount, "namespace": releaseNS}})
}

// TestToggles covers the switches one by one.
func TestToggles(t *testing.T) {
	t.Run("adoption read cluster-wide", func(t *testing.T) {
		// Off by default, with or without watchNamespaces.
		for _, args := range [][]string{nil, {"--set", "watchNamespaces={shop-a}"}} {
			_, objs := render(t, defaultRelease, defaultNamespace, args...)
			if objs.find("ClusterRole", "subaccount-operator-adoption-read") != nil {
				t.Errorf("adoption-read ClusterRole rendered by default (%v)", args)
			}
		}
		// On: rendered with watchNamespaces; without them the manager's
		// ClusterRole already reads every namespace.
		_, objs := render(t, defaultRelease, defaultNamespace, "--set", "rbac.adoptionClusterRead=true,watchNamespaces={shop-a}")
		checkAdoptionRead(t, objs, "subaccount-operator", defaultNamespace, "subaccount-operator-controller-manager")
		checkNamespacedManagerRBAC(t, objs, "subaccount-operator", defaultNamespace, "subaccount-operator-controller-manager", []string{"shop-a"})
		_, objs = render(t, defaultRelease, defaultNamespace, "--set", "rbac.adoptionClusterRead=true")
		if objs.find("ClusterRole", "subaccount-operator-adoption-read") != nil {
			t.Error("adoption-read ClusterRole rendered without watchNamespaces")
		}
	})
	t.Run("metrics disabled", func(t *testing.T) {
		_, objs := render(t, defaultRelease, defaultNamespace, "--set", "metrics.enabled=false")
		c := managerContainer(t, objs.get(t, "Deployment", "subaccount-operator-controller-manager"))
		if !slices.Contains(stringList(t, c["args"]), "--metrics-bind-address=0") {
			t.Errorf("args %v lack --metrics-bind-address=0", c["args"])
		}
		expectEqual(t, "ports", c["ports"], toMap(t, `[{name: probes, containerPort: 8081, protocol: TCP}]`))
		for _, n := range []string{"Service/subaccount-operator-metrics", "ClusterRole/subaccount-operator-metrics-auth-role",
			"ClusterRole/subaccount-operator-metrics-reader", "ClusterRoleBinding/subaccount-operator-metrics-auth-rolebinding"} {
			kind, name, _ := strings.Cut(n, "/")
			if objs.find(kind, name) != nil {
				t.Errorf("%s rendered with metrics disabled", n)
			}
		}
	})
	t.Run("metrics over http with a ServiceMonitor", func(t *testing.T) {
		_, objs := render(t, defaultRelease, defaultNamespace, "--set", "metrics.secure=false,metrics.port=8080,metrics.serviceMonitor.enabled=true")
		c := managerContainer(t, objs.get(t, "Deployment", "subaccount-operator-controller-manager"))
		args := stringList(t, c["args"])
		if !slices.Contains(args, "--metrics-secure=false") || !slices.Contains(args, "--metrics-bind-address=:8080") {
			t.Errorf("args %v", args)
		}
		if objs.find("ClusterRole", "subaccount-operator-metrics-auth-role") != nil {
			t.Error("metrics-auth-role rendered although metrics are not secure")
		}
		sm := objs.get(t, "ServiceMonitor", "subaccount-operator-metrics")
		expectEqual(t, "endpoints", field(t, sm.Object, "spec", "endpoints"), toMap(t, `[{path: /metrics, port: http, scheme: http}]`))
		expectEqual(t, "Service ports", field(t, objs.get(t, "Service", "subaccount-operator-metrics").Object, "spec", "ports"),
			toMap(t, `[{name: http, port: 8080, protocol: TCP, targetPort: http}]`))
	})
	t.Run("ServiceMonitor verifying the CA of metrics.certSecret", func(t *testing.T) {
		_, objs := render(t, defaultRelease, defaultNamespace, "--set", "metrics.serviceMonitor.enabled=true,metrics.certSecret=metrics-cert")
		sm := objs.get(t, "ServiceMonitor", "subaccount-operator-metrics")
		expectEqual(t, "tlsConfig", field(t, sm.Object, "spec", "endpoints").([]any)[0].(map[string]any)["tlsConfig"], toMap(t, `
ca: {secret: {name: metrics-cert, key: ca.crt}}
serverName: subaccount-operator-metrics.subaccount-operator-system.svc
`))
	})
	t.Run("ServiceMonitor without verification only on purpose", func(t *testing.T) {
		_, objs := render(t, defaultRelease, defaultNamespace, "--set", "metrics.serviceMonitor.enabled=true,metrics.serviceMonitor.tlsConfig.insecureSkipVerify=true")
		sm := objs.get(t, "ServiceMonitor", "subaccount-operator-metrics")
		expectEqual(t, "tlsConfig", field(t, sm.Object, "spec", "endpoints").([]any)[0].(map[string]any)["tlsConfig"], toMap(t, `{insecureSkipVerify: true}`))
	})
	t.Run("default NetworkPolicy", func(t *testing.T) {
		_, objs := render(t, defaultRelease, defaultNamespace, "--set", "networkPolicy.enabled=true")
		np := objs.get(t, "NetworkPolicy", "subaccount-operator-manager")
		egress := field(t, np.Object, "spec", "egress").([]any)
		expectEqual(t, "platform egress", egress[len(egress)-1], toMap(t, `
to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 169.254.0.0/16, 127.0.0.0/8]}}]
ports: [{port: 443, protocol: TCP}]
`))
		kustomized := readObjects(t, "config/network-policy/network_policy.yaml").get(t, "NetworkPolicy", "controller-manager")
		for _, k := range []string{"policyTypes", "ingress", "egress"} {
			expectEqual(t, k+" (chart vs config/network-policy)", field(t, np.Object, "spec", k), field(t, kustomized.Object, "spec", k))
		}
	})
	t.Run("API Priority and Fairness", func(t *testing.T) {
		_, objs := render(t, defaultRelease, defaultNamespace)
		if got := append(append(objs.ofKind("FlowSchema"), objs.ofKind("PriorityLevelConfiguration")...), objs.ofKind("MutatingAdmissionPolicy")...); len(got) != 0 {
			t.Errorf("rendered by default: %v", got.names())
		}
		_, objs = render(t, defaultRelease, defaultNamespace, "--set", "apiPriority.enabled=true")
		if !slices.Contains(stringList(t, managerContainer(t, objs.get(t, "Deployment", "subaccount-operator-controller-manager"))["args"]), "--kube-api-qps=0") {
			t.Error("apiPriority.enabled did not turn the client-side limit off")
		}
		// The chart's defaults are config/flowcontrol's objects, with the
		// names config/default's prefix gives them.
		kustomized := readObjects(t, "config/flowcontrol/flowcontrol.yaml")
		fs := kustomized.get(t, "FlowSchema", "controller-manager").Object
		fs["spec"].(map[string]any)["priorityLevelConfiguration"] = map[string]any{"name": "subaccount-operator-controller-manager"}
		subject := field(t, fs, "spec", "rules").([]any)[0].(map[string]any)["subjects"].([]any)[0].(map[string]any)
		subject["serviceAccount"].(map[string]any)["name"] = "subaccount-operator-controller-manager"
		for _, kind := range []string{"PriorityLevelConfiguration", "FlowSchema"} {
			expectEqual(t, kind+" (chart vs config/flowcontrol)", objs.get(t, kind, "subaccount-operator-controller-manager").Object["spec"],
				kustomized.get(t, kind, "controller-manager").Object["spec"])
		}
		_, objs = render(t, defaultRelease, defaultNamespace, "--set", "apiPriority.enabled=true,apiPriority.disableClientLimit=false")
		if args := stringList(t, managerContainer(t, objs.get(t, "Deployment", "subaccount-operator-controller-manager"))["args"]); slices.Contains(args, "--kube-api-qps=0") {
			t.Errorf("disableClientLimit=false still turned the client-side limit off: %v", args)
		}
	})
	t.Run("finalizer policy: auto, true and false", func(t *testing.T) {
		// What Helm's capabilities hold for a cluster serving the kind
		// (discovery on install and upgrade; --api-versions for template).
		const served = "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy"
		for _, tc := range []struct {
			name string
			args []string
			want bool
		}{
			{"auto by default, the kind not served", nil, false},
			{"auto by default, the kind served", []string{"--api-versions", served}, true},
			{"auto, only the beta kind served (Kubernetes 1.34 and 1.35)",
				[]string{"--set", "finalizerPolicy.enabled=auto", "--api-versions", "admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy"}, false},
			{"true, the kind not served", []string{"--set", "finalizerPolicy.enabled=true"}, true},
			{"false, the kind served (the former default)", []string{"--set", "finalizerPolicy.enabled=false", "--api-versions", served}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, objs := render(t, defaultRelease, defaultNamespace, tc.args...)
				policy := objs.find("MutatingAdmissionPolicy", "subaccount-operator-subaccount-finalizer")
				binding := objs.find("MutatingAdmissionPolicyBinding", "subaccount-operator-subaccount-finalizer")
				if got := policy != nil && binding != nil; got != tc.want || (policy == nil) != (binding == nil) {
					t.Fatalf("policy rendered %t, binding rendered %t; want both %t", policy != nil, binding != nil, tc.want)
				}
				if tc.want {
					expectEqual(t, "MutatingAdmissionPolicy spec (chart vs config/finalizer-policy)", policy.Object["spec"],
						readObjects(t, "config/finalizer-policy/finalizer_policy.yaml").get(t, "MutatingAdmissionPolicy", "subaccount-finalizer").Object["spec"])
				}
			})
		}
	})
	t.Run("CRDs without keep", func(t *testing.T) {
		_, objs := render(t, defaultRelease, defaultNamespace, "--set", "crds.keep=false")
		checkCRDs(t, objs, false)
	})
	t.Run("existing ServiceAccount", func(t *testing.T) {
		_, objs := render(t, defaultRelease, defaultNamespace, "--set", "serviceAccount.create=false,serviceAccount.name=shared")
		if sas := objs.ofKind("ServiceAccount"); len(sas) != 0 {
			t.Errorf("ServiceAccount rendered with create=false: %v", sas.names())
		}
		expectEqual(t, "serviceAccountName", field(t, objs.get(t, "Deployment", "subaccount-operator-controller-manager").Object,
			"spec", "template", "spec", "serviceAccountName"), "shared")
	})
	for name, tc := range map[string]struct{ set, want string }{
		"bad namespace":                        {"watchNamespaces={Shop_A}", "watchNamespaces"},
		"PrometheusRule needs metrics":         {"metrics.enabled=false,metrics.prometheusRule.enabled=true", "metrics.prometheusRule.enabled needs metrics.enabled"},
		"ServiceMonitor needs metrics":         {"metrics.enabled=false,metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.enabled needs metrics.enabled"},
		"ServiceMonitor over https needs a CA": {"metrics.serviceMonitor.enabled=true", "metrics.certSecret"},
		"bad allowed endpoint host":            {"allowedEndpointHosts={https://x}", "allowedEndpointHosts"},
		"unknown platform driver":              {"platformDriver=taobao", "platformDriver"},
		"unknown value":                        {"replica=2", "replica"},
		"bad log level":                        {"logLevel=verbose", "logLevel"},
		"finalizer policy not a bool or auto":  {"finalizerPolicy.enabled=yes", "finalizerPolicy.enabled"},
		"ServiceAccount name without creating": {"serviceAccount.create=false", "serviceAccount.name is required"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := runHelm(t, templateArgs(defaultRelease, defaultNamespace, "--set", tc.set)...)
			if err == nil {
				t.Fatalf("--set %s rendered:\n%s", tc.set, out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("--set %s failed without mentioning %q: %v", tc.set, tc.want, err)
			}
		})
	}
}

// checkNamespacedManagerRBAC checks the manager's permissions of a release
// that watches namespaces: a Role with config/rbac/role.yaml's rules and a
// RoleBinding to the manager's ServiceAccount in each watched namespace,
// and no manager ClusterRole or ClusterRoleBinding.
func checkNamespacedManagerRBAC(t *testing.T, objs objects, fullname, releaseNS, serviceAccount string, namespaces []string) {
	t.Helper()
	want := readObjects(t, "config/rbac/role.yaml").get(t, "ClusterRole", "manager-role")
	name := fullname + "-manager-role"
	if objs.find("ClusterRole", name) != nil || objs.find("ClusterRoleBinding", fullname+"-manager-rolebinding") != nil {
		t.Errorf("the manager ClusterRole or its binding is rendered although namespaces are listed")
	}
	roles := map[string]bool{}
	for _, r := range objs.ofKind("Role") {
		if r.GetName() != name {
			continue
		}
		roles[r.GetNamespace()] = true
		if !reflect.DeepEqual(r.Object["rules"], want.Object["rules"]) {
			t.Errorf("Role %s/%s: rules differ from config/rbac/role.yaml", r.GetNamespace(), name)
		}
	}
	bindings := map[string]bool{}
	for _, b := range objs.ofKind("RoleBinding") {
		if b.GetName() != fullname+"-manager-rolebinding" {
			continue
		}
		bindings[b.GetNamespace()] = true
		expectEqual(t, "RoleBinding "+b.GetNamespace()+" roleRef", b.Object["roleRef"], map[string]any{
			"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name,
		})
		expectEqual(t, "RoleBinding "+b.GetNamespace()+" subjects", b.Object["subjects"], []any{map[string]any{
			"kind": "ServiceAccount", "name": serviceAccount, "namespace": releaseNS,
		}})
	}
	for _, ns := range namespaces {
		if !roles[ns] || !bindings[ns] {
			t.Errorf("namespace %s: manager Role rendered %v, RoleBinding rendered %v", ns, roles[ns], bindings[ns])
		}
	}
	if len(roles) != len(namespaces) || len(bindings) != len(namespaces) {
		t.Errorf("manager Roles in %v and RoleBindings in %v, want exactly %v", roles, bindings, namespaces)
	}
}

// TestSharding renders two releases of one shard each, as docs/sharding.md
// describes: each has its own leader election Lease and selector, only the
// first installs the CRDs and aggregated roles, and none of their objects'
// names collide.
func TestSharding(t *testing.T) {
	_, east := render(t, "shard-east", defaultNamespace, "--set", "shardLabelSelector=shard=east")
	_, west := render(t, "shard-west", defaultNamespace, "--set", "shardLabelSelector=shard!=east,crds.install=false,rbac.aggregatedRoles=false")
	leases := map[string]bool{}
	for name, objs := range map[string]objects{"shard-east": east, "shard-west": west} {
		args := stringList(t, managerContainer(t, objs.get(t, "Deployment", name+"-subaccount-operator-controller-manager"))["args"])
		id := ""
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "--leader-election-id="); ok {
				id = v
			}
		}
		if id == "" || leases[id] {
			t.Errorf("%s: leader election id %q missing or shared (args %v)", name, id, args)
		}
		leases[id] = true
	}
	if !slices.Contains(stringList(t, managerContainer(t, east.ofKind("Deployment")[0])["args"]), "--shard-selector=shard=east") ||
		!slices.Contains(stringList(t, managerContainer(t, west.ofKind("Deployment")[0])["args"]), "--shard-selector=shard!=east") {
		t.Error("the shard selectors are not passed to the managers")
	}
	seen := map[string]bool{}
	for _, obj := range append(append(objects{}, east...), west...) {
		key := obj.GetKind() + "/" + obj.GetNamespace() + "/" + obj.GetName()
		if seen[key] {
			t.Errorf("both releases render %s", key)
		}
		seen[key] = true
	}
}

// TestManagerAcceptsFlags runs the manager binary with the rendered
// arguments and -h: it exits 0 only if every flag exists and parses.
func TestManagerAcceptsFlags(t *testing.T) {
	helmBinary(t) // skip like the others without helm
	manager := filepath.Join(t.TempDir(), "manager")
	build := exec.Command("go", "build", "-o", manager, ".")
	build.Dir = filepath.Join(repoRoot, "cmd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, out)
	}
	for name, extra := range map[string][]string{
		"defaults":    nil,
		"all values":  {"--values", allValues},
		"metrics off": {"--set", "metrics.enabled=false,metrics.secure=false,logLevel=5"},
	} {
		t.Run(name, func(t *testing.T) {
			_, objs := render(t, "r", "ns", extra...)
			args := stringList(t, managerContainer(t, objs.ofKind("Deployment")[0])["args"])
			cmd := exec.Command(manager, append(args, "-h")...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("manager %s -h: %v\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
}

func chartAppVersion(t *testing.T) string {
	t.Helper()
	chart := loadYAML(t, filepath.Join(chartPath, "Chart.yaml")).(map[string]any)
	v, _ := chart["appVersion"].(string)
	if v == "" {
		t.Fatal("Chart.yaml has no appVersion")
	}
	return v
}

func loadYAML(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// withoutKinds drops the given kinds from a rendered stream, re-serialised
// as YAML for kubectl.
func withoutKinds(t *testing.T, objs objects, kinds ...string) []byte {
	t.Helper()
	var b strings.Builder
	for _, obj := range objs {
		if slices.Contains(kinds, obj.GetKind()) {
			continue
		}
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return []byte(b.String())
}
