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
	"errors"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/password"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

func mustCatalog(t *testing.T, p platform.Name) *catalog.Catalog {
	t.Helper()
	c, err := catalog.For(p)
	if err != nil {
		t.Fatalf("catalog.For(%s): %v", p, err)
	}
	return c
}

// expectStalled asserts err is a stalled *outcome with the given reason
// whose message contains every one of msgs, and returns it.
func expectStalled(g Gomega, err error, reason string, msgs ...string) *outcome {
	g.Expect(err).To(HaveOccurred())
	var o *outcome
	g.Expect(errors.As(err, &o)).To(BeTrue(), "error %v (%T) is not an *outcome", err, err)
	g.Expect(o.reason).To(Equal(reason), "message: %s", o.message)
	g.Expect(o.stalled).To(BeTrue(), "an invalid spec needs a person")
	g.Expect(o.requeueAfter).To(Equal(stallRetry))
	g.Expect(err.Error()).To(Equal(o.message))
	for _, m := range msgs {
		g.Expect(o.message).To(ContainSubstring(m))
	}
	return o
}

func TestDesiredRole(t *testing.T) {
	tests := []struct {
		name     string
		platform platform.Name
		spec     shopv1alpha1.RoleSpec
		// wantPerms is checked on success.
		wantPerms []string
		// wantReason, when set, expects a stalled outcome.
		wantReason string
		wantMsg    []string
		notInMsg   []string
	}{
		{
			name:      "taobao explicit sm-design grants its parents and descendants",
			platform:  platform.Taobao,
			spec:      shopv1alpha1.RoleSpec{DisplayName: "装修", Permissions: []string{"sm-design"}},
			wantPerms: []string{"sell", "sm", "sm-design", "sm-tbd-publish", "sm-tbd-visit"},
		},
		{
			name:     "taobao template merged with explicit codes and expanded",
			platform: platform.Taobao,
			spec: shopv1alpha1.RoleSpec{
				DisplayName: "客服", Template: catalog.TemplateCustomerService,
				Permissions: []string{"sm-design"},
			},
			wantPerms: []string{
				"logistics", "logistics-query", "sell", "sm", "sm-design", "sm-tbd-publish", "sm-tbd-visit",
				"trade", "trade-order-view", "wangwang", "wangwang-chat",
			},
		},
		{
			name:      "taobao designer template expands sm-design",
			platform:  platform.Taobao,
			spec:      shopv1alpha1.RoleSpec{DisplayName: "美工", Template: catalog.TemplateDesigner},
			wantPerms: []string{"phone", "sell", "sm", "sm-design", "sm-tbd-publish", "sm-tbd-visit"},
		},
		{
			name:     "explicit code repeating a template code is de-duplicated",
			platform: platform.Taobao,
			spec: shopv1alpha1.RoleSpec{
				DisplayName: "cs", Template: catalog.TemplateCustomerService,
				Permissions: []string{"trade-order-view", "wangwang-chat", "trade-order-view"},
			},
			wantPerms: []string{"logistics", "logistics-query", "trade", "trade-order-view", "wangwang", "wangwang-chat"},
		},
		{
			name:     "pinduoduo merges template and codes without tree expansion",
			platform: platform.Pinduoduo,
			spec: shopv1alpha1.RoleSpec{
				DisplayName: "客服", Template: catalog.TemplateCustomerService,
				Permissions: []string{"marketing.coupon"},
			},
			wantPerms: []string{"chat.reply", "logistics.query", "marketing.coupon", "order.view"},
		},
		{
			name:      "douyin grants exactly the codes, sorted and de-duplicated",
			platform:  platform.Douyin,
			spec:      shopv1alpha1.RoleSpec{DisplayName: "客服岗", Permissions: []string{"order-view", "im-chat", "order-view"}},
			wantPerms: []string{"im-chat", "order-view"},
		},
		{
			name:      "taobao display name of 20 Chinese characters fits",
			platform:  platform.Taobao,
			spec:      shopv1alpha1.RoleSpec{DisplayName: strings.Repeat("客", 20), Permissions: []string{"phone"}},
			wantPerms: []string{"phone"},
		},
		{
			name:       "taobao display name of 21 Chinese characters is refused",
			platform:   platform.Taobao,
			spec:       shopv1alpha1.RoleSpec{DisplayName: strings.Repeat("客", 21), Permissions: []string{"phone"}},
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"displayName", "21 characters", "taobao allows at most 20"},
		},
		{
			name:       "taobao display name of 21 ASCII characters is refused",
			platform:   platform.Taobao,
			spec:       shopv1alpha1.RoleSpec{DisplayName: strings.Repeat("a", 21), Permissions: []string{"phone"}},
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"displayName", "21 characters", "at most 20"},
		},
		{
			name:      "douyin allows a 30-character position name",
			platform:  platform.Douyin,
			spec:      shopv1alpha1.RoleSpec{DisplayName: strings.Repeat("岗", 30), Permissions: []string{"im-chat"}},
			wantPerms: []string{"im-chat"},
		},
		{
			name:       "douyin refuses a 31-character position name",
			platform:   platform.Douyin,
			spec:       shopv1alpha1.RoleSpec{DisplayName: strings.Repeat("岗", 31), Permissions: []string{"im-chat"}},
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"31 characters", "douyin allows at most 30"},
		},
		{
			name:      "taobao description of 20 Chinese characters fits",
			platform:  platform.Taobao,
			spec:      shopv1alpha1.RoleSpec{DisplayName: "r", Description: strings.Repeat("述", 20), Permissions: []string{"phone"}},
			wantPerms: []string{"phone"},
		},
		{
			name:       "taobao description over 20 characters is refused",
			platform:   platform.Taobao,
			spec:       shopv1alpha1.RoleSpec{DisplayName: "r", Description: strings.Repeat("述", 21), Permissions: []string{"phone"}},
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"description", "21 characters", "at most 20"},
		},
		{
			name:      "pinduoduo has no description limit",
			platform:  platform.Pinduoduo,
			spec:      shopv1alpha1.RoleSpec{DisplayName: "r", Description: strings.Repeat("述", 60), Permissions: []string{"chat.reply"}},
			wantPerms: []string{"chat.reply"},
		},
		{
			name:     "unknown codes are all named",
			platform: platform.Taobao,
			spec: shopv1alpha1.RoleSpec{
				DisplayName: "r", Template: catalog.TemplateCustomerService,
				Permissions: []string{"sm-design", "nope", "Sell", "order.view", "nope"},
			},
			wantReason: shopv1alpha1.ReasonUnknownPermissions,
			wantMsg:    []string{"permissions", "taobao", "Sell", "nope", "order.view"},
			notInMsg:   []string{"sm-design", "wangwang-chat"},
		},
		{
			name:       "a code of another platform is unknown",
			platform:   platform.Douyin,
			spec:       shopv1alpha1.RoleSpec{DisplayName: "r", Permissions: []string{"chat.reply"}},
			wantReason: shopv1alpha1.ReasonUnknownPermissions,
			wantMsg:    []string{"douyin", "chat.reply"},
		},
		{
			name:       "unknown template is refused",
			platform:   platform.Taobao,
			spec:       shopv1alpha1.RoleSpec{DisplayName: "r", Template: "boss"},
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{`"boss"`, "taobao"},
		},
		{
			name:       "taobao admin template refused without allowHighRisk",
			platform:   platform.Taobao,
			spec:       shopv1alpha1.RoleSpec{DisplayName: "管理员", Template: catalog.TemplateAdmin},
			wantReason: shopv1alpha1.ReasonHighRiskNotAllowed,
			wantMsg: []string{
				"funds-payment", "funds-view", "item-delete", "item-price", "subaccount-manage", "allowHighRisk",
			},
			notInMsg: []string{"trade-order-view", "wangwang"},
		},
		{
			name:     "taobao admin template accepted with allowHighRisk",
			platform: platform.Taobao,
			spec:     shopv1alpha1.RoleSpec{DisplayName: "管理员", Template: catalog.TemplateAdmin, AllowHighRisk: true},
			// admin names every root, and a root grants all its descendants.
			wantPerms: taobaoAllCodes(t),
		},
		{
			name:       "taobao funds expands into high-risk children and is refused",
			platform:   platform.Taobao,
			spec:       shopv1alpha1.RoleSpec{DisplayName: "r", Permissions: []string{"funds"}},
			wantReason: shopv1alpha1.ReasonHighRiskNotAllowed,
			wantMsg:    []string{"funds-payment", "funds-view"},
		},
		{
			name:       "pinduoduo finance template refused without allowHighRisk",
			platform:   platform.Pinduoduo,
			spec:       shopv1alpha1.RoleSpec{DisplayName: "财务", Template: catalog.TemplateFinance},
			wantReason: shopv1alpha1.ReasonHighRiskNotAllowed,
			wantMsg:    []string{"funds.payment, funds.view"},
			notInMsg:   []string{"order.view"},
		},
		{
			name:      "pinduoduo finance template accepted with allowHighRisk",
			platform:  platform.Pinduoduo,
			spec:      shopv1alpha1.RoleSpec{DisplayName: "财务", Template: catalog.TemplateFinance, AllowHighRisk: true},
			wantPerms: []string{"data.report", "funds.payment", "funds.view", "order.refund", "order.view"},
		},
		{
			name:       "douyin explicit high-risk code refused without allowHighRisk",
			platform:   platform.Douyin,
			spec:       shopv1alpha1.RoleSpec{DisplayName: "运营", Template: catalog.TemplateOperations, Permissions: []string{"product-price"}},
			wantReason: shopv1alpha1.ReasonHighRiskNotAllowed,
			wantMsg:    []string{"product-price"},
			notInMsg:   []string{"product-edit"},
		},
		{
			name:      "douyin explicit high-risk code accepted with allowHighRisk",
			platform:  platform.Douyin,
			spec:      shopv1alpha1.RoleSpec{DisplayName: "运营", Permissions: []string{"product-price"}, AllowHighRisk: true},
			wantPerms: []string{"product-price"},
		},
		{
			name:     "name limit is checked before permissions",
			platform: platform.Taobao,
			spec: shopv1alpha1.RoleSpec{
				DisplayName: strings.Repeat("x", 25), Permissions: []string{"nope"},
			},
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"displayName"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			cat := mustCatalog(t, tt.platform)
			role := &shopv1alpha1.Role{Spec: tt.spec}
			before := slices.Clone(role.Spec.Permissions)

			got, err := desiredRole(role, cat)

			g.Expect(role.Spec.Permissions).To(Equal(before), "desiredRole must not modify the spec")
			if tt.wantReason != "" {
				o := expectStalled(g, err, tt.wantReason, tt.wantMsg...)
				for _, m := range tt.notInMsg {
					g.Expect(o.message).NotTo(ContainSubstring(m))
				}
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Name).To(Equal(tt.spec.DisplayName))
			g.Expect(got.Description).To(Equal(tt.spec.Description))
			g.Expect(got.Permissions).To(Equal(tt.wantPerms))
		})
	}
}

