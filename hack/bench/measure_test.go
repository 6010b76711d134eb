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

package main

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

// The table of runs in turns takes each run's ratio over its larger floor
// and the median per latency, in the order the latencies first ran.
func TestRenderTurnsGivesTheMedianRatioOfEachLatency(t *testing.T) {
	run := func(latency, wave, physical time.Duration) latencyRun {
		return latencyRun{latency, result{Wave: phase{Duration: wave}, Floor: &floorResult{Time: physical}, PlatformFloor: 4 * time.Second}}
	}
	ms := time.Millisecond
	out := renderTurns(options{Shops: 20, PerShop: 50}, []latencyRun{
		run(0, 12*time.Second, 8*time.Second),      // 1.50
		run(20*ms, 10*time.Second, 2*time.Second),  // 2.50, over the platform floor
		run(0, 14*time.Second, 10*time.Second),     // 1.40
		run(20*ms, 12*time.Second, 10*time.Second), // 1.20
		run(0, 13*time.Second, 8*time.Second),      // 1.62
	})
	for _, want := range []string{
		"| 2 | 20ms | 10s | 2s; 4s | 2.50 |",
		"| **median of 3** | 0s | 13s | 8s | **1.50** (1.40 to 1.62) |",
		"| **median of 2** | 20ms | 11s | 6s | **1.85** (1.20 to 2.50) |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "median of 3"), strings.Index(out, "median of 2"); i < 0 || j < i {
		t.Errorf("latency 0 ran first, its median should come first:\n%s", out)
	}
}

// The floor writes the status the operator wrote, with the floor's own
// SubAccount's names, account and generation.
func TestFloorStatusIsTheOperatorsWithTheSubAccountsNames(t *testing.T) {
	written := &shopv1alpha1.SubAccountStatus{AccountID: "10000018", LoginName: "bench000:staff0000", SecretName: "s000-0000-credentials",
		ObservedGeneration: 1, EffectivePermissions: []string{"trade", "trade-order-view"},
		Conditions: []metav1.Condition{{Type: "Ready", Status: "True", Reason: "Succeeded", ObservedGeneration: 1}}}
	sa := subAccount("floor", 2, 7)
	sa.Generation = 3
	st := floorStatus(written, sa, 2, 207)
	if st.AccountID != "90000207" || st.LoginName != "bench002:"+sa.Spec.AccountName || st.SecretName != sa.Name+"-credentials" ||
		st.ObservedGeneration != 3 || st.Conditions[0].ObservedGeneration != 3 || len(st.EffectivePermissions) != 2 {
		t.Errorf("floor status %+v", st)
	}
	if written.Conditions[0].ObservedGeneration != 1 || written.AccountID != "10000018" {
		t.Errorf("the operator's status was changed: %+v", written)
	}
	if bare := floorStatus(nil, sa, 2, 207); len(bare.Conditions) != 1 || bare.Conditions[0].Type != shopv1alpha1.ConditionReady {
		t.Errorf("without the operator's status: %+v", bare)
	}
}
