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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func TestPlatformOutcome(t *testing.T) {
	const doing = "updating the platform account"
	tests := []struct {
		name        string
		err         error
		wantReason  string
		wantStalled bool
		wantRequeue time.Duration
	}{
		{
			name:        "rate limited honours RetryAfter",
			err:         &platform.Error{Kind: platform.ErrRateLimited, Message: "slow down", RetryAfter: 42 * time.Second},
			wantReason:  shopv1alpha1.ReasonRateLimited,
			wantRequeue: 42 * time.Second,
		},
		{
			name:        "wrapped rate limited honours RetryAfter",
			err:         fmt.Errorf("calling TOP: %w", &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: 3 * time.Second}),
			wantReason:  shopv1alpha1.ReasonRateLimited,
			wantRequeue: 3 * time.Second,
		},
		{
			name:        "rate limited without RetryAfter waits 10s",
			err:         platform.NewError(platform.ErrRateLimited, "", "too many calls"),
			wantReason:  shopv1alpha1.ReasonRateLimited,
			wantRequeue: 10 * time.Second,
		},
		{
			name:        "bare rate limited sentinel waits 10s",
			err:         platform.ErrRateLimited,
			wantReason:  shopv1alpha1.ReasonRateLimited,
			wantRequeue: 10 * time.Second,
		},
		{
			name:        "unauthorized",
			err:         platform.NewError(platform.ErrUnauthorized, "", "token expired"),
			wantReason:  shopv1alpha1.ReasonCredentialsRejected,
			wantStalled: true,
			wantRequeue: stallRetry,
		},
		{
			name:        "forbidden",
			err:         platform.NewError(platform.ErrForbidden, "", "app lacks the sub-account scope"),
			wantReason:  shopv1alpha1.ReasonCredentialsRejected,
			wantStalled: true,
			wantRequeue: stallRetry,
		},
		{
			name:        "name taken",
			err:         platform.NewError(platform.ErrNameTaken, "name", "xiaohong exists"),
			wantReason:  shopv1alpha1.ReasonNameTaken,
			wantStalled: true,
			wantRequeue: stallRetry,
		},
		{
			name:        "quota exhausted",
			err:         platform.NewError(platform.ErrQuotaExhausted, "", "20 of 20 seats used"),
			wantReason:  shopv1alpha1.ReasonSeatsExhausted,
			wantStalled: true,
			wantRequeue: stallRetry,
		},
		{
			name:        "invalid",
			err:         platform.NewError(platform.ErrInvalid, "phone", "malformed"),
			wantReason:  shopv1alpha1.ReasonPlatformRejected,
			wantStalled: true,
			wantRequeue: stallRetry,
		},
		{
			name:        "conflict",
			err:         platform.NewError(platform.ErrConflict, "phone", "bound to another sub-account"),
			wantReason:  shopv1alpha1.ReasonConflict,
			wantStalled: true,
			wantRequeue: stallRetry,
		},
		{
			name:        "not supported",
			err:         platform.NewError(platform.ErrNotSupported, "", "no seats on this platform"),
			wantReason:  shopv1alpha1.ReasonNotSupported,
			wantStalled: true,
			wantRequeue: stallRetry,
		},
		{
			name:       "transient backs off",
			err:        platform.NewError(platform.ErrTransient, "", "isv.service-busy"),
			wantReason: shopv1alpha1.ReasonPlatformError,
		},
		{
			name:        "transient with RetryAfter honours it",
			err:         &platform.Error{Kind: platform.ErrTransient, RetryAfter: 7 * time.Second},
			wantReason:  shopv1alpha1.ReasonPlatformError,
			wantRequeue: 7 * time.Second,
		},
		{
			name:       "not found backs off",
			err:        platform.NewError(platform.ErrNotFound, "", "account 42"),
			wantReason: shopv1alpha1.ReasonPlatformError,
		},
		{
			name:       "unknown error backs off",
			err:        errors.New("dial tcp 10.0.0.1:443: connection refused"),
			wantReason: shopv1alpha1.ReasonPlatformError,
		},
		{
			name:       "context deadline backs off",
			err:        fmt.Errorf("calling gateway: %w", context.DeadlineExceeded),
			wantReason: shopv1alpha1.ReasonPlatformError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			err := platformOutcome(doing, tt.err)

			var o *outcome
			g.Expect(errors.As(err, &o)).To(BeTrue())
			g.Expect(o.reason).To(Equal(tt.wantReason))
			g.Expect(o.stalled).To(Equal(tt.wantStalled))
			g.Expect(o.requeueAfter).To(Equal(tt.wantRequeue))
			g.Expect(o.message).To(HavePrefix(doing + ": "))
			g.Expect(o.message).To(ContainSubstring(tt.err.Error()))
			g.Expect(err.Error()).To(Equal(o.message))
			g.Expect(errors.Is(err, tt.err)).To(BeTrue(), "the platform error must stay reachable")
		})
	}
}

