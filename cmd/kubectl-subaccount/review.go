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

// kubectl subaccount review: who can do what, where. It reads only the
// cluster (Staff, SubAccounts, Shops): the operator has already written
// what the platforms said into their status, so no platform is called.

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// Review is what `review -o json` prints.
type Review struct {
	// Namespace reviewed.
	Namespace string `json:"namespace"`
	// People are the Staff, then one entry per SubAccount no Staff owns.
	People []ReviewPerson `json:"people"`
	// Unmanaged are, per shop, the platform accounts the operator found
	// and no SubAccount manages (the Shop's last look at the platform).
	Unmanaged []ReviewUnmanaged `json:"unmanaged"`
}

// ReviewPerson is one person and their accounts.
type ReviewPerson struct {
	// Staff is the Staff's name; empty for a SubAccount without one.
	Staff string `json:"staff,omitempty"`
	// Name and EmployeeNumber are the person's, as the spec gives them.
	Name           string `json:"name,omitempty"`
	EmployeeNumber string `json:"employeeNumber,omitempty"`
	// Active is false for a Staff being (or) offboarded.
	Active   bool            `json:"active"`
	Accounts []ReviewAccount `json:"accounts"`
}

// ReviewAccount is one login.
type ReviewAccount struct {
	Shop       string `json:"shop"`
	Platform   string `json:"platform,omitempty"`
	Login      string `json:"login,omitempty"`
	SubAccount string `json:"subAccount"`
	// State is Active, Disabled, Unverified or Waiting (not Ready yet:
	// Reason says why).
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// HighRisk are the high-risk permissions held and where each comes from.
	HighRisk []ReviewPermission `json:"highRisk,omitempty"`
	// LastActivity is the last activity the platform reported, when it does.
	LastActivity *metav1.Time `json:"lastActivity,omitempty"`
	// ObservedAccess is what the platform reports the account has where
	// its API can read but not set roles and direct permissions (Taobao
	// through TOP), read-only. HighRisk follows the spec; this is what
	// the back office gave.
	ObservedAccess *ReviewObservedAccess `json:"observedAccess,omitempty"`
}

// ReviewObservedAccess is a SubAccount's status.observedAccess, bounded
// as the status is, with its high-risk direct permissions picked out.
type ReviewObservedAccess struct {
	Roles       []shopv1alpha1.ObservedRole `json:"roles"`
	Permissions []string                    `json:"permissions"`
	// HighRisk are the direct permissions the catalog marks high-risk.
	HighRisk []string `json:"highRisk,omitempty"`
	// Truncated is true when the platform reported more roles or
	// permissions than the status holds.
	Truncated bool `json:"truncated,omitempty"`
}

// ReviewPermission is a permission and its sources ("role NAME", "supplementary").
type ReviewPermission struct {
	Code string   `json:"code"`
	From []string `json:"from"`
}

// ReviewUnmanaged is a shop's accounts no SubAccount manages.
type ReviewUnmanaged struct {
	Shop     string `json:"shop"`
	Platform string `json:"platform"`
	// Accounts is how many there are.
	Accounts int32 `json:"accounts"`
	// Logins name them, sorted, as the Shop's last drift check listed
	// them: at most 100 (the Shop's status keeps no more).
	Logins []string `json:"logins,omitempty"`
	// Unlisted is how many Logins does not name: those past 100, or all
	// of them before the shop's first drift check (the seat count knows
	// them, not their names).
	Unlisted int32 `json:"unlisted,omitempty"`
}

// Account states.
const (
	stateActive     = "Active"
	stateDisabled   = "Disabled"
	stateUnverified = "Unverified"
	stateWaiting    = "Waiting"
)

