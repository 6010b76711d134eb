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

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// Every reconcile's log line names the resource, its shop and the shop's
// platform.
func TestShopLogger(t *testing.T) {
	g := NewWithT(t)
	shop := &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "hongxing"},
		Spec: shopv1alpha1.ShopSpec{Platform: shopv1alpha1.PlatformDouyin}}
	sa := newSubAccount("ns", "xiaohong")
	sa.Spec.ShopRef.Name = "hongxing"
	orphan := newSubAccount("ns", "orphan")
	orphan.Spec.ShopRef.Name = "gone"
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(shop, sa, orphan).Build()

	var lines []string
	base := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})
	subAccounts := shopLogger(base, reader, "subaccount", "SubAccount",
		shopNameFromRef(reader, func() *shopv1alpha1.SubAccount { return &shopv1alpha1.SubAccount{} },
			func(sa *shopv1alpha1.SubAccount) string { return sa.Spec.ShopRef.Name }))
	shops := shopLogger(base, reader, "shop", "Shop", shopNameItself)
	logLine := func(build func(*reconcile.Request) logr.Logger, obj client.Object) string {
		lines = nil
		req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}}
		build(&req).Error(nil, "Reconciler error")
		g.Expect(lines).To(HaveLen(1))
		return lines[0]
	}

	g.Expect(logLine(subAccounts, sa)).To(And(
		ContainSubstring(`"controller"="subaccount"`), ContainSubstring(`"controllerKind"="SubAccount"`),
		ContainSubstring(`"namespace"="ns"`), ContainSubstring(`"name"="xiaohong"`),
		ContainSubstring(`"shop"="hongxing"`), ContainSubstring(`"platform"="douyin"`)))
	g.Expect(logLine(shops, shop)).To(And(ContainSubstring(`"name"="hongxing"`),
		ContainSubstring(`"shop"="hongxing"`), ContainSubstring(`"platform"="douyin"`)))
	// The Shop is gone: the shop is still named, the platform cannot be.
	line := logLine(subAccounts, orphan)
	g.Expect(line).To(ContainSubstring(`"shop"="gone"`))
	g.Expect(line).NotTo(ContainSubstring(`"platform"`))
	// The shop and platform are read when a line is written: a Shop that
	// reaches the cache after the reconcile started is named.
	lines = nil
	late := newSubAccount("ns", "early")
	late.Spec.ShopRef.Name = "late"
	g.Expect(reader.Create(context.Background(), late)).To(Succeed())
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "early"}}
	log := subAccounts(&req).WithValues("reconcileID", "r1")
	g.Expect(reader.Create(context.Background(), &shopv1alpha1.Shop{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "late"},
		Spec: shopv1alpha1.ShopSpec{Platform: shopv1alpha1.PlatformPinduoduo}})).To(Succeed())
	log.V(0).Info("status written")
	g.Expect(lines).To(ConsistOf(And(ContainSubstring(`"shop"="late"`), ContainSubstring(`"platform"="pinduoduo"`),
		ContainSubstring(`"reconcileID"="r1"`))))
	// The object is gone: what the request says.
	line = logLine(subAccounts, newSubAccount("ns", "deleted"))
	g.Expect(line).To(ContainSubstring(`"name"="deleted"`))
	g.Expect(line).NotTo(ContainSubstring(`"shop"`))
	// The controller's own logger (no request).
	lines = nil
	subAccounts(nil).Info("starting")
	g.Expect(lines).To(ConsistOf(And(ContainSubstring(`"controller"="subaccount"`), Not(ContainSubstring(`"name"`)))))
}

// withCounter counts the WithValues calls that reach its LogSink.
type withCounter struct {
	logr.LogSink
	calls *int
}

func (w withCounter) WithValues(kv ...any) logr.LogSink {
	*w.calls++
	return withCounter{LogSink: w.LogSink.WithValues(kv...), calls: w.calls}
}

// A reconcile that writes no line costs its logger no WithValues on the
// LogSink underneath (zap would encode them at once); a line written
// still carries every value, in the order added.
func TestShopLoggerKeepsValuesAsideUntilALineIsWritten(t *testing.T) {
	g := NewWithT(t)
	reader := fake.NewClientBuilder().WithScheme(scheme).Build()
	var lines []string
	calls := 0
	base := logr.New(withCounter{LogSink: funcr.New(func(_, args string) { lines = append(lines, args) }, funcr.Options{}).GetSink(),
		calls: &calls})
	subAccounts := shopLogger(base, reader, "subaccount", "SubAccount",
		shopNameFromRef(reader, func() *shopv1alpha1.SubAccount { return &shopv1alpha1.SubAccount{} },
			func(sa *shopv1alpha1.SubAccount) string { return sa.Spec.ShopRef.Name }))
	g.Expect(calls).To(Equal(1), "the controller's own values, once")

	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "amy"}}
	log := subAccounts(&req).WithValues("reconcileID", "r1").WithName("events").WithValues("step", "account")
	g.Expect(calls).To(Equal(1), "no line written, nothing encoded")
	log.Info("created")
	g.Expect(lines).To(HaveLen(1))
	g.Expect(lines[0]).To(MatchRegexp(`"name"="amy".*"reconcileID"="r1".*"step"="account"`))
}
