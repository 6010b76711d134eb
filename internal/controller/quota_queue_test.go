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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// A full shop queues new SubAccounts; the Shop counts them; a freed seat
// goes to the oldest waiting one, and the others keep waiting.
func TestFreedSeatGoesToTheOldestWaiting(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ts := newShop(t, ns, platform.Taobao, 2, nil)
	create(t, newRole(ns, "cs", "客服", "customer-service"))
	var holders []*shopv1alpha1.SubAccount
	for _, name := range []string{"holder-a", "holder-b"} {
		sa := newSubAccount(ns, name, "cs")
		create(t, sa)
		waitCurrent(t, sa)
		holders = append(holders, sa)
	}
	// Queued one after another: q1 is the oldest (its name also sorts
	// first, so a creationTimestamp tie within a second orders the same).
	var queued []*shopv1alpha1.SubAccount
	for _, name := range []string{"q1", "q2", "q3"} {
		sa := newSubAccount(ns, name, "cs")
		create(t, sa)
		waitCondition(t, sa, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonSeatsExhausted)
		queued = append(queued, sa)
	}
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"}}
	waitSeats(t, shop, shopv1alpha1.AccountQuotaStatus{Used: 2, Total: 2, Managed: 5, Waiting: 3})
	ready := apimeta.FindStatusCondition(shop.Status.Conditions, shopv1alpha1.ConditionReady)
	g.Expect(ready.Message).To(ContainSubstring("2 of 2 seats used; 3 SubAccounts wait for a free seat"))
	cond := waitCondition(t, queued[2], shopv1alpha1.ConditionStalled, metav1.ConditionTrue, shopv1alpha1.ReasonSeatsExhausted)
	g.Expect(cond.Message).To(ContainSubstring("2 SubAccounts created earlier wait before this one"))

	g.Expect(k8s.Delete(context.Background(), holders[0])).To(Succeed())
	waitGone(t, holders[0])
	waitCurrent(t, queued[0])
	g.Expect(queued[0].Status.AccountID).NotTo(BeEmpty())
	waitSeats(t, shop, shopv1alpha1.AccountQuotaStatus{Used: 2, Total: 2, Managed: 4, Waiting: 2})
	for _, sa := range queued[1:] {
		g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(sa), sa)).To(Succeed())
		g.Expect(sa.Status.AccountID).To(BeEmpty(), "%s is younger than q1 and keeps waiting", sa.Name)
		g.Expect(apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionReady).Reason).To(Equal(shopv1alpha1.ReasonSeatsExhausted))
	}
	var names []string
	for _, a := range engine.Accounts(ts.platform, ts.main) {
		names = append(names, a.Name)
	}
	g.Expect(names).To(ConsistOf("holder-b", "q1"))
	// The waiting ones never knocked at the platform: the only creates are
	// the holders' and q1's.
	var creates []string
	for _, e := range engine.Audit(ts.platform, ts.main) {
		if e.Action == "account.create" {
			creates = append(creates, e.TargetName)
		}
	}
	g.Expect(creates).To(Equal([]string{"holder-a", "holder-b", "q1"}))
}

