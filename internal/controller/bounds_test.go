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
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// Issue 15, item 8: a 60 KB message (a platform's, or many joined errors)
// becomes a condition message and an Event note the API server accepts:
// cut, on a character boundary, with the cut marker. Before the bound the
// whole 60 KB went into Condition.message (CRD limit 32,768), the status
// patch was refused and the object showed nothing.
func TestMessagesWrittenForPeopleAreBounded(t *testing.T) {
	g := NewWithT(t)
	long := strings.Repeat("客服", 10_000) // 60,000 bytes
	sa := &shopv1alpha1.SubAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "xh"}}
	_, _ = summarize(sa, stalled(shopv1alpha1.ReasonPlatformRejected, "creating the account: %s", long), "", 0)
	for _, c := range []string{shopv1alpha1.ConditionReady, shopv1alpha1.ConditionStalled} {
		cond := apimeta.FindStatusCondition(sa.Status.Conditions, c)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(len(cond.Message)).To(BeNumerically("<=", MaxConditionMessageBytes))
		g.Expect(len(cond.Message)).To(BeNumerically(">", MaxConditionMessageBytes-16), "cut, not emptied")
		g.Expect(cond.Message).To(HavePrefix("creating the account: 客服"))
		g.Expect(cond.Message).To(HaveSuffix(platform.CutMarker))
	}

	fake := events.NewFakeRecorder(1)
	boundedRecorder{inner: fake}.Eventf(sa, nil, "Warning", "Failed", "Create", "%s: %s", "creating the account", long)
	note := <-fake.Events
	g.Expect(len(note)).To(BeNumerically("<=", MaxEventNoteBytes+len("Warning Failed ")))
	g.Expect(note).To(HaveSuffix(platform.CutMarker))
}

// Issue 15, item 9 (controller side): a transport failure shows only its
// public text in status; the address and what happened there go to the
// log.
func TestTransportDetailGoesToTheLogOnly(t *testing.T) {
	g := NewWithT(t)
	detail := "dial tcp 10.0.0.7:6379: connect: connection refused"
	err := platformOutcome("checking the credentials", &platform.Error{Kind: platform.ErrTransient,
		Message: platform.UnreachableMessage, Detail: detail})
	shop := &shopv1alpha1.Shop{}
	_, _ = summarize(shop, err, "", 0)
	ready := apimeta.FindStatusCondition(shop.Status.Conditions, shopv1alpha1.ConditionReady)
	g.Expect(ready.Message).To(ContainSubstring(platform.UnreachableMessage))
	g.Expect(ready.Message).NotTo(ContainSubstring("10.0.0.7"))
	g.Expect(ready.Message).NotTo(ContainSubstring("refused"))

	var logged []string
	ctx := ctrl.LoggerInto(context.Background(), funcr.New(func(prefix, args string) { logged = append(logged, args) }, funcr.Options{}))
	logDetail(ctx, err)
	logDetail(ctx, errors.New("not a platform error"))
	g.Expect(logged).To(HaveLen(1))
	g.Expect(logged[0]).To(ContainSubstring(detail))
}
