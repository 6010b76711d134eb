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

package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
	"github.com/subaccount-operator/subaccount-operator/internal/samples"
)

// applySamples creates config/samples in ns, as they are.
func applySamples(t *testing.T, ns string) {
	t.Helper()
	objs, err := samples.Load(filepath.Join("..", "..", "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range objs {
		u.SetNamespace(ns)
		mustCreate(t, u)
	}
}

// settle writes what the operator would into a SubAccount's status: its
// login, and its permissions by source, from its Roles' templates and
// codes and its extra codes, as the catalog expands them. ready false
// leaves it waiting; unverified leaves a Douyin phone unverified.
func settle(t *testing.T, ns, name string, ready, unverified bool) {
	t.Helper()
	ctx := context.Background()
	sa := &shopv1alpha1.SubAccount{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, sa); err != nil {
		t.Fatal(err)
	}
	shop := &shopv1alpha1.Shop{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: sa.Spec.ShopRef.Name}, shop); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.For(platform.Name(shop.Spec.Platform))
	if err != nil {
		t.Fatal(err)
	}
	sources := &shopv1alpha1.PermissionSources{}
	var all []string
	for _, ref := range sa.Spec.Roles {
		role := &shopv1alpha1.Role{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, role); err != nil {
			t.Fatal(err)
		}
		codes, _ := cat.Template(string(role.Spec.Template))
		codes, err := cat.Expand(append(codes, role.Spec.Permissions...))
		if err != nil {
			t.Fatal(err)
		}
		sources.Roles = append(sources.Roles, shopv1alpha1.RolePermissions{Name: ref.Name, Permissions: codes})
		all = append(all, codes...)
	}
	if sources.Supplementary, err = cat.Expand(sa.Spec.ExtraPermissions); err != nil {
		t.Fatal(err)
	}
	all = append(all, sources.Supplementary...)
	slices.Sort(all)
	all = slices.Compact(all)
	sa.Status.LoginName = shop.Spec.MainAccount + ":" + sa.Spec.AccountName
	sa.Status.PermissionSources, sa.Status.EffectivePermissions = sources, all
	status, reason := metav1.ConditionFalse, shopv1alpha1.ReasonSeatsExhausted
	if ready {
		sa.Status.AccountID, sa.Status.AppliedPermissions = "id-"+name, all
		status, reason = metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded
	}
	if name == "xiaohong" {
		// The platform's activity feed, as the operator records it.
		sa.Status.LastActivity = &metav1.Time{Time: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)}
	}
	if unverified {
		sa.Status.Verification = &shopv1alpha1.VerificationStatus{Phone: "138****8021"}
		status, reason = metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification
	}
	apimeta.SetStatusCondition(&sa.Status.Conditions, metav1.Condition{Type: shopv1alpha1.ConditionReady,
		Status: status, Reason: reason, Message: "as the operator says"})
	if err := k8s.Status().Update(ctx, sa); err != nil {
		t.Fatal(err)
	}
}