func taobaoAllCodes(t *testing.T) []string {
	var out []string
	for _, p := range mustCatalog(t, platform.Taobao).Permissions {
		out = append(out, p.Code)
	}
	slices.Sort(out)
	return out
}

// TestDesiredRoleTemplates checks every template of every platform: only
// admin and finance need allowHighRisk, and the result covers the template.
func TestDesiredRoleTemplates(t *testing.T) {
	for _, p := range catalog.Platforms() {
		for _, tmpl := range catalog.TemplateNames() {
			t.Run(string(p)+"/"+tmpl, func(t *testing.T) {
				g := NewWithT(t)
				cat := mustCatalog(t, p)
				codes, ok := cat.Template(tmpl)
				g.Expect(ok).To(BeTrue())
				role := &shopv1alpha1.Role{Spec: shopv1alpha1.RoleSpec{
					DisplayName: "r", Template: shopv1alpha1.RoleTemplate(tmpl),
				}}

				_, err := desiredRole(role, cat)
				if tmpl == catalog.TemplateAdmin || tmpl == catalog.TemplateFinance {
					expectStalled(g, err, shopv1alpha1.ReasonHighRiskNotAllowed, "allowHighRisk")
				} else {
					g.Expect(err).NotTo(HaveOccurred(), "a least-privilege template must not need allowHighRisk")
				}

				role.Spec.AllowHighRisk = true
				got, err := desiredRole(role, cat)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(got.Permissions).To(ContainElements(codes))
				g.Expect(slices.IsSorted(got.Permissions)).To(BeTrue())
				g.Expect(slices.Compact(slices.Clone(got.Permissions))).To(HaveLen(len(got.Permissions)))
				if !cat.ExpandTree {
					g.Expect(got.Permissions).To(Equal(codes), "without tree expansion the template is granted as is")
				}
			})
		}
	}
}

