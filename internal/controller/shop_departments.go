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
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// departmentRequestID keys the creation of one department of one Shop, so a
// retry after a crash gets the first department back.
func departmentRequestID(shop *shopv1alpha1.Shop, path string) string {
	sum := sha256.Sum256([]byte(path))
	return string(shop.UID) + "/department/" + hex.EncodeToString(sum[:12])
}

// departments (Taobao) creates the declared departments the platform
// lacks, deletes those the operator created and the spec no longer
// declares once they are empty, and shows every department in status
// (planDepartments decides; this step carries the plan out). It looks when
// departments are declared or shown, and at each credentials check, to
// find those made in the back office.
func (r *ShopReconciler) departments(ctx context.Context, s *shopScope) (stepResult, error) {
	shop := s.shop
	if shop.Spec.Platform != shopv1alpha1.PlatformTaobao {
		shop.Status.Departments = nil
		s.departments = &departmentsReport{off: true}
		return stepResult{}, nil
	}
	declared := shop.Spec.DepartmentPaths()
	if len(declared) == 0 && len(shop.Status.Departments) == 0 && s.info == nil {
		// Nothing to do until the platform is asked again; what the last
		// check found stands (removing its condition here and setting it
		// again at the next check would write status twice per check).
		return stepResult{}, nil
	}
	pc, err := s.client(ctx)
	if err != nil {
		return stepResult{}, err
	}
	deps, err := pc.ListDepartments(ctx)
	if err != nil {
		return stepResult{}, platformOutcome("listing the shop's departments", err)
	}
	managed := map[string]bool{}
	maps.Copy(managed, s.memo.createdDepartments)
	for _, d := range shop.Status.Departments {
		if d.Managed {
			managed[d.ID] = true
		}
	}
	tree := newDepartmentTree(deps, managed)
	plan := planDepartments(declared, tree, s.caps.Departments)
	report := &departmentsReport{platform: shop.Spec.Platform, declared: len(declared), inUse: plan.inUse, missing: plan.missing}
	for _, path := range plan.create {
		if err := report.issues.add(r.createDepartment(ctx, s, tree, path)); err != nil {
			return stepResult{}, err
		}
	}
	for _, path := range plan.remove {
		inUse, err := r.deleteDepartment(ctx, s, tree, path)
		if err := report.issues.add(err); err != nil {
			return stepResult{}, err
		}
		if inUse != "" {
			report.inUse = append(report.inUse, inUse)
		}
	}
	shop.Status.Departments = departmentStatuses(tree)
	report.shown = len(shop.Status.Departments)
	s.departments = report
	return report.result(), nil
}

// createDepartment creates the declared department at path, unless its
// parent could not be created (it is reported with the parent).
func (r *ShopReconciler) createDepartment(ctx context.Context, s *shopScope, tree departmentTree, path string) error {
	parentPath, name := splitDepartmentPath(path)
	parent, ok := tree.byPath[parentPath]
	if parentPath != "" && !ok {
		return nil
	}
	d, err := s.pc.CreateDepartment(ctx, platform.DepartmentSpec{Name: name, ParentID: parent.ID}, departmentRequestID(s.shop, path))
	if err != nil {
		return platformOutcome(fmt.Sprintf("creating department %s", path), err)
	}
	tree.created(path, d)
	s.memo.createdDepartments[d.ID] = true
	r.Recorder.Eventf(s.shop, nil, corev1.EventTypeNormal, "DepartmentCreated", "CreateDepartment",
		"created department %s (ID %s)", path, d.ID)
	return nil
}

// deleteDepartment deletes the department at path, which the plan found
// empty. It is kept, and inUse says why, when one of its sub-departments
// could not be deleted before it, or when the platform finds it in use.
func (r *ShopReconciler) deleteDepartment(ctx context.Context, s *shopScope, tree departmentTree, path string) (inUse string, err error) {
	d := tree.byPath[path]
	if n := tree.children[d.ID]; n > 0 {
		return subDepartmentsLeft(path, d, n), nil
	}
	err = s.pc.DeleteDepartment(ctx, d.ID)
	switch {
	case errors.Is(err, platform.ErrConflict):
		return fmt.Sprintf("%s (ID %s): %s", path, d.ID, platformMessage(err)), nil
	case err != nil && !errors.Is(err, platform.ErrNotFound):
		return "", platformOutcome(fmt.Sprintf("deleting department %s", path), err)
	}
	tree.deleted(path)
	r.Recorder.Eventf(s.shop, nil, corev1.EventTypeNormal, "DepartmentDeleted", "DeleteDepartment",
		"deleted department %s (ID %s): removed from spec.departments and empty", path, d.ID)
	return "", nil
}

// resolveDepartment turns a Taobao SubAccount's department path into the
// platform department it joins, from the Shop's status, before any
// platform call: an unknown path stops the account with a condition. On
// other platforms the department is a label and goes as it is.
func resolveDepartment(shop *shopv1alpha1.Shop, sa *shopv1alpha1.SubAccount, profile *platform.Profile) error {
	path := sa.Spec.Employee.Department
	if path == "" || shop.Spec.Platform != shopv1alpha1.PlatformTaobao {
		return nil
	}
	known := make([]string, 0, len(shop.Status.Departments))
	for _, d := range shop.Status.Departments {
		if d.Path == path {
			profile.DepartmentID = d.ID
			return nil
		}
		known = append(known, d.Path)
	}
	if slices.Contains(shop.Spec.DepartmentPaths(), path) {
		if shop.Spec.API == shopv1alpha1.ShopAPITOP {
			return stalled(shopv1alpha1.ReasonDepartmentNotFound,
				"department %q is declared on Shop %q but Taobao's open API (TOP) cannot create it: create it in the back office (子账号 › 部门结构)", path, shop.Name)
		}
		return waiting(shopv1alpha1.ReasonDepartmentNotFound, "department %q is declared on Shop %q and not on the platform yet", path, shop.Name)
	}
	list := "none"
	if len(known) > 0 {
		list = strings.Join(known, ", ")
	}
	return stalled(shopv1alpha1.ReasonDepartmentNotFound,
		"department %q is neither declared in Shop %q's spec.departments nor on the platform (known: %s); add it to the Shop or fix spec.employee.department",
		path, shop.Name, list)
}