func TestCheckStalledAndWaiting(t *testing.T) {
	g := NewWithT(t)

	var o *outcome
	g.Expect(errors.As(stalled(shopv1alpha1.ReasonNameTaken, "name %q taken in %d shops", "xh", 2), &o)).To(BeTrue())
	g.Expect(*o).To(Equal(outcome{
		reason: shopv1alpha1.ReasonNameTaken, message: `name "xh" taken in 2 shops`, stalled: true, requeueAfter: stallRetry,
	}))

	g.Expect(errors.As(waiting(shopv1alpha1.ReasonShopNotReady, "Shop %q is not Ready", "s"), &o)).To(BeTrue())
	g.Expect(*o).To(Equal(outcome{
		reason: shopv1alpha1.ReasonShopNotReady, message: `Shop "s" is not Ready`, requeueAfter: waitRetry,
	}))
}

// condWant is an expected condition; nil means absent.
type condWant struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

func expectCondition(g Gomega, obj conditioned, condType string, want *condWant) {
	c := apimeta.FindStatusCondition(obj.GetConditions(), condType)
	if want == nil {
		g.Expect(c).To(BeNil(), "condition %s should be absent", condType)
		return
	}
	g.Expect(c).NotTo(BeNil(), "condition %s should be set", condType)
	g.Expect(c.Status).To(Equal(want.status), "%s status", condType)
	g.Expect(c.Reason).To(Equal(want.reason), "%s reason", condType)
	g.Expect(c.Message).To(Equal(want.message), "%s message", condType)
	g.Expect(c.ObservedGeneration).To(Equal(obj.GetGeneration()), "%s observedGeneration", condType)
	g.Expect(c.LastTransitionTime.IsZero()).To(BeFalse(), "%s lastTransitionTime", condType)
}

