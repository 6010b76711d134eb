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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/password"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
	"github.com/subaccount-operator/subaccount-operator/internal/schedule"
)

// taobaoDescriptionMax is TOP's limit on a role description
// (taobao.sellercenter.role.add).
const taobaoDescriptionMax = 20

// desiredRole translates a Role into the platform role it stands for and
// checks it against the platform's catalog and the risk policy.
func desiredRole(role *shopv1alpha1.Role, cat *catalog.Catalog) (platform.RoleSpec, error) {
	spec := platform.RoleSpec{Name: role.Spec.DisplayName, Description: role.Spec.Description}
	if n := utf8.RuneCountInString(spec.Name); n > cat.RoleNameMaxLength {
		return spec, stalled(shopv1alpha1.ReasonInvalidSpec,
			"displayName %q has %d characters; %s allows at most %d", spec.Name, n, cat.Platform, cat.RoleNameMaxLength)
	}
	if n := utf8.RuneCountInString(spec.Description); cat.Platform == platform.Taobao && n > taobaoDescriptionMax {
		return spec, stalled(shopv1alpha1.ReasonInvalidSpec,
			"description has %d characters; taobao allows at most %d", n, taobaoDescriptionMax)
	}
	codes := slices.Clone(role.Spec.Permissions)
	if role.Spec.Template != "" {
		tmpl, ok := cat.Template(string(role.Spec.Template))
		if !ok {
			return spec, stalled(shopv1alpha1.ReasonInvalidSpec,
				"template %q is not defined for %s", role.Spec.Template, cat.Platform)
		}
		codes = append(codes, tmpl...)
	}
	perms, err := checkPermissions(cat, codes, role.Spec.AllowHighRisk, "permissions")
	spec.Permissions = perms
	return spec, err
}

// checkPermissions expands codes with the platform's tree and refuses
// unknown codes, and high-risk ones unless allowed.
func checkPermissions(cat *catalog.Catalog, codes []string, allowHighRisk bool, field string) ([]string, error) {
	expanded, err := cat.Expand(codes)
	if err != nil {
		var unknown *catalog.UnknownPermissionsError
		if errors.As(err, &unknown) {
			return nil, stalled(shopv1alpha1.ReasonUnknownPermissions,
				"%s: %s does not know the permission codes %s", field, cat.Platform, strings.Join(unknown.Codes, ", "))
		}
		return nil, stalled(shopv1alpha1.ReasonUnknownPermissions, "%s: %v", field, err)
	}
	if risky := cat.HighRisk(expanded); len(risky) > 0 && !allowHighRisk {
		return expanded, stalled(shopv1alpha1.ReasonHighRiskNotAllowed,
			"%s grant high-risk permissions %s; set allowHighRisk: true to grant them on purpose",
			field, strings.Join(risky, ", "))
	}
	return expanded, nil
}

// resolvedRole is a Role a SubAccount uses, as far as the platform knows it.
type resolvedRole struct {
	name        string
	id          string
	permissions []string
}

// permissionSources says which of the effective permissions come from which
// Role and which are supplementary (extraPermissions), all expanded.
func permissionSources(roles []resolvedRole, extra []string) *shopv1alpha1.PermissionSources {
	if len(roles) == 0 && len(extra) == 0 {
		return nil
	}
	out := &shopv1alpha1.PermissionSources{Supplementary: sortedCopy(extra)}
	for _, r := range roles {
		out.Roles = append(out.Roles, shopv1alpha1.RolePermissions{Name: r.name, Permissions: sortedCopy(r.permissions)})
	}
	return out
}

// mainAccountState is the state the main account keeps in step with the
// spec: the seat's presence and reception capacity are left as they are
// (empty, 0), because they are the agent's own settings. The operator
// writes them only at a change of the spec's starting values and at a
// schedule boundary (seatWrites); the hash and the drift check never
// cover them.
func mainAccountState(state platform.AccountState, _ *catalog.Catalog) platform.AccountState {
	if state.Seat == nil {
		return state
	}
	seat := *state.Seat
	seat.Capacity, seat.Presence = 0, ""
	state.Seat = &seat
	return state
}