// The queue's order (creationTimestamp, then name) and who a seat change
// wakes: only the oldest waiting ones, as many as seats are free.
func TestSeatQueueOrderAndWakeUps(t *testing.T) {
	g := NewWithT(t)
	t0 := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Second))
	waiter := func(name string, created metav1.Time) *shopv1alpha1.SubAccount {
		sa := newSubAccount("ns", name)
		sa.CreationTimestamp = created
		sa.Status.Conditions = []metav1.Condition{{Type: shopv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: shopv1alpha1.ReasonSeatsExhausted, LastTransitionTime: t0}}
		return sa
	}
	holding := newSubAccount("ns", "holding")
	holding.Status.AccountID = "1"
	other := newSubAccount("ns", "roles-missing")
	other.Status.Conditions = []metav1.Condition{{Type: shopv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: shopv1alpha1.ReasonRoleNotFound, LastTransitionTime: t0}}
	// "a-late" sorts first by name but was created later; "b" and "c" tie.
	objs := []client.Object{waiter("a-late", t1), waiter("c", t0), waiter("b", t0), holding, other}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithIndex(&shopv1alpha1.SubAccount{}, indexSubAccountShop, func(o client.Object) []string {
			return []string{o.(*shopv1alpha1.SubAccount).Spec.ShopRef.Name}
		}).Build()

	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop"}}
	_, limited, err := shopAccountQuota(context.Background(), c, shop)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(limited).To(BeFalse(), "a Shop that has not counted its seats yet sets no limit")
	shop.Status.Seats = &shopv1alpha1.AccountQuotaStatus{Total: 5}
	seats, _, err := shopAccountQuota(context.Background(), c, shop)
	g.Expect(err).NotTo(HaveOccurred())
	queue := seats.queue
	var order []string
	for _, sa := range queue {
		order = append(order, sa.Name)
	}
	g.Expect(order).To(Equal([]string{"b", "c", "a-late"}))

	// The Shop's counts are written in batches: the SubAccounts holding an
	// account ("holding") are counted live, so a status that lags behind a
	// wave of creates does not let more in than there are seats.
	for _, tt := range []struct {
		used, unmanaged, total int32
		want                   []string
	}{
		{5, 0, 5, nil},
		{4, 0, 5, []string{"b"}},
		{3, 0, 5, []string{"b", "c"}},
		{0, 0, 5, []string{"b", "c", "a-late"}},
		{6, 0, 5, nil},
		{0, 3, 5, []string{"b"}}, // 3 unmanaged + holding: 4 used, though the status says 0
		{0, 4, 5, nil},           // all used
		{1, 1, 5, []string{"b", "c", "a-late"}},
	} {
		shop.Status.Seats = &shopv1alpha1.AccountQuotaStatus{Used: tt.used, Unmanaged: tt.unmanaged, Total: tt.total}
		reqs, err := wakeForAccountQuota(context.Background(), c, shop)
		g.Expect(err).NotTo(HaveOccurred())
		var woken []string
		for _, r := range reqs {
			woken = append(woken, r.Name)
		}
		g.Expect(woken).To(Equal(tt.want), "%d of %d seats used, %d unmanaged", tt.used, tt.total, tt.unmanaged)
	}

	// checkAccountQuota: with one seat free only the oldest may go.
	shop.Status.Seats = &shopv1alpha1.AccountQuotaStatus{Used: 4, Total: 5}
	r := &SubAccountReconciler{Client: c}
	g.Expect(r.checkAccountQuota(context.Background(), queue[0], shop)).To(Succeed())
	err = r.checkAccountQuota(context.Background(), queue[2], shop)
	g.Expect(err).To(MatchError(ContainSubstring("1 free seats, promised to the 2 SubAccounts created earlier")))
	fresh := newSubAccount("ns", "fresh")
	fresh.CreationTimestamp = metav1.NewTime(t1.Add(time.Second))
	g.Expect(r.checkAccountQuota(context.Background(), fresh, shop)).To(MatchError(ContainSubstring("promised to the 3 SubAccounts")))
}

