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
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// People offboarded right after a wave of creates was queued in their
// shops are disabled on the platform ahead of the wave (issue 18): every
// one of their accounts is disabled before half of the creates still
// queued at active: false are made. Each shop's rate limit makes the wave
// last; the disables go first in the Staff queue, in the SubAccount queue
// and at the limiter. The test logs where the time went, per account:
// active: false → its SubAccount carries disabled: true (the Staff's part,
// seen through a watch) → the platform has it disabled (the SubAccount's
// part, read from the engine every 20ms).
func TestOffboardingAheadOfQueuedCreates(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	const shops, people, shopsEach, wavePerShop = 4, 20, 2, 50
	var mains []string
	for i := range shops {
		name := fmt.Sprintf("s%d", i)
		ts := staffShopWith(t, ns, name, platform.Taobao, 200, func(s *shopv1alpha1.Shop) {
			s.Spec.RateLimit = shopv1alpha1.RateLimit{RequestsPerSecond: 5, Burst: 1}
		})
		// What is left of the wave when the test ends stops there: the
		// suite's other tests share the manager's workers.
		t.Cleanup(func() {
			update(t, &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}},
				func(s *shopv1alpha1.Shop) { s.Spec.Suspend = true })
		})
		mains = append(mains, ts.main)
	}
	var names []string
	for p := range people {
		var picked []string
		for k := range shopsEach {
			picked = append(picked, fmt.Sprintf("s%d", (p+k*(shops/shopsEach))%shops))
		}
		staff := newStaff(ns, fmt.Sprintf("p%02d", p), shopv1alpha1.StaffAssignment{Shops: picked, RoleSelector: customerService})
		staff.Spec.AccountName = staff.Name
		staff.Spec.Phone = ""
		create(t, staff)
		names = append(names, staff.Name)
	}
	g.Eventually(func() int { return staffReadyCount(ctx, ns) }, 3*time.Minute, 200*time.Millisecond).Should(Equal(people))

	// The wave, queued in every shop.
	wave := 0
	for i := range shops {
		for j := range wavePerShop {
			sa := newSubAccount(ns, fmt.Sprintf("w-s%d-%02d", i, j), fmt.Sprintf("s%d-cs", i))
			sa.Spec.ShopRef.Name = fmt.Sprintf("s%d", i)
			create(t, sa)
			wave++
		}
	}

	// When each person's SubAccount carries disabled: true.
	wc, err := client.NewWithWatch(restConfig, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	w, err := wc.Watch(ctx, &shopv1alpha1.SubAccountList{}, client.InNamespace(ns), client.HasLabels{shopv1alpha1.LabelStaff})
	g.Expect(err).NotTo(HaveOccurred())
	defer w.Stop()
	var mu sync.Mutex
	written := map[string]time.Time{}
	go func() {
		for ev := range w.ResultChan() {
			sa, ok := ev.Object.(*shopv1alpha1.SubAccount)
			if !ok || ev.Type != watch.Modified || !sa.Spec.Disabled {
				continue
			}
			mu.Lock()
			if _, seen := written[sa.Spec.ShopRef.Name+"/"+sa.Spec.AccountName]; !seen {
				written[sa.Spec.ShopRef.Name+"/"+sa.Spec.AccountName] = time.Now()
			}
			mu.Unlock()
		}
	}()

	readyAtStart := waveReady(ctx, g, ns)
	t0 := time.Now()
	var deactivate sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		deactivate.Go(func() {
			staff := &shopv1alpha1.Staff{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
			errs[i] = k8s.Patch(ctx, staff, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"active":false}}`)))
		})
	}
	deactivate.Wait()
	g.Expect(errors.Join(errs...)).NotTo(HaveOccurred())
	disabled := map[string]time.Time{}
	g.Eventually(func() int {
		now := time.Now()
		for i, main := range mains {
			for _, a := range engine.Accounts(platform.Taobao, main) {
				key := fmt.Sprintf("s%d/%s", i, a.Name)
				if _, seen := disabled[key]; !seen && a.Disabled && slices.Contains(names, a.Name) {
					disabled[key] = now
				}
			}
		}
		return len(disabled)
	}, 3*time.Minute, 20*time.Millisecond).Should(Equal(people * shopsEach))
	took := time.Since(t0)
	wentFirst := waveReady(ctx, g, ns) - readyAtStart

	mu.Lock()
	var staffPart, subPart []time.Duration
	for key, done := range disabled {
		at, ok := written[key]
		if !ok || at.After(done) {
			at = done
		}
		staffPart = append(staffPart, at.Sub(t0))
		subPart = append(subPart, done.Sub(at))
	}
	mu.Unlock()
	t.Logf("%d people × %d shops offboarded behind %d queued creates: every account disabled on the platform in %s; "+
		"of the %d creates still queued at active: false, %d were made first",
		people, shopsEach, wave, took.Round(time.Millisecond), wave-readyAtStart, wentFirst)
	t.Logf("per account, active: false → disabled: true on its SubAccount (the Staff's part): %s", spreadOf(staffPart))
	t.Logf("per account, disabled: true → disabled on the platform (the SubAccount's part): %s", spreadOf(subPart))
	g.Expect(wentFirst).To(BeNumerically("<", (wave-readyAtStart)/2),
		"the disables waited for the wave: %d of the %d creates queued at active: false were made first (took %s)", wentFirst, wave-readyAtStart, took)
}

// waveReady counts the namespace's Ready SubAccounts no Staff owns.
func waveReady(ctx context.Context, g Gomega, ns string) int {
	list := &shopv1alpha1.SubAccountList{}
	g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	n := 0
	for _, sa := range list.Items {
		if sa.Labels[shopv1alpha1.LabelStaff] == "" && apimeta.IsStatusConditionTrue(sa.Status.Conditions, shopv1alpha1.ConditionReady) {
			n++
		}
	}
	return n
}

// staffReadyCount counts the namespace's Staff that are Ready at their
// generation.
func staffReadyCount(ctx context.Context, ns string) int {
	list := &shopv1alpha1.StaffList{}
	if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
		return -1
	}
	n := 0
	for _, s := range list.Items {
		if s.Status.ObservedGeneration == s.Generation && apimeta.IsStatusConditionTrue(s.Status.Conditions, shopv1alpha1.ConditionReady) {
			n++
		}
	}
	return n
}

// spreadOf is the median, 90th percentile and longest of ds.
func spreadOf(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration {
		return ds[min(len(ds)-1, int(q*float64(len(ds))))].Round(time.Millisecond)
	}
	return fmt.Sprintf("median %s, p90 %s, max %s", at(0.5), at(0.9), ds[len(ds)-1].Round(time.Millisecond))
}