func TestSummarize(t *testing.T) {
	const readyMessage = "account 42 has 3 roles"
	plainErr := errors.New("updating status: the object has been modified")
	stalledErr := stalled(shopv1alpha1.ReasonInvalidSpec, "displayName has 21 characters; taobao allows at most 20")
	waitingErr := waiting(shopv1alpha1.ReasonShopNotReady, `Shop "s" is not Ready`)
	backoffErr := platformOutcome("creating the platform account", platform.NewError(platform.ErrTransient, "", "busy"))
	rateErr := platformOutcome("listing roles", &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: 30 * time.Second})

	tests := []struct {
		name         string
		err          error
		requeueAfter time.Duration
		wantResult   ctrl.Result
		// wantErr is the error summarize must return, nil for none.
		wantErr         error
		wantReady       *condWant
		wantReconciling *condWant
		wantStalled     *condWant
	}{
		{
			name:         "success is Ready and passes requeueAfter through",
			requeueAfter: 90 * time.Minute,
			wantResult:   ctrl.Result{RequeueAfter: 90 * time.Minute},
			wantReady:    &condWant{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, readyMessage},
		},
		{
			name:      "success without a requeue",
			wantReady: &condWant{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, readyMessage},
		},
		{
			name:         "stalled outcome is Stalled and not Reconciling",
			err:          stalledErr,
			requeueAfter: time.Minute,
			wantResult:   ctrl.Result{RequeueAfter: stallRetry},
			wantReady:    &condWant{metav1.ConditionFalse, shopv1alpha1.ReasonInvalidSpec, stalledErr.Error()},
			wantStalled:  &condWant{metav1.ConditionTrue, shopv1alpha1.ReasonInvalidSpec, stalledErr.Error()},
		},
		{
			name:        "wrapped stalled outcome keeps its reason and message",
			err:         fmt.Errorf("reconciling role: %w", stalledErr),
			wantResult:  ctrl.Result{RequeueAfter: stallRetry},
			wantReady:   &condWant{metav1.ConditionFalse, shopv1alpha1.ReasonInvalidSpec, stalledErr.Error()},
			wantStalled: &condWant{metav1.ConditionTrue, shopv1alpha1.ReasonInvalidSpec, stalledErr.Error()},
		},
		{
			name:            "waiting outcome is Reconciling and not Stalled",
			err:             waitingErr,
			wantResult:      ctrl.Result{RequeueAfter: waitRetry},
			wantReady:       &condWant{metav1.ConditionFalse, shopv1alpha1.ReasonShopNotReady, waitingErr.Error()},
			wantReconciling: &condWant{metav1.ConditionTrue, shopv1alpha1.ReasonShopNotReady, waitingErr.Error()},
		},
		{
			name:            "rate limited is Reconciling and requeued after RetryAfter",
			err:             rateErr,
			wantResult:      ctrl.Result{RequeueAfter: 30 * time.Second},
			wantReady:       &condWant{metav1.ConditionFalse, shopv1alpha1.ReasonRateLimited, rateErr.Error()},
			wantReconciling: &condWant{metav1.ConditionTrue, shopv1alpha1.ReasonRateLimited, rateErr.Error()},
		},
		{
			name:            "outcome without requeue is returned for backoff",
			err:             backoffErr,
			requeueAfter:    time.Hour,
			wantErr:         backoffErr,
			wantReady:       &condWant{metav1.ConditionFalse, shopv1alpha1.ReasonPlatformError, backoffErr.Error()},
			wantReconciling: &condWant{metav1.ConditionTrue, shopv1alpha1.ReasonPlatformError, backoffErr.Error()},
		},
		{
			name:            "plain error is returned for backoff and Progressing",
			err:             plainErr,
			requeueAfter:    time.Hour,
			wantErr:         plainErr,
			wantReady:       &condWant{metav1.ConditionFalse, shopv1alpha1.ReasonProgressing, plainErr.Error()},
			wantReconciling: &condWant{metav1.ConditionTrue, shopv1alpha1.ReasonProgressing, plainErr.Error()},
		},
	}
	for _, tt := range tests {
		for _, prior := range []string{"fresh", "was stalled", "was reconciling"} {
			t.Run(tt.name+"/"+prior, func(t *testing.T) {
				g := NewWithT(t)
				sa := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Name: "xh", Namespace: "shop", Generation: 7}}
				old := metav1.Condition{
					Status: metav1.ConditionTrue, Reason: "Old", Message: "old",
					ObservedGeneration: 6, LastTransitionTime: metav1.Now(),
				}
				switch prior {
				case "was stalled":
					stale, ready := old, old
					stale.Type = shopv1alpha1.ConditionStalled
					ready.Type, ready.Status = shopv1alpha1.ConditionReady, metav1.ConditionFalse
					sa.Status.Conditions = []metav1.Condition{ready, stale}
				case "was reconciling":
					stale, ready := old, old
					stale.Type = shopv1alpha1.ConditionReconciling
					ready.Type = shopv1alpha1.ConditionReady
					sa.Status.Conditions = []metav1.Condition{ready, stale}
				}
				// A step condition must be left alone.
				step := metav1.Condition{
					Type: shopv1alpha1.ConditionSynced, Status: metav1.ConditionTrue, Reason: "Step", Message: "step",
					ObservedGeneration: 6, LastTransitionTime: metav1.Now(),
				}
				sa.Status.Conditions = append(sa.Status.Conditions, step)

				result, err := summarize(sa, tt.err, readyMessage, tt.requeueAfter)

				if tt.wantErr != nil {
					g.Expect(err).To(BeIdenticalTo(tt.wantErr))
				} else {
					g.Expect(err).NotTo(HaveOccurred())
				}
				g.Expect(result).To(Equal(tt.wantResult))
				expectCondition(g, sa, shopv1alpha1.ConditionReady, tt.wantReady)
				expectCondition(g, sa, shopv1alpha1.ConditionReconciling, tt.wantReconciling)
				expectCondition(g, sa, shopv1alpha1.ConditionStalled, tt.wantStalled)
				synced := apimeta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionSynced)
				g.Expect(synced).NotTo(BeNil())
				g.Expect(*synced).To(Equal(step))
				g.Expect(sa.Status.Conditions).To(HaveLen(1 + 1 + countNonNil(tt.wantReconciling, tt.wantStalled)))
			})
		}
	}
}