// The accounts the SubAccount controller created are told apart, against
// a ShopInfo call, by when their creation ran: before it (the platform
// counted them), overlapping it (maybe), after it (not). Held ones, and
// those whose SubAccount is gone, are forgotten.
func TestCreatedNotHeld(t *testing.T) {
	g := NewWithT(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	shop := client.ObjectKey{Namespace: "ns", Name: "shop"}
	from, to := t0.Add(10*time.Second), t0.Add(11*time.Second)
	sub := func(name string) *shopv1alpha1.SubAccount {
		sa := newSubAccount("ns", name)
		sa.UID = types.UID(name)
		return sa
	}
	before, during, after, held, gone := sub("before"), sub("during"), sub("after"), sub("held"), sub("gone")
	d := NewDriftTracker()
	d.accountCreated(before, t0.Add(8*time.Second), t0.Add(9*time.Second))
	d.accountCreated(during, t0.Add(9*time.Second), t0.Add(10500*time.Millisecond))
	d.accountCreated(after, t0.Add(12*time.Second), t0.Add(13*time.Second))
	d.accountCreated(held, t0, t0.Add(time.Second))
	d.accountCreated(gone, t0, t0.Add(time.Second))
	held.Status.AccountID = "7"
	other := sub("other-shop")
	other.Spec.ShopRef.Name = "another"
	d.accountCreated(other, t0, t0.Add(time.Second))
	subs := []*shopv1alpha1.SubAccount{before, during, after, held}

	n, overlapped := d.createdNotHeld(shop, subs, from, to)
	g.Expect(n).To(Equal(int32(1)), "only the one created before ShopInfo began")
	g.Expect(overlapped).To(BeTrue(), "one was created while ShopInfo ran")
	g.Expect(d.created[shop]).To(HaveLen(3), "held and gone forgotten")
	g.Expect(d.created[client.ObjectKey{Namespace: "ns", Name: "another"}]).To(HaveLen(1), "another shop's untouched")

	// Without a ShopInfo it only forgets; once held, an account is not noted.
	before.Status.AccountID, during.Status.AccountID = "1", "2"
	n, overlapped = d.createdNotHeld(shop, subs, time.Time{}, time.Time{})
	g.Expect(n).To(BeZero())
	g.Expect(overlapped).To(BeFalse())
	g.Expect(d.created[shop]).To(HaveLen(1))
	n, _ = d.createdNotHeld(shop, subs, t0.Add(20*time.Second), t0.Add(21*time.Second))
	g.Expect(n).To(Equal(int32(1)), "the later one, against a later ShopInfo")

	d.forgetCreated(shop)
	g.Expect(d.created).NotTo(HaveKey(shop))
	var none *DriftTracker
	none.accountCreated(after, t0, t0)
	g.Expect(none.createdNotHeld(shop, subs, from, to)).To(BeZero())
}

// A ShopInfo that counted an account whose SubAccount the cache did not
// show holding it yet: the account is not taken for nobody's, so it is not
// counted twice once its status arrives (the shop's last seat stays free).
func TestSeatsDoNotCountAJustCreatedAccountTwice(t *testing.T) {
	g := NewWithT(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	holder := newSubAccount("ns", "holder")
	holder.UID, holder.Status.AccountID = "holder", "1"
	fresh := newSubAccount("ns", "fresh") // its account exists; its status is not in the cache yet
	fresh.UID = "fresh"
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(holder, fresh).
		WithIndex(&shopv1alpha1.SubAccount{}, indexSubAccountShop, func(o client.Object) []string {
			return []string{o.(*shopv1alpha1.SubAccount).Spec.ShopRef.Name}
		}).Build()
	r := &ShopReconciler{Client: c, Drift: NewDriftTracker()}
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop", UID: "shop-uid"}}
	count := func(from time.Time) *shopv1alpha1.AccountQuotaStatus {
		s := &shopScope{shop: shop, memo: r.memo(shop), secret: &corev1.Secret{},
			info: &platform.ShopInfo{SeatsUsed: 2, SeatsTotal: 3}, infoFrom: from, infoTo: from.Add(time.Second)}
		_, err := r.seats(context.Background(), s)
		g.Expect(err).NotTo(HaveOccurred())
		return shop.Status.Seats
	}

	r.Drift.accountCreated(fresh, t0, t0.Add(time.Second))
	g.Expect(count(t0.Add(2*time.Second))).To(Equal(&shopv1alpha1.AccountQuotaStatus{Used: 1, Total: 3, Managed: 2}),
		"fresh's account is its own, not an unmanaged one")
	g.Expect(r.memo(shop).check.recount).To(BeFalse())

	// Its status arrives: it holds the seat it was counted for, once.
	fresh.Status.AccountID = "2"
	g.Expect(c.Update(context.Background(), fresh)).To(Succeed())
	s := &shopScope{shop: shop, memo: r.memo(shop), secret: &corev1.Secret{}}
	_, err := r.seats(context.Background(), s)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(shop.Status.Seats).To(Equal(&shopv1alpha1.AccountQuotaStatus{Used: 2, Total: 3, Managed: 2}))

	// A creation that overlapped ShopInfo may or may not be in its count:
	// the next reconcile asks again.
	late := newSubAccount("ns", "late")
	late.UID = "late"
	g.Expect(c.Create(context.Background(), late)).To(Succeed())
	r.Drift.accountCreated(late, t0.Add(10*time.Second), t0.Add(12*time.Second))
	count(t0.Add(11 * time.Second))
	g.Expect(r.memo(shop).check.recount).To(BeTrue())
}

// shopInfoOnly is a platform client that answers ShopInfo and counts the
// calls; anything else it is asked fails the test (nil interface).
type shopInfoOnly struct {
	platform.Client
	calls int
}

func (c *shopInfoOnly) ShopInfo(context.Context) (platform.ShopInfo, error) {
	c.calls++
	return platform.ShopInfo{SeatsUsed: 2, SeatsTotal: 3, Service: platform.ServiceOn}, nil
}

// The credentials step asks ShopInfo again when the last count overlapped
// an account's creation (shopCheck.recount), and only then: a last check
// that still stands otherwise costs no call.
func TestCredentialsStepRecountsAfterAnOverlappingCreation(t *testing.T) {
	g := NewWithT(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop-api",
		Labels:     map[string]string{shopv1alpha1.LabelSecretRole: shopv1alpha1.SecretRoleShopAPI},
		Finalizers: []string{credentialsFinalizer}},
		Data: map[string][]byte{shopv1alpha1.SecretKeyAppKey: []byte("k"), shopv1alpha1.SecretKeyAppSecret: []byte("s"),
			shopv1alpha1.SecretKeyAccessToken: []byte("t")}}
	adopter := newSubAccount("ns", "adopter")
	adopter.Spec.ShopRef.Name = "shop"
	adopter.UID = "adopter"
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(secret, adopter).
		WithIndex(&shopv1alpha1.SubAccount{}, indexSubAccountShop, func(o client.Object) []string {
			return []string{o.(*shopv1alpha1.SubAccount).Spec.ShopRef.Name}
		}).Build()
	g.Expect(c.Get(context.Background(), client.ObjectKeyFromObject(secret), secret)).To(Succeed())
	r := &ShopReconciler{Client: c, Connector: &Connector{Client: c}, Drift: NewDriftTracker()}
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop", UID: "shop-uid", Generation: 1},
		Spec: shopv1alpha1.ShopSpec{CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: secret.Name}}}
	setCondition(shop, shopv1alpha1.ConditionCredentialsValid, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, "valid")
	memo := r.memo(shop)
	memo.releasedFormerFor = secret.Name // the former Secrets' scan is another test's
	pc := &shopInfoOnly{}
	look := func(recount bool) {
		t.Helper()
		memo.check = &shopCheck{generation: 1, secretVersion: secret.ResourceVersion, service: platform.ServiceOn, recount: recount}
		_, err := r.credentials(context.Background(), &shopScope{shop: shop, memo: memo, pc: pc})
		g.Expect(err).NotTo(HaveOccurred())
	}

	look(false)
	g.Expect(pc.calls).To(Equal(0), "the last check stands")
	look(true)
	g.Expect(pc.calls).To(Equal(1), "a creation overlapped the last count: asked again")

	// An adopted account, counted as nobody's by the last ShopInfo: asked
	// again once the cache shows it held, not before, and only once.
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r.Drift.accountAdopted(adopter, t0)
	look(false)
	g.Expect(pc.calls).To(Equal(1), "not held in the cache yet")
	adopter.Status.AccountID = "7"
	g.Expect(c.Update(context.Background(), adopter)).To(Succeed())
	look(false)
	g.Expect(pc.calls).To(Equal(2), "held now: counted again")
	s := &shopScope{shop: shop, memo: memo, secret: secret, info: &platform.ShopInfo{SeatsUsed: 2, SeatsTotal: 3},
		infoFrom: t0.Add(time.Second), infoTo: t0.Add(2 * time.Second)}
	_, err := r.seats(context.Background(), s)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(shop.Status.Seats.Unmanaged).To(Equal(int32(1)), "the adopted account is the SubAccount's, not nobody's")
	look(false)
	g.Expect(pc.calls).To(Equal(2), "the count forgot the adoption once held")

	// An account an offboarding left on the platform (deletionPolicy
	// Retain), counted as its SubAccount's by the last ShopInfo: asked
	// again once the SubAccount is gone from the cache, not before, and
	// the count then takes the account as nobody's, once.
	r.Drift.accountLeft(adopter, t0.Add(time.Minute))
	look(false)
	g.Expect(pc.calls).To(Equal(2), "the SubAccount is still in the cache, holding the account")
	g.Expect(c.Delete(context.Background(), adopter)).To(Succeed())
	look(false)
	g.Expect(pc.calls).To(Equal(3), "gone now: counted again")
	s = &shopScope{shop: shop, memo: memo, secret: secret, info: &platform.ShopInfo{SeatsUsed: 2, SeatsTotal: 3},
		infoFrom: t0.Add(2 * time.Minute), infoTo: t0.Add(2*time.Minute + time.Second)}
	_, err = r.seats(context.Background(), s)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(shop.Status.Seats.Unmanaged).To(Equal(int32(2)), "the account left behind takes its seat, nobody's now")
	g.Expect(shop.Status.Seats.Used).To(Equal(int32(2)))
	look(false)
	g.Expect(pc.calls).To(Equal(3), "the count forgot the account left once counted")
}

