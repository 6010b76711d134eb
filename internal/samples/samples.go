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

// Package samples reads the sample manifests that a directory's
// kustomization.yaml lists (config/samples), so that programs and tests can
// apply them without kustomize.
package samples

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// KustomizationFile is the file Load reads the resource list from.
const KustomizationFile = "kustomization.yaml"

// kustomization is the subset of a kustomization that Load understands. Any
// other field (namespace, patches, labels, ...) would change the objects, so
// Load rejects it rather than return objects kustomize would not produce.
type kustomization struct {
	APIVersion string   `json:"apiVersion,omitempty"`
	Kind       string   `json:"kind,omitempty"`
	Resources  []string `json:"resources"`
}

// Load reads dir/kustomization.yaml and returns the objects of the files its
// resources list, in order (files in list order, documents in file order).
// Resources must be local YAML files; documents that are empty or only
// comments are skipped, and every other document must have an apiVersion,
// a kind and a metadata.name. The objects are returned as written: Load sets
// no namespace.
func Load(dir string) ([]*unstructured.Unstructured, error) {
	kustPath := filepath.Join(dir, KustomizationFile)
	raw, err := os.ReadFile(kustPath)
	if err != nil {
		return nil, fmt.Errorf("samples: %w", err)
	}
	var kust kustomization
	if err := yaml.UnmarshalStrict(raw, &kust); err != nil {
		return nil, fmt.Errorf("samples: %s: only apiVersion, kind and resources are supported: %w", kustPath, err)
	}
	if len(kust.Resources) == 0 {
		return nil, fmt.Errorf("samples: %s lists no resources", kustPath)
	}
	var objs []*unstructured.Unstructured
	for _, res := range kust.Resources {
		path := filepath.Join(dir, res)
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("samples: resource %q of %s: %w", res, kustPath, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("samples: resource %q of %s is not a file (only plain YAML files are supported)", res, kustPath)
		}
		fileObjs, err := loadFile(path)
		if err != nil {
			return nil, err
		}
		objs = append(objs, fileObjs...)
	}
	return objs, nil
}

// loadFile decodes every non-empty YAML document of path.
func loadFile(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("samples: %w", err)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("samples: %s: document %d: %w", path, doc, err)
		}
		var content map[string]any
		if err := yaml.Unmarshal(raw, &content); err != nil {
			return nil, fmt.Errorf("samples: %s: document %d: %w", path, doc, err)
		}
		if len(content) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: content}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("samples: %s: document %d needs apiVersion, kind and metadata.name", path, doc)
		}
		objs = append(objs, u)
	}
}