// The access review of config/samples, with the statuses the operator
// would write: the Staff with its two accounts (made as the operator
// makes them), every SubAccount without a Staff as its own person, the
// high-risk permissions held with their sources, waiting and unverified
// accounts, and the accounts no one manages; as a table, JSON and CSV.
func TestReviewOfTheSamples(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	applySamples(t, ns)

	// The operator's part: the Staff's accounts, and every status.
	staff := &shopv1alpha1.Staff{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "xiaoli"}, staff); err != nil {
		t.Fatal(err)
	}
	owner := metav1.OwnerReference{APIVersion: shopv1alpha1.GroupVersion.String(), Kind: "Staff", Name: staff.Name,
		UID: staff.UID, Controller: ptr.To(true)}
	for _, shop := range []string{"hongxing", "pdd-xiaodian"} {
		role := map[string]string{"hongxing": "customer-service", "pdd-xiaodian": "pinduoduo-customer-service-lead"}[shop]
		newSubAccount(t, ns, "xiaoli-"+shop, shop, func(sa *shopv1alpha1.SubAccount) {
			sa.OwnerReferences = []metav1.OwnerReference{owner}
			sa.Labels = map[string]string{shopv1alpha1.LabelStaff: "xiaoli"}
			sa.Spec.AccountName = "xiaoli"
			sa.Spec.Employee = staff.Spec.Employee
			sa.Spec.Roles = []shopv1alpha1.LocalObjectReference{{Name: role}}
		})
	}
	// Someone with high-risk rights, granted on purpose.
	newSubAccount(t, ns, "boss", "pdd-xiaodian", func(sa *shopv1alpha1.SubAccount) {
		sa.Spec.Employee.Name = "=HYPERLINK(\"x\")"
		sa.Spec.Roles = []shopv1alpha1.LocalObjectReference{{Name: "pinduoduo-operations"}}
		sa.Spec.ExtraPermissions = []string{"funds.view"}
		sa.Spec.AllowHighRisk = true
	})
	for _, name := range []string{"xiaohong", "daming", "xiaolan", "aqiang", "xiaoli-hongxing", "xiaoli-pdd-xiaodian", "boss"} {
		settle(t, ns, name, name != "xiaolan", false)
	}
	settle(t, ns, "xiaomei", true, true)
	// What the platform reports of daming's account where its API cannot
	// set it (a TOP Shop): a role and direct permissions given in the back
	// office, one of them high-risk.
	daming := &shopv1alpha1.SubAccount{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "daming"}, daming); err != nil {
		t.Fatal(err)
	}
	daming.Status.ObservedAccess = &shopv1alpha1.ObservedAccess{Roles: []shopv1alpha1.ObservedRole{{ID: "502", Name: "运营"}},
		Permissions: []string{"funds-view", "phone"}, Truncated: true}
	if err := k8s.Status().Update(ctx, daming); err != nil {
		t.Fatal(err)
	}
	hongxing := &shopv1alpha1.Shop{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hongxing"}, hongxing); err != nil {
		t.Fatal(err)
	}
	// Two accounts made in hongxing's back office, named by its last drift
	// check; one in pdd-xiaodian counted by its seats before any check.
	hongxing.Status.Seats = &shopv1alpha1.AccountQuotaStatus{Used: 6, Total: 15, Managed: 4, Unmanaged: 2}
	hongxing.Status.UnmanagedAccounts = &shopv1alpha1.UnmanagedAccountsStatus{Count: 2,
		Logins: []string{"hongxing:laowang", "hongxing:temp-618"}}
	if err := k8s.Status().Update(ctx, hongxing); err != nil {
		t.Fatal(err)
	}
	pdd := &shopv1alpha1.Shop{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "pdd-xiaodian"}, pdd); err != nil {
		t.Fatal(err)
	}
	pdd.Status.Seats = &shopv1alpha1.AccountQuotaStatus{Used: 4, Total: 10, Managed: 3, Unmanaged: 1}
	if err := k8s.Status().Update(ctx, pdd); err != nil {
		t.Fatal(err)
	}

	r := plugin(t, ns, "review")
	expectOK(t, r)
	hasLine(t, r.stdout, "staff/xiaoli 王小丽 (CS-0107)  hongxing      taobao     hongxing:xiaoli")
	hasLine(t, r.stdout, "pdd-xiaodian  pinduoduo  拼多多小店:xiaoli")
	hasLine(t, r.stdout, "李大明 (OP-0012)")
	hasLine(t, r.stdout, "hongxing:xiaohong", "2026-12-01T09:30:00Z")
	hasLine(t, r.stdout, "hongxing:xiaolan", "Waiting (SeatsExhausted)")
	hasLine(t, r.stdout, "抖店旗舰店:xiaomei", "Unverified (PendingVerification)")
	hasLine(t, r.stdout, "拼多多小店:boss", "funds.view (supplementary)")
	contains(t, r.stdout, "Roles and direct permissions as the platform reports them (read-only: its API cannot set them):")
	hasLine(t, r.stdout, "hongxing hongxing:daming 运营 (ID 502) funds-view (high-risk), phone (truncated: the platform reported more)")
	if strings.Count(r.stdout, "(ID ") != 1 {
		t.Errorf("only daming has a platform report, got:\n%s", r.stdout)
	}
	contains(t, r.stdout, "Platform accounts no SubAccount manages")
	hasLine(t, r.stdout, "hongxing taobao hongxing:laowang")
	hasLine(t, r.stdout, "hongxing taobao hongxing:temp-618")
	hasLine(t, r.stdout, "pdd-xiaodian pinduoduo (1, not named yet: the shop's next drift check lists them)")

	r = plugin(t, ns, "review", "-o", "json")
	expectOK(t, r)
	var rev Review
	if err := json.Unmarshal([]byte(r.stdout), &rev); err != nil {
		t.Fatalf("review -o json is not JSON: %v\n%s", err, r.stdout)
	}
	if len(rev.People) != 7 || rev.People[0].Staff != "xiaoli" || len(rev.People[0].Accounts) != 2 {
		t.Fatalf("want the Staff first with 2 accounts, then 6 SubAccounts without one; got %+v", rev.People)
	}
	var boss *ReviewAccount
	for _, p := range rev.People {
		if p.Accounts[0].SubAccount == "boss" {
			boss = &p.Accounts[0]
		}
	}
	if boss == nil || !slices.ContainsFunc(boss.HighRisk, func(p ReviewPermission) bool {
		return p.Code == "funds.view" && slices.Equal(p.From, []string{"supplementary"})
	}) {
		t.Errorf("boss's high-risk permissions: %+v", boss)
	}
	for _, p := range rev.People {
		for _, a := range p.Accounts {
			o := a.ObservedAccess
			switch {
			case a.SubAccount != "daming" && o != nil:
				t.Errorf("%s has observedAccess %+v; only daming's status has one", a.SubAccount, o)
			case a.SubAccount == "daming" && (o == nil || !slices.Equal(o.Roles, []shopv1alpha1.ObservedRole{{ID: "502", Name: "运营"}}) ||
				!slices.Equal(o.Permissions, []string{"funds-view", "phone"}) || !slices.Equal(o.HighRisk, []string{"funds-view"}) || !o.Truncated):
				t.Errorf("daming's observedAccess: %+v", o)
			}
		}
	}
	if len(rev.Unmanaged) != 2 || rev.Unmanaged[0].Accounts != 2 || rev.Unmanaged[0].Unlisted != 0 ||
		!slices.Equal(rev.Unmanaged[0].Logins, []string{"hongxing:laowang", "hongxing:temp-618"}) ||
		rev.Unmanaged[1].Shop != "pdd-xiaodian" || rev.Unmanaged[1].Accounts != 1 || rev.Unmanaged[1].Unlisted != 1 {
		t.Errorf("unmanaged: %+v", rev.Unmanaged)
	}

	r = plugin(t, ns, "review", "-o", "csv")
	expectOK(t, r)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("review -o csv: %v", err)
	}
	if len(rows) != 1+8+3 {
		t.Fatalf("want a header, 8 accounts and 3 unmanaged rows (2 named, 1 not); got %d rows:\n%s", len(rows), r.stdout)
	}
	unmanaged := 0
	for _, row := range rows[1:] {
		if row[8] == "Unmanaged" {
			n, err := strconv.Atoi(row[12])
			if err != nil {
				t.Fatalf("unmanaged_accounts %q: %v", row[12], err)
			}
			unmanaged += n
		}
	}
	if unmanaged != 3 || !slices.ContainsFunc(rows, func(row []string) bool { return row[6] == "hongxing:laowang" && row[8] == "Unmanaged" }) {
		t.Errorf("the CSV's unmanaged rows add up to %d (want 3) or do not name hongxing:laowang:\n%s", unmanaged, r.stdout)
	}
	found := false
	for _, row := range rows {
		if row[7] == "daming" {
			found = true
			if row[13] != "运营 (ID 502)" || row[14] != "funds-view (high-risk), phone (truncated: the platform reported more)" {
				t.Errorf("daming's platform-reported roles and permissions in the CSV: %q, %q", row[13], row[14])
			}
		}
	}
	if !found || rows[0][13] != "platform_reported_roles" || rows[0][14] != "platform_reported_permissions" {
		t.Errorf("no CSV row for daming, or header %q:\n%s", rows[0], r.stdout)
	}
	found = false
	for _, row := range rows {
		if row[7] == "boss" {
			found = true
			if row[1] != `'=HYPERLINK("x")` {
				t.Errorf("a formula in a name must reach the spreadsheet as text, got %q", row[1])
			}
		}
	}
	if !found {
		t.Errorf("no CSV row for boss:\n%s", r.stdout)
	}
	expectFail(t, plugin(t, ns, "review", "-o", "yaml"), `unknown output "yaml"`)
}

