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

// The Staff controller: one person, one SubAccount per assigned shop. It
// makes no platform call; the SubAccount controller does the platform work
// and the Staff reads the outcome back from the SubAccounts' status.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// staffFinalizer keeps a Staff until its SubAccounts are gone, each by its
// deletionPolicy, so the person's accounts are cleaned up even where no
// garbage collector runs, and the Staff shows the clean-up while it lasts.
const staffFinalizer = "shop.subaccount.io/staff"

// StaffReconciler keeps one SubAccount per shop a Staff is assigned to.
type StaffReconciler struct {
	client.Client
	Recorder events.EventRecorder
	// MaxConcurrentReconciles is how many Staff are reconciled at once (1
	// when zero).
	MaxConcurrentReconciles int

	skeleton skeleton[*shopv1alpha1.Staff]
	// disablesWritten remembers, per Staff, the generation whose
	// disabled: true every SubAccount already carries: the offboarding is
	// then in the SubAccounts' hands (urgent in their queue), and the
	// Staff's later looks, woken by their status, are no longer urgent and
	// do not hold up other people's offboardings. In memory only: after a
	// restart an offboarding Staff is urgent once more, which costs one
	// reconcile.
	disablesWritten sync.Map // client.ObjectKey → int64 (generation)
}

// +kubebuilder:rbac:groups=shop.subaccount.io,resources=staffs,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=staffs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=staffs/finalizers,verbs=update
// +kubebuilder:rbac:groups=shop.subaccount.io,resources=subaccounts,verbs=create;delete

// staffKind describes Staff to the reconcile skeleton. It has no urgency:
// a Staff makes no platform call; the fair queue classifies Staff with
// the reconciler's urgency.
var staffKind = kindInfo[*shopv1alpha1.Staff]{
	name:               "Staff",
	finalizer:          staffFinalizer,
	newObject:          func() *shopv1alpha1.Staff { return &shopv1alpha1.Staff{} },
	observedGeneration: func(s *shopv1alpha1.Staff) *int64 { return &s.Status.ObservedGeneration },
}

// urgency: a deletion, or an offboarding (active: false) whose disables
// are not all written yet, is served ahead of every other Staff's
// reconcile. Once they are, the SubAccounts carry the offboarding (their
// disables are urgent in the SubAccount queue and at the platform's
// limiter) and the Staff only reports it, at the ordinary priority.
func (r *StaffReconciler) urgency(s *shopv1alpha1.Staff) (string, bool) {
	if !s.DeletionTimestamp.IsZero() {
		return "", true
	}
	if s.IsActive() || s.Status.ObservedGeneration == s.Generation {
		return "", false
	}
	gen, ok := r.disablesWritten.Load(client.ObjectKeyFromObject(s))
	return "", !ok || gen.(int64) != s.Generation
}

// Reconcile brings one Staff's SubAccounts to its spec.
func (r *StaffReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return r.skeleton.run(ctx, req, staffKind, r)
}

func (r *StaffReconciler) readyMessage(s *shopv1alpha1.Staff) string {
	if !s.IsActive() {
		return fmt.Sprintf("offboarded: %d accounts disabled", s.Status.ShopCount)
	}
	return fmt.Sprintf("%d/%d accounts ready", s.Status.ReadyCount, s.Status.ShopCount)
}

func (r *StaffReconciler) forget(key client.ObjectKey) { r.disablesWritten.Delete(key) }

// staffShop is one shop the Staff is assigned to, as the steps learn it.
type staffShop struct {
	name string
	// shop is nil when a shop named in spec.shops does not exist.
	shop *shopv1alpha1.Shop
	// assignment is the index of the assignment that picked the shop.
	assignment int
	// duplicate is set when a second assignment picks it too.
	duplicate bool
	// roles are the shop's Roles the assignment's roleSelector picks.
	roles []string
	// sa is the Staff's SubAccount for the shop, once it exists.
	sa *shopv1alpha1.SubAccount
	// held says why the shop's account is not made or changed (Staff
	// reason, message); empty when it is.
	heldReason, heldMessage string
	stall                   bool
}

