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

// What a platform reports but its API cannot set (Capabilities.ObservedOnly:
// on Taobao through TOP an account's roles and direct permissions, and a
// role's permissions, name and description): shown in status, compared
// with the spec, and a difference reported, never written.

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// Bounds of status.observedAccess (the CRD's MaxItems and MaxLength).
const (
	maxObservedRoles       = 50
	maxObservedPermissions = 256
	maxObservedRoleID      = 64
	maxObservedRoleName    = 128
	maxObservedCode        = 128
	// maxNamed is how many missing or extra roles or permissions a message
	// names before it says how many more.
	maxNamed = 10
)

// observesAccess says whether the platform reports an account's roles or
// direct permissions but its API cannot set them.
func observesAccess(caps platform.Capabilities) bool {
	only := caps.ObservedOnly()
	return only.AccountRoles || only.AccountExtraPermissions
}

// observedAccessOf is status.observedAccess for an account as read: its
// roles (by ID, with the names the platform reports) and direct
// permissions, sorted and cut to the status's bounds.
func observedAccessOf(a platform.Account) *shopv1alpha1.ObservedAccess {
	out := &shopv1alpha1.ObservedAccess{}
	names := map[string]string{}
	for _, r := range a.Roles {
		names[r.ID] = r.Name
	}
	for _, id := range sortedCopy(a.RoleIDs) {
		if len(out.Roles) == maxObservedRoles {
			out.Truncated = true
			break
		}
		out.Roles = append(out.Roles, shopv1alpha1.ObservedRole{ID: cutRunes(id, maxObservedRoleID), Name: cutRunes(names[id], maxObservedRoleName)})
	}
	for _, code := range sortedCopy(a.ExtraPermissions) {
		if len(out.Permissions) == maxObservedPermissions {
			out.Truncated = true
			break
		}
		out.Permissions = append(out.Permissions, cutRunes(code, maxObservedCode))
	}
	return out
}

// cutRunes cuts s to at most n characters.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// comparablePermissions is a permission set as the platform's catalog
// grants it (Expand: on Taobao with parents and descendants), so a set the
// platform lists in either form compares with the spec's expanded one.
// Codes the catalog does not know are kept as they are.
func comparablePermissions(cat *catalog.Catalog, codes []string) []string {
	var known, unknown []string
	for _, c := range codes {
		if _, ok := cat.Lookup(c); ok {
			known = append(known, c)
		} else {
			unknown = append(unknown, c)
		}
	}
	expanded, err := cat.Expand(known)
	if err != nil {
		expanded = known // unreachable: every code is known
	}
	return sortedCopy(append(expanded, unknown...))
}

// accessChanges says how an account's roles and direct permissions as
// observed differ from the wanted ones, for what only names (the
// platform reports it but cannot set it): the roles missing on the
// platform and those it has besides, the direct permissions likewise.
// roleName names a role ID for people. Empty when nothing differs.
func accessChanges(observed platform.AccountState, wantRoles, wantExtra []string, only platform.Observation,
	cat *catalog.Catalog, roleName func(id string) string) []string {
	var out []string
	if only.AccountRoles {
		// What the platform has and the spec lacks, then the reverse.
		extra, missing := diffSets(sortedCopy(wantRoles), sortedCopy(observed.RoleIDs))
		out = appendNamed(out, "roles missing on the platform", missing, roleName)
		out = appendNamed(out, "roles on the platform the spec does not list", extra, roleName)
	}
	if only.AccountExtraPermissions {
		extra, missing := diffSets(comparablePermissions(cat, wantExtra), comparablePermissions(cat, observed.ExtraPermissions))
		out = appendNamed(out, "direct permissions missing on the platform", missing, nil)
		out = appendNamed(out, "direct permissions on the platform the spec does not grant", extra, nil)
	}
	return out
}

// roleChanges says how a role as observed differs from the wanted one,
// comparing its permissions only when they were read (permissions).
func roleChanges(observed, want platform.RoleSpec, permissions bool, cat *catalog.Catalog) []string {
	var out []string
	if observed.Name != want.Name {
		out = append(out, fmt.Sprintf("name %q on the platform, %q in the spec", observed.Name, want.Name))
	}
	if observed.Description != want.Description {
		out = append(out, fmt.Sprintf("description %q on the platform, %q in the spec", observed.Description, want.Description))
	}
	if permissions {
		extra, missing := diffSets(comparablePermissions(cat, want.Permissions), comparablePermissions(cat, observed.Permissions))
		out = appendNamed(out, "permissions missing on the platform", missing, nil)
		out = appendNamed(out, "permissions on the platform the spec does not grant", extra, nil)
	}
	return out
}

// appendNamed adds "what: a, b, c" to out when items is not empty, naming
// at most maxNamed of them (through name, when given).
func appendNamed(out []string, what string, items []string, name func(string) string) []string {
	if len(items) == 0 {
		return out
	}
	if name != nil {
		named := make([]string, len(items))
		for i, it := range items {
			named[i] = name(it)
		}
		items = named
	}
	return append(out, what+": "+firstNames(items, maxNamed))
}

// firstNames joins at most n of names with commas and says how many more
// there are, for messages that must stay short however many there are.
func firstNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(", and %d more", len(names)-n)
}

// roleNamer names a role ID by the Role that manages it (resolved) or,
// failing that, by the name the platform reports (observed).
func roleNamer(resolved []resolvedRole, observed []platform.Role) func(string) string {
	return func(id string) string {
		if i := slices.IndexFunc(resolved, func(r resolvedRole) bool { return r.id == id }); i >= 0 {
			return fmt.Sprintf("Role %s (ID %s)", resolved[i].name, id)
		}
		if i := slices.IndexFunc(observed, func(r platform.Role) bool { return r.ID == id }); i >= 0 && observed[i].Name != "" {
			return fmt.Sprintf("%s (ID %s)", observed[i].Name, id)
		}
		return "ID " + id
	}
}