// verify staff/NAME --shop SHOP hands the code to that shop's account;
// without --shop, to the one shop awaiting a code, and with several the
// plugin lists them with the masked phone each code went to.
func TestVerifyStaffAccount(t *testing.T) {
	ns := newNamespace(t)
	newShop(t, ns, "dy", shopv1alpha1.PlatformDouyin, nil)
	staff := &shopv1alpha1.Staff{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "li"},
		Spec: shopv1alpha1.StaffSpec{AccountName: "li", Assignments: []shopv1alpha1.StaffAssignment{{Shops: []string{"dy"},
			RoleSelector: shopv1alpha1.StaffSelector{MatchLabels: map[string]string{"job": "cs"}}}}}}
	mustCreate(t, staff)
	expectFail(t, plugin(t, ns, "verify", "staff/li", "123456"), "name the shop with --shop SHOP")
	expectFail(t, plugin(t, ns, "verify", "staff/li", "--shop", "dy", "123456"), `staff li has no account in shop "dy" yet`)
	newSubAccount(t, ns, "li-dy", "dy", pending)
	// Two Douyin shops await a code, each at its own phone: without
	// --shop the plugin lists them.
	staff.Status.Shops = []shopv1alpha1.StaffShopStatus{
		{Shop: "dy", SubAccount: "li-dy", Verification: shopv1alpha1.StaffVerificationPending, VerificationPhone: "138****8000"},
		{Shop: "dy2", SubAccount: "li-dy2", Verification: shopv1alpha1.StaffVerificationPending, VerificationPhone: "139****0001"}}
	if err := k8s.Status().Update(context.Background(), staff); err != nil {
		t.Fatal(err)
	}
	expectFail(t, plugin(t, ns, "verify", "staff/li", "123456"),
		"codes awaited in: dy (138****8000, Pending), dy2 (139****0001, Pending)")
	// Once only one does, --shop may be left out.
	staff.Status.Shops[1].Verification = shopv1alpha1.StaffVerificationVerified
	if err := k8s.Status().Update(context.Background(), staff); err != nil {
		t.Fatal(err)
	}
	done := consume(t, ns, "li-dy", "123456", true, "phone verified")
	r := plugin(t, ns, "verify", "staff/li", "123456")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	expectOK(t, r)
	contains(t, r.stdout, "phone verified")
}

// hasLine wants a line of out holding every part (spacing aside).
func hasLine(t *testing.T, out string, parts ...string) {
	t.Helper()
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, l := range strings.Split(out, "\n") {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(norm(l), norm(p)) }) {
			return
		}
	}
	t.Errorf("no line with %q in:\n%s", parts, out)
}