func (k *cli) review(ctx context.Context, _ []string) error {
	var staff shopv1alpha1.StaffList
	if err := k.c.List(ctx, &staff, client.InNamespace(k.ns)); err != nil {
		return fmt.Errorf("listing staff: %w", err)
	}
	var sas shopv1alpha1.SubAccountList
	if err := k.c.List(ctx, &sas, client.InNamespace(k.ns)); err != nil {
		return fmt.Errorf("listing subaccounts: %w", err)
	}
	var shops shopv1alpha1.ShopList
	if err := k.c.List(ctx, &shops, client.InNamespace(k.ns)); err != nil {
		return fmt.Errorf("listing shops: %w", err)
	}
	r := buildReview(k.ns, staff.Items, sas.Items, shops.Items)
	switch k.output {
	case "", "table", "wide":
		fmt.Fprint(k.out, renderReview(r))
		return nil
	case "json":
		enc := json.NewEncoder(k.out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		return writeReviewCSV(k.out, r)
	}
	return fmt.Errorf("unknown output %q: use table, json or csv", k.output)
}

// buildReview puts the people, their accounts and the unmanaged accounts
// together (pure: the cluster's objects in, the review out).
func buildReview(ns string, staff []shopv1alpha1.Staff, sas []shopv1alpha1.SubAccount, shops []shopv1alpha1.Shop) Review {
	r := Review{Namespace: ns, People: []ReviewPerson{}, Unmanaged: []ReviewUnmanaged{}}
	shopByName := map[string]*shopv1alpha1.Shop{}
	for i := range shops {
		shopByName[shops[i].Name] = &shops[i]
	}
	byStaff := map[string][]ReviewAccount{}
	var loose []ReviewPerson
	for i := range sas {
		sa := &sas[i]
		acct := reviewAccount(sa, shopByName[sa.Spec.ShopRef.Name])
		if owner := metav1.GetControllerOf(sa); owner != nil && owner.Kind == "Staff" {
			byStaff[owner.Name] = append(byStaff[owner.Name], acct)
			continue
		}
		loose = append(loose, ReviewPerson{Name: sa.Spec.Employee.Name, EmployeeNumber: sa.Spec.Employee.Number,
			Active: !sa.Spec.Disabled, Accounts: []ReviewAccount{acct}})
	}
	slices.SortFunc(staff, func(a, b shopv1alpha1.Staff) int { return cmp.Compare(a.Name, b.Name) })
	for _, s := range staff {
		accts := byStaff[s.Name]
		slices.SortFunc(accts, func(a, b ReviewAccount) int { return cmp.Compare(a.Shop, b.Shop) })
		if accts == nil {
			accts = []ReviewAccount{}
		}
		r.People = append(r.People, ReviewPerson{Staff: s.Name, Name: s.Spec.Employee.Name,
			EmployeeNumber: s.Spec.Employee.Number, Active: s.IsActive(), Accounts: accts})
	}
	slices.SortFunc(loose, func(a, b ReviewPerson) int {
		return cmp.Or(cmp.Compare(a.Accounts[0].Shop, b.Accounts[0].Shop), cmp.Compare(a.Accounts[0].SubAccount, b.Accounts[0].SubAccount))
	})
	r.People = append(r.People, loose...)
	slices.SortFunc(shops, func(a, b shopv1alpha1.Shop) int { return cmp.Compare(a.Name, b.Name) })
	for _, s := range shops {
		u := ReviewUnmanaged{Shop: s.Name, Platform: string(s.Spec.Platform)}
		switch listed, seats := s.Status.UnmanagedAccounts, s.Status.Seats; {
		case listed != nil && listed.Count > 0:
			u.Accounts, u.Logins = listed.Count, listed.Logins
			u.Unlisted = max(listed.Count-int32(len(listed.Logins)), 0)
		case seats != nil && seats.Unmanaged > 0:
			u.Accounts, u.Unlisted = seats.Unmanaged, seats.Unmanaged
		default:
			continue
		}
		r.Unmanaged = append(r.Unmanaged, u)
	}
	return r
}

// reviewAccount is one SubAccount's line.
func reviewAccount(sa *shopv1alpha1.SubAccount, shop *shopv1alpha1.Shop) ReviewAccount {
	a := ReviewAccount{Shop: sa.Spec.ShopRef.Name, Login: sa.Status.LoginName, SubAccount: sa.Name, State: stateActive,
		LastActivity: sa.Status.LastActivity}
	ready := meta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionReady)
	switch {
	case sa.Spec.Disabled:
		a.State = stateDisabled
	case sa.Status.Verification != nil && !sa.Status.Verification.Verified:
		a.State = stateUnverified
	case ready == nil || ready.Status != metav1.ConditionTrue || sa.Status.AccountID == "":
		a.State = stateWaiting
	}
	if ready != nil && ready.Status != metav1.ConditionTrue {
		a.Reason = ready.Reason
	}
	if shop == nil {
		return a
	}
	a.Platform = string(shop.Spec.Platform)
	cat, err := catalog.For(platform.Name(shop.Spec.Platform))
	if err == nil {
		a.HighRisk = highRiskHeld(sa, cat)
	}
	if oa := sa.Status.ObservedAccess; oa != nil {
		// Empty lists, not null, in JSON: the platform reports none.
		a.ObservedAccess = &ReviewObservedAccess{Roles: append([]shopv1alpha1.ObservedRole{}, oa.Roles...),
			Permissions: append([]string{}, oa.Permissions...), Truncated: oa.Truncated}
		if cat != nil {
			a.ObservedAccess.HighRisk = cat.HighRisk(oa.Permissions)
		}
	}
	return a
}

