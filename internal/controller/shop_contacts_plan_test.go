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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func TestPlanContacts(t *testing.T) {
	spec := func(name, phone string) platform.ContactSpec { return platform.ContactSpec{Name: name, Phone: phone} }
	onPlatform := []platform.Contact{
		{ID: "c1", ContactSpec: spec("值班", "13800138001")},
		{ID: "c2", ContactSpec: spec("老王", "13800138002")},
		{ID: "c3", ContactSpec: spec("店长", "13800138003")}, // added in the back office
	}
	tests := []struct {
		name        string
		declared    []shopv1alpha1.NotificationContact
		status      []shopv1alpha1.ContactStatus
		annotations map[string]string
		want        contactPlan
	}{
		{
			name:     "a contact the platform lacks is added; a resend request older than it is not for its code",
			declared: []shopv1alpha1.NotificationContact{{Name: "夜班", Phone: "13800138009"}},
			annotations: map[string]string{
				shopv1alpha1.ContactResendAnnotation("13800138009"): "1700000000",
				shopv1alpha1.ContactResendAnnotation("13800138001"): "1700000001",
			},
			want: contactPlan{contacts: []plannedContact{{spec: spec("夜班", "13800138009"), add: true, resendHandled: "1700000000"}}},
		},
		{
			name:     "a contact is known by its phone: a new name renames it, and its handled resend carries over",
			declared: []shopv1alpha1.NotificationContact{{Name: "值班客服", Phone: "13800138001"}, {Name: "老王", Phone: "13800138002"}},
			status: []shopv1alpha1.ContactStatus{{Name: "值班", ID: "c1", LastHandledResend: "1700000001"},
				{Name: "老王", ID: "c2"}},
			want: contactPlan{contacts: []plannedContact{
				{spec: spec("值班客服", "13800138001"), current: onPlatform[0], rename: true, resendHandled: "1700000001"},
				{spec: spec("老王", "13800138002"), current: onPlatform[1]},
			}},
		},
		{
			name:     "only contacts the operator added are removed when dropped",
			declared: []shopv1alpha1.NotificationContact{{Name: "值班", Phone: "13800138001"}},
			status:   []shopv1alpha1.ContactStatus{{Name: "值班", ID: "c1"}, {Name: "老王", ID: "c2"}},
			want: contactPlan{remove: []platform.Contact{onPlatform[1]},
				contacts: []plannedContact{{spec: spec("值班", "13800138001"), current: onPlatform[0]}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Name: "shop", Annotations: tt.annotations}}
			shop.Spec.NotificationContacts = tt.declared
			shop.Status.NotificationContacts = tt.status
			g.Expect(planContacts(shop, onPlatform)).To(Equal(tt.want))
		})
	}
}

// Where each contact's code stands is sorted into the report: a platform
// failure a retry may cure fails the reconcile, a refusal is an issue, an
// expired code and an awaited one are named.
func TestContactsReportCode(t *testing.T) {
	g := NewWithT(t)
	var c contactsReport
	transient := platformOutcome("entering the code", platform.NewError(platform.ErrTransient, "", "gateway down"))
	g.Expect(c.code("值班", codeResult{failed: transient})).To(MatchError(HavePrefix("值班: entering the code: ")), "a platform failure a retry may cure")
	refused := platformOutcome("entering the code", platform.NewError(platform.ErrInvalid, "code", "malformed"))
	g.Expect(c.code("值班", codeResult{failed: refused})).To(Succeed())
	g.Expect(c.code("老王", codeResult{verified: true})).To(Succeed())
	g.Expect(c.code("店长", codeResult{message: "the code expired", err: stalled(shopv1alpha1.ReasonVerificationExpired, "the code expired")})).To(Succeed())
	g.Expect(c.code("夜班", codeResult{message: "a code was sent", err: &outcome{requeueAfter: 10 * time.Second}})).To(Succeed())
	g.Expect(c.code("早班", codeResult{message: "a code was sent", err: &outcome{requeueAfter: time.Minute}})).To(Succeed())

	g.Expect(c.issues.lines).To(Equal([]string{"值班: entering the code: invalid input: code: malformed"}))
	g.Expect(c.expired).To(Equal([]string{"店长: the code expired"}))
	g.Expect(c.pending).To(Equal([]string{"夜班: a code was sent", "早班: a code was sent"}))
	g.Expect(c.result().requeueAfter).To(Equal(10 * time.Second))
}

func TestContactsCondition(t *testing.T) {
	var issues sideIssues
	if err := issues.add(platformOutcome("adding notification contact 值班", platform.NewError(platform.ErrConflict, "phone", "taken"))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		report          contactsReport
		want            stepCondition
		wantUnsupported []string
	}{
		{
			name:   "none declared: no condition",
			report: contactsReport{},
		},
		{
			name:   "none declared and the API cannot manage them: no condition",
			report: contactsReport{notSupported: true},
		},
		{
			name:   "none declared, a dropped one could not be removed",
			report: contactsReport{issues: issues},
			want:   stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonConflict, issues.lines[0]},
		},
		{
			name:            "the API cannot manage them",
			report:          contactsReport{platform: shopv1alpha1.PlatformTaobao, declared: 2, notSupported: true},
			want:            stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonNotSupported, "taobao's API cannot manage notification contacts; set them in the platform's back office"},
			wantUnsupported: []string{"notificationContacts"},
		},
		{
			name:   "issues, then expired, then pending codes",
			report: contactsReport{declared: 3, issues: issues, expired: []string{"店长: expired"}, pending: []string{"夜班: sent"}},
			want:   stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonConflict, issues.lines[0] + "; 店长: expired; 夜班: sent"},
		},
		{
			name:   "expired before pending",
			report: contactsReport{declared: 2, expired: []string{"店长: expired"}, pending: []string{"夜班: sent"}},
			want:   stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonVerificationExpired, "店长: expired; 夜班: sent"},
		},
		{
			name:   "pending",
			report: contactsReport{declared: 2, pending: []string{"夜班: sent"}},
			want:   stepCondition{metav1.ConditionFalse, shopv1alpha1.ReasonPendingVerification, "夜班: sent"},
		},
		{
			name:   "all verified",
			report: contactsReport{declared: 2},
			want:   stepCondition{metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, "all 2 notification contacts are verified and receive the shop's notifications"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tt.report.condition()).To(Equal(tt.want))
			g.Expect(tt.report.unsupported()).To(Equal(tt.wantUnsupported))
		})
	}
}

func TestLimitsCondition(t *testing.T) {
	g := NewWithT(t)
	g.Expect(limitsReport{platform: shopv1alpha1.PlatformTaobao}.condition()).To(Equal(stepCondition{}), "nothing unsupported: no condition")
	g.Expect(limitsReport{platform: shopv1alpha1.PlatformTaobao, unsupported: []string{"departments (市场部)", "notificationContacts"}}.condition()).To(Equal(
		stepCondition{metav1.ConditionTrue, shopv1alpha1.ReasonNotSupported,
			"taobao's API cannot apply departments (市场部), notificationContacts; set them in the platform's back office"}))
}
