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

// The departments step's decisions, as pure functions of the spec, the
// platform's tree and what the operator created: tested without a control
// plane or a platform (shop_departments_plan_test.go). The step itself
// (shop_departments.go) only carries them out.

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// departmentTree is the platform's departments by path.
type departmentTree struct {
	byPath map[string]platform.Department
	// pathOf is each department ID's path; children counts sub-departments.
	pathOf   map[string]string
	children map[string]int
	// managed holds the IDs of the departments the operator created: only
	// those are ever deleted.
	managed map[string]bool
}

// newDepartmentTree arranges the platform's departments by path; managed
// is the IDs of those the operator created.
func newDepartmentTree(deps []platform.Department, managed map[string]bool) departmentTree {
	t := departmentTree{byPath: map[string]platform.Department{}, pathOf: map[string]string{}, children: map[string]int{},
		managed: managed}
	byID := map[string]platform.Department{}
	for _, d := range deps {
		byID[d.ID] = d
		if d.ParentID != "" {
			t.children[d.ParentID]++
		}
	}
	for _, d := range deps {
		names := []string{d.Name}
		seen := map[string]bool{d.ID: true}
		for p := d.ParentID; p != ""; p = byID[p].ParentID {
			parent, ok := byID[p]
			if !ok || seen[p] {
				break // a parent the listing lacks, or a loop: keep what we have
			}
			seen[p] = true
			names = append([]string{parent.Name}, names...)
		}
		path := strings.Join(names, "/")
		t.byPath[path] = d
		t.pathOf[d.ID] = path
	}
	return t
}

// created adds a department the operator just created.
func (t departmentTree) created(path string, d platform.Department) {
	t.byPath[path] = d
	t.pathOf[d.ID] = path
	t.managed[d.ID] = true
	if d.ParentID != "" {
		t.children[d.ParentID]++
	}
}

// deleted takes a department the operator just deleted out.
func (t departmentTree) deleted(path string) {
	d := t.byPath[path]
	delete(t.byPath, path)
	if d.ParentID != "" {
		t.children[d.ParentID]--
	}
}

// splitDepartmentPath returns a path's parent path ("" at the top) and
// last name.
func splitDepartmentPath(path string) (parent, name string) {
	if i := strings.LastIndex(path, "/"); i >= 0 {
		return path[:i], path[i+1:]
	}
	return "", path
}

// departmentPlan is what the departments step is to do on the platform.
type departmentPlan struct {
	// create is the declared paths the platform lacks, parents first.
	create []string
	// missing is the declared paths the platform lacks and its API cannot
	// create.
	missing []string
	// remove is the departments the operator created and the spec no
	// longer declares that are empty once those before them are gone,
	// deepest first.
	remove []string
	// inUse says why each other department the operator created and the
	// spec dropped is kept for now: it still has members or
	// sub-departments.
	inUse []string
}

// planDepartments decides what to create (the declared paths the platform
// lacks, in DepartmentPaths' order: parents first) and what to delete
// (what the operator created and the spec dropped, deepest first, once
// empty). A department the operator did not create is never deleted.
func planDepartments(declared []string, tree departmentTree, canCreate bool) departmentPlan {
	var p departmentPlan
	for _, path := range declared {
		switch _, ok := tree.byPath[path]; {
		case ok:
		case canCreate:
			p.create = append(p.create, path)
		default:
			p.missing = append(p.missing, path)
		}
	}
	var dropped []string
	for path, d := range tree.byPath {
		if tree.managed[d.ID] && !slices.Contains(declared, path) {
			dropped = append(dropped, path)
		}
	}
	// Deepest first, so a parent is looked at once its sub-departments are
	// gone; by path within a depth, so the messages keep their order.
	slices.SortFunc(dropped, func(a, b string) int {
		if d := strings.Count(b, "/") - strings.Count(a, "/"); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	left := maps.Clone(tree.children)
	for _, path := range dropped {
		d := tree.byPath[path]
		switch {
		case d.Members > 0:
			p.inUse = append(p.inUse, fmt.Sprintf("%s (ID %s) still has %d member(s)", path, d.ID, d.Members))
		case left[d.ID] > 0:
			p.inUse = append(p.inUse, subDepartmentsLeft(path, d, left[d.ID]))
		default:
			p.remove = append(p.remove, path)
			if d.ParentID != "" {
				left[d.ParentID]--
			}
		}
	}
	return p
}

// subDepartmentsLeft says why a department is kept: n sub-departments.
func subDepartmentsLeft(path string, d platform.Department, n int) string {
	return fmt.Sprintf("%s (ID %s) still has %d sub-department(s)", path, d.ID, n)
}

// departmentStatuses is status.departments: every department on the
// platform by path, with its ID, member count and whether the operator
// created it.
func departmentStatuses(tree departmentTree) []shopv1alpha1.DepartmentStatus {
	if len(tree.byPath) == 0 {
		return nil
	}
	out := make([]shopv1alpha1.DepartmentStatus, 0, len(tree.byPath))
	for path, d := range tree.byPath {
		out = append(out, shopv1alpha1.DepartmentStatus{Path: path, ID: d.ID, Members: int32(d.Members), Managed: tree.managed[d.ID]})
	}
	slices.SortFunc(out, func(a, b shopv1alpha1.DepartmentStatus) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// departmentsReport is what the departments step found.
type departmentsReport struct {
	// off: the platform has no departments (not Taobao), nor the condition.
	off      bool
	platform shopv1alpha1.Platform
	// declared is how many paths the spec declares; shown how many
	// departments the platform has.
	declared, shown int
	// issues is what a person must act on; inUse and missing as in
	// departmentPlan.
	issues         sideIssues
	inUse, missing []string
}

// condition is DepartmentsSynced.
func (d departmentsReport) condition() stepCondition {
	switch {
	case d.off:
		return stepCondition{}
	case len(d.issues.lines) > 0:
		return stepCondition{metav1.ConditionFalse, d.issues.reason, strings.Join(d.issues.lines, "; ")}
	case len(d.inUse) > 0:
		return stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonInUse,
			fmt.Sprintf("removed from spec.departments but not deleted while not empty: %s; each is deleted once empty", strings.Join(d.inUse, "; "))}
	case len(d.missing) > 0:
		return stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonNotSupported,
			fmt.Sprintf("%s's API cannot create departments; create %s in the platform's back office", d.platform, strings.Join(d.missing, ", "))}
	case d.declared == 0:
		return stepCondition{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
			fmt.Sprintf("no departments declared; %d on the platform", d.shown)}
	default:
		return stepCondition{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded,
			fmt.Sprintf("%d declared departments are on the platform", d.declared)}
	}
}

// unsupported names, for PlatformLimits, the departments the platform's
// API cannot create, when that is what DepartmentsSynced reports.
func (d departmentsReport) unsupported() []string {
	if len(d.issues.lines) > 0 || len(d.inUse) > 0 || len(d.missing) == 0 {
		return nil
	}
	return []string{"departments (" + strings.Join(d.missing, ", ") + ")"}
}

// result asks for another look when the issues say, and every minute
// while a department waits to be empty.
func (d departmentsReport) result() stepResult {
	next := d.issues.next
	if len(d.inUse) > 0 {
		next = soonest(next, waitRetry)
	}
	return stepResult{requeueAfter: next}
}
