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
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// staffShopFixture makes a shop on the engine and in ns, labelled, with one
// Role labelled job=customer-service.
func staffShopFixture(t *testing.T, ns, name string, p platform.Name, shopLabels map[string]string) testShop {
	t.Helper()
	return staffShopWith(t, ns, name, p, 10, func(s *shopv1alpha1.Shop) { s.Labels = shopLabels })
}

// staffShopWith is staffShopFixture with a seat quota and the Shop as
// mutate leaves it.
func staffShopWith(t *testing.T, ns, name string, p platform.Name, quota int32, mutate func(*shopv1alpha1.Shop)) testShop {
	t.Helper()
	ts := newShopWith(t, ns, name, "main-"+randomSuffix(), p, quota, mutate)
	role := newRole(ns, name+"-cs", "客服", "customer-service")
	role.Spec.ShopRef.Name = name
	role.Labels = map[string]string{"job": "customer-service"}
	create(t, role)
	return ts
}

func newStaff(ns, name string, a ...shopv1alpha1.StaffAssignment) *shopv1alpha1.Staff {
	return &shopv1alpha1.Staff{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: shopv1alpha1.StaffSpec{
			Employee:    shopv1alpha1.Employee{Name: "李小丽", Number: "E-0042"},
			Phone:       uniquePhone(),
			DisplayName: "小丽",
			AccountName: "xiaoli",
			Assignments: a,
		},
	}
}

var customerService = shopv1alpha1.StaffSelector{MatchLabels: map[string]string{"job": "customer-service"}}

// staffSubAccount reads the Staff's SubAccount of a shop.
func staffSubAccount(t *testing.T, staff *shopv1alpha1.Staff, shop string) *shopv1alpha1.SubAccount {
	t.Helper()
	sa := &shopv1alpha1.SubAccount{}
	NewWithT(t).Eventually(func() error {
		return k8s.Get(context.Background(), client.ObjectKey{Namespace: staff.Namespace, Name: staff.Name + "-" + shop}, sa)
	}, timeout, interval).Should(Succeed(), "the Staff's SubAccount of shop %s was never made", shop)
	return sa
}

// staffSummary waits for the Staff's summary.
func staffSummary(t *testing.T, staff *shopv1alpha1.Staff, want string) {
	t.Helper()
	NewWithT(t).Eventually(func() string {
		_ = k8s.Get(context.Background(), client.ObjectKeyFromObject(staff), staff)
		return staff.Status.Summary
	}, timeout, interval).Should(Equal(want), func() string { return conditionsOf(staff) })
}

