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
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestGitOpsYAML parses every YAML file under docs/gitops and every yaml
// block of its README: each document must be an object with apiVersion,
// kind and (but for kustomize's own kustomization.yaml) metadata.name; the
// README's blocks must be valid YAML.
func TestGitOpsYAML(t *testing.T) {
	files := gitopsFiles(t)
	if len(files) == 0 {
		t.Fatal("no YAML files under docs/gitops")
	}
	kinds := map[string]bool{}
	for _, f := range files {
		rel, _ := filepath.Rel(repoRoot, f)
		objs := readObjects(t, rel)
		if len(objs) == 0 {
			t.Errorf("%s holds no object", rel)
		}
		for _, obj := range objs {
			kinds[obj.GetAPIVersion()+" "+obj.GetKind()] = true
			if obj.GetName() == "" && obj.GetAPIVersion() != "kustomize.config.k8s.io/v1beta1" {
				t.Errorf("%s: %s without metadata.name", rel, obj.GetKind())
			}
		}
	}
	for _, want := range []string{
		"argoproj.io/v1alpha1 Application",
		"kustomize.toolkit.fluxcd.io/v1 Kustomization",
		"source.toolkit.fluxcd.io/v1 GitRepository",
		"shop.subaccount.io/v1alpha1 Shop",
		"shop.subaccount.io/v1alpha1 Role",
		"shop.subaccount.io/v1alpha1 SubAccount",
	} {
		if !kinds[want] {
			t.Errorf("docs/gitops has no %s", want)
		}
	}

	readme, err := os.ReadFile(filepath.Join(repoRoot, "docs", "gitops", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Error("docs/gitops/README.md has no yaml block")
	}
	for i, b := range blocks {
		docs, err := splitDocuments([]byte(b[1]))
		if err != nil {
			t.Errorf("README yaml block %d: %v", i+1, err)
			continue
		}
		for _, doc := range docs {
			var v any
			if err := yaml.UnmarshalStrict(doc, &v); err != nil {
				t.Errorf("README yaml block %d: %v\n%s", i+1, err, doc)
			}
		}
	}
}

// TestArgoCDHealthChecks checks that argocd-cm carries a Lua health check
// for each of the operator's kinds.
func TestArgoCDHealthChecks(t *testing.T) {
	cm := readObjects(t, filepath.Join("docs", "gitops", "argocd", "argocd-cm.yaml")).get(t, "ConfigMap", "argocd-cm")
	data := field(t, cm.Object, "data").(map[string]any)
	for _, kind := range []string{"Shop", "Role", "SubAccount"} {
		lua, _ := data["resource.customizations.health.shop.subaccount.io_"+kind].(string)
		if lua == "" {
			t.Errorf("argocd-cm has no health check for %s", kind)
			continue
		}
		for _, want := range []string{"Stalled", "Reconciling", "Ready", "observedGeneration", "return hs"} {
			if !strings.Contains(lua, want) {
				t.Errorf("%s health check does not mention %s", kind, want)
			}
		}
	}
}