// staffScope is what one Staff reconcile knows.
type staffScope struct {
	staff *shopv1alpha1.Staff
	shops []*staffShop // by shop name
	// owned are the SubAccounts labelled as the Staff's, by name.
	owned map[string]*shopv1alpha1.SubAccount
	// clashes are the SubAccounts of the Staff's names that are not its own.
	clashes []string
	// leaving counts the Staff's SubAccounts being deleted.
	leaving int
}

func (s *staffScope) object() conditioned { return s.staff }

func (s *staffScope) shop(name string) *staffShop {
	if i, ok := slices.BinarySearchFunc(s.shops, name, func(sh *staffShop, n string) int { return strings.Compare(sh.name, n) }); ok {
		return s.shops[i]
	}
	return nil
}

// staffSubAccountName is the name of a Staff's SubAccount in a shop.
func staffSubAccountName(staff, shop string) string { return staff + "-" + shop }

// reconcile runs the Staff's steps in order.
func (r *StaffReconciler) reconcile(ctx context.Context, staff *shopv1alpha1.Staff) (time.Duration, error) {
	s := &staffScope{staff: staff}
	next, _, err := runSteps(ctx, s, []step[*staffScope]{
		{name: "offboard", run: plain(r.offboardFirst)},
		{name: "shops", run: plain(r.resolveShops)},
		{name: "roles", run: plain(r.resolveStaffRoles)},
		{name: "accounts", run: plain(r.ensureStaffAccounts)},
		{name: "leavers", run: plain(r.removeLeavers)},
		{name: "status", run: plain(staffRows)},
	})
	return next, err
}

// offboardParallel is how many of one Staff's SubAccounts are written at
// once when it is offboarded: a person has at most a few dozen shops, and
// each write is one API request.
const offboardParallel = 8