// One person across a Taobao, a Pinduoduo and a Douyin shop picked by a
// label: Ready once the Douyin code is handed over; a fourth shop labelled
// to match gains an account; hand edits are put back; active: false
// disables all four on the platforms; a shop unlabelled loses its account
// by its deletion policy.
func TestStaffAcrossShops(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	lefa := map[string]string{"brand": "lefa"}
	shops := map[string]testShop{
		"tb":  staffShopFixture(t, ns, "tb", platform.Taobao, lefa),
		"pdd": staffShopFixture(t, ns, "pdd", platform.Pinduoduo, lefa),
		"dy":  staffShopFixture(t, ns, "dy", platform.Douyin, lefa),
		// Not labelled yet: not picked.
		"pdd2": staffShopFixture(t, ns, "pdd2", platform.Pinduoduo, map[string]string{"brand": "other"}),
	}
	staff := newStaff(ns, "li", shopv1alpha1.StaffAssignment{
		ShopSelector: &shopv1alpha1.StaffSelector{MatchLabels: lefa},
		RoleSelector: customerService,
		ChatSeat:     &shopv1alpha1.ChatSeatSpec{Chat: true, Capacity: 15, Presence: shopv1alpha1.PresenceOnline},
		ExtraPermissions: []shopv1alpha1.PlatformPermissions{
			{Platform: shopv1alpha1.PlatformPinduoduo, Permissions: []string{"logistics.query"}}},
	})
	create(t, staff)

	// The Douyin shop texts a code to the person's phone: the row says so.
	dy := staffSubAccount(t, staff, "dy")
	g.Eventually(func() string {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(staff), staff)
		for _, r := range staff.Status.Shops {
			if r.Shop == "dy" {
				return r.Verification
			}
		}
		return ""
	}, timeout, interval).Should(Equal(shopv1alpha1.StaffVerificationPending))
	staffSummary(t, staff, "2/3 ready")
	verifyPhone(t, dy)
	waitCurrent(t, staff)
	g.Expect(staff.Status.Summary).To(Equal("3/3 ready"))
	g.Expect(staff.Status.Shops).To(HaveLen(3))
	for _, row := range staff.Status.Shops {
		ts := shops[row.Shop]
		g.Expect(row.Platform).To(BeEquivalentTo(ts.platform))
		g.Expect(row.Login).To(Equal(ts.main + ":xiaoli"))
		g.Expect(row.SubAccount).To(Equal("li-" + row.Shop))
		g.Expect(row.Ready).To(Equal(metav1.ConditionTrue))
		// On Douyin the capacity is the agent's (the platform's default
		// until they set it): the spec's 15 is intent only there.
		if ts.platform == platform.Douyin {
			g.Expect(row.Seat).To(Equal("Online 10"))
		} else {
			g.Expect(row.Seat).To(Equal("Online 15"))
		}
		acct := mustAccount(t, ts, "xiaoli")
		g.Expect(acct.Profile.Phone).To(Equal(staff.Spec.Phone))
		g.Expect(acct.Disabled).To(BeFalse())
	}
	g.Expect(staff.Status.Shops[0].Shop).To(Equal("dy"))
	g.Expect(staff.Status.Shops[0].Verification).To(Equal(shopv1alpha1.StaffVerificationVerified))
	pdd := staffSubAccount(t, staff, "pdd")
	g.Expect(pdd.Spec.ExtraPermissions).To(Equal([]string{"logistics.query"}))
	g.Expect(pdd.Labels).To(HaveKeyWithValue(shopv1alpha1.LabelStaff, "li"))
	g.Expect(metav1.IsControlledBy(pdd, staff)).To(BeTrue())
	g.Expect(staffSubAccount(t, staff, "tb").Spec.ExtraPermissions).To(BeEmpty())

	// A fourth shop labelled to match gains an account.
	update(t, &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pdd2"}}, func(s *shopv1alpha1.Shop) { s.Labels = lefa })
	staffSubAccount(t, staff, "pdd2")
	staffSummary(t, staff, "4/4 ready")
	waitCurrent(t, staff)

	// Hand edits to what the Staff sets are put back.
	tb := staffSubAccount(t, staff, "tb")
	update(t, tb, func(sa *shopv1alpha1.SubAccount) {
		sa.Spec.DisplayName = "someone else"
		sa.Spec.Roles = nil
		sa.Spec.ExtraPermissions = []string{"item.edit"}
	})
	g.Eventually(func() bool {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(tb), tb)
		return tb.Spec.DisplayName == "小丽" && len(tb.Spec.Roles) == 1 && len(tb.Spec.ExtraPermissions) == 0
	}, timeout, interval).Should(BeTrue(), "the hand edit was not put back: %+v", tb.Spec)

	// Offboarding: every account disabled on its platform, each with one
	// call (nothing is read first: the disable is all that changed).
	reads := map[string]int64{}
	for name, ts := range shops {
		reads[name] = getAccountCount(ts.main)
	}
	update(t, staff, func(s *shopv1alpha1.Staff) { s.Spec.Active = ptrTo(false) })
	for name, ts := range shops {
		g.Eventually(func() bool { return mustAccount(t, ts, "xiaoli").Disabled }, timeout, interval).Should(BeTrue(), "shop %s", name)
		g.Expect(getAccountCount(ts.main)).To(Equal(reads[name]), "shop %s: the account was read before it was disabled", name)
	}
	waitCurrent(t, staff)
	g.Expect(staff.Status.Summary).To(Equal("4/4 disabled"))
	for _, row := range staff.Status.Shops {
		g.Expect(row.Disabled).To(BeTrue(), row.Shop)
		g.Expect(row.Reason).To(Equal(shopv1alpha1.ReasonOffboarded), row.Shop)
	}

	// A shop that stops matching loses its account by its policy (Delete).
	update(t, &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pdd2"}}, func(s *shopv1alpha1.Shop) { s.Labels = nil })
	waitGone(t, &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "li-pdd2"}})
	_, found := shops["pdd2"].account(t, "xiaoli")
	g.Expect(found).To(BeFalse(), "the account of the unassigned shop is still on the platform")
	waitCurrent(t, staff)
	g.Expect(staff.Status.Summary).To(Equal("3/3 disabled"))

	// Deleting the Staff applies each SubAccount's policy: Delete here.
	g.Expect(k8s.Delete(ctx, staff)).To(Succeed())
	waitGone(t, staff)
	for _, name := range []string{"tb", "pdd", "dy"} {
		_, found := shops[name].account(t, "xiaoli")
		g.Expect(found).To(BeFalse(), "shop %s still has the account", name)
	}
}