// highRiskHeld lists the high-risk codes the account holds (what the
// operator applied, else what it would apply) with their sources.
func highRiskHeld(sa *shopv1alpha1.SubAccount, cat *catalog.Catalog) []ReviewPermission {
	held := sa.Status.AppliedPermissions
	if len(held) == 0 {
		held = sa.Status.EffectivePermissions
	}
	sources := map[string][]string{}
	if ps := sa.Status.PermissionSources; ps != nil {
		for _, r := range ps.Roles {
			for _, code := range r.Permissions {
				sources[code] = append(sources[code], "role "+r.Name)
			}
		}
		for _, code := range ps.Supplementary {
			sources[code] = append(sources[code], supplementary)
		}
	}
	var out []ReviewPermission
	for _, code := range cat.HighRisk(held) {
		from := sources[code]
		if from == nil {
			from = []string{"unknown"}
		}
		out = append(out, ReviewPermission{Code: code, From: from})
	}
	return out
}

func (p ReviewPerson) label() string {
	who := orDash(p.Name)
	if p.EmployeeNumber != "" {
		who += " (" + p.EmployeeNumber + ")"
	}
	if p.Staff != "" {
		return "staff/" + p.Staff + " " + who
	}
	return who
}

func (a ReviewAccount) highRiskText() string {
	parts := make([]string, 0, len(a.HighRisk))
	for _, p := range a.HighRisk {
		parts = append(parts, p.Code+" ("+strings.Join(p.From, ", ")+")")
	}
	return orDash(strings.Join(parts, "; "))
}

func (a ReviewAccount) stateText() string {
	if a.Reason != "" && a.State != stateActive {
		return a.State + " (" + a.Reason + ")"
	}
	return a.State
}

func (a ReviewAccount) lastActivityText() string {
	if a.LastActivity == nil {
		return "-"
	}
	return a.LastActivity.UTC().Format(time.RFC3339)
}

// observedTexts are an account's roles and direct permissions as the
// platform reports them, for a table cell or CSV column each ("" for
// none), the high-risk permissions marked; the second says when the
// status holds only the first of them.
func (o *ReviewObservedAccess) observedTexts() (roles, permissions string) {
	roles = strings.Join(observedRoleNames(o.Roles), ", ")
	parts := make([]string, len(o.Permissions))
	for i, code := range o.Permissions {
		parts[i] = code
		if slices.Contains(o.HighRisk, code) {
			parts[i] += " (high-risk)"
		}
	}
	permissions = strings.Join(parts, ", ")
	if o.Truncated {
		permissions += " (truncated: the platform reported more)"
	}
	return roles, permissions
}