// desiredAccount translates a SubAccount and its resolved roles into the
// account state to apply, and the effective permissions it grants.
func desiredAccount(sa *shopv1alpha1.SubAccount, roles []resolvedRole, cat *catalog.Catalog) (platform.AccountState, []string, error) {
	state := platform.AccountState{
		Profile: platform.Profile{
			DisplayName:    sa.Spec.DisplayName,
			EmployeeName:   sa.Spec.Employee.Name,
			EmployeeNumber: sa.Spec.Employee.Number,
			Department:     sa.Spec.Employee.Department,
			Phone:          sa.Spec.Phone,
		},
		Disabled: sa.Spec.Disabled,
		Security: platform.Security{
			PhoneProtection:    sa.Spec.Security.PhoneProtection,
			DigitalCertificate: sa.Spec.Security.DigitalCertificate,
		},
	}
	if seat := sa.Spec.ChatSeat; seat != nil {
		state.Seat = &platform.Seat{Chat: seat.Chat, Capacity: seat.Capacity, Presence: platform.Presence(seat.Presence)}
		if state.Seat.Capacity == 0 {
			state.Seat.Capacity = 10
		}
		if state.Seat.Presence == "" {
			state.Seat.Presence = platform.PresenceOnline
		}
	}
	if n := utf8.RuneCountInString(sa.Spec.AccountName); n > cat.AccountNameMaxLength {
		return state, nil, stalled(shopv1alpha1.ReasonInvalidSpec,
			"accountName has %d characters; %s allows at most %d", n, cat.Platform, cat.AccountNameMaxLength)
	}
	if cat.Platform == platform.Douyin {
		if len(sa.Spec.Roles) != 1 {
			return state, nil, stalled(shopv1alpha1.ReasonInvalidSpec,
				"a Douyin sub-account needs exactly one Role (its position); %d given", len(sa.Spec.Roles))
		}
		if sa.Spec.Phone == "" {
			return state, nil, stalled(shopv1alpha1.ReasonInvalidSpec,
				"a Douyin sub-account needs a phone number for SMS verification")
		}
	}
	extra, err := checkPermissions(cat, sa.Spec.ExtraPermissions, sa.Spec.AllowHighRisk, "extraPermissions")
	if err != nil {
		return state, nil, err
	}
	state.ExtraPermissions = extra
	effective := slices.Clone(extra)
	for _, r := range roles {
		state.RoleIDs = append(state.RoleIDs, r.id)
		effective = append(effective, r.permissions...)
	}
	slices.Sort(state.RoleIDs)
	slices.Sort(effective)
	return state, slices.Compact(effective), nil
}

// passwordLength is the length of a generated password for the account,
// refusing a length below the platform's minimum.
func passwordLength(sa *shopv1alpha1.SubAccount, cat *catalog.Catalog) (int, error) {
	length := int(sa.Spec.Password.Length)
	if length == 0 {
		length = max(password.DefaultLength, cat.PasswordMinLength)
	}
	if length < cat.PasswordMinLength {
		return 0, stalled(shopv1alpha1.ReasonInvalidSpec,
			"password.length %d is below %s's minimum of %d", length, cat.Platform, cat.PasswordMinLength)
	}
	return length, nil
}

// hashOf identifies a desired state, so that an unchanged object costs no
// platform call. It never covers a password.
func hashOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("hashing %T: %v", v, err)) // plain structs always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// accountHash normalises an account state before hashing, so the state the
// platform reports hashes like the state we applied.
func accountHash(s platform.AccountState) string {
	s.RoleIDs = sortedCopy(s.RoleIDs)
	s.ExtraPermissions = sortedCopy(s.ExtraPermissions)
	return hashOf(s)
}

// roleHash normalises a role spec before hashing.
func roleHash(s platform.RoleSpec) string {
	s.Permissions = sortedCopy(s.Permissions)
	return hashOf(s)
}