// A SubAccount of the name the Staff would use, made by someone else, is
// reported and never taken over; another shop goes on. A shop without a
// matching Role holds only its own account.
func TestStaffClashAndMissingRole(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	staffShopFixture(t, ns, "one", platform.Taobao, nil)
	staffShopFixture(t, ns, "two", platform.Pinduoduo, nil)
	three := newShopWith(t, ns, "three", "main-"+randomSuffix(), platform.Pinduoduo, 10, nil) // no Role yet

	theirs := newSubAccount(ns, "wang-one")
	theirs.Spec.ShopRef.Name = "one"
	theirs.Spec.AccountName = "someone"
	theirs.Spec.DisplayName = "theirs"
	// Its Secret outlives it in envtest (no garbage collector): not in the
	// way of the Staff's own.
	theirs.Spec.CredentialsSecret.Name = "theirs-credentials"
	create(t, theirs)

	staff := newStaff(ns, "wang", shopv1alpha1.StaffAssignment{Shops: []string{"one", "two", "three"}, RoleSelector: customerService})
	create(t, staff)
	cond := waitCondition(t, staff, shopv1alpha1.ConditionNameClash, metav1.ConditionTrue, shopv1alpha1.ReasonNameClash)
	g.Expect(cond.Message).To(ContainSubstring("wang-one"))
	waitCondition(t, staff, shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonNameClash)
	waitCurrent(t, staffSubAccount(t, staff, "two"))
	staffSummary(t, staff, "1/3 ready")
	rows := map[string]shopv1alpha1.StaffShopStatus{}
	for _, r := range staff.Status.Shops {
		rows[r.Shop] = r
	}
	g.Expect(rows["one"].Reason).To(Equal(shopv1alpha1.ReasonNameClash))
	g.Expect(rows["three"].Reason).To(Equal(shopv1alpha1.ReasonRoleNotFound))
	g.Expect(rows["three"].Message).To(ContainSubstring("job=customer-service"))
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "wang-three"}, &shopv1alpha1.SubAccount{})).NotTo(Succeed(),
		"no account is made while no Role matches")

	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(theirs), theirs)).To(Succeed())
	g.Expect(theirs.OwnerReferences).To(BeEmpty())
	g.Expect(theirs.Labels).NotTo(HaveKey(shopv1alpha1.LabelStaff))
	g.Expect(theirs.Spec.DisplayName).To(Equal("theirs"))

	// The Role arrives: the held shop goes on.
	role := newRole(ns, "three-cs", "客服", "customer-service")
	role.Spec.ShopRef.Name = "three"
	role.Labels = map[string]string{"job": "customer-service"}
	create(t, role)
	waitCurrent(t, staffSubAccount(t, staff, "three"))
	_, ok := three.account(t, "xiaoli")
	g.Expect(ok).To(BeTrue())

	// The clash resolved by its owner: the Staff makes its own.
	g.Expect(k8s.Delete(ctx, theirs)).To(Succeed())
	g.Eventually(func() bool {
		ours := staffSubAccount(t, staff, "one")
		return ours.UID != theirs.UID && metav1.IsControlledBy(ours, staff)
	}, timeout, interval).Should(BeTrue(), "the Staff never made its own SubAccount of shop one")
	waitCurrent(t, staff)
	g.Expect(staff.Status.Summary).To(Equal("3/3 ready"))
	g.Expect(staff.Status.Conditions).NotTo(ContainElement(HaveField("Type", shopv1alpha1.ConditionNameClash)))
}

