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
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// patchStatus sends the status only: all of it on a new object's first
// write, then what changed (a removed field as null), nothing when the
// status is unchanged; the API server ends up with the status as written.
func TestPatchStatusSendsOnlyTheStatusDiff(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sa := newSubAccount("ns", "amy", "cs")
	sa.Labels = map[string]string{"team": "cs"}
	var sent []map[string]any
	c := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).WithObjects(sa.DeepCopy()).
		WithStatusSubresource(&shopv1alpha1.SubAccount{}).Build(), interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			data, err := patch.Data(obj)
			g.Expect(err).NotTo(HaveOccurred())
			var m map[string]any
			g.Expect(json.Unmarshal(data, &m)).To(Succeed())
			sent = append(sent, m)
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	})
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(sa), sa)).To(Succeed())

	write := func(change func(*shopv1alpha1.SubAccount)) {
		t.Helper()
		before := sa.DeepCopy()
		change(sa)
		sa.Labels["team"] = "ops" // metadata is never part of a status write
		g.Expect(patchStatus(ctx, c, nil, before, sa)).To(Succeed())
	}
	write(func(sa *shopv1alpha1.SubAccount) {
		sa.Status.AccountID = "42"
		sa.Status.LoginName = "shop:amy"
		sa.Status.EffectivePermissions = []string{"a", "b"}
	})
	g.Expect(sent).To(HaveLen(1))
	g.Expect(sent[0]).To(Equal(map[string]any{"status": map[string]any{
		"accountID": "42", "loginName": "shop:amy", "effectivePermissions": []any{"a", "b"}}}))

	write(func(sa *shopv1alpha1.SubAccount) {
		sa.Status.LoginName = ""
		sa.Status.ObservedGeneration = 3
	})
	g.Expect(sent).To(HaveLen(2))
	g.Expect(sent[1]).To(Equal(map[string]any{"status": map[string]any{"loginName": nil, "observedGeneration": float64(3)}}))

	write(func(*shopv1alpha1.SubAccount) {})
	g.Expect(sent).To(HaveLen(2), "an unchanged status is not written")

	stored := &shopv1alpha1.SubAccount{}
	g.Expect(c.Get(ctx, client.ObjectKeyFromObject(sa), stored)).To(Succeed())
	g.Expect(stored.Status.AccountID).To(Equal("42"))
	g.Expect(stored.Status.LoginName).To(BeEmpty())
	g.Expect(stored.Status.ObservedGeneration).To(Equal(int64(3)))
	g.Expect(stored.Labels).To(Equal(map[string]string{"team": "cs"}))
}