func countNonNil(cs ...*condWant) int {
	n := 0
	for _, c := range cs {
		if c != nil {
			n++
		}
	}
	return n
}

func TestSummarizeMarkStep(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want condWant
	}{
		{
			name: "success",
			want: condWant{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, "all permissions known"},
		},
		{
			name: "outcome",
			err:  stalled(shopv1alpha1.ReasonUnknownPermissions, "nope is unknown"),
			want: condWant{metav1.ConditionFalse, shopv1alpha1.ReasonUnknownPermissions, "nope is unknown"},
		},
		{
			name: "wrapped outcome keeps its reason",
			err:  fmt.Errorf("checking: %w", stalled(shopv1alpha1.ReasonHighRiskNotAllowed, "risky")),
			want: condWant{metav1.ConditionFalse, shopv1alpha1.ReasonHighRiskNotAllowed, "checking: risky"},
		},
		{
			name: "plain error",
			err:  errors.New("boom"),
			want: condWant{metav1.ConditionFalse, shopv1alpha1.ReasonProgressing, "boom"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			role := &shopv1alpha1.Role{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
			markStep(role, shopv1alpha1.ConditionPermissionsValid, tt.err, "all permissions known")
			expectCondition(g, role, shopv1alpha1.ConditionPermissionsValid, &tt.want)
			g.Expect(role.Status.Conditions).To(HaveLen(1))
		})
	}
}

func TestSummarizeObservedGenerationFollowsObject(t *testing.T) {
	g := NewWithT(t)
	sa := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Generation: 1}}
	_, err := summarize(sa, nil, "ok", 0)
	g.Expect(err).NotTo(HaveOccurred())

	sa.Generation = 2
	_, err = summarize(sa, nil, "ok", 0)
	g.Expect(err).NotTo(HaveOccurred())
	expectCondition(g, sa, shopv1alpha1.ConditionReady, &condWant{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, "ok"})

	sa.Generation = 3
	_, err = summarize(sa, stalled(shopv1alpha1.ReasonInvalidSpec, "bad"), "ok", 0)
	g.Expect(err).NotTo(HaveOccurred())
	expectCondition(g, sa, shopv1alpha1.ConditionReady, &condWant{metav1.ConditionFalse, shopv1alpha1.ReasonInvalidSpec, "bad"})
	expectCondition(g, sa, shopv1alpha1.ConditionStalled, &condWant{metav1.ConditionTrue, shopv1alpha1.ReasonInvalidSpec, "bad"})
}