// offboardFirst writes disabled: true to every SubAccount of an offboarded
// Staff before anything else, in parallel: nothing the rest of the
// reconcile reads (Shops, Roles, selectors) can change that the person's
// access goes, and each disable is urgent in the SubAccount queue as soon
// as it is written. When it wrote any, the reconcile ends there (one
// status write: Reconciling) so the worker goes on to the next person
// being offboarded; the SubAccounts' changes wake the Staff again, at the
// ordinary priority, and the full reconcile then puts back the rest of
// what the Staff sets and writes the rows.
func (r *StaffReconciler) offboardFirst(ctx context.Context, s *staffScope) error {
	staff := s.staff
	if staff.IsActive() {
		return nil
	}
	key := client.ObjectKeyFromObject(staff)
	if gen, ok := r.disablesWritten.Load(key); ok && gen.(int64) == staff.Generation {
		return nil
	}
	owned := &shopv1alpha1.SubAccountList{}
	if err := r.List(ctx, owned, client.InNamespace(staff.Namespace), client.MatchingLabels{shopv1alpha1.LabelStaff: staff.Name}); err != nil {
		return fmt.Errorf("listing the Staff's SubAccounts: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(offboardParallel)
	written := 0
	for i := range owned.Items {
		sa := &owned.Items[i]
		if !metav1.IsControlledBy(sa, staff) || sa.Spec.Disabled || !sa.DeletionTimestamp.IsZero() {
			continue
		}
		written++
		g.Go(func() error {
			return r.patchStaffAccount(gctx, sa, func(cur *shopv1alpha1.SubAccount) { cur.Spec.Disabled = true })
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	r.disablesWritten.Store(key, staff.Generation)
	if written == 0 {
		return nil
	}
	return waiting(shopv1alpha1.ReasonProgressing, "offboarding: disabled: true written to %d SubAccounts; waiting for their platforms", written)
}

// resolveShops finds the shops each assignment picks.
func (r *StaffReconciler) resolveShops(ctx context.Context, s *staffScope) error {
	shops := &shopv1alpha1.ShopList{}
	if err := r.List(ctx, shops, client.InNamespace(s.staff.Namespace)); err != nil {
		return fmt.Errorf("listing Shops: %w", err)
	}
	byName := map[string]*shopv1alpha1.Shop{}
	for i := range shops.Items {
		// A Shop being deleted waits for its SubAccounts: it is no longer
		// assigned, so the Staff lets its account go.
		if shops.Items[i].DeletionTimestamp.IsZero() {
			byName[shops.Items[i].Name] = &shops.Items[i]
		}
	}
	picked := map[string]*staffShop{}
	pick := func(name string, shop *shopv1alpha1.Shop, assignment int) {
		if prev, ok := picked[name]; ok {
			if prev.assignment != assignment {
				prev.duplicate = true
			}
			return
		}
		picked[name] = &staffShop{name: name, shop: shop, assignment: assignment}
	}
	for i, a := range s.staff.Spec.Assignments {
		if a.ShopSelector != nil {
			sel, err := staffSelector(a.ShopSelector)
			if err != nil {
				return stalled(shopv1alpha1.ReasonInvalidSpec, "assignments[%d].shopSelector: %v", i, err)
			}
			for name, shop := range byName {
				if sel.Matches(shopLabels(shop)) {
					pick(name, shop, i)
				}
			}
			continue
		}
		for _, name := range a.Shops {
			pick(name, byName[name], i)
		}
	}
	s.shops = make([]*staffShop, 0, len(picked))
	for _, sh := range picked {
		s.shops = append(s.shops, sh)
	}
	slices.SortFunc(s.shops, func(a, b *staffShop) int { return strings.Compare(a.name, b.name) })
	return nil
}

// shopLabels are the labels a shopSelector sees: the Shop's own and its
// platform.
func shopLabels(shop *shopv1alpha1.Shop) labels.Set {
	set := labels.Set{shopv1alpha1.LabelPlatform: string(shop.Spec.Platform)}
	for k, v := range shop.Labels {
		set[k] = v
	}
	return set
}

// staffSelector turns a StaffSelector into a labels.Selector.
func staffSelector(sel *shopv1alpha1.StaffSelector) (labels.Selector, error) {
	ls := &metav1.LabelSelector{MatchLabels: sel.MatchLabels}
	for _, e := range sel.MatchExpressions {
		ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: e.Key, Operator: e.Operator, Values: e.Values})
	}
	out, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, fmt.Errorf("reading the selector: %w", err)
	}
	return out, nil
}

// resolveStaffRoles finds, in each shop, the Roles the assignment's
// roleSelector picks. A shop where none does is held (RoleNotFound); the
// others go on.
func (r *StaffReconciler) resolveStaffRoles(ctx context.Context, s *staffScope) error {
	roles := &shopv1alpha1.RoleList{}
	if err := r.List(ctx, roles, client.InNamespace(s.staff.Namespace), readOnlyList); err != nil {
		return fmt.Errorf("listing Roles: %w", err)
	}
	selectors := make([]labels.Selector, len(s.staff.Spec.Assignments))
	for i := range s.staff.Spec.Assignments {
		sel, err := staffSelector(&s.staff.Spec.Assignments[i].RoleSelector)
		if err != nil {
			return stalled(shopv1alpha1.ReasonInvalidSpec, "assignments[%d].roleSelector: %v", i, err)
		}
		selectors[i] = sel
	}
	for i := range roles.Items {
		role := &roles.Items[i]
		sh := s.shop(role.Spec.ShopRef.Name)
		if sh == nil || !role.DeletionTimestamp.IsZero() || !selectors[sh.assignment].Matches(labels.Set(role.Labels)) {
			continue
		}
		sh.roles = append(sh.roles, role.Name)
	}
	for _, sh := range s.shops {
		slices.Sort(sh.roles)
		switch {
		case sh.shop == nil:
			sh.heldReason, sh.heldMessage = shopv1alpha1.ReasonShopNotFound, fmt.Sprintf("Shop %q not found", sh.name)
		case sh.duplicate:
			sh.heldReason, sh.heldMessage, sh.stall = shopv1alpha1.ReasonDuplicateShop,
				fmt.Sprintf("shop %q is picked by more than one assignment; its account is left as it is", sh.name), true
		case len(sh.roles) == 0:
			sh.heldReason, sh.heldMessage = shopv1alpha1.ReasonRoleNotFound,
				fmt.Sprintf("no Role of shop %q matches assignments[%d].roleSelector (%s)", sh.name, sh.assignment, selectors[sh.assignment])
		}
	}
	return nil
}

// staffManaged is the part of a SubAccount's spec the Staff sets: a hand
// edit of any of it is put back; the rest (password, credentials Secret,
// adoption, drift policy, security) is the SubAccount's own.
type staffManaged struct {
	DisplayName      string
	Employee         shopv1alpha1.Employee
	Phone            string
	Roles            []shopv1alpha1.LocalObjectReference
	ExtraPermissions []string
	AllowHighRisk    bool
	Disabled         bool
	DeletionPolicy   shopv1alpha1.DeletionPolicy
	Seat             *shopv1alpha1.ChatSeatSpec
}

// desiredSubAccount is the SubAccount the Staff wants in a shop (pure).
func desiredSubAccount(staff *shopv1alpha1.Staff, sh *staffShop) *shopv1alpha1.SubAccount {
	a := staff.Spec.Assignments[sh.assignment]
	sa := &shopv1alpha1.SubAccount{
		ObjectMeta: metav1.ObjectMeta{
			Name:      staffSubAccountName(staff.Name, sh.name),
			Namespace: staff.Namespace,
			Labels:    map[string]string{shopv1alpha1.LabelStaff: staff.Name},
		},
		Spec: shopv1alpha1.SubAccountSpec{
			ShopRef:     shopv1alpha1.LocalObjectReference{Name: sh.name},
			AccountName: cmpOr(a.AccountName, staff.Spec.AccountName),
		},
	}
	setStaffManaged(sa, staffManagedFor(staff, sh))
	return sa
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// staffManagedFor is what the Staff sets on its SubAccount in a shop.
func staffManagedFor(staff *shopv1alpha1.Staff, sh *staffShop) staffManaged {
	a := staff.Spec.Assignments[sh.assignment]
	m := staffManaged{
		DisplayName:    cmpOr(a.DisplayName, staff.Spec.DisplayName),
		Employee:       staff.Spec.Employee,
		Phone:          staffPhone(staff, a, sh.name),
		AllowHighRisk:  a.AllowHighRisk,
		Disabled:       !staff.IsActive(),
		DeletionPolicy: a.DeletionPolicy,
		Seat:           a.ChatSeat.DeepCopy(),
	}
	if m.DeletionPolicy == "" {
		m.DeletionPolicy = shopv1alpha1.DeletionPolicyDelete
	}
	for _, name := range sh.roles {
		m.Roles = append(m.Roles, shopv1alpha1.LocalObjectReference{Name: name})
	}
	if sh.shop != nil {
		for _, p := range a.ExtraPermissions {
			if p.Platform == sh.shop.Spec.Platform {
				m.ExtraPermissions = slices.Clone(p.Permissions)
			}
		}
	}
	return m
}

// staffPhone is the person's phone in a shop: the assignment's entry for
// the shop, else the assignment's phone, else the person's.
func staffPhone(staff *shopv1alpha1.Staff, a shopv1alpha1.StaffAssignment, shop string) string {
	for _, p := range a.ShopPhones {
		if p.Shop == shop {
			return p.Phone
		}
	}
	return cmpOr(a.Phone, staff.Spec.Phone)
}

func managedOf(sa *shopv1alpha1.SubAccount) staffManaged {
	sp := sa.Spec
	return staffManaged{DisplayName: sp.DisplayName, Employee: sp.Employee, Phone: sp.Phone, Roles: sp.Roles,
		ExtraPermissions: sp.ExtraPermissions, AllowHighRisk: sp.AllowHighRisk, Disabled: sp.Disabled,
		DeletionPolicy: sa.DeletionPolicyOrDefault(), Seat: sp.ChatSeat}
}

func setStaffManaged(sa *shopv1alpha1.SubAccount, m staffManaged) {
	sp := &sa.Spec
	sp.DisplayName, sp.Employee, sp.Phone, sp.Roles = m.DisplayName, m.Employee, m.Phone, m.Roles
	sp.ExtraPermissions, sp.AllowHighRisk, sp.Disabled = m.ExtraPermissions, m.AllowHighRisk, m.Disabled
	sp.DeletionPolicy, sp.ChatSeat = m.DeletionPolicy, m.Seat
}

// ensureStaffAccounts creates each shop's SubAccount and puts back what the
// Staff sets on it. A SubAccount of the same name the Staff did not make
// is never touched (NameClash).
func (r *StaffReconciler) ensureStaffAccounts(ctx context.Context, s *staffScope) error {
	staff := s.staff
	owned := &shopv1alpha1.SubAccountList{}
	if err := r.List(ctx, owned, client.InNamespace(staff.Namespace), client.MatchingLabels{shopv1alpha1.LabelStaff: staff.Name}); err != nil {
		return fmt.Errorf("listing the Staff's SubAccounts: %w", err)
	}
	s.owned = map[string]*shopv1alpha1.SubAccount{}
	for i := range owned.Items {
		if metav1.IsControlledBy(&owned.Items[i], staff) {
			s.owned[owned.Items[i].Name] = &owned.Items[i]
		}
	}
	for _, sh := range s.shops {
		name := staffSubAccountName(staff.Name, sh.name)
		sa, ok := s.owned[name]
		if !ok {
			other := &shopv1alpha1.SubAccount{}
			err := r.Get(ctx, client.ObjectKey{Namespace: staff.Namespace, Name: name}, other)
			switch {
			case err == nil && metav1.IsControlledBy(other, staff):
				sa = other // ours, its label taken off by hand: put back below
			case err == nil:
				s.clashes = append(s.clashes, name)
				sh.heldReason, sh.stall = shopv1alpha1.ReasonNameClash, true
				sh.heldMessage = fmt.Sprintf("SubAccount %q exists and was not made by this Staff; it is not taken over: delete or rename it", name)
				continue
			case !apierrors.IsNotFound(err):
				return fmt.Errorf("reading SubAccount %q: %w", name, err)
			}
		}
		sh.sa = sa
		if err := r.ensureStaffAccount(ctx, staff, sh); err != nil {
			return err
		}
	}
	setNameClash(staff, s.clashes)
	return nil
}

// ensureStaffAccount creates, replaces or corrects one shop's SubAccount.
func (r *StaffReconciler) ensureStaffAccount(ctx context.Context, staff *shopv1alpha1.Staff, sh *staffShop) error {
	sa := sh.sa
	if sa != nil && !sa.DeletionTimestamp.IsZero() {
		return nil // a replaced account still leaving; made again once gone
	}
	want := desiredSubAccount(staff, sh)
	switch {
	case sh.heldReason != "" && sa == nil:
		return nil
	case sh.heldReason != "":
		// Held (no Role matches, picked twice): its roles stay as they
		// are, but offboarding still reaches it.
		if sa.Spec.Disabled == staff.IsActive() {
			return r.patchStaffAccount(ctx, sa, func(cur *shopv1alpha1.SubAccount) { cur.Spec.Disabled = !staff.IsActive() })
		}
		return nil
	case sa == nil && !staff.IsActive():
		return nil // no account is made for someone offboarded
	case sa == nil:
		if err := ctrl.SetControllerReference(staff, want, r.Scheme()); err != nil {
			return fmt.Errorf("owning SubAccount %q: %w", want.Name, err)
		}
		if err := r.Create(ctx, want); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return errCacheBehind // ours, made by an earlier reconcile, or a clash: look again
			}
			return fmt.Errorf("creating SubAccount %q: %w", want.Name, err)
		}
		sh.sa = want
		r.Recorder.Eventf(staff, want, corev1.EventTypeNormal, "Created", "Onboard",
			"SubAccount %s made for shop %s", want.Name, sh.name)
		return nil
	case sa.Spec.ShopRef != want.Spec.ShopRef || sa.Spec.AccountName != want.Spec.AccountName:
		// Both are immutable: the old account goes by its deletionPolicy
		// and a new one is made once it is gone.
		if err := r.Delete(ctx, sa, client.Preconditions{UID: &sa.UID}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("replacing SubAccount %q: %w", sa.Name, err)
		}
		r.Recorder.Eventf(staff, sa, corev1.EventTypeNormal, "Replaced", "Onboard",
			"SubAccount %s is replaced: its account name is now %s", sa.Name, want.Spec.AccountName)
		return nil
	}
	m := managedOf(want)
	if staffManagedEqual(managedOf(sa), m) && sa.Labels[shopv1alpha1.LabelStaff] == staff.Name {
		return nil
	}
	return r.patchStaffAccount(ctx, sa, func(cur *shopv1alpha1.SubAccount) {
		setStaffManaged(cur, m)
		if cur.Labels == nil {
			cur.Labels = map[string]string{}
		}
		cur.Labels[shopv1alpha1.LabelStaff] = staff.Name
	})
}

// patchStaffAccount changes a SubAccount the Staff owns, against the
// version read (a concurrent edit is retried, never overwritten blindly).
func (r *StaffReconciler) patchStaffAccount(ctx context.Context, sa *shopv1alpha1.SubAccount, change func(*shopv1alpha1.SubAccount)) error {
	cur := sa.DeepCopy()
	change(cur)
	if err := r.Patch(ctx, cur, client.MergeFromWithOptions(sa, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			return errCacheBehind
		}
		return fmt.Errorf("updating SubAccount %q: %w", sa.Name, err)
	}
	*sa = *cur
	return nil
}

// staffManagedEqual compares what the Staff sets; nil and empty lists are
// alike (the API server drops empty lists).
func staffManagedEqual(a, b staffManaged) bool { return equality.Semantic.DeepEqual(a, b) }

// setNameClash sets or removes the NameClash condition.
func setNameClash(staff *shopv1alpha1.Staff, clashes []string) {
	if len(clashes) == 0 {
		removeCondition(staff, shopv1alpha1.ConditionNameClash)
		return
	}
	setCondition(staff, shopv1alpha1.ConditionNameClash, metav1.ConditionTrue, shopv1alpha1.ReasonNameClash,
		fmt.Sprintf("SubAccounts %s exist and were not made by this Staff; they are not taken over: delete or rename them",
			strings.Join(clashes, ", ")))
}

// removeLeavers deletes the Staff's SubAccounts of shops no longer
// assigned; each goes by its deletionPolicy (its own finalizer).
func (r *StaffReconciler) removeLeavers(ctx context.Context, s *staffScope) error {
	for name, sa := range s.owned {
		if sh := s.shop(sa.Spec.ShopRef.Name); sh != nil && sh.shop != nil && staffSubAccountName(s.staff.Name, sh.name) == name {
			if !sa.DeletionTimestamp.IsZero() {
				s.leaving++
			}
			continue
		}
		s.leaving++
		if !sa.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Delete(ctx, sa, client.Preconditions{UID: &sa.UID}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting SubAccount %q of a shop no longer assigned: %w", name, err)
		}
		r.Recorder.Eventf(s.staff, sa, corev1.EventTypeNormal, "Removed", "Offboard",
			"shop %s is no longer assigned: SubAccount %s deleted (deletionPolicy %s)", sa.Spec.ShopRef.Name, name, sa.DeletionPolicyOrDefault())
	}
	return nil
}

// staffRows writes a row per shop and the summary, and says whether every
// account is where the Staff wants it.
func staffRows(_ context.Context, s *staffScope) error {
	staff := s.staff
	rows := make([]shopv1alpha1.StaffShopStatus, 0, len(s.shops))
	var ready int32
	var notReady []string
	reason, stall := "", false
	for _, sh := range s.shops {
		row := staffRow(staff, sh)
		if row.Ready == metav1.ConditionTrue {
			ready++
		} else {
			notReady = append(notReady, fmt.Sprintf("%s: %s", sh.name, cmpOr(row.Message, row.Reason)))
			reason = cmpOr(reason, row.Reason)
			stall = stall || sh.stall || row.Reason == shopv1alpha1.ReasonNameClash
		}
		rows = append(rows, row)
	}
	staff.Status.Shops = rows
	staff.Status.ShopCount = int32(len(rows))
	staff.Status.ReadyCount = ready
	staff.Status.Summary = fmt.Sprintf("%d/%d ready", ready, len(rows))
	if !staff.IsActive() {
		staff.Status.Summary = fmt.Sprintf("%d/%d disabled", ready, len(rows))
	}
	switch {
	case len(notReady) > 0 && stall:
		return stalled(reason, "%s; %s", staff.Status.Summary, strings.Join(notReady, "; "))
	case len(notReady) > 0:
		return waiting(reason, "%s; %s", staff.Status.Summary, strings.Join(notReady, "; "))
	case s.leaving > 0:
		return waiting(shopv1alpha1.ReasonDeleting, "%d SubAccounts of shops no longer assigned are being deleted", s.leaving)
	}
	return nil
}

// staffRow is one shop's row, read from its SubAccount.
func staffRow(staff *shopv1alpha1.Staff, sh *staffShop) shopv1alpha1.StaffShopStatus {
	row := shopv1alpha1.StaffShopStatus{Shop: sh.name, Ready: metav1.ConditionFalse}
	if sh.shop != nil {
		row.Platform = sh.shop.Spec.Platform
	}
	sa := sh.sa
	if sa == nil {
		row.Reason, row.Message = sh.heldReason, sh.heldMessage
		if row.Reason == "" && !staff.IsActive() {
			// Offboarded before an account was made: nothing to disable.
			row.Ready, row.Reason, row.Message = metav1.ConditionTrue, shopv1alpha1.ReasonOffboarded, "no account was made"
		}
		if row.Reason == "" {
			row.Reason = shopv1alpha1.ReasonProgressing
		}
		return row
	}
	row.SubAccount = sa.Name
	row.Login = sa.Status.LoginName
	if sa.Status.Chat && sa.Status.Presence != nil {
		row.Seat = fmt.Sprintf("%s %d", sa.Status.Presence.Current, sa.Status.ChatSeatCapacity)
	} else if sa.Status.Chat {
		row.Seat = fmt.Sprintf("Online %d", sa.Status.ChatSeatCapacity)
	}
	if v := sa.Status.Verification; v != nil {
		row.Verification, row.VerificationExpiresAt, row.VerificationPhone = verificationState(sa), v.ExpiresAt, v.Phone
		if v.Verified {
			row.VerificationExpiresAt = nil
		}
	}
	cond := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionReady)
	current := cond != nil && sa.Status.ObservedGeneration == sa.Generation && cond.ObservedGeneration == sa.Generation
	row.Disabled = sa.Spec.Disabled && current
	switch {
	case sh.heldReason != "":
		row.Reason, row.Message = sh.heldReason, sh.heldMessage
	case cond == nil:
		row.Ready, row.Reason = metav1.ConditionUnknown, shopv1alpha1.ReasonProgressing
	case !current:
		row.Ready, row.Reason, row.Message = metav1.ConditionUnknown, shopv1alpha1.ReasonProgressing, "the SubAccount's latest change is being applied"
	default:
		row.Ready, row.Reason, row.Message = cond.Status, cond.Reason, cond.Message
	}
	if !staff.IsActive() {
		// Offboarding is done when the disabled spec was applied in full.
		if row.Disabled && cond != nil && cond.Status == metav1.ConditionTrue {
			row.Ready, row.Reason, row.Message = metav1.ConditionTrue, shopv1alpha1.ReasonOffboarded, "disabled"
		} else if row.Ready == metav1.ConditionTrue {
			row.Ready = metav1.ConditionFalse
		}
	}
	return row
}