// renderReview is the table: people and their logins, the access the
// platform reports where it cannot be set, then the accounts no one
// manages.
func renderReview(r Review) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PERSON\tSHOP\tPLATFORM\tLOGIN\tSTATE\tHIGH-RISK PERMISSIONS (FROM)\tLAST ACTIVITY")
	for _, p := range r.People {
		label := p.label()
		if !p.Active && p.Staff != "" {
			label += " [offboarded]"
		}
		if len(p.Accounts) == 0 {
			fmt.Fprintf(w, "%s\t-\t-\t-\t-\t-\t-\n", label)
		}
		for i, a := range p.Accounts {
			if i > 0 {
				label = ""
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", label, a.Shop, orDash(a.Platform), orDash(a.Login),
				a.stateText(), a.highRiskText(), a.lastActivityText())
		}
	}
	_ = w.Flush()
	if len(r.People) == 0 {
		b.Reset()
		b.WriteString("No staff or subaccounts found.\n")
	}
	var observed []ReviewAccount
	for _, p := range r.People {
		for _, a := range p.Accounts {
			if a.ObservedAccess != nil {
				observed = append(observed, a)
			}
		}
	}
	if len(observed) > 0 {
		b.WriteString("\nRoles and direct permissions as the platform reports them (read-only: its API cannot set them):\n")
		w = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SHOP\tLOGIN\tROLES\tDIRECT PERMISSIONS")
		for _, a := range observed {
			roles, permissions := a.ObservedAccess.observedTexts()
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", a.Shop, orDash(a.Login), orDash(roles), orDash(permissions))
		}
		_ = w.Flush()
	}
	if len(r.Unmanaged) > 0 {
		b.WriteString("\nPlatform accounts no SubAccount manages (the shop's last look at the platform):\n")
		w = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SHOP\tPLATFORM\tLOGIN")
		for _, u := range r.Unmanaged {
			for _, login := range u.Logins {
				fmt.Fprintf(w, "%s\t%s\t%s\n", u.Shop, u.Platform, login)
			}
			if u.Unlisted > 0 {
				fmt.Fprintf(w, "%s\t%s\t%s\n", u.Shop, u.Platform, u.unlistedText())
			}
		}
		_ = w.Flush()
	}
	return b.String()
}

// unlistedText says how many of a shop's unmanaged accounts the review
// cannot name, and why.
func (u ReviewUnmanaged) unlistedText() string {
	if len(u.Logins) == 0 {
		return fmt.Sprintf("(%d, not named yet: the shop's next drift check lists them)", u.Unlisted)
	}
	return fmt.Sprintf("(%d more: the Shop's status names the first %d)", u.Unlisted, len(u.Logins))
}

// writeReviewCSV writes one row per account (and per unmanaged login),
// for a spreadsheet.
func writeReviewCSV(out io.Writer, r Review) error {
	w := csv.NewWriter(out)
	rows := [][]string{{"staff", "person", "employee_number", "active", "shop", "platform", "login", "subaccount",
		"state", "reason", "high_risk_permissions", "last_activity", "unmanaged_accounts",
		"platform_reported_roles", "platform_reported_permissions"}}
	for _, p := range r.People {
		for _, a := range p.Accounts {
			last := ""
			if a.LastActivity != nil {
				last = a.LastActivity.UTC().Format(time.RFC3339)
			}
			hr := ""
			if len(a.HighRisk) > 0 {
				hr = a.highRiskText()
			}
			var roles, permissions string
			if a.ObservedAccess != nil {
				roles, permissions = a.ObservedAccess.observedTexts()
			}
			rows = append(rows, []string{p.Staff, p.Name, p.EmployeeNumber, strconv.FormatBool(p.Active), a.Shop, a.Platform,
				a.Login, a.SubAccount, a.State, a.Reason, hr, last, "", roles, permissions})
		}
	}
	// One row per named login (counting 1), and one for those not named
	// (counting them), so the column adds up to every unmanaged account.
	for _, u := range r.Unmanaged {
		for _, login := range u.Logins {
			rows = append(rows, []string{"", "", "", "", u.Shop, u.Platform, login, "", "Unmanaged", "", "", "", "1", "", ""})
		}
		if u.Unlisted > 0 {
			rows = append(rows, []string{"", "", "", "", u.Shop, u.Platform, "", "", "Unmanaged", u.unlistedText(), "", "",
				strconv.Itoa(int(u.Unlisted)), "", ""})
		}
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			row[i] = csvCell(cell)
		}
	}
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// csvCell keeps a spreadsheet from reading a cell as a formula: names come
// from specs anyone with edit rights writes, and "=HYPERLINK(...)" in an
// auditor's spreadsheet would run (CSV injection). Such a cell gets a
// leading apostrophe, which spreadsheets show as text.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
