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

package samples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// writeDir creates a directory holding the files (name -> content).
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func ids(t *testing.T, dir string) []string {
	t.Helper()
	objs, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

func TestLoadFollowsResourceOrderAndSplitsDocuments(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"kustomization.yaml": `# comment
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- b.yaml
- sub/a.yaml
# +kubebuilder:scaffold:manifestskustomizesamples
`,
		"sub/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  text: \"x\\n---\\ny\"\n",
		"b.yaml": `---
# only a comment
---
apiVersion: v1
kind: Secret
metadata:
  name: b1
stringData:
  key: value
---

---
apiVersion: shop.subaccount.io/v1alpha1
kind: Shop
metadata:
  name: b2
  namespace: elsewhere
spec:
  platform: taobao
`,
	})
	got := strings.Join(ids(t, dir), ",")
	if want := "Secret/b1,Shop/b2,ConfigMap/a"; got != want {
		t.Fatalf("objects = %s, want %s", got, want)
	}
	objs, _ := Load(dir)
	if ns := objs[1].GetNamespace(); ns != "elsewhere" {
		t.Errorf("namespace = %q, want it kept as written", ns)
	}
	if v, _, _ := unstructured.NestedString(objs[2].Object, "data", "text"); v != "x\n---\ny" {
		t.Errorf("a '---' inside a string was split: %q", v)
	}
	if v, _, _ := unstructured.NestedString(objs[0].Object, "stringData", "key"); v != "value" {
		t.Errorf("stringData.key = %q", v)
	}
}

func TestLoadErrors(t *testing.T) {
	valid := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
	cases := map[string]struct {
		files map[string]string
		want  string
	}{
		"no kustomization": {files: map[string]string{"a.yaml": valid}, want: "kustomization.yaml"},
		"no resources":     {files: map[string]string{"kustomization.yaml": "resources: []\n"}, want: "lists no resources"},
		"transforming field": {
			files: map[string]string{"kustomization.yaml": "namespace: x\nresources:\n- a.yaml\n", "a.yaml": valid},
			want:  "only apiVersion, kind and resources are supported",
		},
		"missing file": {files: map[string]string{"kustomization.yaml": "resources:\n- gone.yaml\n"}, want: `resource "gone.yaml"`},
		"directory resource": {
			files: map[string]string{"kustomization.yaml": "resources:\n- sub\n", "sub/a.yaml": valid},
			want:  "is not a file",
		},
		"no kind": {
			files: map[string]string{"kustomization.yaml": "resources:\n- a.yaml\n", "a.yaml": valid + "---\napiVersion: v1\nmetadata:\n  name: b\n"},
			want:  "a.yaml: document 2 needs apiVersion, kind and metadata.name",
		},
		"bad yaml": {
			files: map[string]string{"kustomization.yaml": "resources:\n- a.yaml\n", "a.yaml": "kind: [\n"},
			want:  "a.yaml: document 1",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeDir(t, tc.files))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// The project's own samples load: the Taobao, Douyin and Pinduoduo Shops
// with their API Secrets, Roles and SubAccounts, and a Staff across shops,
// none with a namespace.
func TestLoadProjectSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "config", "samples")
	got := strings.Join(ids(t, dir), ",")
	want := "Shop/hongxing,Secret/hongxing-api,Role/customer-service,Role/operations,SubAccount/xiaohong,SubAccount/daming,SubAccount/xiaolan," +
		"Secret/doudian-api,Shop/doudian,Role/douyin-customer-service,SubAccount/xiaomei," +
		"Secret/pdd-xiaodian-api,Shop/pdd-xiaodian,Role/pinduoduo-customer-service-lead,Role/pinduoduo-operations,SubAccount/aqiang," +
		"Staff/xiaoli"
	if got != want {
		t.Fatalf("objects = %s, want %s", got, want)
	}
	objs, _ := Load(dir)
	for _, o := range objs {
		if o.GetNamespace() != "" {
			t.Errorf("%s/%s has namespace %q", o.GetKind(), o.GetName(), o.GetNamespace())
		}
	}
}
