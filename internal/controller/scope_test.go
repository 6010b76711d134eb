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
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/metrics"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func TestParseScope(t *testing.T) {
	s, err := ParseScope(" shop-a, shop-b,,shop-a ", "shard=a")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Namespaces, []string{"shop-a", "shop-b"}) || s.Shard.String() != "shard=a" {
		t.Errorf("ParseScope = %v %v", s.Namespaces, s.Shard)
	}
	if got := s.String(); got != "namespaces shop-a,shop-b, Shops matching shard=a" {
		t.Errorf("String() = %q", got)
	}
	if s, err := ParseScope("", ""); err != nil || s.Namespaces != nil || s.sharded() || s.String() != "all namespaces, every Shop" {
		t.Errorf("empty flags: %+v, %v", s, err)
	}
	for _, bad := range [][2]string{{"Shop_A", ""}, {"", "shard in ("}, {"", "=a"}} {
		if _, err := ParseScope(bad[0], bad[1]); err == nil {
			t.Errorf("ParseScope(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestScopeCacheOptions(t *testing.T) {
	whole, err := Scope{}.CacheOptions()
	if err != nil {
		t.Fatal(err)
	}
	if whole.DefaultNamespaces != nil || len(whole.ByObject) != 1 {
		t.Errorf("the whole cluster's cache options restrict namespaces or kinds: %+v", whole)
	}
	s, err := ParseScope("shop-a,shop-b", "shard in (a)")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := s.CacheOptions()
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(opts.DefaultNamespaces)); !slices.Equal(got, []string{"shop-a", "shop-b"}) {
		t.Errorf("DefaultNamespaces = %v", got)
	}
	kinds := map[string]string{}
	for obj, by := range opts.ByObject {
		kinds[typeName(obj)] = by.Label.String()
	}
	want := map[string]string{"Secret": shopv1alpha1.LabelSecretRole, "Shop": "shard in (a)", "Role": "shard in (a)", "SubAccount": "shard in (a)"}
	if !maps.Equal(kinds, want) {
		t.Errorf("ByObject selectors = %v, want %v", kinds, want)
	}
}

func typeName(obj client.Object) string {
	switch obj.(type) {
	case *corev1.Secret:
		return "Secret"
	case *shopv1alpha1.Shop:
		return "Shop"
	case *shopv1alpha1.Role:
		return "Role"
	case *shopv1alpha1.SubAccount:
		return "SubAccount"
	}
	return "unknown"
}

// recordingFactory records the shops a manager connects to (every Shop,
// Role and SubAccount reconcile that reaches the platform connects first).
type recordingFactory struct {
	inner platform.Factory
	mu    sync.Mutex
	shops map[string]int
}

func (f *recordingFactory) ClientFor(ctx context.Context, cfg platform.ShopConfig) (platform.Client, error) {
	f.mu.Lock()
	f.shops[cfg.Key]++
	f.mu.Unlock()
	return f.inner.ClientFor(ctx, cfg)
}

func (f *recordingFactory) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.shops))
}

// startShardManager starts a manager of the scope with leader election on
// a Lease of its own, waits until it leads, and stops it when t ends.
func startShardManager(t *testing.T, lease string, scope Scope) *recordingFactory {
	t.Helper()
	cacheOpts, err := scope.CacheOptions()
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		Cache:                         cacheOpts,
		LeaderElection:                true,
		LeaderElectionID:              lease,
		LeaderElectionNamespace:       metav1.NamespaceDefault,
		LeaderElectionReleaseOnCancel: true,
		Controller:                    config.Controller{SkipNameValidation: ptrTo(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingFactory{inner: capabilityFactory{engine.Factory()}, shops: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	if err := Setup(ctx, mgr, platform.NewLimitedFactory(rec), WithClock(testNow), WithStatusBatchDelay(testBatchDelay), WithScope(scope)); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager %s: %v", lease, err)
		}
		// The suite's manager reports the state metrics again.
		if err := metrics.RegisterState(suiteManager.GetCache()); err != nil {
			t.Error(err)
		}
	})
	select {
	case <-mgr.Elected():
	case <-time.After(timeout):
		t.Fatalf("manager %s was not elected within %s", lease, timeout)
	}
	return rec
}

func labelled[T client.Object](obj T, shard string) T {
	obj.SetLabels(map[string]string{shardLabel: shard})
	return obj
}

