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
	"slices"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// limitedClient (TOP-like) cannot create or delete departments or manage
// notification contacts, faithfully.
func (limitedClient) CreateDepartment(context.Context, platform.DepartmentSpec, string) (platform.Department, error) {
	return platform.Department{}, notSupported("create department")
}
func (limitedClient) DeleteDepartment(context.Context, string) error {
	return notSupported("delete department")
}
func (limitedClient) AddContact(context.Context, platform.ContactSpec) (platform.Contact, error) {
	return platform.Contact{}, notSupported("add contact")
}

func departmentTreeSpec() []shopv1alpha1.Department {
	return []shopv1alpha1.Department{
		{Name: "客服部", Children: []shopv1alpha1.SubDepartment{{Name: "售前"}, {Name: "售后", Children: []shopv1alpha1.LeafDepartment{{Name: "一组"}}}}},
		{Name: "财务部"},
	}
}

// departmentPaths is the platform's tree as paths, with each parent path.
func departmentPaths(ts testShop) map[string]string {
	deps := engine.Departments(ts.platform, ts.main)
	byID := map[string]platform.Department{}
	for _, d := range deps {
		byID[d.ID] = d
	}
	out := map[string]string{}
	for _, d := range deps {
		path := d.Name
		for p := d.ParentID; p != ""; p = byID[p].ParentID {
			path = byID[p].Name + "/" + path
		}
		out[path] = d.ID
	}
	return out
}

func statusDepartment(shop *shopv1alpha1.Shop, path string) (shopv1alpha1.DepartmentStatus, bool) {
	i := slices.IndexFunc(shop.Status.Departments, func(d shopv1alpha1.DepartmentStatus) bool { return d.Path == path })
	if i < 0 {
		return shopv1alpha1.DepartmentStatus{}, false
	}
	return shop.Status.Departments[i], true
}

// Taobao departments: the declared tree is created and shown in status; a
// SubAccount joins one by path; an unknown path stops before any platform
// call; a removed department is kept while it has members and deleted once
// empty; a department made in the back office is shown and never deleted.
func TestTaobaoDepartments(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, func(s *shopv1alpha1.Shop) { s.Spec.Departments = departmentTreeSpec() })
	shop := &shopv1alpha1.Shop{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
	cond := waitCondition(t, shop, shopv1alpha1.ConditionDepartmentsSynced, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Expect(cond.Message).To(ContainSubstring("5 declared departments"))
	onPlatform := departmentPaths(ts)
	g.Expect(onPlatform).To(HaveLen(5))
	g.Expect(onPlatform).To(HaveKey("客服部/售后/一组"))
	for path, id := range onPlatform {
		d, ok := statusDepartment(shop, path)
		g.Expect(ok).To(BeTrue(), "status lacks %s", path)
		g.Expect(d).To(Equal(shopv1alpha1.DepartmentStatus{Path: path, ID: id, Managed: true}))
	}
	eventuallyEvents(t, shop, ContainElement(HaveField("Reason", "DepartmentCreated")))

	// A department made in the back office shows up at the next check.
	backOffice, err := ts.client(t).CreateDepartment(ctx, platform.DepartmentSpec{Name: "仓储部"}, "")
	g.Expect(err).NotTo(HaveOccurred())
	update(t, shop, func(s *shopv1alpha1.Shop) {
		s.Annotations = map[string]string{shopv1alpha1.AnnotationRequestedAt: "1"}
	})
	g.Eventually(func() shopv1alpha1.DepartmentStatus {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(shop), shop)
		d, _ := statusDepartment(shop, "仓储部")
		return d
	}, timeout, interval).Should(Equal(shopv1alpha1.DepartmentStatus{Path: "仓储部", ID: backOffice.ID}))

	// A declared department deleted in the back office is created again
	// at the next check (a new ID, still the operator's).
	g.Expect(ts.client(t).DeleteDepartment(ctx, onPlatform["财务部"])).To(Succeed())
	update(t, shop, func(s *shopv1alpha1.Shop) {
		s.Annotations = map[string]string{shopv1alpha1.AnnotationRequestedAt: "2"}
	})
	g.Eventually(func() string { return departmentPaths(ts)["财务部"] }, timeout, interval).ShouldNot(Or(BeEmpty(), Equal(onPlatform["财务部"])))
	onPlatform = departmentPaths(ts)
	g.Eventually(func() shopv1alpha1.DepartmentStatus {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(shop), shop)
		d, _ := statusDepartment(shop, "财务部")
		return d
	}, timeout, interval).Should(Equal(shopv1alpha1.DepartmentStatus{Path: "财务部", ID: onPlatform["财务部"], Managed: true}))

	// A SubAccount joins a department by path; the Shop counts it.
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	xh := newSubAccount(ns, "xiaohong", "cs")
	xh.Spec.Employee.Department = "客服部/售前"
	create(t, xh)
	waitCurrent(t, xh)
	g.Expect(mustAccount(t, ts, "xiaohong").Profile.DepartmentID).To(Equal(onPlatform["客服部/售前"]))
	g.Expect(mustAccount(t, ts, "xiaohong").Profile.Department).To(Equal("客服部/售前"))
	g.Eventually(func() int32 {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(shop), shop)
		d, _ := statusDepartment(shop, "客服部/售前")
		return d.Members
	}, timeout, interval).Should(BeEquivalentTo(1))

	// An unknown path: a clear condition and no account on the platform.
	lost := newSubAccount(ns, "lost", "cs")
	lost.Spec.Employee.Department = "客服部/售中"
	create(t, lost)
	cond = waitCondition(t, lost, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonDepartmentNotFound)
	g.Expect(cond.Message).To(ContainSubstring(`department "客服部/售中" is neither declared`))
	g.Expect(cond.Message).To(ContainSubstring("客服部/售前"), "the known departments are listed")
	_, exists := ts.account(t, "lost")
	g.Expect(exists).To(BeFalse())

	// 客服部/售前 and 财务部 leave the spec: 财务部 is empty and goes; 售前
	// keeps its member and stays, the Shop saying so and staying Ready.
	update(t, shop, func(s *shopv1alpha1.Shop) {
		s.Spec.Departments = []shopv1alpha1.Department{{Name: "客服部", Children: []shopv1alpha1.SubDepartment{
			{Name: "售后", Children: []shopv1alpha1.LeafDepartment{{Name: "一组"}}}}}}
	})
	cond = waitCondition(t, shop, shopv1alpha1.ConditionDepartmentsSynced, metav1.ConditionFalse, shopv1alpha1.ReasonInUse)
	g.Expect(cond.Message).To(ContainSubstring("客服部/售前 (ID " + onPlatform["客服部/售前"] + ") still has 1 member(s)"))
	g.Eventually(func() map[string]string { return departmentPaths(ts) }, timeout, interval).ShouldNot(HaveKey("财务部"))
	g.Expect(departmentPaths(ts)).To(HaveKey("客服部/售前"))
	waitCondition(t, shop, shopv1alpha1.ConditionReady, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	eventuallyEvents(t, shop, ContainElement(HaveField("Reason", "DepartmentDeleted")))

	// Its member moves: the department is empty and deleted.
	update(t, xh, func(s *shopv1alpha1.SubAccount) { s.Spec.Employee.Department = "客服部/售后/一组" })
	waitCurrent(t, xh)
	g.Expect(mustAccount(t, ts, "xiaohong").Profile.DepartmentID).To(Equal(onPlatform["客服部/售后/一组"]))
	g.Eventually(func() map[string]string { return departmentPaths(ts) }, timeout, interval).ShouldNot(HaveKey("客服部/售前"))
	waitCondition(t, shop, shopv1alpha1.ConditionDepartmentsSynced, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	_, listed := statusDepartment(shop, "客服部/售前")
	g.Expect(listed).To(BeFalse())

	// The back-office department is never deleted, declared or not.
	g.Expect(departmentPaths(ts)).To(HaveKeyWithValue("仓储部", backOffice.ID))
	update(t, shop, func(s *shopv1alpha1.Shop) {
		s.Spec.Departments = append(s.Spec.Departments, shopv1alpha1.Department{Name: "仓储部"})
	})
	waitCondition(t, shop, shopv1alpha1.ConditionDepartmentsSynced, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.Departments = s.Spec.Departments[:1] })
	g.Eventually(func() int64 {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(shop), shop)
		return shop.Status.ObservedGeneration
	}, timeout, interval).Should(Equal(shop.Generation))
	g.Expect(departmentPaths(ts)).To(HaveKeyWithValue("仓储部", backOffice.ID))
	byOperator := 0
	for _, e := range engine.Audit(ts.platform, ts.main) {
		if e.Action == "department.delete" {
			g.Expect(e.TargetName).NotTo(Equal("仓储部"))
			if e.Source != "" { // "" is the back office (the test)
				g.Expect(e.Source).To(Equal("Shop/" + ns + "/shop"))
				byOperator++
			}
		}
	}
	g.Expect(byOperator).To(Equal(2), "财务部 and 客服部/售前")
}