func TestCheckPermissions(t *testing.T) {
	tests := []struct {
		name       string
		platform   platform.Name
		codes      []string
		allow      bool
		want       []string
		wantReason string
		wantMsg    []string
	}{
		{
			name:     "nothing grants nothing",
			platform: platform.Taobao,
			want:     nil,
		},
		{
			name:     "taobao expands a leaf to its ancestors",
			platform: platform.Taobao,
			codes:    []string{"sm-tbd-visit"},
			want:     []string{"sell", "sm", "sm-design", "sm-tbd-visit"},
		},
		{
			name:       "unknown codes are sorted, de-duplicated and named with the field",
			platform:   platform.Pinduoduo,
			codes:      []string{"zeta", "alpha", "zeta", "chat.reply"},
			wantReason: shopv1alpha1.ReasonUnknownPermissions,
			wantMsg:    []string{"spec.things: pinduoduo does not know the permission codes alpha, zeta"},
		},
		{
			name:       "high-risk codes are sorted and named with the field",
			platform:   platform.Pinduoduo,
			codes:      []string{"item.price", "chat.reply", "item.delete"},
			wantReason: shopv1alpha1.ReasonHighRiskNotAllowed,
			wantMsg:    []string{"spec.things", "item.delete, item.price"},
		},
		{
			name:     "high-risk codes pass when allowed",
			platform: platform.Pinduoduo,
			codes:    []string{"item.price", "chat.reply", "item.delete"},
			allow:    true,
			want:     []string{"chat.reply", "item.delete", "item.price"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := checkPermissions(mustCatalog(t, tt.platform), tt.codes, tt.allow, "spec.things")
			if tt.wantReason != "" {
				expectStalled(g, err, tt.wantReason, tt.wantMsg...)
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestDesiredAccount(t *testing.T) {
	const phone = "13800138000"
	tests := []struct {
		name     string
		platform platform.Name
		spec     shopv1alpha1.SubAccountSpec
		roles    []resolvedRole
		// wantState and wantEffective are checked on success.
		wantState     platform.AccountState
		wantEffective []string
		wantReason    string
		wantMsg       []string
		notInMsg      []string
	}{
		{
			name:     "roles and expanded extras are unioned, sorted and de-duplicated",
			platform: platform.Taobao,
			spec: shopv1alpha1.SubAccountSpec{
				AccountName: "xiaohong", ExtraPermissions: []string{"sm-design", "trade-order-view"},
				Roles: []shopv1alpha1.LocalObjectReference{{Name: "b"}, {Name: "a"}},
			},
			roles: []resolvedRole{
				{name: "b", id: "role-9", permissions: []string{"trade", "trade-order-view", "wangwang", "wangwang-chat"}},
				{name: "a", id: "role-10", permissions: []string{"logistics", "logistics-query", "trade", "trade-order-view"}},
			},
			wantState: platform.AccountState{
				RoleIDs:          []string{"role-10", "role-9"},
				ExtraPermissions: []string{"sell", "sm", "sm-design", "sm-tbd-publish", "sm-tbd-visit", "trade", "trade-order-view"},
			},
			wantEffective: []string{
				"logistics", "logistics-query", "sell", "sm", "sm-design", "sm-tbd-publish", "sm-tbd-visit",
				"trade", "trade-order-view", "wangwang", "wangwang-chat",
			},
		},
		{
			name:     "roles only",
			platform: platform.Pinduoduo,
			spec:     shopv1alpha1.SubAccountSpec{AccountName: "kefu01"},
			roles: []resolvedRole{
				{name: "cs", id: "2", permissions: []string{"chat.reply", "order.view"}},
				{name: "lead", id: "1", permissions: []string{"data.report", "order.view"}},
			},
			wantState:     platform.AccountState{RoleIDs: []string{"1", "2"}},
			wantEffective: []string{"chat.reply", "data.report", "order.view"},
		},
		{
			name:          "extras only, pinduoduo does not expand",
			platform:      platform.Pinduoduo,
			spec:          shopv1alpha1.SubAccountSpec{AccountName: "kefu01", ExtraPermissions: []string{"order.view", "chat.reply"}},
			wantState:     platform.AccountState{ExtraPermissions: []string{"chat.reply", "order.view"}},
			wantEffective: []string{"chat.reply", "order.view"},
		},
		{
			name:     "profile, disabled and security are carried over",
			platform: platform.Taobao,
			spec: shopv1alpha1.SubAccountSpec{
				AccountName: "小红", DisplayName: "小红客服", Phone: phone, Disabled: true,
				Employee: shopv1alpha1.Employee{Name: "王小红", Number: "E007", Department: "客服部"},
				Security: shopv1alpha1.SecuritySpec{PhoneProtection: true, DigitalCertificate: true},
			},
			wantState: platform.AccountState{
				Profile: platform.Profile{
					DisplayName: "小红客服", EmployeeName: "王小红", EmployeeNumber: "E007", Department: "客服部", Phone: phone,
				},
				Disabled: true,
				Security: platform.Security{PhoneProtection: true, DigitalCertificate: true},
			},
		},
		{
			name:      "seat defaults capacity 10 and presence Online",
			platform:  platform.Taobao,
			spec:      shopv1alpha1.SubAccountSpec{AccountName: "kf", ChatSeat: &shopv1alpha1.ChatSeatSpec{Chat: true}},
			wantState: platform.AccountState{Seat: &platform.Seat{Chat: true, Capacity: 10, Presence: platform.PresenceOnline}},
		},
		{
			name:     "seat settings are kept",
			platform: platform.Taobao,
			spec: shopv1alpha1.SubAccountSpec{AccountName: "kf", ChatSeat: &shopv1alpha1.ChatSeatSpec{
				Chat: false, Capacity: 3, Presence: shopv1alpha1.PresenceBreak,
			}},
			wantState: platform.AccountState{Seat: &platform.Seat{Chat: false, Capacity: 3, Presence: platform.PresenceBreak}},
		},
		{
			name:      "no seat stays no seat",
			platform:  platform.Taobao,
			spec:      shopv1alpha1.SubAccountSpec{AccountName: "ops"},
			wantState: platform.AccountState{},
		},
		{
			name:     "douyin with one role and a phone",
			platform: platform.Douyin,
			spec: shopv1alpha1.SubAccountSpec{
				AccountName: "kf", Phone: phone, Roles: []shopv1alpha1.LocalObjectReference{{Name: "cs"}},
			},
			roles:         []resolvedRole{{name: "cs", id: "p1", permissions: []string{"im-chat", "order-view"}}},
			wantState:     platform.AccountState{Profile: platform.Profile{Phone: phone}, RoleIDs: []string{"p1"}},
			wantEffective: []string{"im-chat", "order-view"},
		},
		{
			name:       "douyin without a role is refused",
			platform:   platform.Douyin,
			spec:       shopv1alpha1.SubAccountSpec{AccountName: "kf", Phone: phone},
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"exactly one Role", "0 given"},
		},
		{
			name:     "douyin with two roles is refused",
			platform: platform.Douyin,
			spec: shopv1alpha1.SubAccountSpec{
				AccountName: "kf", Phone: phone, Roles: []shopv1alpha1.LocalObjectReference{{Name: "a"}, {Name: "b"}},
			},
			roles: []resolvedRole{
				{name: "a", id: "p1", permissions: []string{"im-chat"}},
				{name: "b", id: "p2", permissions: []string{"order-view"}},
			},
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"exactly one Role", "2 given"},
		},
		{
			name:     "douyin without a phone is refused",
			platform: platform.Douyin,
			spec: shopv1alpha1.SubAccountSpec{
				AccountName: "kf", Roles: []shopv1alpha1.LocalObjectReference{{Name: "cs"}},
			},
			roles:      []resolvedRole{{name: "cs", id: "p1", permissions: []string{"im-chat"}}},
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"phone"},
		},
		{
			name:     "taobao needs neither one role nor a phone",
			platform: platform.Taobao,
			spec: shopv1alpha1.SubAccountSpec{
				AccountName: "kf", Roles: []shopv1alpha1.LocalObjectReference{{Name: "a"}, {Name: "b"}},
			},
			roles: []resolvedRole{
				{name: "a", id: "1", permissions: []string{"phone"}},
				{name: "b", id: "2", permissions: []string{"phone"}},
			},
			wantState:     platform.AccountState{RoleIDs: []string{"1", "2"}},
			wantEffective: []string{"phone"},
		},
		{
			name:     "unknown extra permissions are all named",
			platform: platform.Taobao,
			spec: shopv1alpha1.SubAccountSpec{
				AccountName: "kf", ExtraPermissions: []string{"phone", "root", "chat.reply"},
			},
			wantReason: shopv1alpha1.ReasonUnknownPermissions,
			wantMsg:    []string{"extraPermissions", "taobao", "chat.reply, root"},
			notInMsg:   []string{"phone"},
		},
		{
			name:     "high-risk extra permissions refused without allowHighRisk",
			platform: platform.Taobao,
			spec: shopv1alpha1.SubAccountSpec{
				AccountName: "kf", ExtraPermissions: []string{"item-price", "phone", "subaccount-manage"},
			},
			wantReason: shopv1alpha1.ReasonHighRiskNotAllowed,
			wantMsg:    []string{"extraPermissions", "item-price, subaccount-manage", "allowHighRisk"},
			notInMsg:   []string{"phone"},
		},
		{
			name:     "high-risk extra permissions accepted with allowHighRisk",
			platform: platform.Taobao,
			spec: shopv1alpha1.SubAccountSpec{
				AccountName: "kf", AllowHighRisk: true, ExtraPermissions: []string{"item-price"},
			},
			wantState:     platform.AccountState{ExtraPermissions: []string{"item-price", "sell"}},
			wantEffective: []string{"item-price", "sell"},
		},
		{
			name:     "high-risk permissions of a role are not judged again",
			platform: platform.Pinduoduo,
			spec:     shopv1alpha1.SubAccountSpec{AccountName: "fin"},
			roles: []resolvedRole{
				{name: "finance", id: "1", permissions: []string{"funds.payment", "funds.view"}},
			},
			wantState:     platform.AccountState{RoleIDs: []string{"1"}},
			wantEffective: []string{"funds.payment", "funds.view"},
		},
		{
			name:          "account name of 32 Chinese characters fits",
			platform:      platform.Taobao,
			spec:          shopv1alpha1.SubAccountSpec{AccountName: strings.Repeat("红", 32)},
			wantState:     platform.AccountState{},
			wantEffective: nil,
		},
		{
			name:       "account name over the catalog maximum is refused",
			platform:   platform.Pinduoduo,
			spec:       shopv1alpha1.SubAccountSpec{AccountName: strings.Repeat("红", 33)},
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"accountName", "33 characters", "pinduoduo allows at most 32"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			cat := mustCatalog(t, tt.platform)
			sa := &shopv1alpha1.SubAccount{Spec: tt.spec}
			beforeExtra := slices.Clone(sa.Spec.ExtraPermissions)
			var beforeRoles [][]string
			for _, r := range tt.roles {
				beforeRoles = append(beforeRoles, slices.Clone(r.permissions))
			}

			state, effective, err := desiredAccount(sa, tt.roles, cat)

			g.Expect(sa.Spec.ExtraPermissions).To(Equal(beforeExtra), "desiredAccount must not modify the spec")
			for i, r := range tt.roles {
				g.Expect(r.permissions).To(Equal(beforeRoles[i]), "desiredAccount must not modify a role's permissions")
			}
			if tt.wantReason != "" {
				o := expectStalled(g, err, tt.wantReason, tt.wantMsg...)
				for _, m := range tt.notInMsg {
					g.Expect(o.message).NotTo(ContainSubstring(m))
				}
				g.Expect(effective).To(BeNil())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(state).To(Equal(tt.wantState))
			g.Expect(effective).To(Equal(tt.wantEffective))
		})
	}
}

func TestPasswordLength(t *testing.T) {
	tests := []struct {
		name       string
		cat        *catalog.Catalog
		length     int32
		want       int
		wantReason string
		wantMsg    []string
	}{
		{name: "taobao default", cat: mustCatalog(t, platform.Taobao), want: password.DefaultLength},
		{name: "pinduoduo default", cat: mustCatalog(t, platform.Pinduoduo), want: password.DefaultLength},
		{name: "douyin default", cat: mustCatalog(t, platform.Douyin), want: password.DefaultLength},
		{
			name: "default rises to a platform minimum above it",
			cat:  &catalog.Catalog{Platform: "strict", PasswordMinLength: password.DefaultLength + 4},
			want: password.DefaultLength + 4,
		},
		{name: "taobao explicit minimum", cat: mustCatalog(t, platform.Taobao), length: 8, want: 8},
		{name: "taobao explicit long", cat: mustCatalog(t, platform.Taobao), length: 64, want: 64},
		{name: "pinduoduo accepts 6", cat: mustCatalog(t, platform.Pinduoduo), length: 6, want: 6},
		{
			name: "taobao refuses 6", cat: mustCatalog(t, platform.Taobao), length: 6,
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"password.length 6", "taobao", "minimum of 8"},
		},
		{
			name: "douyin refuses 7", cat: mustCatalog(t, platform.Douyin), length: 7,
			wantReason: shopv1alpha1.ReasonInvalidSpec,
			wantMsg:    []string{"password.length 7", "douyin", "minimum of 8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			sa := &shopv1alpha1.SubAccount{Spec: shopv1alpha1.SubAccountSpec{
				Password: shopv1alpha1.PasswordSpec{Length: tt.length},
			}}
			got, err := passwordLength(sa, tt.cat)
			if tt.wantReason != "" {
				expectStalled(g, err, tt.wantReason, tt.wantMsg...)
				g.Expect(got).To(BeZero())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func baseAccountState() platform.AccountState {
	return platform.AccountState{
		Profile: platform.Profile{
			DisplayName: "小红", EmployeeName: "王小红", EmployeeNumber: "E007", Department: "客服部", Phone: "13800138000",
		},
		RoleIDs:          []string{"r1", "r2", "r3"},
		ExtraPermissions: []string{"phone", "sell", "sm"},
		Seat:             &platform.Seat{Chat: true, Capacity: 10, Presence: platform.PresenceOnline},
		Security:         platform.Security{PhoneProtection: true},
	}
}

func TestHashAccountOrderInsensitive(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*platform.AccountState)
	}{
		{name: "same state", mutate: func(*platform.AccountState) {}},
		{name: "role IDs reordered", mutate: func(s *platform.AccountState) { s.RoleIDs = []string{"r3", "r1", "r2"} }},
		{name: "extra permissions reordered", mutate: func(s *platform.AccountState) {
			s.ExtraPermissions = []string{"sm", "phone", "sell"}
		}},
		{name: "duplicates", mutate: func(s *platform.AccountState) {
			s.RoleIDs = []string{"r2", "r1", "r3", "r1"}
			s.ExtraPermissions = []string{"sell", "sm", "sell", "phone"}
		}},
		{name: "seat copied to another pointer", mutate: func(s *platform.AccountState) {
			seat := *s.Seat
			s.Seat = &seat
		}},
	}
	want := accountHash(baseAccountState())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			s := baseAccountState()
			tt.mutate(&s)
			roleIDs, extra := slices.Clone(s.RoleIDs), slices.Clone(s.ExtraPermissions)

			g.Expect(accountHash(s)).To(Equal(want))
			g.Expect(s.RoleIDs).To(Equal(roleIDs), "accountHash must not sort the caller's slices")
			g.Expect(s.ExtraPermissions).To(Equal(extra), "accountHash must not sort the caller's slices")
		})
	}

	t.Run("nil and empty lists", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(accountHash(platform.AccountState{RoleIDs: []string{}, ExtraPermissions: []string{}})).
			To(Equal(accountHash(platform.AccountState{})))
	})
}

