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
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// DefaultStateTimeout bounds one scrape's reads of the cache (which block
// only while the cache has not synced yet).
const DefaultStateTimeout = 5 * time.Second

var (
	subAccountsDesc = prometheus.NewDesc(SubAccountsName,
		"SubAccounts by shop and the status and reason of their Ready condition (Unknown with an empty reason when they have none yet).",
		[]string{"namespace", "shop", "condition", "status", "reason"}, nil)
	seatsUsedDesc = prometheus.NewDesc(ShopSeatsUsedName,
		"Sub-account seats used on the shop's platform, managed or not (Shop status.seats.used).",
		[]string{"namespace", "shop", "platform"}, nil)
	seatsTotalDesc = prometheus.NewDesc(ShopSeatsCapacityName,
		"Sub-account seats of the shop: spec.seats, or the platform's quota (Shop status.seats.total).",
		[]string{"namespace", "shop", "platform"}, nil)
	credentialsValidDesc = prometheus.NewDesc(ShopCredentialsValidName,
		"1 when the platform accepted the shop's API credentials (Shop condition CredentialsValid is True), else 0.",
		[]string{"namespace", "shop", "platform"}, nil)
	verificationsPendingDesc = prometheus.NewDesc(VerificationsPendingName,
		"SubAccounts waiting for an SMS verification code (condition Verified False with reason PendingVerification), by shop; 0 for every Shop with none.",
		[]string{"namespace", "shop"}, nil)
	lastActivityAgeDesc = prometheus.NewDesc(LastActivityAgeName,
		"SubAccounts holding a platform account, by how long ago the activity feed last showed it used (status.lastActivity): age is 1d, 7d, 30d or 90d (at most that long ago), older, or never; every age is reported for each shop with an account.",
		[]string{"namespace", "shop", "age"}, nil)
)

// activityAges are the bounded age buckets of LastActivityAgeName, in
// order: each counts the accounts last used at most that long ago (and
// longer ago than the bucket before); then come older and never.
var activityAges = []struct {
	Label string
	Max   time.Duration
}{{"1d", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}, {"90d", 90 * 24 * time.Hour}}

// activityAge is the age bucket of an account last used at last.
func activityAge(last *metav1.Time, now time.Time) string {
	if last == nil {
		return "never"
	}
	for _, a := range activityAges {
		if now.Sub(last.Time) <= a.Max {
			return a.Label
		}
	}
	return "older"
}

// StateCollector reports the state gauges from a cache at scrape time: it
// reads Shops and SubAccounts from Reader (the manager's cache, so a scrape
// makes no API call) and counts them. Shops whose status has no seats yet
// report no seat gauges.
//
// Where Reader is also the cache's informers (the manager's cache is), a
// scrape walks each informer's own objects and copies none: a List, even
// without deep copies, fills a slice with a copy of every object's struct,
// about 9 MB at 10,000 SubAccounts for each scrape, held while the scrape
// counts (docs/benchmarks.md, "A scrape copies no SubAccount").
type StateCollector struct {
	Reader client.Reader
	// Timeout bounds the cache reads of one scrape; zero means
	// DefaultStateTimeout.
	Timeout time.Duration
	// Now is the clock of the last-activity ages; time.Now when nil.
	Now func() time.Time
}

var _ prometheus.Collector = (*StateCollector)(nil)

// NewStateCollector returns a StateCollector reading from r.
func NewStateCollector(r client.Reader) *StateCollector {
	return &StateCollector{Reader: r}
}

// Describe sends the descriptors of the state gauges.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- subAccountsDesc
	ch <- seatsUsedDesc
	ch <- seatsTotalDesc
	ch <- credentialsValidDesc
	ch <- verificationsPendingDesc
	ch <- lastActivityAgeDesc
}