// A person in two Douyin shops: the platform binds a phone to one Douyin
// shop, so the second is given the person's other number (shopPhones).
// Each shop texts its own phone; the rows show which codes are awaited and
// the masked phone each went to; the Staff is Ready once both are handed
// over.
func TestStaffPhonePerShop(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	staffShopFixture(t, ns, "dy", platform.Douyin, nil)
	staffShopFixture(t, ns, "dy2", platform.Douyin, nil)
	other := uniquePhone()
	staff := newStaff(ns, "li", shopv1alpha1.StaffAssignment{Shops: []string{"dy", "dy2"}, RoleSelector: customerService,
		ShopPhones: []shopv1alpha1.StaffShopPhone{{Shop: "dy2", Phone: other}}})
	create(t, staff)
	dy, dy2 := staffSubAccount(t, staff, "dy"), staffSubAccount(t, staff, "dy2")
	g.Expect(dy.Spec.Phone).To(Equal(staff.Spec.Phone))
	g.Expect(dy2.Spec.Phone).To(Equal(other))

	awaited := func() map[string]string {
		_ = k8s.Get(ctx, client.ObjectKeyFromObject(staff), staff)
		got := map[string]string{}
		for _, r := range staff.Status.Shops {
			if r.Verification == shopv1alpha1.StaffVerificationPending {
				got[r.Shop] = r.VerificationPhone
			}
		}
		return got
	}
	g.Eventually(awaited, timeout, interval).Should(Equal(map[string]string{
		"dy": platform.MaskPhone(staff.Spec.Phone), "dy2": platform.MaskPhone(other)}), func() string { return conditionsOf(staff) })
	g.Expect(platform.MaskPhone(other)).NotTo(Equal(platform.MaskPhone(staff.Spec.Phone)), "the test's two phones must mask apart")

	verifyPhone(t, dy2)
	g.Eventually(awaited, timeout, interval).Should(Equal(map[string]string{"dy": platform.MaskPhone(staff.Spec.Phone)}))
	verifyPhone(t, dy)
	staffSummary(t, staff, "2/2 ready")
	waitCurrent(t, staff)
}

// An offboarding Staff is urgent in the Staff queue until its disables
// are written (for that generation); after that its looks are ordinary,
// and so is everyone else's, but a deletion.
func TestStaffUrgency(t *testing.T) {
	r := &StaffReconciler{}
	s := &shopv1alpha1.Staff{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "li", Generation: 2}}
	s.Status.ObservedGeneration = 1
	urgent := func() bool { _, u := r.urgency(s); return u }
	for _, tt := range []struct {
		name  string
		setup func()
		want  bool
	}{
		{"active", func() {}, false},
		{"active: false, disables not written", func() { s.Spec.Active = ptrTo(false) }, true},
		{"disables written for this generation", func() { r.disablesWritten.Store(client.ObjectKeyFromObject(s), int64(2)) }, false},
		{"a newer generation", func() { s.Generation = 3 }, true},
		{"offboarding applied", func() { s.Status.ObservedGeneration = 3 }, false},
		{"being deleted", func() { s.DeletionTimestamp = &metav1.Time{Time: time.Now()} }, true},
	} {
		tt.setup()
		if got := urgent(); got != tt.want {
			t.Errorf("%s: urgent = %v, want %v", tt.name, got, tt.want)
		}
	}
	r.forget(client.ObjectKeyFromObject(s))
	if _, ok := r.disablesWritten.Load(client.ObjectKeyFromObject(s)); ok {
		t.Error("a Staff that is gone is still remembered")
	}
}

