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
// publication of its login (pending → live, noted by publishLogin before
// its patch) does not wake it again (it was a second, idle reconcile of
// every new SubAccount); any other change of its Secret does, and so does a
// login turned live by someone else. The cache's trimmed Secrets carry the
// login's state in their type; whole Secrets (a fake client's) in their
// annotation.
func TestOwnedSecretChangedSkipsTheLoginPublication(t *testing.T) {
	for _, form := range []struct {
		name string
		make func(rv string, live bool) *corev1.Secret
	}{
		{"trimmed", func(rv string, live bool) *corev1.Secret {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a-credentials", ResourceVersion: rv}, Type: secretTypeMetadataOnly}
			if live {
				s.Type = secretTypeMetadataOnlyLive
			}
			return s
		}},
		{"whole", func(rv string, live bool) *corev1.Secret {
			login := shopv1alpha1.LoginPending
			if live {
				login = shopv1alpha1.LoginLive
			}
			return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a-credentials", ResourceVersion: rv,
				Annotations: map[string]string{shopv1alpha1.AnnotationLogin: login}}}
		}},
	} {
		t.Run(form.name, func(t *testing.T) {
			pending, live := func(rv string) *corev1.Secret { return form.make(rv, false) }, func(rv string) *corev1.Secret { return form.make(rv, true) }
			var publishing inFlight
			p := ownedSecretChanged(&publishing)
			wakes := func(o, n *corev1.Secret) bool { return p.Update(event.UpdateEvent{ObjectOld: o, ObjectNew: n}) }

			if !wakes(pending("1"), live("2")) {
				t.Error("a login turned live by someone else does not wake the SubAccount")
			}
			publishing.start(pending("2"))
			if wakes(pending("2"), pending("2")) {
				t.Error("a resync wakes the SubAccount")
			}
			if !wakes(pending("2"), pending("3")) {
				t.Error("another change while the publication is on its way does not wake the SubAccount")
			}
			if wakes(pending("3"), live("4")) {
				t.Error("the publication's own event wakes the SubAccount")
			}
			if !wakes(live("4"), live("5")) {
				t.Error("a change after the publication does not wake the SubAccount")
			}
			if !wakes(live("5"), pending("6")) || !wakes(pending("6"), live("7")) {
				t.Error("live back to pending and live again, by someone else, does not wake the SubAccount")
			}

			// A publication that failed is forgotten.
			publishing.start(pending("7"))
			publishing.done(pending("7"))
			if !wakes(pending("7"), live("8")) {
				t.Error("a failed publication's note hides someone else's")
			}

			publishing.start(pending("8"))
			if !p.Delete(event.DeleteEvent{Object: pending("8")}) {
				t.Error("the Secret's deletion does not wake the SubAccount")
			}
			if publishing.done(pending("8")) {
				t.Error("a deleted Secret's note is kept")
			}
			if p.Create(event.CreateEvent{Object: pending("1")}) {
				t.Error("the Secret's creation wakes the SubAccount")
			}
		})
	}
}