func TestHashAccountChanges(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*platform.AccountState)
	}{
		{name: "disabled", mutate: func(s *platform.AccountState) { s.Disabled = true }},
		{name: "seat capacity", mutate: func(s *platform.AccountState) { s.Seat.Capacity = 11 }},
		{name: "seat presence", mutate: func(s *platform.AccountState) { s.Seat.Presence = platform.PresenceBusy }},
		{name: "seat chat", mutate: func(s *platform.AccountState) { s.Seat.Chat = false }},
		{name: "seat removed", mutate: func(s *platform.AccountState) { s.Seat = nil }},
		{name: "role added", mutate: func(s *platform.AccountState) { s.RoleIDs = append(s.RoleIDs, "r4") }},
		{name: "role removed", mutate: func(s *platform.AccountState) { s.RoleIDs = s.RoleIDs[:2] }},
		{name: "role replaced", mutate: func(s *platform.AccountState) { s.RoleIDs[0] = "r9" }},
		{name: "permission added", mutate: func(s *platform.AccountState) {
			s.ExtraPermissions = append(s.ExtraPermissions, "trade")
		}},
		{name: "permission removed", mutate: func(s *platform.AccountState) { s.ExtraPermissions = s.ExtraPermissions[1:] }},
		{name: "display name", mutate: func(s *platform.AccountState) { s.Profile.DisplayName = "小蓝" }},
		{name: "employee name", mutate: func(s *platform.AccountState) { s.Profile.EmployeeName = "李四" }},
		{name: "employee number", mutate: func(s *platform.AccountState) { s.Profile.EmployeeNumber = "E008" }},
		{name: "department", mutate: func(s *platform.AccountState) { s.Profile.Department = "运营部" }},
		{name: "phone", mutate: func(s *platform.AccountState) { s.Profile.Phone = "13900139000" }},
		{name: "phone protection", mutate: func(s *platform.AccountState) { s.Security.PhoneProtection = false }},
		{name: "digital certificate", mutate: func(s *platform.AccountState) { s.Security.DigitalCertificate = true }},
		{name: "role ID moved into permissions", mutate: func(s *platform.AccountState) {
			s.RoleIDs = []string{"r1", "r2"}
			s.ExtraPermissions = append(s.ExtraPermissions, "r3")
		}},
	}
	base := accountHash(baseAccountState())
	seen := map[string]string{base: "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			s := baseAccountState()
			tt.mutate(&s)
			h := accountHash(s)
			g.Expect(h).NotTo(Equal(base))
			g.Expect(seen).NotTo(HaveKey(h), "same hash as another change")
			seen[h] = tt.name
		})
	}
}