// A Staff is woken by the changes of its SubAccounts its rows read or it
// puts back, not by every status write a SubAccount makes while it works.
func TestStaffRowInputChanged(t *testing.T) {
	base := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Generation: 2, Labels: map[string]string{shopv1alpha1.LabelStaff: "li"}}}
	base.Status.ObservedGeneration = 2
	base.Status.Conditions = []metav1.Condition{{Type: shopv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: shopv1alpha1.ReasonProgressing, ObservedGeneration: 2}}
	for _, tt := range []struct {
		name   string
		change func(*shopv1alpha1.SubAccount)
		want   bool
	}{
		{"activity only", func(sa *shopv1alpha1.SubAccount) {
			sa.Status.LastActivity = &metav1.Time{Time: time.Now()}
			sa.Status.RecentActivity = []shopv1alpha1.ActivityEntry{{}}
		}, false},
		{"another condition only", func(sa *shopv1alpha1.SubAccount) {
			sa.Status.Conditions = append(sa.Status.Conditions, metav1.Condition{Type: shopv1alpha1.ConditionSynced, Status: metav1.ConditionTrue})
		}, false},
		{"Ready", func(sa *shopv1alpha1.SubAccount) { sa.Status.Conditions[0].Status = metav1.ConditionTrue }, true},
		{"Ready's message", func(sa *shopv1alpha1.SubAccount) { sa.Status.Conditions[0].Message = "an SMS code was sent" }, true},
		{"observedGeneration", func(sa *shopv1alpha1.SubAccount) { sa.Status.ObservedGeneration = 1 }, true},
		{"a hand edit", func(sa *shopv1alpha1.SubAccount) { sa.Generation = 3 }, true},
		{"its label", func(sa *shopv1alpha1.SubAccount) { sa.Labels = nil }, true},
		{"login", func(sa *shopv1alpha1.SubAccount) { sa.Status.LoginName = "m:li" }, true},
		{"verification", func(sa *shopv1alpha1.SubAccount) {
			sa.Status.Verification = &shopv1alpha1.VerificationStatus{Phone: "139****0001"}
		}, true},
		{"seat", func(sa *shopv1alpha1.SubAccount) { sa.Status.Chat, sa.Status.ChatSeatCapacity = true, 20 }, true},
	} {
		n := base.DeepCopy()
		tt.change(n)
		if got := staffRowInputChanged.Update(event.UpdateEvent{ObjectOld: base, ObjectNew: n}); got != tt.want {
			t.Errorf("%s: wakes the Staff = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// failingList is a client whose every List fails.
type failingList struct{ client.Client }

func (failingList) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("the cache is stopping")
}

// A failed listing of the namespace's Staff is logged while the manager
// runs, not once per event while it stops (ctx cancelled).
func TestRequestsInLogsAFailedListOnlyWhileRunning(t *testing.T) {
	g := NewWithT(t)
	var lines []string
	ctx := ctrl.LoggerInto(context.Background(), funcr.New(func(_, args string) { lines = append(lines, args) }, funcr.Options{}))
	g.Expect(requestsIn(ctx, failingList{}, &shopv1alpha1.StaffList{}, "ns")).To(BeEmpty())
	g.Expect(lines).To(HaveLen(1), "a running manager says why it found no Staff")
	stopping, cancel := context.WithCancel(ctx)
	cancel()
	g.Expect(requestsIn(stopping, failingList{}, &shopv1alpha1.StaffList{}, "ns")).To(BeEmpty())
	g.Expect(lines).To(HaveLen(1), "nothing more while stopping")
}
