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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// The platform's tree in the plan tests: 客服部 (1) › 售前 (2, 3 members),
// 售后 (3) › 一组 (4); 财务部 (5); 仓储部 (6) › 夜班 (7).
func platformDepartments() []platform.Department {
	return []platform.Department{
		{ID: "1", DepartmentSpec: platform.DepartmentSpec{Name: "客服部"}},
		{ID: "2", DepartmentSpec: platform.DepartmentSpec{Name: "售前", ParentID: "1"}, Members: 3},
		{ID: "3", DepartmentSpec: platform.DepartmentSpec{Name: "售后", ParentID: "1"}},
		{ID: "4", DepartmentSpec: platform.DepartmentSpec{Name: "一组", ParentID: "3"}},
		{ID: "5", DepartmentSpec: platform.DepartmentSpec{Name: "财务部"}},
		{ID: "6", DepartmentSpec: platform.DepartmentSpec{Name: "仓储部"}},
		{ID: "7", DepartmentSpec: platform.DepartmentSpec{Name: "夜班", ParentID: "6"}},
	}
}

func TestNewDepartmentTree(t *testing.T) {
	g := NewWithT(t)
	deps := append(platformDepartments(),
		platform.Department{ID: "8", DepartmentSpec: platform.DepartmentSpec{Name: "孤儿", ParentID: "missing"}},
		platform.Department{ID: "9", DepartmentSpec: platform.DepartmentSpec{Name: "甲", ParentID: "10"}},
		platform.Department{ID: "10", DepartmentSpec: platform.DepartmentSpec{Name: "乙", ParentID: "9"}})
	tree := newDepartmentTree(deps, map[string]bool{})
	g.Expect(tree.pathOf).To(Equal(map[string]string{
		"1": "客服部", "2": "客服部/售前", "3": "客服部/售后", "4": "客服部/售后/一组", "5": "财务部", "6": "仓储部", "7": "仓储部/夜班",
		"8": "孤儿",               // a parent the listing lacks: kept at the top
		"9": "乙/甲", "10": "甲/乙", // a loop: each path stops where it closes
	}))
	g.Expect(tree.byPath["客服部/售后/一组"].ID).To(Equal("4"))
	g.Expect(tree.children).To(Equal(map[string]int{"1": 2, "3": 1, "6": 1, "missing": 1, "9": 1, "10": 1}))
}