func TestHashRole(t *testing.T) {
	base := platform.RoleSpec{Name: "客服", Description: "售前客服", Permissions: []string{"logistics-query", "trade-order-view", "wangwang-chat"}}
	baseHash := roleHash(base)

	same := []struct {
		name string
		spec platform.RoleSpec
	}{
		{name: "permissions reordered", spec: platform.RoleSpec{
			Name: "客服", Description: "售前客服", Permissions: []string{"wangwang-chat", "logistics-query", "trade-order-view"},
		}},
		{name: "permissions repeated", spec: platform.RoleSpec{
			Name: "客服", Description: "售前客服", Permissions: []string{"wangwang-chat", "logistics-query", "trade-order-view", "wangwang-chat"},
		}},
	}
	for _, tt := range same {
		t.Run("same/"+tt.name, func(t *testing.T) {
			g := NewWithT(t)
			before := slices.Clone(tt.spec.Permissions)
			g.Expect(roleHash(tt.spec)).To(Equal(baseHash))
			g.Expect(tt.spec.Permissions).To(Equal(before), "roleHash must not sort the caller's slice")
		})
	}

	different := []struct {
		name string
		spec platform.RoleSpec
	}{
		{name: "name", spec: platform.RoleSpec{Name: "客服2", Description: base.Description, Permissions: base.Permissions}},
		{name: "description", spec: platform.RoleSpec{Name: base.Name, Description: "售后客服", Permissions: base.Permissions}},
		{name: "permission added", spec: platform.RoleSpec{
			Name: base.Name, Description: base.Description, Permissions: append(slices.Clone(base.Permissions), "data-report"),
		}},
		{name: "permission removed", spec: platform.RoleSpec{
			Name: base.Name, Description: base.Description, Permissions: base.Permissions[:2],
		}},
		{name: "permission replaced", spec: platform.RoleSpec{
			Name: base.Name, Description: base.Description, Permissions: []string{"logistics-query", "trade-order-view", "wangwang-history"},
		}},
		{name: "no permissions", spec: platform.RoleSpec{Name: base.Name, Description: base.Description}},
	}
	for _, tt := range different {
		t.Run("different/"+tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(roleHash(tt.spec)).NotTo(Equal(baseHash))
		})
	}

	t.Run("hash is short hex", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(baseHash).To(MatchRegexp(`^[0-9a-f]{16}$`))
		g.Expect(accountHash(baseAccountState())).To(MatchRegexp(`^[0-9a-f]{16}$`))
	})
}