// A department a SubAccount names before the Shop has created it is
// waited for, not refused.
func TestDepartmentWaitedFor(t *testing.T) {
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 10, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	sa := newSubAccount(ns, "early", "cs")
	sa.Spec.Employee.Department = "运营部"
	create(t, sa)
	waitCondition(t, sa, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonDepartmentNotFound)
	shop := &shopv1alpha1.Shop{}
	NewWithT(t).Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
	update(t, shop, func(s *shopv1alpha1.Shop) { s.Spec.Departments = []shopv1alpha1.Department{{Name: "运营部"}} })
	waitCurrent(t, sa)
	NewWithT(t).Expect(mustAccount(t, ts, "early").Profile.DepartmentID).To(Equal(departmentPaths(ts)["运营部"]))
}

// Through an API that cannot create departments (TOP), the Shop reports it
// as a platform limit and stays Ready; existing ones are still shown.
func TestDepartmentsNotSupported(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShopWith(t, ns, "shop", limitedPrefix+randomSuffix(), platform.Taobao, 10, func(s *shopv1alpha1.Shop) {
		s.Spec.Departments = []shopv1alpha1.Department{{Name: "客服部"}, {Name: "财务部"}}
		s.Spec.NotificationContacts = []shopv1alpha1.NotificationContact{{Name: "值班", Phone: uniquePhone()}}
	})
	existing, err := ts.client(t).CreateDepartment(context.Background(), platform.DepartmentSpec{Name: "客服部"}, "")
	g.Expect(err).NotTo(HaveOccurred())
	shop := &shopv1alpha1.Shop{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shop"}, shop)).To(Succeed())
	cond := waitCondition(t, shop, shopv1alpha1.ConditionPlatformLimits, metav1.ConditionTrue, shopv1alpha1.ReasonNotSupported)
	g.Expect(cond.Message).To(ContainSubstring("departments (财务部)"))
	g.Expect(cond.Message).To(ContainSubstring("notificationContacts"))
	waitCondition(t, shop, shopv1alpha1.ConditionReady, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	g.Eventually(func() []shopv1alpha1.DepartmentStatus {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(shop), shop)
		return shop.Status.Departments
	}, timeout, interval).Should(Equal([]shopv1alpha1.DepartmentStatus{{Path: "客服部", ID: existing.ID}}))
	g.Expect(departmentPaths(ts)).To(Equal(map[string]string{"客服部": existing.ID}), "nothing was created")
}
