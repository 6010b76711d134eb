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

package metrics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

func cond(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: "m", LastTransitionTime: metav1.Now()}
}

func shop(ns, name string, p shopv1alpha1.Platform, seats *shopv1alpha1.AccountQuotaStatus, conds ...metav1.Condition) *shopv1alpha1.Shop {
	return &shopv1alpha1.Shop{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: shopv1alpha1.ShopSpec{Platform: p, MainAccount: name,
			CredentialsSecretRef: shopv1alpha1.LocalObjectReference{Name: name + "-api"}},
		Status: shopv1alpha1.ShopStatus{Seats: seats, Conditions: conds},
	}
}

func subAccount(ns, name, shopName string, conds ...metav1.Condition) *shopv1alpha1.SubAccount {
	return &shopv1alpha1.SubAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       shopv1alpha1.SubAccountSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: shopName}, AccountName: name},
		Status:     shopv1alpha1.SubAccountStatus{Conditions: conds},
	}
}

// series collects c into name{label="value",...} -> value, with the labels
// sorted, through a pedantic registry (which checks that what Collect sends
// matches Describe).
func series(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			out[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestStateCollector(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := shopv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ready := cond(shopv1alpha1.ConditionReady, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	credsOK := cond(shopv1alpha1.ConditionCredentialsValid, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)
	credsBad := cond(shopv1alpha1.ConditionCredentialsValid, metav1.ConditionFalse, shopv1alpha1.ReasonCredentialsRejected)
	objs := []client.Object{
		shop("shops", "hongxing", shopv1alpha1.PlatformTaobao, &shopv1alpha1.AccountQuotaStatus{Used: 9, Total: 10, Managed: 3}, ready, credsOK),
		shop("shops", "lanse", shopv1alpha1.PlatformPinduoduo, nil, credsBad),
		shop("other", "hongxing", shopv1alpha1.PlatformDouyin, &shopv1alpha1.AccountQuotaStatus{Used: 1, Total: 20}),
		subAccount("shops", "xiaohong", "hongxing", ready, cond(shopv1alpha1.ConditionSynced, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)),
		subAccount("shops", "daming", "hongxing", ready),
		subAccount("shops", "xiaoli", "hongxing", cond(shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonSeatsExhausted)),
		subAccount("shops", "new", "lanse"),
		subAccount("other", "xiaohong", "hongxing", cond(shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonRateLimited)),
		subAccount("other", "daming", "hongxing", cond(shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonRateLimited)),
		// Waiting for SMS codes: two in other/hongxing (one of them in a
		// shop that has no Shop object yet), one expired, one verified.
		subAccount("other", "agent1", "hongxing", cond(shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification),
			cond(shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)),
		subAccount("other", "agent2", "hongxing", cond(shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)),
		subAccount("other", "agent3", "hongxing", cond(shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonVerificationExpired)),
		subAccount("other", "agent4", "hongxing", cond(shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded)),
		subAccount("other", "agent5", "missing", cond(shopv1alpha1.ConditionVerified, metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification)),
	}
	want := map[string]float64{
		`subaccount_shop_seats_used{namespace="shops",platform="taobao",shop="hongxing"}`:        9,
		`subaccount_shop_seats_capacity{namespace="shops",platform="taobao",shop="hongxing"}`:    10,
		`subaccount_shop_seats_used{namespace="other",platform="douyin",shop="hongxing"}`:        1,
		`subaccount_shop_seats_capacity{namespace="other",platform="douyin",shop="hongxing"}`:    20,
		`subaccount_shop_credentials_valid{namespace="shops",platform="taobao",shop="hongxing"}`: 1,
		`subaccount_shop_credentials_valid{namespace="shops",platform="pinduoduo",shop="lanse"}`: 0,
		`subaccount_shop_credentials_valid{namespace="other",platform="douyin",shop="hongxing"}`: 0,

		`subaccount_subaccounts{condition="Ready",namespace="shops",reason="Succeeded",shop="hongxing",status="True"}`:            2,
		`subaccount_subaccounts{condition="Ready",namespace="shops",reason="SeatsExhausted",shop="hongxing",status="False"}`:      1,
		`subaccount_subaccounts{condition="Ready",namespace="shops",reason="",shop="lanse",status="Unknown"}`:                     1,
		`subaccount_subaccounts{condition="Ready",namespace="other",reason="RateLimited",shop="hongxing",status="False"}`:         2,
		`subaccount_subaccounts{condition="Ready",namespace="other",reason="PendingVerification",shop="hongxing",status="False"}`: 1,
		`subaccount_subaccounts{condition="Ready",namespace="other",reason="",shop="hongxing",status="Unknown"}`:                  3,
		`subaccount_subaccounts{condition="Ready",namespace="other",reason="",shop="missing",status="Unknown"}`:                   1,

		`subaccount_verification_codes_pending{namespace="shops",shop="hongxing"}`: 0,
		`subaccount_verification_codes_pending{namespace="shops",shop="lanse"}`:    0,
		`subaccount_verification_codes_pending{namespace="other",shop="hongxing"}`: 2,
		`subaccount_verification_codes_pending{namespace="other",shop="missing"}`:  1,
	}
	// The same objects read two ways: listed from a client (a cache of
	// several namespaces is read so), and walked in the informers of a
	// cache that is one informer per kind, whose List fails.
	readers := map[string]client.Reader{
		"listed": fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
			WithStatusSubresource(&shopv1alpha1.Shop{}, &shopv1alpha1.SubAccount{}).Build(),
		"informers": newInformerCache(t, objs...),
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			c := NewStateCollector(r)
			got := series(t, c)
			for k, v := range want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
				}
			}
			for k, v := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected series %s = %v", k, v)
				}
			}
			if n := testutil.CollectAndCount(c); n != len(want) {
				t.Errorf("CollectAndCount = %d, want %d", n, len(want))
			}
			problems, err := testutil.CollectAndLint(c)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("promlint: %s: %s", p.Metric, p.Text)
			}
		})
	}
}