// A count from the cache alone (no ShopInfo) keeps an account left on the
// platform noted until a ShopInfo counts it; one whose SubAccount is still
// in the cache stays noted through a ShopInfo too.
func TestAccountLeftIsForgottenOnlyByACountWithoutItsSubAccount(t *testing.T) {
	g := NewWithT(t)
	d := NewDriftTracker()
	shop := client.ObjectKey{Namespace: "ns", Name: "shop"}
	sa := newSubAccount("ns", "gone")
	sa.Spec.ShopRef.Name = "shop"
	sa.UID = "gone"
	sa.Status.AccountID = "9"
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d.accountLeft(sa, t0)
	g.Expect(d.awaitsRecount(shop)).To(BeTrue())
	g.Expect(d.recountDue(shop, []*shopv1alpha1.SubAccount{sa})).To(BeFalse(), "still in the cache, still counted as held")

	before, overlapped := d.createdNotHeld(shop, []*shopv1alpha1.SubAccount{sa}, t0.Add(time.Second), t0.Add(2*time.Second))
	g.Expect(before).To(BeZero(), "an account left is not a creation")
	g.Expect(overlapped).To(BeFalse())
	g.Expect(d.awaitsRecount(shop)).To(BeTrue(), "a ShopInfo while the SubAccount held the account counted it as the SubAccount's")

	d.createdNotHeld(shop, nil, time.Time{}, time.Time{})
	g.Expect(d.recountDue(shop, nil)).To(BeTrue(), "gone from the cache, not counted by a ShopInfo yet")

	d.createdNotHeld(shop, nil, t0.Add(time.Minute), t0.Add(time.Minute+time.Second))
	g.Expect(d.awaitsRecount(shop)).To(BeFalse())
	g.Expect(d.recountDue(shop, nil)).To(BeFalse())
}
