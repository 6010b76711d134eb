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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// TestOwnedSecretChangedSkipsTheLoginPublication: the SubAccount's own
// publication of its login (pending → live, username added) does not wake
// it again (it was a second, idle reconcile of every new SubAccount); any
// other change of its Secret does, the publication with it included.
func TestOwnedSecretChangedSkipsTheLoginPublication(t *testing.T) {
	pending := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "a-credentials", ResourceVersion: "1",
		Labels:      map[string]string{shopv1alpha1.LabelSecretRole: "credentials"},
		Annotations: map[string]string{shopv1alpha1.AnnotationLogin: shopv1alpha1.LoginPending, shopv1alpha1.AnnotationPasswordRevision: "1"}},
		Data: map[string][]byte{shopv1alpha1.SecretKeyPassword: []byte("pw"), shopv1alpha1.SecretKeyAccountName: []byte("a")}}
	published := func(edit func(*corev1.Secret)) *corev1.Secret {
		s := pending.DeepCopy()
		s.ResourceVersion = "2"
		s.Annotations[shopv1alpha1.AnnotationLogin] = shopv1alpha1.LoginLive
		s.Data[shopv1alpha1.SecretKeyUsername] = []byte("main:a")
		if edit != nil {
			edit(s)
		}
		return s
	}
	cases := []struct {
		name string
		old  *corev1.Secret
		new  *corev1.Secret
		wake bool
	}{
		{"the publication", pending, published(nil), false},
		{"the publication and a new password", pending, published(func(s *corev1.Secret) { s.Data[shopv1alpha1.SecretKeyPassword] = []byte("other") }), true},
		{"the publication and a label", pending, published(func(s *corev1.Secret) { s.Labels["x"] = "y" }), true},
		{"the publication and another annotation", pending, published(func(s *corev1.Secret) { s.Annotations[shopv1alpha1.AnnotationPasswordRevision] = "2" }), true},
		{"the publication and a key removed", pending, published(func(s *corev1.Secret) { delete(s.Data, shopv1alpha1.SecretKeyPassword) }), true},
		{"the publication and a new key", pending, published(func(s *corev1.Secret) { s.Data["extra"] = []byte("x") }), true},
		{"the username changed on a live Secret", published(nil), published(func(s *corev1.Secret) {
			s.ResourceVersion = "3"
			s.Data[shopv1alpha1.SecretKeyUsername] = []byte("main:b")
		}), true},
		{"live back to pending", published(nil), func() *corev1.Secret { s := pending.DeepCopy(); s.ResourceVersion = "3"; return s }(), true},
		{"the publication while being deleted", pending, published(func(s *corev1.Secret) { now := metav1.Now(); s.DeletionTimestamp = &now }), true},
		{"a resync", pending, pending, false},
	}
	for _, c := range cases {
		if got := ownedSecretChanged.Update(event.UpdateEvent{ObjectOld: c.old, ObjectNew: c.new}); got != c.wake {
			t.Errorf("%s: wakes the SubAccount = %v, want %v", c.name, got, c.wake)
		}
	}
	if ownedSecretChanged.Create(event.CreateEvent{Object: pending}) {
		t.Error("the Secret's creation wakes the SubAccount")
	}
	if !ownedSecretChanged.Delete(event.DeleteEvent{Object: pending}) {
		t.Error("the Secret's deletion does not wake the SubAccount")
	}
}