// Collect lists Shops and SubAccounts from the cache and sends the gauges.
// A failed read (the cache not started or not synced) is logged and its
// gauges are left out, so the rest of the scrape still succeeds.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultStateTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	log := logf.Log.WithName("metrics")

	type shopKey struct{ namespace, shop string }
	pending := map[shopKey]int{}
	if err := each(ctx, c.Reader, &shopv1alpha1.Shop{}, &shopv1alpha1.ShopList{}, func(shop *shopv1alpha1.Shop) {
		collectShop(ch, shop)
		pending[shopKey{shop.Namespace, shop.Name}] = 0
	}); err != nil {
		log.Error(err, "listing Shops for the state metrics")
	}

	type key struct{ namespace, shop, status, reason string }
	counts := map[key]int{}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	ages := map[shopKey]map[string]int{}
	if err := each(ctx, c.Reader, &shopv1alpha1.SubAccount{}, &shopv1alpha1.SubAccountList{}, func(sa *shopv1alpha1.SubAccount) {
		if sa.Status.AccountID != "" {
			k := shopKey{sa.Namespace, sa.Spec.ShopRef.Name}
			if ages[k] == nil {
				ages[k] = map[string]int{}
			}
			ages[k][activityAge(sa.Status.LastActivity, now)]++
		}
		k := key{namespace: sa.Namespace, shop: sa.Spec.ShopRef.Name, status: string(metav1.ConditionUnknown)}
		if cond := meta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionReady); cond != nil {
			k.status, k.reason = string(cond.Status), cond.Reason
		}
		counts[k]++
		if cond := meta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionVerified); cond != nil &&
			cond.Status == metav1.ConditionFalse && cond.Reason == shopv1alpha1.ReasonPendingVerification {
			pending[shopKey{sa.Namespace, sa.Spec.ShopRef.Name}]++
		}
	}); err != nil {
		log.Error(err, "listing SubAccounts for the state metrics")
		return
	}
	for k, n := range pending {
		ch <- prometheus.MustNewConstMetric(verificationsPendingDesc, prometheus.GaugeValue, float64(n), k.namespace, k.shop)
	}
	for k, byAge := range ages {
		for _, a := range activityAges {
			ch <- prometheus.MustNewConstMetric(lastActivityAgeDesc, prometheus.GaugeValue, float64(byAge[a.Label]), k.namespace, k.shop, a.Label)
		}
		for _, age := range []string{"older", "never"} {
			ch <- prometheus.MustNewConstMetric(lastActivityAgeDesc, prometheus.GaugeValue, float64(byAge[age]), k.namespace, k.shop, age)
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(subAccountsDesc, prometheus.GaugeValue, float64(n),
			k.namespace, k.shop, shopv1alpha1.ConditionReady, k.status, k.reason)
	}
}

// each calls fn with every object of list's kind in r, read only: fn must
// neither modify nor keep them. From a cache with one informer per kind it
// walks the informer's own objects; from any other reader (a cache of
// several namespaces, a client) it lists without deep copies.
func each[T client.Object](ctx context.Context, r client.Reader, obj T, list client.ObjectList, fn func(T)) error {
	if informers, ok := r.(cache.Informers); ok {
		inf, err := informers.GetInformer(ctx, obj)
		if err != nil {
			return err
		}
		if shared, ok := inf.(toolscache.SharedIndexInformer); ok {
			if !shared.HasSynced() {
				// Not started yet (GetInformer waits only for one
				// that runs): its objects would be a part of them.
				return fmt.Errorf("the informer of %T has not synced", obj)
			}
			for _, o := range shared.GetIndexer().List() {
				t, ok := o.(T)
				if !ok {
					return fmt.Errorf("the informer of %T holds a %T", obj, o)
				}
				fn(t)
			}
			return nil
		}
	}
	if err := r.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	return meta.EachListItem(list, func(o runtime.Object) error {
		t, ok := o.(T)
		if !ok {
			return fmt.Errorf("the list holds a %T", o)
		}
		fn(t)
		return nil
	})
}

// collectShop sends one Shop's gauges.
func collectShop(ch chan<- prometheus.Metric, shop *shopv1alpha1.Shop) {
	labels := []string{shop.Namespace, shop.Name, string(shop.Spec.Platform)}
	if s := shop.Status.Seats; s != nil {
		ch <- prometheus.MustNewConstMetric(seatsUsedDesc, prometheus.GaugeValue, float64(s.Used), labels...)
		ch <- prometheus.MustNewConstMetric(seatsTotalDesc, prometheus.GaugeValue, float64(s.Total), labels...)
	}
	valid := 0.0
	if meta.IsStatusConditionTrue(shop.Status.Conditions, shopv1alpha1.ConditionCredentialsValid) {
		valid = 1
	}
	ch <- prometheus.MustNewConstMetric(credentialsValidDesc, prometheus.GaugeValue, valid, labels...)
}

var (
	stateMu sync.Mutex
	// registeredState is the StateCollector in the registry, if any.
	registeredState *StateCollector
)

// RegisterState registers a StateCollector reading from r (the manager's
// cache) in controller-runtime's registry. Registering again (a second
// manager in one process, as tests do) replaces the previous collector.
func RegisterState(r client.Reader) error {
	stateMu.Lock()
	defer stateMu.Unlock()
	if registeredState != nil {
		ctrlmetrics.Registry.Unregister(registeredState)
		registeredState = nil
	}
	c := NewStateCollector(r)
	if err := ctrlmetrics.Registry.Register(c); err != nil {
		return fmt.Errorf("registering the state metrics: %w", err)
	}
	registeredState = c
	return nil
}