// verificationState is a SubAccount's phone verification in a word.
func verificationState(sa *shopv1alpha1.SubAccount) string {
	if v := sa.Status.Verification; v != nil && v.Verified {
		return shopv1alpha1.StaffVerificationVerified
	}
	if c := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionVerified); c != nil &&
		c.Reason == shopv1alpha1.ReasonVerificationExpired {
		return shopv1alpha1.StaffVerificationExpired
	}
	return shopv1alpha1.StaffVerificationPending
}

// reconcileDelete deletes the Staff's SubAccounts, each by its
// deletionPolicy, and lets the Staff go once they are gone.
func (r *StaffReconciler) reconcileDelete(ctx context.Context, staff *shopv1alpha1.Staff) (ctrl.Result, error) {
	owned := &shopv1alpha1.SubAccountList{}
	if err := r.List(ctx, owned, client.InNamespace(staff.Namespace), client.MatchingLabels{shopv1alpha1.LabelStaff: staff.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the Staff's SubAccounts: %w", err)
	}
	left := 0
	for i := range owned.Items {
		sa := &owned.Items[i]
		if !metav1.IsControlledBy(sa, staff) {
			continue
		}
		left++
		if sa.DeletionTimestamp.IsZero() {
			if err := r.Delete(ctx, sa, client.Preconditions{UID: &sa.UID}); client.IgnoreNotFound(err) != nil {
				return ctrl.Result{}, fmt.Errorf("deleting SubAccount %q: %w", sa.Name, err)
			}
		}
	}
	if left > 0 {
		err := waiting(shopv1alpha1.ReasonDeleting, "%d SubAccounts are being deleted, each by its deletionPolicy", left)
		markDeleting(staff, err)
		return summarizeDelete(err)
	}
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, staff, staffFinalizer)
}