func TestDiffSets(t *testing.T) {
	tests := []struct {
		name        string
		a, b        []string
		wantAdded   []string
		wantRemoved []string
	}{
		{name: "both empty"},
		{name: "equal", a: []string{"x", "y"}, b: []string{"y", "x"}},
		{name: "all added", b: []string{"x", "y"}, wantAdded: []string{"x", "y"}},
		{name: "all removed", a: []string{"x", "y"}, wantRemoved: []string{"x", "y"}},
		{
			name: "some of each, in input order",
			a:    []string{"trade", "phone", "sell"}, b: []string{"sell", "wangwang", "data", "trade"},
			wantAdded: []string{"wangwang", "data"}, wantRemoved: []string{"phone"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			added, removed := diffSets(tt.a, tt.b)
			g.Expect(added).To(Equal(tt.wantAdded))
			g.Expect(removed).To(Equal(tt.wantRemoved))
		})
	}
}

// Every kind of change gets its own words in the Updated Event: a schedule
// boundary says presence, never "login enabled".
func TestDescribeChange(t *testing.T) {
	base := platform.AccountState{
		Profile:  platform.Profile{DisplayName: "小红", EmployeeName: "Li Hong", Department: "客服部", Phone: "13800138000"},
		RoleIDs:  []string{"1"},
		Seat:     &platform.Seat{Chat: true},
		Security: platform.Security{PhoneProtection: true},
	}
	roles := []resolvedRole{{name: "cs", id: "1"}, {name: "lead", id: "2"}}
	tests := []struct {
		name      string
		applied   []string
		effective []string
		change    func(*platform.AccountState)
		seat      []string
		want      string
	}{
		{
			name: "nothing differs",
			want: "the declared state written again (nothing differed)",
		},
		{
			name:    "granted and revoked",
			applied: []string{"phone", "trade"}, effective: []string{"phone", "sell", "sm"},
			want: "granted sell, sm; revoked trade",
		},
		{
			name:    "offboarding revokes and disables",
			applied: []string{"phone", "trade"},
			change:  func(s *platform.AccountState) { s.Disabled = true },
			want:    "revoked phone, trade; login disabled",
		},
		{
			name:   "roles by name",
			change: func(s *platform.AccountState) { s.RoleIDs = []string{"2"} },
			want:   "roles: added lead, removed cs",
		},
		{
			name:   "profile",
			change: func(s *platform.AccountState) { s.Profile.DisplayName, s.Profile.EmployeeNumber = "红", "E7" },
			want:   "profile: display name, employee number",
		},
		{
			name:   "department",
			change: func(s *platform.AccountState) { s.Profile.Department = "运营部" },
			want:   "department 客服部 → 运营部",
		},
		{
			name:   "phone, masked",
			change: func(s *platform.AccountState) { s.Profile.Phone = "13900139000" },
			want:   "phone changed to 139****9000",
		},
		{
			name:   "seat",
			change: func(s *platform.AccountState) { s.Seat = &platform.Seat{Chat: false} },
			want:   "chat (IM) off",
		},
		{
			name:   "security",
			change: func(s *platform.AccountState) { s.Security = platform.Security{DigitalCertificate: true} },
			want:   "security: phone protection off, digital certificate on",
		},
		{
			name: "presence at a schedule boundary",
			seat: []string{"presence set to Break (小休, cannot receive messages) at the Mon 12:00 Asia/Shanghai schedule boundary (window lunch began)"},
			want: "presence set to Break (小休, cannot receive messages) at the Mon 12:00 Asia/Shanghai schedule boundary (window lunch began)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			sa := &shopv1alpha1.SubAccount{Status: shopv1alpha1.SubAccountStatus{
				AppliedPermissions: tt.applied, EffectivePermissions: tt.effective,
			}}
			send := base
			send.Profile, send.RoleIDs = base.Profile, slices.Clone(base.RoleIDs)
			if tt.change != nil {
				tt.change(&send)
			}
			g.Expect(describeChange(sa, roles, base, send, tt.seat)).To(Equal(tt.want))
		})
	}
}
