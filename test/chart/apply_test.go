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

package chart

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subaccount-operator/subaccount-operator/internal/controlplane"
)

// controlPlane is a local kube-apiserver and etcd (envtest, no CRDs
// installed) with an admin kubeconfig, driven with the kubectl built next to
// them.
type controlPlane struct {
	kubectl    string
	kubeconfig string
	cacheDir   string
}

func startControlPlane(t *testing.T) *controlPlane {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Skip("KUBEBUILDER_ASSETS is not set: run 'make test-chart' (it builds the envtest binaries into bin/k8s)")
	}
	env, err := controlplane.Start(controlplane.Options{AssetsDir: assets})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	admin, err := env.AddAdmin("chart-test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cp := &controlPlane{
		kubectl:    env.KubectlPath(),
		kubeconfig: filepath.Join(dir, "kubeconfig"),
		cacheDir:   filepath.Join(dir, "cache"),
	}
	if err := controlplane.WriteKubeconfig(admin, cp.kubeconfig); err != nil {
		t.Fatal(err)
	}
	return cp
}

// run runs kubectl with stdin and returns its output, failing the test on error.
func (cp *controlPlane) run(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	full := append([]string{"--kubeconfig", cp.kubeconfig, "--cache-dir", cp.cacheDir}, args...)
	cmd := exec.Command(cp.kubectl, full...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cp.kubeconfig)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestApplyToControlPlane applies 'helm template' output (defaults, with
// the cluster's capabilities, then every value set, as a second release
// without CRDs) with server-side apply to a control plane without the
// CRDs, and checks that the CRDs become Established and the Deployments
// exist (no kubelet: nothing runs). The GitOps example staff is then
// validated against the installed CRDs.
func TestApplyToControlPlane(t *testing.T) {
	helmBinary(t)
	cp := startControlPlane(t)

	// The defaults as helm install renders them for this cluster
	// (--validate: its API versions discovered): finalizerPolicy.enabled
	// auto finds MutatingAdmissionPolicy served (Kubernetes 1.36 or later)
	// and renders the policy. The all-values release has it always (true).
	_, defaults := render(t, defaultRelease, defaultNamespace, "--validate", "--kubeconfig", cp.kubeconfig)
	if defaults.find("MutatingAdmissionPolicy", "subaccount-operator-subaccount-finalizer") == nil {
		t.Errorf("finalizerPolicy.enabled auto rendered no MutatingAdmissionPolicy for a cluster serving it; rendered %v", defaults.names())
	}
	_, all := render(t, "gitops", "staff", "--values", allValues)
	if len(defaults.ofKind("CustomResourceDefinition")) == 0 {
		t.Fatal("the default render has no CRDs")
	}
	if len(all.ofKind("ServiceMonitor")) == 0 || len(all.ofKind("PrometheusRule")) == 0 {
		t.Fatal("the all-values render has no ServiceMonitor or PrometheusRule to skip")
	}

	// The all-values release watches shop-hongxing and shop-lanting: its
	// Roles go there.
	for _, ns := range []string{defaultNamespace, "staff", "shop-hongxing", "shop-lanting"} {
		cp.run(t, nil, "create", "namespace", ns)
	}
	out := cp.run(t, withoutKinds(t, defaults, "ServiceMonitor", "PrometheusRule"), "apply", "--server-side", "--field-manager=helm-chart-test", "-f", "-")
	t.Logf("defaults applied:\n%s", out)

	var crdNames []string
	for _, crd := range defaults.ofKind("CustomResourceDefinition") {
		crdNames = append(crdNames, "crd/"+crd.GetName())
	}
	cp.run(t, nil, append([]string{"wait", "--for=condition=Established", "--timeout=60s"}, crdNames...)...)
	for _, crd := range defaults.ofKind("CustomResourceDefinition") {
		got := cp.run(t, nil, "get", "crd", crd.GetName(), "-o", "jsonpath={.metadata.annotations.helm\\.sh/resource-policy}")
		if got != "keep" {
			t.Errorf("CRD %s: helm.sh/resource-policy=%q on the server", crd.GetName(), got)
		}
	}

	out = cp.run(t, withoutKinds(t, all, "ServiceMonitor", "PrometheusRule"), "apply", "--server-side", "--field-manager=helm-chart-test", "-f", "-")
	t.Logf("all values applied:\n%s", out)

	for ns, name := range map[string]string{
		defaultNamespace: "subaccount-operator-controller-manager",
		"staff":          "staff-operator-controller-manager",
	} {
		got := cp.run(t, nil, "get", "deployment", "-n", ns, name, "-o", "jsonpath={.spec.template.spec.serviceAccountName} {.spec.replicas}")
		t.Logf("deployment %s/%s: %s", ns, name, got)
	}
	// Every rendered object (but the ServiceMonitor and PrometheusRule) exists on the server.
	for _, set := range []objects{defaults, all} {
		for _, obj := range set {
			if obj.GetKind() == "ServiceMonitor" || obj.GetKind() == "PrometheusRule" {
				continue
			}
			resource := strings.ToLower(obj.GetKind())
			if group := groupOf(obj.GetAPIVersion()); group != "" {
				resource += "." + group
			}
			args := []string{"get", resource, obj.GetName(), "-o", "name"}
			if ns := obj.GetNamespace(); ns != "" {
				args = append(args, "-n", ns)
			}
			cp.run(t, nil, args...)
		}
	}

	// rbac.adoptionClusterRead: the release that watches two namespaces
	// may still list SubAccounts and get Shops everywhere, as adopting an
	// account needs (kubectl auth can-i answers "no" with a failure).
	for _, what := range [][]string{{"list", "subaccounts.shop.subaccount.io"}, {"get", "shops.shop.subaccount.io"}} {
		got := cp.run(t, nil, "auth", "can-i", what[0], what[1], "--all-namespaces", "--as=system:serviceaccount:staff:staff-operator")
		if strings.TrimSpace(got) != "yes" {
			t.Errorf("the all-values release may not %s %s cluster-wide: %s", what[0], what[1], got)
		}
	}

	// The GitOps example's Shop, Roles and SubAccounts pass the CRDs'
	// validation (server-side dry run).
	staff := gitopsStaff(t)
	out = cp.run(t, staff, "apply", "--server-side", "--dry-run=server", "--field-manager=gitops-example", "-n", "shop-hongxing", "-f", "-")
	t.Logf("GitOps example staff (dry run):\n%s", out)

	// The all-values release's finalizer policy gives a new SubAccount the
	// operator's finalizer as it is created, keeping the author's own.
	parsed, err := parseObjects(staff)
	if err != nil {
		t.Fatal(err)
	}
	sub := parsed.ofKind("SubAccount")[0]
	sub.SetFinalizers([]string{"example.com/keep"})
	data, err := sub.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got := cp.run(t, data, "create", "--dry-run=server", "-n", "shop-hongxing", "-o", "jsonpath={.metadata.finalizers}", "-f", "-")
	for _, want := range []string{"shop.subaccount.io/subaccount", "example.com/keep"} {
		if !strings.Contains(got, want) {
			t.Errorf("a SubAccount created with the finalizer policy has finalizers %s, lacking %s", got, want)
		}
	}
}

// groupOf returns the API group of an apiVersion, "" for the core group,
// in the form kubectl's TYPE.GROUP expects.
func groupOf(apiVersion string) string {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		return ""
	}
	return group
}

// gitopsStaff returns the objects of docs/gitops/staff whose kinds a bare
// control plane with the CRDs knows (the operator's kinds and Secrets), as a
// YAML stream.
func gitopsStaff(t *testing.T) []byte {
	t.Helper()
	var objs objects
	for _, f := range gitopsFiles(t) {
		rel, _ := filepath.Rel(repoRoot, f)
		if !strings.HasPrefix(filepath.ToSlash(rel), "docs/gitops/staff/") {
			continue
		}
		for _, obj := range readObjects(t, rel) {
			if groupOf(obj.GetAPIVersion()) == "shop.subaccount.io" {
				objs = append(objs, obj)
			}
		}
	}
	if len(objs) == 0 {
		t.Fatal("no Shop, Role or SubAccount under docs/gitops/staff")
	}
	for _, kind := range []string{"Shop", "Role", "SubAccount"} {
		if len(objs.ofKind(kind)) == 0 {
			t.Errorf("docs/gitops/staff has no %s", kind)
		}
	}
	return withoutKinds(t, objs)
}

func gitopsFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(repoRoot, "docs", "gitops"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestInstallManifest applies what 'make build-installer' writes to
// dist/install.yaml (config/default, rendered here with kubectl's built-in
// kustomize, as build-installer does with kustomize) to a bare control
// plane: the CRDs become Established, and the Namespace, RBAC, metrics
// Service and Deployment exist, the Deployment running the manager as the
// chart does.
func TestInstallManifest(t *testing.T) {
	cp := startControlPlane(t)
	manifest := cp.run(t, nil, "kustomize", filepath.Join(repoRoot, "config", "default"))
	objs, err := parseObjects([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, obj := range objs {
		kinds[obj.GetKind()]++
	}
	for kind, min := range map[string]int{"Namespace": 1, "CustomResourceDefinition": 3, "ClusterRole": 2, "ClusterRoleBinding": 2,
		"Role": 1, "RoleBinding": 1, "ServiceAccount": 1, "Service": 1, "Deployment": 1} {
		if kinds[kind] < min {
			t.Errorf("config/default renders %d %s, want at least %d", kinds[kind], kind, min)
		}
	}
	out := cp.run(t, []byte(manifest), "apply", "--server-side", "--field-manager=install-test", "-f", "-")
	t.Logf("config/default applied:\n%s", out)
	var crds []string
	for _, crd := range objs.ofKind("CustomResourceDefinition") {
		crds = append(crds, "crd/"+crd.GetName())
	}
	cp.run(t, nil, append([]string{"wait", "--for=condition=Established", "--timeout=60s"}, crds...)...)
	got := cp.run(t, nil, "get", "deployment", "-n", defaultNamespace, "subaccount-operator-controller-manager",
		"-o", "jsonpath={.spec.template.spec.serviceAccountName} {.spec.template.spec.containers[0].command[0]} {.spec.template.spec.containers[0].image}")
	// The image is the one 'make image' writes (IMG's default).
	if want := "subaccount-operator-controller-manager /manager ghcr.io/subaccount-operator/subaccount-operator:" + chartAppVersion(t); got != want {
		t.Errorf("Deployment: service account, command and image %q, want %q", got, want)
	}
}

// TestInstallManifestComponents enables config/default's optional
// components as its comments say (uncommenting them) and applies the
// result: the priority level the FlowSchema names exists (the API server
// says the schema is not dangling), the FlowSchema's subject is the
// manager's ServiceAccount, and the finalizer policy's binding names the
// policy.
func TestInstallManifestComponents(t *testing.T) {
	cp := startControlPlane(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot, "config"))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "default", "kustomization.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	enabled := string(data)
	for _, line := range []string{"components:", "- ../flowcontrol", "- ../finalizer-policy"} {
		if !strings.Contains(enabled, "\n#"+line+"\n") {
			t.Fatalf("config/default/kustomization.yaml has no commented-out %q to enable", line)
		}
		enabled = strings.Replace(enabled, "\n#"+line+"\n", "\n"+line+"\n", 1)
	}
	if err := os.WriteFile(path, []byte(enabled), 0o600); err != nil {
		t.Fatal(err)
	}
	manifest := cp.run(t, nil, "kustomize", filepath.Join(dir, "default"))
	out := cp.run(t, []byte(manifest), "apply", "--server-side", "--field-manager=install-test", "-f", "-")
	t.Logf("config/default with its components applied:\n%s", out)

	const name = "subaccount-operator-controller-manager"
	cp.run(t, nil, "wait", "--for=condition=Dangling=False", "--timeout=60s", "flowschema/"+name)
	got := cp.run(t, nil, "get", "flowschema", name, "-o",
		"jsonpath={.spec.priorityLevelConfiguration.name} {.spec.rules[0].subjects[0].serviceAccount.namespace}/{.spec.rules[0].subjects[0].serviceAccount.name}")
	if want := name + " " + defaultNamespace + "/" + name; got != want {
		t.Errorf("FlowSchema: level and subject %q, want %q", got, want)
	}
	cp.run(t, nil, "get", "serviceaccount", "-n", defaultNamespace, name)
	policy := cp.run(t, nil, "get", "mutatingadmissionpolicybinding", "subaccount-operator-subaccount-finalizer", "-o", "jsonpath={.spec.policyName}")
	cp.run(t, nil, "get", "mutatingadmissionpolicy", policy)
}