func TestPlanDepartments(t *testing.T) {
	tests := []struct {
		name      string
		declared  []string
		managed   []string
		canCreate bool
		want      departmentPlan
	}{
		{
			name:      "all declared are there: nothing to do",
			declared:  []string{"客服部", "客服部/售前", "财务部"},
			canCreate: true,
		},
		{
			name:      "missing ones are created parents first, in the spec's order",
			declared:  []string{"客服部", "市场部", "市场部/直播", "市场部/直播/早班", "财务部", "法务部"},
			canCreate: true,
			want:      departmentPlan{create: []string{"市场部", "市场部/直播", "市场部/直播/早班", "法务部"}},
		},
		{
			name:     "an API that cannot create departments names them instead",
			declared: []string{"客服部", "市场部", "市场部/直播"},
			want:     departmentPlan{missing: []string{"市场部", "市场部/直播"}},
		},
		{
			name:      "departments the operator did not create are never deleted",
			declared:  []string{"客服部"},
			managed:   []string{"1"},
			canCreate: true,
		},
		{
			name:      "a dropped empty department and its dropped empty parent go, deepest first",
			declared:  []string{"客服部", "客服部/售前", "客服部/售后", "客服部/售后/一组", "财务部"},
			managed:   []string{"6", "7"},
			canCreate: true,
			want:      departmentPlan{remove: []string{"仓储部/夜班", "仓储部"}},
		},
		{
			name:      "a dropped department with members stays, and so does its dropped parent",
			declared:  []string{"财务部", "仓储部", "仓储部/夜班"},
			managed:   []string{"1", "2", "3", "4"},
			canCreate: true,
			want: departmentPlan{
				remove: []string{"客服部/售后/一组", "客服部/售后"},
				inUse:  []string{"客服部/售前 (ID 2) still has 3 member(s)", "客服部 (ID 1) still has 1 sub-department(s)"},
			},
		},
		{
			name:      "a dropped parent of a declared department stays",
			declared:  []string{"客服部/售前"},
			managed:   []string{"1"},
			canCreate: true,
			want:      departmentPlan{inUse: []string{"客服部 (ID 1) still has 2 sub-department(s)"}},
		},
		{
			name:     "deleting does not need the create capability",
			declared: []string{"客服部", "客服部/售前", "客服部/售后", "客服部/售后/一组", "财务部", "仓储部"},
			managed:  []string{"7"},
			want:     departmentPlan{remove: []string{"仓储部/夜班"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			managed := map[string]bool{}
			for _, id := range tt.managed {
				managed[id] = true
			}
			got := planDepartments(tt.declared, newDepartmentTree(platformDepartments(), managed), tt.canCreate)
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

// The apply loop keeps the tree current: a department created is the
// operator's, one deleted frees its parent.
func TestDepartmentTreeCreatedAndDeleted(t *testing.T) {
	g := NewWithT(t)
	tree := newDepartmentTree(platformDepartments(), map[string]bool{})
	tree.created("仓储部/早班", platform.Department{ID: "8", DepartmentSpec: platform.DepartmentSpec{Name: "早班", ParentID: "6"}})
	g.Expect(tree.children["6"]).To(Equal(2))
	g.Expect(tree.managed["8"]).To(BeTrue())
	tree.deleted("仓储部/夜班")
	tree.deleted("仓储部/早班")
	g.Expect(tree.children["6"]).To(BeZero())
	g.Expect(tree.byPath).NotTo(HaveKey("仓储部/夜班"))

	statuses := departmentStatuses(tree)
	g.Expect(statuses).To(HaveLen(6))
	g.Expect(statuses[0]).To(Equal(shopv1alpha1.DepartmentStatus{Path: "仓储部", ID: "6"}), "sorted by path")
	g.Expect(departmentStatuses(newDepartmentTree(nil, nil))).To(BeNil())
}

func TestDepartmentsCondition(t *testing.T) {
	refused := platformOutcome("creating department 市场部", platform.NewError(platform.ErrInvalid, "name", "too long"))
	var issues sideIssues
	if err := issues.add(refused); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		report          departmentsReport
		want            stepCondition
		wantUnsupported []string
	}{
		{
			name:   "not Taobao: no condition",
			report: departmentsReport{off: true},
		},
		{
			name:   "a refusal comes first",
			report: departmentsReport{issues: issues, inUse: []string{"x"}, missing: []string{"y"}},
			want:   stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonPlatformRejected, refused.Error()},
		},
		{
			name:   "in use",
			report: departmentsReport{inUse: []string{"客服部/售前 (ID 2) still has 3 member(s)", "仓储部 (ID 6): busy"}, missing: []string{"y"}},
			want: stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonInUse,
				"removed from spec.departments but not deleted while not empty: 客服部/售前 (ID 2) still has 3 member(s); 仓储部 (ID 6): busy; each is deleted once empty"},
		},
		{
			name:   "the API cannot create them",
			report: departmentsReport{platform: shopv1alpha1.PlatformTaobao, declared: 3, missing: []string{"市场部", "市场部/直播"}},
			want: stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonNotSupported,
				"taobao's API cannot create departments; create 市场部, 市场部/直播 in the platform's back office"},
			wantUnsupported: []string{"departments (市场部, 市场部/直播)"},
		},
		{
			name:   "none declared",
			report: departmentsReport{shown: 4},
			want:   stepCondition{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, "no departments declared; 4 on the platform"},
		},
		{
			name:   "all there",
			report: departmentsReport{declared: 3, shown: 4},
			want:   stepCondition{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, "3 declared departments are on the platform"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tt.report.condition()).To(Equal(tt.want))
			g.Expect(tt.report.unsupported()).To(Equal(tt.wantUnsupported))
		})
	}
}

// A department waiting to be empty is looked at again within a minute.
func TestDepartmentsReportRequeue(t *testing.T) {
	g := NewWithT(t)
	g.Expect(departmentsReport{}.result().requeueAfter).To(BeZero())
	g.Expect(departmentsReport{inUse: []string{"x"}}.result().requeueAfter).To(Equal(waitRetry))
	g.Expect(departmentsReport{inUse: []string{"x"}, issues: sideIssues{next: 10 * time.Second}}.result().requeueAfter).To(Equal(10 * time.Second))
}