// informerCache is a cache as the manager's is, one informer per kind;
// its reads fail, so a scrape that lists (copying every object's struct)
// instead of walking the informers' own objects gets nothing.
type informerCache struct {
	cache.Informers // only GetInformer is implemented
	byType          map[string]toolscache.SharedIndexInformer
}

func newInformerCache(t *testing.T, objs ...client.Object) informerCache {
	t.Helper()
	c := informerCache{byType: map[string]toolscache.SharedIndexInformer{}}
	for _, obj := range []client.Object{&shopv1alpha1.Shop{}, &shopv1alpha1.SubAccount{}} {
		// Never run: the objects go straight into its indexer.
		c.byType[fmt.Sprintf("%T", obj)] = synced{toolscache.NewSharedIndexInformer(&toolscache.ListWatch{}, obj, 0, toolscache.Indexers{})}
	}
	for _, obj := range objs {
		inf, ok := c.byType[fmt.Sprintf("%T", obj)]
		if !ok {
			t.Fatalf("no informer for %T", obj)
		}
		if err := inf.GetIndexer().Add(obj); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// synced is an informer that says it has synced.
type synced struct{ toolscache.SharedIndexInformer }

func (synced) HasSynced() bool { return true }

// An informer that has not synced (a cache not started yet) leaves the
// gauges out, as a failed read does, rather than count a part.
func TestStateCollectorWaitsForTheInformers(t *testing.T) {
	c := newInformerCache(t, subAccount("shops", "xiaohong", "hongxing"))
	for k, inf := range c.byType {
		c.byType[k] = inf.(synced).SharedIndexInformer
	}
	if n := testutil.CollectAndCount(NewStateCollector(c)); n != 0 {
		t.Errorf("CollectAndCount = %d, want 0", n)
	}
}

func (c informerCache) GetInformer(_ context.Context, obj client.Object, _ ...cache.InformerGetOption) (cache.Informer, error) {
	inf, ok := c.byType[fmt.Sprintf("%T", obj)]
	if !ok {
		return nil, fmt.Errorf("no informer for %T", obj)
	}
	return inf, nil
}

func (informerCache) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("a scrape reads no single object")
}

func (informerCache) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("a scrape must not list from a cache of informers: a list copies every object")
}

// failingReader fails every read, as a cache that has not started does.
type failingReader struct{ client.Reader }

func (failingReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("the cache is not started, can not read objects")
}

// A failed cache read leaves the gauges out instead of failing the scrape.
func TestStateCollectorReadFails(t *testing.T) {
	if n := testutil.CollectAndCount(NewStateCollector(failingReader{})); n != 0 {
		t.Errorf("CollectAndCount = %d, want 0", n)
	}
}

// RegisterState may be called again (a second manager in one process): the
// new collector replaces the old one.
func TestRegisterStateTwice(t *testing.T) {
	for range 2 {
		if err := RegisterState(failingReader{}); err != nil {
			t.Fatal(err)
		}
	}
}

// Accounts by how long ago they were last used: every age for each shop
// with an account, a SubAccount without one left out.
func TestLastActivityAge(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := shopv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	used := func(name string, ago time.Duration) client.Object {
		sa := subAccount("shops", name, "hongxing")
		sa.Status.AccountID = "id-" + name
		if ago >= 0 {
			sa.Status.LastActivity = &metav1.Time{Time: now.Add(-ago)}
		}
		return sa
	}
	r := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		used("today", time.Hour), used("yesterday", 24*time.Hour), used("lastweek", 5*24*time.Hour),
		used("spring", 100*24*time.Hour), used("never", -1), subAccount("shops", "noaccount", "hongxing"),
	).WithStatusSubresource(&shopv1alpha1.SubAccount{}).Build()
	c := NewStateCollector(r)
	c.Now = func() time.Time { return now }
	got := series(t, c)
	for age, n := range map[string]float64{"1d": 2, "7d": 1, "30d": 0, "90d": 0, "older": 1, "never": 1} {
		k := fmt.Sprintf(`subaccount_accounts_by_last_activity_age{age=%q,namespace="shops",shop="hongxing"}`, age)
		if got[k] != n {
			t.Errorf("%s = %v, want %v", k, got[k], n)
		}
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}
