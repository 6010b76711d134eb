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
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// What the platform reports but cannot set is compared as the catalog
// grants it, and named: missing and extra roles and direct permissions.
func TestAccessChanges(t *testing.T) {
	cat, err := catalog.For(platform.Taobao)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	spec := func(codes ...string) []string { // the spec's extra permissions, expanded as the controller does
		out, err := cat.Expand(codes)
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		return out
	}
	name := func(id string) string { return "role " + id }
	both := platform.Observation{AccountRoles: true, AccountExtraPermissions: true}
	for _, tc := range []struct {
		name        string
		observed    platform.AccountState
		roles, perm []string
		only        platform.Observation
		want        []string
	}{
		{name: "in step", observed: platform.AccountState{RoleIDs: []string{"2", "1"}, ExtraPermissions: spec("sm")},
			roles: []string{"1", "2"}, perm: spec("sm"), only: both},
		{name: "the platform lists a granted code without what it grants", observed: platform.AccountState{ExtraPermissions: []string{"sm"}},
			perm: spec("sm"), only: both},
		{name: "missing and extra", observed: platform.AccountState{RoleIDs: []string{"1", "3"}, ExtraPermissions: []string{"phone", "no-such-code"}},
			roles: []string{"1", "2"}, perm: spec("wangwang-chat", "phone"), only: both,
			want: []string{"roles missing on the platform: role 2", "roles on the platform the spec does not list: role 3",
				"direct permissions missing on the platform: wangwang, wangwang-chat",
				"direct permissions on the platform the spec does not grant: no-such-code"}},
		{name: "only what cannot be set is compared", observed: platform.AccountState{RoleIDs: []string{"3"}},
			roles: []string{"1"}, perm: spec("phone"), only: platform.Observation{AccountExtraPermissions: true},
			want: []string{"direct permissions missing on the platform: phone"}},
		{name: "nothing observed", observed: platform.AccountState{RoleIDs: []string{"3"}}, roles: []string{"1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(accessChanges(tc.observed, tc.roles, tc.perm, tc.only, cat, name)).To(Equal(tc.want))
		})
	}
}

func TestRoleChanges(t *testing.T) {
	g := NewWithT(t)
	cat, err := catalog.For(platform.Taobao)
	g.Expect(err).NotTo(HaveOccurred())
	want := platform.RoleSpec{Name: "客服", Permissions: []string{"wangwang", "wangwang-chat"}}
	g.Expect(roleChanges(platform.RoleSpec{Name: "客服", Permissions: []string{"wangwang-chat"}}, want, true, cat)).To(BeEmpty(),
		"a parent the platform leaves out is granted all the same")
	g.Expect(roleChanges(platform.RoleSpec{Name: "客服二", Description: "x"}, want, false, cat)).To(Equal([]string{
		`name "客服二" on the platform, "客服" in the spec`, `description "x" on the platform, "" in the spec`}),
		"permissions not read are not compared")
	g.Expect(roleChanges(platform.RoleSpec{Name: "客服", Permissions: []string{"wangwang-history"}}, want, true, cat)).To(Equal([]string{
		"permissions missing on the platform: wangwang-chat", "permissions on the platform the spec does not grant: wangwang-history"}))
}

// status.observedAccess is sorted and bounded; a message names at most 10
// and counts the rest.
func TestObservedAccessBounds(t *testing.T) {
	g := NewWithT(t)
	var a platform.Account
	for i := range maxObservedRoles + 5 {
		id := fmt.Sprintf("%03d", maxObservedRoles+5-i)
		a.RoleIDs = append(a.RoleIDs, id)
		a.Roles = append(a.Roles, platform.Role{ID: id, RoleSpec: platform.RoleSpec{Name: strings.Repeat("名", 200)}})
	}
	for i := range maxObservedPermissions + 1 {
		a.ExtraPermissions = append(a.ExtraPermissions, fmt.Sprintf("p%04d", i))
	}
	got := observedAccessOf(a)
	g.Expect(got.Roles).To(HaveLen(maxObservedRoles))
	g.Expect(got.Roles[0].ID).To(Equal("001"), "sorted")
	g.Expect([]rune(got.Roles[0].Name)).To(HaveLen(maxObservedRoleName))
	g.Expect(got.Permissions).To(HaveLen(maxObservedPermissions))
	g.Expect(got.Truncated).To(BeTrue())
	g.Expect(observedAccessOf(platform.Account{})).To(Equal(&shopv1alpha1.ObservedAccess{}), "observed, and none")

	many := make([]string, 13)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	g.Expect(appendNamed(nil, "extra", many, nil)).To(Equal([]string{"extra: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, and 3 more"}))
}

// A difference in what the API cannot set is reported whatever the
// policy, and never corrected; a settable drift is still corrected under
// Correct.
func TestSettleReportsWhatCannotBeSet(t *testing.T) {
	g := NewWithT(t)
	rec := events.NewFakeRecorder(10)
	sa := &shopv1alpha1.SubAccount{}
	describe := func() string { return "disabled true → false" }

	g.Expect(driftFinding{}.settle(sa, shopv1alpha1.DriftPolicyCorrect, rec, "sub-account m:x", describe, "roles missing on the platform: 1")).
		To(BeFalse(), "nothing to correct")
	c := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionDrifted)
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.Reason).To(Equal(shopv1alpha1.ReasonDriftDetected))
	g.Expect(c.Message).To(ContainSubstring("roles missing on the platform: 1"))
	g.Expect(<-rec.Events).To(ContainSubstring("DriftDetected"))

	g.Expect(driftFinding{state: true}.settle(sa, shopv1alpha1.DriftPolicyCorrect, rec, "sub-account m:x", describe, "roles missing on the platform: 1")).
		To(BeTrue(), "the settable part is corrected")
	c = apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionDrifted)
	g.Expect(c.Message).NotTo(ContainSubstring("disabled"))

	g.Expect(driftFinding{state: true}.settle(sa, shopv1alpha1.DriftPolicyReport, rec, "sub-account m:x", describe, "roles missing on the platform: 1")).
		To(BeFalse())
	c = apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionDrifted)
	g.Expect(c.Message).To(And(ContainSubstring("disabled true → false"), ContainSubstring("roles missing on the platform: 1")))

	g.Expect(driftFinding{clean: true}.settle(sa, shopv1alpha1.DriftPolicyReport, rec, "sub-account m:x", describe, "")).To(BeFalse())
	g.Expect(apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionDrifted)).To(BeNil())
}