func sortedCopy(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// accountDiff lists, for people, what applying desired to an account now in
// state current would change. Empty when nothing would.
func accountDiff(current, desired platform.AccountState) []string {
	var out []string
	if !slices.Equal(sortedCopy(current.RoleIDs), sortedCopy(desired.RoleIDs)) {
		out = append(out, fmt.Sprintf("roles %v → %v", sortedCopy(current.RoleIDs), sortedCopy(desired.RoleIDs)))
	}
	if added, removed := diffSets(sortedCopy(current.ExtraPermissions), sortedCopy(desired.ExtraPermissions)); len(added)+len(removed) > 0 {
		out = append(out, fmt.Sprintf("extra permissions +%v -%v", added, removed))
	}
	if current.Disabled != desired.Disabled {
		out = append(out, fmt.Sprintf("disabled %t → %t", current.Disabled, desired.Disabled))
	}
	if current.Profile != desired.Profile {
		out = append(out, "profile (display name, employee, department or phone)")
	}
	if !equalSeat(current.Seat, desired.Seat) {
		out = append(out, fmt.Sprintf("seat %s → %s", seatString(current.Seat), seatString(desired.Seat)))
	}
	if current.Security != desired.Security {
		out = append(out, fmt.Sprintf("security %+v → %+v", current.Security, desired.Security))
	}
	return out
}

// roleDiff lists what putting desired on a platform role now in state
// current would change, in words for a Drifted condition.
func roleDiff(current, desired platform.RoleSpec) []string {
	var out []string
	if current.Name != desired.Name {
		out = append(out, fmt.Sprintf("name %q → %q", current.Name, desired.Name))
	}
	if current.Description != desired.Description {
		out = append(out, fmt.Sprintf("description %q → %q", current.Description, desired.Description))
	}
	if added, removed := diffSets(sortedCopy(current.Permissions), sortedCopy(desired.Permissions)); len(added)+len(removed) > 0 {
		out = append(out, fmt.Sprintf("permissions +%v -%v", added, removed))
	}
	return out
}

// equalSeat compares a current seat a with a desired one b; b's capacity 0
// and presence "" (left to the agent, see mainAccountState) match any.
func equalSeat(a, b *platform.Seat) bool {
	if a == nil || b == nil {
		return a == b
	}
	x := *a
	if b.Capacity == 0 {
		x.Capacity = 0
	}
	if b.Presence == "" {
		x.Presence = ""
	}
	return x == *b
}

func seatString(s *platform.Seat) string {
	if s == nil {
		return "none"
	}
	return fmt.Sprintf("{chat %t, capacity %d, %s}", s.Chat, s.Capacity, s.Presence)
}

// limitToCapabilities returns the state to send to a platform that can
// only change some fields: each field it cannot change keeps the value the
// account has, and is named in unsupported when the spec asks otherwise.
func limitToCapabilities(desired, current platform.AccountState, caps platform.Capabilities) (platform.AccountState, []string) {
	out := desired
	var unsupported []string
	keep := func(can bool, name string, differs bool, restore func()) {
		if can {
			return
		}
		if differs {
			unsupported = append(unsupported, name)
		}
		restore()
	}
	keep(caps.AccountRoles, "roles", !slices.Equal(sortedCopy(current.RoleIDs), sortedCopy(desired.RoleIDs)),
		func() { out.RoleIDs = current.RoleIDs })
	keep(caps.AccountExtraPermissions, "extraPermissions",
		!slices.Equal(sortedCopy(current.ExtraPermissions), sortedCopy(desired.ExtraPermissions)),
		func() { out.ExtraPermissions = current.ExtraPermissions })
	keep(caps.AccountProfile, "profile", current.Profile != desired.Profile, func() { out.Profile = current.Profile })
	keep(caps.AccountDisabled, "disabled", current.Disabled != desired.Disabled, func() { out.Disabled = current.Disabled })
	keep(caps.AccountSeat, "seat", !equalSeat(current.Seat, desired.Seat), func() { out.Seat = current.Seat })
	keep(caps.AccountSecurity, "security", current.Security != desired.Security, func() { out.Security = current.Security })
	return out, unsupported
}

// toSchedule converts the API's seat schedule to the schedule engine's.
func toSchedule(s *shopv1alpha1.ChatSeatSchedule) schedule.Schedule {
	out := schedule.Schedule{TimeZone: s.TimeZone}
	for _, w := range s.Windows {
		out.Windows = append(out.Windows, schedule.Window{Name: w.Name, Days: w.Days, Start: w.Start, End: w.End, Presence: string(w.Presence)})
	}
	return out
}

// scheduledPresence says what the seat's schedule sets at now, given the
// spec's presence: the presence, and for status the window in force and
// the next boundary; boundary is the last one (zero without a schedule or
// when it never changes), and change how long until the next (zero when
// nothing will change).
func scheduledPresence(seat *shopv1alpha1.ChatSeatSpec, base platform.Presence, now time.Time) (
	presence platform.Presence, st *shopv1alpha1.PresenceStatus, boundary time.Time, change time.Duration, err error) {
	st = &shopv1alpha1.PresenceStatus{}
	if seat.Schedule == nil || len(seat.Schedule.Windows) == 0 {
		return base, st, time.Time{}, 0, nil
	}
	sched := toSchedule(seat.Schedule)
	if errs := sched.Validate(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return "", nil, time.Time{}, 0, stalled(shopv1alpha1.ReasonInvalidSpec, "seat.schedule: %s", strings.Join(msgs, "; "))
	}
	p, window, next := sched.At(string(base), now)
	st.Window = window
	boundary = sched.LastBoundary(string(base), now)
	if next.IsZero() {
		return platform.Presence(p), st, boundary, 0, nil
	}
	st.NextChange = &metav1.Time{Time: next}
	// next is in the schedule's zone; kubectl shows this string as is.
	st.NextChangeLocal = next.Format("Mon 15:04 ") + next.Location().String()
	return platform.Presence(p), st, boundary, next.Sub(now), nil
}
