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
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// BenchmarkActivityCheck is the cost of the Shop's activity check for a
// shop of N accounts, each of which signed in since the last check: the
// platform calls one check makes (calls/check, what the bound is about)
// and the calls of a whole sweep, the follow-up pages included, until
// every entry is read (calls/sweep). Reading per account would be N calls
// a check.
//
//	go test ./internal/controller/ -run '^$' -bench BenchmarkActivityCheck -benchtime 3x
func BenchmarkActivityCheck(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 5000} {
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			ctx := context.Background()
			engine := memory.NewEngine()
			creds := platform.Credentials{AppKey: "k", AppSecret: "s", AccessToken: "t"}
			if err := engine.AddShop(memory.ShopSetup{Platform: platform.Pinduoduo, MainAccount: "bench", Credentials: creds, SeatQuota: int32(n)}); err != nil {
				b.Fatal(err)
			}
			pc, err := engine.Factory().ClientFor(ctx, platform.ShopConfig{Platform: platform.Pinduoduo, MainAccount: "bench", Credentials: creds})
			if err != nil {
				b.Fatal(err)
			}
			shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop"},
				Spec: shopv1alpha1.ShopSpec{Platform: shopv1alpha1.PlatformPinduoduo, MainAccount: "bench"}}
			objs := []client.Object{shop}
			for i := range n {
				name := fmt.Sprintf("staff%05d", i)
				a, err := pc.CreateAccount(ctx, platform.CreateAccount{Name: name, Password: "bench-Passw0rd"}, "")
				if err != nil {
					b.Fatal(err)
				}
				objs = append(objs, &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
					Spec:   shopv1alpha1.SubAccountSpec{ShopRef: shopv1alpha1.LocalObjectReference{Name: "shop"}, AccountName: name},
					Status: shopv1alpha1.SubAccountStatus{AccountID: a.ID}})
			}
			fc := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
				WithIndex(&shopv1alpha1.SubAccount{}, indexSubAccountShop, func(o client.Object) []string {
					return []string{o.(*shopv1alpha1.SubAccount).Spec.ShopRef.Name}
				}).Build()
			drift := NewDriftTracker()
			done := make(chan struct{})
			defer close(done)
			go func() { // the SubAccount controller's side: take the wake-ups
				for {
					select {
					case <-drift.subAccounts:
					case <-done:
						return
					}
				}
			}()
			r := &ShopReconciler{Client: fc, Drift: drift}
			// One memo across the checks, as the Shop keeps it: a check reads
			// what came since the one before.
			memo := &shopMemo{}
			sweepCalls := 0
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				for i := range n { // every account signed in since the last check
					if err := engine.SignIn(platform.Pinduoduo, "bench", fmt.Sprintf("staff%05d", i), "bench-Passw0rd"); err != nil {
						b.Fatal(err)
					}
				}
				engine.ResetCalls()
				b.StartTimer()
				for due := true; ; due = false {
					s := &shopScope{shop: shop, memo: memo, pc: pc, caps: platform.CapabilitiesOf(pc), driftDue: due}
					calls := engine.Calls()["ListActivity"]
					if _, err := r.activity(ctx, s); err != nil {
						b.Fatal(err)
					}
					if got := engine.Calls()["ListActivity"] - calls; got != 1 {
						b.Fatalf("one check made %d calls", got)
					}
					if memo.activity.cursor == "" {
						break
					}
				}
				sweepCalls += engine.Calls()["ListActivity"]
			}
			b.ReportMetric(1, "calls/check")
			b.ReportMetric(float64(sweepCalls)/float64(b.N), "calls/sweep")
			b.ReportMetric(float64(n), "naive-calls/check")
		})
	}
}
