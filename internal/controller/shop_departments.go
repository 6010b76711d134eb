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
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
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
}

func newDepartmentTree(deps []platform.Department) departmentTree {
	t := departmentTree{byPath: map[string]platform.Department{}, pathOf: map[string]string{}, children: map[string]int{}}
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

func (t departmentTree) add(path string, d platform.Department) {
	t.byPath[path] = d
	t.pathOf[d.ID] = path
	if d.ParentID != "" {
		t.children[d.ParentID]++
	}
}

// departmentRequestID keys the creation of one department of one Shop, so a
// retry after a crash gets the first department back.
func departmentRequestID(shop *shopv1alpha1.Shop, path string) string {
	sum := sha256.Sum256([]byte(path))
	return string(shop.UID) + "/department/" + hex.EncodeToString(sum[:12])
}

// ensureDepartments (Taobao) creates the declared departments the platform
// lacks, deletes those the operator created and the spec no longer
// declares once they are empty, and shows every department in status. It
// returns the fields the platform's API cannot apply, and whether a removed
// department waits for its members to leave.
func (r *ShopReconciler) ensureDepartments(ctx context.Context, shop *shopv1alpha1.Shop, pc platform.Client,
	caps platform.Capabilities, checkedNow bool) (unsupported []string, next time.Duration, err error) {
	declared := shop.Spec.DepartmentPaths()
	if shop.Spec.Platform != shopv1alpha1.PlatformTaobao {
		shop.Status.Departments = nil
		removeCondition(shop, shopv1alpha1.ConditionDepartmentsSynced)
		return nil, 0, nil
	}
	if len(declared) == 0 && len(shop.Status.Departments) == 0 && !checkedNow {
		// Nothing to do until the platform is asked again; what the last
		// check found stands (removing its condition here and setting it
		// again at the next check would write status twice per check).
		return nil, 0, nil
	}
	deps, err := pc.ListDepartments(ctx)
	if err != nil {
		return nil, 0, platformOutcome("listing the shop's departments", err)
	}
	var issues sideIssues
	tree := newDepartmentTree(deps)
	managed := map[string]bool{}
	for _, d := range shop.Status.Departments {
		if d.Managed {
			managed[d.ID] = true
		}
	}
	for _, d := range deps {
		if _, ok := r.createdDepartments.Load(string(shop.UID) + "/" + d.ID); ok {
			managed[d.ID] = true
		}
	}

	// Create what is missing, parents first (DepartmentPaths' order).
	var missing []string
	for _, path := range declared {
		if _, ok := tree.byPath[path]; ok {
			continue
		}
		parentPath, name := "", path
		if i := strings.LastIndex(path, "/"); i >= 0 {
			parentPath, name = path[:i], path[i+1:]
		}
		parent, ok := tree.byPath[parentPath]
		if !caps.Departments {
			missing = append(missing, path)
			continue
		}
		if parentPath != "" && !ok {
			continue // its parent could not be created: reported with the parent
		}
		d, err := pc.CreateDepartment(ctx, platform.DepartmentSpec{Name: name, ParentID: parent.ID}, departmentRequestID(shop, path))
		if err != nil {
			if err := issues.add(platformOutcome(fmt.Sprintf("creating department %s", path), err)); err != nil {
				return nil, 0, err
			}
			continue
		}
		tree.add(path, d)
		managed[d.ID] = true
		r.createdDepartments.Store(string(shop.UID)+"/"+d.ID, struct{}{})
		r.Recorder.Eventf(shop, nil, corev1.EventTypeNormal, "DepartmentCreated", "CreateDepartment",
			"created department %s (ID %s)", path, d.ID)
	}

	// Delete what the operator created and the spec dropped, deepest first,
	// once empty.
	var inUse []string
	removed := make([]string, 0)
	for path, d := range tree.byPath {
		if managed[d.ID] && !slices.Contains(declared, path) {
			removed = append(removed, path)
		}
	}
	slices.SortFunc(removed, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, path := range removed {
		d := tree.byPath[path]
		switch {
		case d.Members > 0:
			inUse = append(inUse, fmt.Sprintf("%s (ID %s) still has %d member(s)", path, d.ID, d.Members))
			continue
		case tree.children[d.ID] > 0:
			inUse = append(inUse, fmt.Sprintf("%s (ID %s) still has %d sub-department(s)", path, d.ID, tree.children[d.ID]))
			continue
		}
		err := pc.DeleteDepartment(ctx, d.ID)
		switch {
		case errors.Is(err, platform.ErrConflict):
			inUse = append(inUse, fmt.Sprintf("%s (ID %s): %s", path, d.ID, platformMessage(err)))
			continue
		case err != nil && !errors.Is(err, platform.ErrNotFound):
			if err := issues.add(platformOutcome(fmt.Sprintf("deleting department %s", path), err)); err != nil {
				return nil, 0, err
			}
			continue
		}
		delete(tree.byPath, path)
		if d.ParentID != "" {
			tree.children[d.ParentID]--
		}
		r.Recorder.Eventf(shop, nil, corev1.EventTypeNormal, "DepartmentDeleted", "DeleteDepartment",
			"deleted department %s (ID %s): removed from spec.departments and empty", path, d.ID)
	}

	shop.Status.Departments = make([]shopv1alpha1.DepartmentStatus, 0, len(tree.byPath))
	for path, d := range tree.byPath {
		shop.Status.Departments = append(shop.Status.Departments,
			shopv1alpha1.DepartmentStatus{Path: path, ID: d.ID, Members: int32(d.Members), Managed: managed[d.ID]})
	}
	slices.SortFunc(shop.Status.Departments, func(a, b shopv1alpha1.DepartmentStatus) int { return strings.Compare(a.Path, b.Path) })
	if len(shop.Status.Departments) == 0 {
		shop.Status.Departments = nil
	}

	switch {
	case len(issues.lines) > 0:
		setCondition(shop, shopv1alpha1.ConditionDepartmentsSynced, metav1.ConditionFalse, issues.reason, strings.Join(issues.lines, "; "))
	case len(inUse) > 0:
		setCondition(shop, shopv1alpha1.ConditionDepartmentsSynced, metav1.ConditionFalse, shopv1alpha1.ReasonInUse,
			fmt.Sprintf("removed from spec.departments but not deleted while not empty: %s; each is deleted once empty", strings.Join(inUse, "; ")))
	case len(missing) > 0 && !caps.Departments:
		setCondition(shop, shopv1alpha1.ConditionDepartmentsSynced, metav1.ConditionFalse, shopv1alpha1.ReasonNotSupported,
			fmt.Sprintf("%s's API cannot create departments; create %s in the platform's back office", shop.Spec.Platform, strings.Join(missing, ", ")))
		unsupported = append(unsupported, "departments ("+strings.Join(missing, ", ")+")")
	default:
		msg := fmt.Sprintf("%d declared departments are on the platform", len(declared))
		if len(declared) == 0 {
			msg = fmt.Sprintf("no departments declared; %d on the platform", len(shop.Status.Departments))
		}
		setCondition(shop, shopv1alpha1.ConditionDepartmentsSynced, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, msg)
	}
	next = issues.next
	if len(inUse) > 0 {
		next = soonest(next, waitRetry)
	}
	return unsupported, next, nil
}

// ensureDepartmentsAndContacts runs the Shop's departments and contacts
// steps. A platform error a retry may cure fails the reconcile; what needs
// a person (a department not empty yet, a code awaited, a field the API
// cannot apply) is a condition of its own and leaves the Shop Ready, so
// its SubAccounts go on. checked says the platform was asked this time,
// which is when departments made in the back office are looked for.
func (r *ShopReconciler) ensureDepartmentsAndContacts(ctx context.Context, shop *shopv1alpha1.Shop, checked bool) (time.Duration, error) {
	if shop.Spec.Suspend {
		return 0, nil
	}
	ctx = platform.WithSource(ctx, "Shop/"+shop.Namespace+"/"+shop.Name)
	pc, err := r.Connector.Connect(ctx, shop)
	if err != nil {
		return 0, err
	}
	caps := platform.CapabilitiesOf(pc)
	unsupported, next, err := r.ensureDepartments(ctx, shop, pc, caps, checked)
	if err != nil {
		return 0, err
	}
	more, nextContacts, err := r.ensureContacts(ctx, shop, pc, caps)
	if err != nil {
		return 0, err
	}
	unsupported = append(unsupported, more...)
	if len(unsupported) == 0 {
		removeCondition(shop, shopv1alpha1.ConditionPlatformLimits)
	} else {
		setCondition(shop, shopv1alpha1.ConditionPlatformLimits, metav1.ConditionTrue, shopv1alpha1.ReasonNotSupported,
			fmt.Sprintf("%s's API cannot apply %s; set them in the platform's back office", shop.Spec.Platform, strings.Join(unsupported, ", ")))
	}
	return soonest(next, nextContacts), nil
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