func TestAccountDiff(t *testing.T) {
	base := platform.AccountState{RoleIDs: []string{"2", "1"}, ExtraPermissions: []string{"a"},
		Seat: &platform.Seat{Chat: true, Capacity: 10, Presence: platform.PresenceOnline}}
	for name, tc := range map[string]struct {
		mutate func(*platform.AccountState)
		want   []string
	}{
		"same, role order aside": {func(s *platform.AccountState) { s.RoleIDs = []string{"1", "2"} }, nil},
		"roles":                  {func(s *platform.AccountState) { s.RoleIDs = []string{"3"} }, []string{"roles [1 2] → [3]"}},
		"extra":                  {func(s *platform.AccountState) { s.ExtraPermissions = []string{"b"} }, []string{"extra permissions +[b] -[a]"}},
		"disabled":               {func(s *platform.AccountState) { s.Disabled = true }, []string{"disabled false → true"}},
		"profile":                {func(s *platform.AccountState) { s.Profile.Phone = "13800138000" }, []string{"profile (display name, employee, department or phone)"}},
		"seat":                   {func(s *platform.AccountState) { s.Seat = nil }, []string{"seat {chat true, capacity 10, Online} → none"}},
		"security":               {func(s *platform.AccountState) { s.Security.PhoneProtection = true }, []string{"security {PhoneProtection:false DigitalCertificate:false} → {PhoneProtection:true DigitalCertificate:false}"}},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			desired := base
			desired.Seat = &platform.Seat{Chat: true, Capacity: 10, Presence: platform.PresenceOnline}
			tc.mutate(&desired)
			g.Expect(accountDiff(base, desired)).To(Equal(tc.want))
		})
	}
}

