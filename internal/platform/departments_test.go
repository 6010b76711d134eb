package platform_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// repoFile reads a file of the repository (this package is two levels
// below its root).
func repoFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// schema is a node of a CRD's OpenAPI schema, as far as the test reads it.
type schema struct {
	MaxLength   *int              `json:"maxLength"`
	Properties  map[string]schema `json:"properties"`
	Items       *schema           `json:"items"`
	Validations []struct {
		Rule    string `json:"rule"`
		Message string `json:"message"`
	} `json:"x-kubernetes-validations"`
}

// The department limits are defined once (platform.MaxDepartment*): the
// engine uses the constants, and the Shop CRD (generated from the markers
// of api/v1alpha1, which cannot name a constant), the gateway's OpenAPI
// document and the docs must say the same. This fails when one of them
// is changed alone (the CRD allowed 3 levels and 200 departments while the
// engine allowed 5 and 500).
func TestDepartmentLimitsAgree(t *testing.T) {
	g := NewWithT(t)
	var crd struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema schema `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	g.Expect(yaml.Unmarshal([]byte(repoFile(t, "config/crd/bases/shop.subaccount.io_shops.yaml")), &crd)).To(Succeed())
	g.Expect(crd.Spec.Versions).To(HaveLen(1))
	departments := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["departments"]

	// The levels the CRD nests, each name as long as the engine allows.
	depth := 0
	for level := departments.Items; level != nil; {
		depth++
		name := level.Properties["name"]
		g.Expect(name.MaxLength).NotTo(BeNil(), "level %d's name has no maxLength", depth)
		g.Expect(*name.MaxLength).To(Equal(platform.MaxDepartmentNameLength), "level %d's name", depth)
		children, ok := level.Properties["children"]
		if !ok {
			break
		}
		level = children.Items
	}
	g.Expect(depth).To(Equal(platform.MaxDepartmentDepth), "the levels the Shop CRD nests")

	// The count rule.
	g.Expect(departments.Validations).To(ContainElement(And(
		HaveField("Rule", HaveSuffix(fmt.Sprintf("<= %d", platform.MaxDepartments))),
		HaveField("Message", fmt.Sprintf("at most %d departments in all", platform.MaxDepartments)))))

	// What the gateway protocol and the docs say.
	for path, want := range map[string][]string{
		"api/gateway/openapi.yaml": {fmt.Sprintf("At most\n        %d levels and %d departments.", platform.MaxDepartmentDepth, platform.MaxDepartments)},
		"docs/platform-gateway.md": {fmt.Sprintf("deeper than %d levels", platform.MaxDepartmentDepth),
			fmt.Sprintf("the shop has %d departments", platform.MaxDepartments)},
		"README.md":            {fmt.Sprintf("up to %d levels, %d in all", platform.MaxDepartmentDepth, platform.MaxDepartments)},
		"docs/architecture.md": {fmt.Sprintf("%d levels, ≤ %d", platform.MaxDepartmentDepth, platform.MaxDepartments)},
	} {
		text := repoFile(t, path)
		for _, w := range want {
			g.Expect(text).To(ContainSubstring(w), "%s", path)
		}
		for _, stale := range []string{"5 levels", "500 departments"} {
			g.Expect(strings.Contains(text, stale)).To(BeFalse(), "%s still says %q", path, stale)
		}
	}
}
