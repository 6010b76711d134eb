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

// Every watch predicate of the three controllers: what wakes a reconcile.

import (
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// ownChangeMatters passes what an object's own reconcile acts on: its spec
// (generation), its metadata (annotations such as rotation, resend-code or
// requested-at; labels, which people change to force a look), deletion and
// finalizers. The controller's own status writes, and resyncs of unchanged
// objects, do not wake it again.
var ownChangeMatters = predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{},
	predicate.LabelChangedPredicate{},
	predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !e.ObjectNew.GetDeletionTimestamp().Equal(e.ObjectOld.GetDeletionTimestamp()) ||
			!slices.Equal(e.ObjectNew.GetFinalizers(), e.ObjectOld.GetFinalizers()) && !e.ObjectNew.GetDeletionTimestamp().IsZero()
	}})

// shopSpecOrReadinessChanged passes the Shop changes every dependant acts
// on: the spec and readiness. A drift check's lastSyncTime or a new seat
// count does not wake every account of the shop.
var shopSpecOrReadinessChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld.(*shopv1alpha1.Shop), e.ObjectNew.(*shopv1alpha1.Shop)
		return o.Generation != n.Generation ||
			apimeta.IsStatusConditionTrue(o.Status.Conditions, shopv1alpha1.ConditionReady) !=
				apimeta.IsStatusConditionTrue(n.Status.Conditions, shopv1alpha1.ConditionReady)
	},
}

// shopAccountQuotaChanged passes seat count changes, which matter only to the
// SubAccounts waiting for a seat (one may have come free; wakeForAccountQuota
// wakes the oldest).
var shopAccountQuotaChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return !equality.Semantic.DeepEqual(e.ObjectOld.(*shopv1alpha1.Shop).Status.Seats, e.ObjectNew.(*shopv1alpha1.Shop).Status.Seats)
	},
}

// roleChangeMatters passes the Role changes its SubAccounts act on: the
// platform role ID and permissions. A member count changing does not wake
// every member.
var roleChangeMatters = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld.(*shopv1alpha1.Role), e.ObjectNew.(*shopv1alpha1.Role)
		return o.Status.RoleID != n.Status.RoleID || !slices.Equal(o.Status.EffectivePermissions, n.Status.EffectivePermissions) ||
			o.Spec.ShopRef != n.Spec.ShopRef
	},
}

// ownedSecretChanged passes changes of a SubAccount's own credentials
// Secret, not its creation nor its login's publication (pending → live,
// publishLogin): both are the reconcile's own doing, done as its last steps
// (and at start the SubAccount is listed anyway); re-queueing on them would
// run a second reconcile, with nothing to do, for every new SubAccount,
// against a cache that may not yet hold the status the first one wrote.
// The publication is told by what it changes, the login going live, and by
// the note publishLogin makes before it patches, so that the event, which
// may arrive before the patch's answer, finds it. The cache holds the
// Secret as metadata only (trimCredentials), so the rest of the change
// cannot be compared; a write of someone else's in the same moment has a
// version of its own and wakes the SubAccount by itself, unless it is the
// very one that turns the login live.
func ownedSecretChanged(publishing *inFlight) predicate.Predicate {
	return predicate.And(predicate.ResourceVersionChangedPredicate{}, predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Secret)
			n, ok2 := e.ObjectNew.(*corev1.Secret)
			if !ok1 || !ok2 || loginIsLive(o) || !loginIsLive(n) {
				return true
			}
			return !publishing.done(n)
		},
		DeleteFunc: func(e event.DeleteEvent) bool {
			publishing.done(e.Object)
			return true
		},
	})
}

// inFlight notes the objects a controller is about to write, until the
// event of the write arrives (done) or the write fails (done as well).
type inFlight struct{ m sync.Map } // client.ObjectKey → struct{}

// start notes that obj is about to be written.
func (f *inFlight) start(obj client.Object) { f.m.Store(client.ObjectKeyFromObject(obj), struct{}{}) }

// done forgets obj's note and reports whether there was one.
func (f *inFlight) done(obj client.Object) bool {
	_, ok := f.m.LoadAndDelete(client.ObjectKeyFromObject(obj))
	return ok
}

// dependantArrivedOrLeft passes what matters to a Shop about its
// dependants: one comes, goes, takes a seat, or starts or stops waiting for
// one.
var dependantArrivedOrLeft = predicate.Funcs{
	CreateFunc: func(event.CreateEvent) bool { return true },
	DeleteFunc: func(event.DeleteEvent) bool { return true },
	UpdateFunc: func(e event.UpdateEvent) bool {
		if o, ok := e.ObjectOld.(*shopv1alpha1.SubAccount); ok {
			n := e.ObjectNew.(*shopv1alpha1.SubAccount)
			return o.Status.AccountID != n.Status.AccountID || waitingForQuota(o) != waitingForQuota(n)
		}
		return false
	},
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// departmentMembershipChanged passes SubAccount updates that may change a
// department's member count: a new department in the spec, or an account
// in a department applied anew. The Shop then recounts (and deletes a
// removed department that became empty).
var departmentMembershipChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld.(*shopv1alpha1.SubAccount), e.ObjectNew.(*shopv1alpha1.SubAccount)
		if o.Spec.Employee.Department == "" && n.Spec.Employee.Department == "" {
			return false
		}
		return o.Spec.Employee.Department != n.Spec.Employee.Department || o.Status.AppliedHash != n.Status.AppliedHash
	},
}

// shopDepartmentIDsChanged passes a Shop's departments appearing,
// disappearing or changing ID (not member counts), which SubAccounts
// waiting for a department act on.
var shopDepartmentIDsChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		ids := func(s *shopv1alpha1.Shop) []string {
			out := make([]string, 0, len(s.Status.Departments))
			for _, d := range s.Status.Departments {
				out = append(out, d.Path+"="+d.ID)
			}
			return out
		}
		return !slices.Equal(ids(e.ObjectOld.(*shopv1alpha1.Shop)), ids(e.ObjectNew.(*shopv1alpha1.Shop)))
	},
}

// isCodeSecret passes the Secrets that hand over an SMS code (labelled
// shop.subaccount.io/secret=verification; the cache holds only labelled
// Secrets). Their watch is what picks a code up at once: there is no poll.
var isCodeSecret = predicate.NewPredicateFuncs(func(o client.Object) bool {
	return o.GetLabels()[shopv1alpha1.LabelSecretRole] == shopv1alpha1.SecretRoleVerification
})
