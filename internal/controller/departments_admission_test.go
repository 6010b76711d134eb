package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	msgDepartmentsTaobaoOnly = "departments are Taobao/Tmall's (部门结构): only a taobao Shop can declare them"
	msgDepartmentName        = "a department name must not be blank or contain '/' (paths are written 客服部/售前)"
	msgDepartmentPath        = "department is a path such as 客服部/售前: no leading, trailing or double '/'"
)

// manyDepartments is n top-level departments with children each, as JSON.
func manyDepartments(n, children int) string {
	deps := make([]string, 0, n)
	for i := range n {
		kids := make([]string, 0, children)
		for j := range children {
			kids = append(kids, fmt.Sprintf(`{"name":"c%d"}`, j))
		}
		deps = append(deps, fmt.Sprintf(`{"name":"d%d","children":[%s]}`, i, strings.Join(kids, ",")))
	}
	return "[" + strings.Join(deps, ",") + "]"
}

var departmentAdmissionCases = []admissionCase{
	{name: "departments on taobao", kind: "Shop",
		create: `{"spec":{"departments":[{"name":"客服部","children":[{"name":"售前","children":[{"name":"一组"}]},{"name":"售后"}]},{"name":"财务部"}]}}`},
	{name: "departments on douyin", kind: "Shop", create: `{"spec":{"platform":"douyin","departments":[{"name":"客服部"}]}}`,
		want: msgDepartmentsTaobaoOnly},
	{name: "empty departments on pinduoduo", kind: "Shop", create: `{"spec":{"platform":"pinduoduo","departments":[]}}`},
	{name: "department name with slash", kind: "Shop", create: `{"spec":{"departments":[{"name":"客服/售前"}]}}`, want: msgDepartmentName},
	{name: "blank department name", kind: "Shop", create: `{"spec":{"departments":[{"name":"  "}]}}`, want: msgDepartmentName},
	{name: "empty sub-department name", kind: "Shop", create: `{"spec":{"departments":[{"name":"客服部","children":[{"name":""}]}]}}`,
		want: "spec.departments[0].children[0].name in body should be at least 1 chars long"},
	{name: "department name 33 characters", kind: "Shop", create: `{"spec":{"departments":[{"name":"` + strings.Repeat("部", 33) + `"}]}}`,
		want: "may not be more than 32"},
	{name: "duplicate siblings", kind: "Shop", create: `{"spec":{"departments":[{"name":"客服部","children":[{"name":"售前"},{"name":"售前"}]}]}}`,
		want: `spec.departments[0].children[1]: Duplicate value: {"name":"售前"}`},
	{name: "same name under different parents", kind: "Shop",
		create: `{"spec":{"departments":[{"name":"客服部","children":[{"name":"一组"}]},{"name":"运营部","children":[{"name":"一组"}]}]}}`},
	{name: "200 departments", kind: "Shop", create: `{"spec":{"departments":` + manyDepartments(40, 4) + `}}`},
	{name: "205 departments", kind: "Shop", create: `{"spec":{"departments":` + manyDepartments(41, 4) + `}}`,
		want: "at most 200 departments in all"},
	{name: "contact phone", kind: "Shop", create: `{"spec":{"notificationContacts":[{"name":"值班","phone":"12345"}]}}`, want: msgPhone},
	{name: "contact without name", kind: "Shop", create: `{"spec":{"notificationContacts":[{"phone":"13800138000"}]}}`,
		want: "spec.notificationContacts[0].name: Required value"},
	{name: "contact phone twice", kind: "Shop",
		create: `{"spec":{"notificationContacts":[{"name":"a","phone":"13800138000"},{"name":"b","phone":"13800138000"}]}}`,
		want:   "Duplicate value"},
	{name: "contacts on douyin", kind: "Shop", create: `{"spec":{"platform":"douyin","notificationContacts":[{"name":"值班","phone":"+8613800138000"}]}}`},
	{name: "SubAccount department path", kind: "SubAccount", create: `{"spec":{"employee":{"department":"客服部/售前"}}}`},
	{name: "SubAccount department trailing slash", kind: "SubAccount", create: `{"spec":{"employee":{"department":"客服部/"}}}`,
		want: msgDepartmentPath},
	{name: "SubAccount department double slash", kind: "SubAccount", create: `{"spec":{"employee":{"department":"客服部//售前"}}}`,
		want: msgDepartmentPath},
}

func TestDepartmentsAndContactsAdmission(t *testing.T) {
	runAdmissionCases(t, departmentAdmissionCases)
}

// A fourth level is not in the schema: kubectl (strict field validation,
// its default) refuses it by name rather than dropping it.
func TestDepartmentsFourthLevelRefused(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	obj := validObject("Shop", ns, "deep")
	var patch map[string]any
	g.Expect(json.Unmarshal([]byte(`{"spec":{"departments":[{"name":"a","children":[{"name":"b","children":[{"name":"c","children":[{"name":"d"}]}]}]}]}}`), &patch)).To(Succeed())
	mergePatch(obj, patch)
	err := k8s.Create(context.Background(), &unstructured.Unstructured{Object: obj}, client.FieldValidation("Strict"))
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring(`unknown field "spec.departments[0].children[0].children[0].children"`))
}
