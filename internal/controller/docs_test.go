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

package controller

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every condition reason of api/v1alpha1 has a row in the user guide's
// troubleshooting table and in architecture.md's table of reasons.
func TestEveryReasonIsDocumented(t *testing.T) {
	src, err := os.ReadFile("../../api/v1alpha1/common_types.go")
	if err != nil {
		t.Fatal(err)
	}
	reasons := regexp.MustCompile(`(?m)^\s*Reason\w+\s*=\s*"(\w+)"`).FindAllStringSubmatch(string(src), -1)
	if len(reasons) < 20 {
		t.Fatalf("found only %d reasons in common_types.go", len(reasons))
	}
	for _, doc := range []struct{ path, row string }{
		{"../../docs/user-guide.md", "| `%s` |"},
		{"../../docs/architecture.md", "| %s |"},
	} {
		text, err := os.ReadFile(doc.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reasons {
			if row := strings.Replace(doc.row, "%s", r[1], 1); !strings.Contains(string(text), "\n"+row) {
				t.Errorf("%s has no row %q for reason %s", doc.path, row, r[1])
			}
		}
	}
}