func TestLimitToCapabilities(t *testing.T) {
	g := NewWithT(t)
	current := platform.AccountState{RoleIDs: []string{"1"}, Profile: platform.Profile{DisplayName: "old"}}
	desired := platform.AccountState{RoleIDs: []string{"2"}, Profile: platform.Profile{DisplayName: "new"}, Disabled: true,
		ExtraPermissions: []string{"x"}}

	// Everything allowed: the desired state goes as it is.
	send, unsupported := limitToCapabilities(desired, current, platform.FullCapabilities())
	g.Expect(send).To(Equal(desired))
	g.Expect(unsupported).To(BeEmpty())

	// Only disable/seat allowed: the rest keeps the account's values and is named.
	send, unsupported = limitToCapabilities(desired, current, platform.Capabilities{AccountDisabled: true, AccountSeat: true})
	g.Expect(send.Disabled).To(BeTrue())
	g.Expect(send.RoleIDs).To(Equal([]string{"1"}))
	g.Expect(send.Profile.DisplayName).To(Equal("old"))
	g.Expect(send.ExtraPermissions).To(BeNil())
	g.Expect(unsupported).To(Equal([]string{"roles", "extraPermissions", "profile"}))

	// A field that cannot change but already matches is not reported.
	send, unsupported = limitToCapabilities(current, current, platform.Capabilities{})
	g.Expect(send).To(Equal(current))
	g.Expect(unsupported).To(BeEmpty())
}