// TestShards runs two managers with disjoint shard selectors, each with
// its own leader election Lease (and the suite's manager, which leaves
// objects with the shard label alone): each reconciles the Shops of its
// shard and the Roles and SubAccounts labelled like them, and no Shop is
// reached by both. A SubAccount labelled for the other shard than its Shop
// is Stalled with ShopNotInShard, and Ready once relabelled. Manager a
// watches one namespace only: a Shop of its shard elsewhere is never
// reconciled.
func TestShards(t *testing.T) {
	g := NewWithT(t)
	ns, elsewhere := newNamespace(t), newNamespace(t)
	// The shards' names are new each run: manager b watches every
	// namespace, and an earlier run's objects (envtest has no namespace
	// controller to delete them) must not be in its shard.
	suffix := randomSuffix()
	shardA, shardB := "a-"+suffix, "b-"+suffix
	// Created first, so that manager a would meet it if it looked.
	newShopWith(t, elsewhere, "shop-a", "main-"+randomSuffix(), platform.Taobao, 10, func(s *shopv1alpha1.Shop) { labelled(s, shardA) })

	scopeA, err := ParseScope(ns, shardLabel+"="+shardA)
	g.Expect(err).NotTo(HaveOccurred())
	scopeB, err := ParseScope("", shardLabel+"="+shardB)
	g.Expect(err).NotTo(HaveOccurred())
	leaseA, leaseB := "shard-a-"+randomSuffix(), "shard-b-"+randomSuffix()
	recA := startShardManager(t, leaseA, scopeA)
	recB := startShardManager(t, leaseB, scopeB)

	objects := map[string][]client.Object{}
	for shard, label := range map[string]string{"a": shardA, "b": shardB} {
		shop := "shop-" + shard
		newShopWith(t, ns, shop, "main-"+randomSuffix(), platform.Taobao, 10, func(s *shopv1alpha1.Shop) { labelled(s, label) })
		role := labelled(newRole(ns, "cs-"+shard, "客服"+shard, "customer-service"), label)
		role.Spec.ShopRef.Name = shop
		sa := labelled(newSubAccount(ns, "agent-"+shard, role.Name), label)
		sa.Spec.ShopRef.Name = shop
		create(t, role)
		create(t, sa)
		objects[shard] = []client.Object{&shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: shop}}, role, sa}
	}
	// Labelled for shard b, its Shop in shard a.
	stray := labelled(newSubAccount(ns, "stray", "cs-a"), shardB)
	stray.Spec.ShopRef.Name = "shop-a"
	create(t, stray)

	for _, shard := range []string{"a", "b"} {
		for _, obj := range objects[shard] {
			waitCurrent(t, obj)
		}
	}
	cond := waitCondition(t, stray, shopv1alpha1.ConditionReady, metav1.ConditionFalse, shopv1alpha1.ReasonShopNotInShard)
	g.Expect(cond.Message).To(ContainSubstring(shardLabel + "=" + shardB))
	g.Expect(kstatusOf(stray)).To(Equal(status.FailedStatus))
	g.Expect(stray.Finalizers).NotTo(BeEmpty(), "manager b took the stray SubAccount in")
	g.Expect(stray.Status.AccountID).To(BeEmpty())

	g.Expect(recA.seen()).To(Equal([]string{ns + "/shop-a"}), "shops manager a reached")
	g.Expect(recB.seen()).To(Equal([]string{ns + "/shop-b"}), "shops manager b reached")

	// Each manager holds its own Lease.
	holders := map[string]string{}
	for _, name := range []string{leaseA, leaseB} {
		lease := &coordinationv1.Lease{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: metav1.NamespaceDefault, Name: name}, lease)).To(Succeed())
		g.Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
		holders[name] = *lease.Spec.HolderIdentity
	}
	g.Expect(holders[leaseA]).NotTo(Equal(holders[leaseB]))

	// Relabelled like its Shop, the stray SubAccount moves to manager a.
	update(t, stray, func(sa *shopv1alpha1.SubAccount) { sa.Labels[shardLabel] = shardA })
	waitCurrent(t, stray)
	g.Expect(recA.seen()).To(Equal([]string{ns + "/shop-a"}))
	g.Expect(recB.seen()).To(Equal([]string{ns + "/shop-b"}))

	// Manager a watches ns only: the Shop of its shard elsewhere was never
	// reconciled by anyone.
	other := &shopv1alpha1.Shop{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: elsewhere, Name: "shop-a"}, other)).To(Succeed())
	g.Expect(other.Status.Conditions).To(BeEmpty())
	g.Expect(other.Finalizers).To(BeEmpty())
}
