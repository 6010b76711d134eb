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
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The tests run in test/chart; paths are relative to the repository root.
var (
	repoRoot  = filepath.Join("..", "..")
	chartPath = filepath.Join(repoRoot, "charts", "subaccount-operator")
	allValues = filepath.Join("testdata", "all-values.yaml")
)

const (
	defaultRelease   = "subaccount-operator"
	defaultNamespace = "subaccount-operator-system"
)

// helmBinary is $HELM, else bin/helm as built by 'make helm'. Without it the
// test is skipped: 'make test-chart' builds it first, so CI never skips.
func helmBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		abs, err := filepath.Abs(filepath.Join(repoRoot, "bin", "helm"))
		if err != nil {
			t.Fatal(err)
		}
		bin = abs
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("helm binary not found at %s: run 'make test-chart' (it builds helm into bin/ with 'make helm' first)", bin)
	}
	return bin
}

// runHelm runs helm and returns stdout, or stderr as the error.
func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// templateArgs is 'helm template RELEASE chart -n NS' plus extra arguments.
func templateArgs(release, namespace string, extra ...string) []string {
	return append([]string{"template", release, chartPath, "--namespace", namespace}, extra...)
}

// render runs helm template and parses its output.
func render(t *testing.T, release, namespace string, extra ...string) (string, objects) {
	t.Helper()
	out, err := runHelm(t, templateArgs(release, namespace, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := parseObjects([]byte(out))
	if err != nil {
		t.Fatalf("parsing helm template output: %v\n%s", err, out)
	}
	return out, objs
}

// objects are parsed Kubernetes objects in document order.
type objects []*unstructured.Unstructured

func (o objects) ofKind(kind string) objects {
	var out objects
	for _, obj := range o {
		if obj.GetKind() == kind {
			out = append(out, obj)
		}
	}
	return out
}

func (o objects) find(kind, name string) *unstructured.Unstructured {
	for _, obj := range o {
		if obj.GetKind() == kind && obj.GetName() == name {
			return obj
		}
	}
	return nil
}

func (o objects) get(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	obj := o.find(kind, name)
	if obj == nil {
		t.Fatalf("no %s %q rendered; have %v", kind, name, o.names())
	}
	return obj
}

func (o objects) names() []string {
	var out []string
	for _, obj := range o {
		out = append(out, obj.GetKind()+"/"+obj.GetName())
	}
	return out
}

// parseObjects reads a multi-document YAML stream; empty documents (only
// comments) are skipped, and every other one must be an object with
// apiVersion and kind.
func parseObjects(data []byte) (objects, error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, err
	}
	var out objects
	for i, doc := range docs {
		var m map[string]any
		if err := yaml.UnmarshalStrict(doc, &m); err != nil {
			return nil, fmt.Errorf("document %d: %w\n%s", i+1, err, doc)
		}
		if m == nil {
			continue
		}
		obj := &unstructured.Unstructured{Object: m}
		if obj.GetAPIVersion() == "" || obj.GetKind() == "" {
			return nil, fmt.Errorf("document %d has no apiVersion or kind:\n%s", i+1, doc)
		}
		out = append(out, obj)
	}
	return out, nil
}

func splitDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
}

// readObjects parses a YAML file of the repository.
func readObjects(t *testing.T, rel string) objects {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := parseObjects(data)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return objs
}

// field reads a nested field, failing the test when it is absent.
func field(t *testing.T, obj map[string]any, path ...string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(obj, path...)
	if err != nil || !ok {
		t.Fatalf("%s missing (err %v)", strings.Join(path, "."), err)
	}
	return v
}

// toMap converts YAML text into the generic form unstructured uses, so it can
// be compared with reflect.DeepEqual.
func toMap(t *testing.T, y string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(y), &v); err != nil {
		t.Fatalf("bad YAML in test: %v\n%s", err, y)
	}
	return v
}

func expectEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := yaml.Marshal(got)
		w, _ := yaml.Marshal(want)
		t.Errorf("%s:\n--- got\n%s--- want\n%s", what, g, w)
	}
}

// managerContainer returns the Deployment's container named manager.
func managerContainer(t *testing.T, deploy *unstructured.Unstructured) map[string]any {
	t.Helper()
	containers := field(t, deploy.Object, "spec", "template", "spec", "containers").([]any)
	for _, c := range containers {
		if m := c.(map[string]any); m["name"] == "manager" {
			return m
		}
	}
	t.Fatalf("Deployment %s has no container named manager", deploy.GetName())
	return nil
}

func stringList(t *testing.T, v any) []string {
	t.Helper()
	items, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list: %#v", v)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = fmt.Sprint(it)
	}
	return out
}

// leafPaths lists the dotted paths of every leaf of a values tree (empty
// maps and lists count as leaves).
func leafPaths(prefix string, v any) []string {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return []string{prefix}
	}
	var out []string
	for k, sub := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		out = append(out, leafPaths(p, sub)...)
	}
	sort.Strings(out)
	return out
}
