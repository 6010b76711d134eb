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
	"fmt"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// patchStatus writes obj's status if it differs from before: the one status
// write of a reconcile, and none when nothing changed.
func patchStatus(ctx context.Context, c client.Client, before, after client.Object) error {
	patch := client.MergeFrom(before)
	data, err := patch.Data(after)
	if err != nil {
		return fmt.Errorf("computing status patch: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("reading status patch: %w", err)
	}
	if _, changed := fields["status"]; !changed {
		return nil
	}
	if err := c.Status().Patch(ctx, after, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("writing status: %w", err)
	}
	// One debug line per status change, on the reconcile's logger (which
	// names the resource, its shop and its platform): the Ready condition's
	// status and reason, never its message.
	if obj, ok := after.(conditioned); ok {
		if ready := apimeta.FindStatusCondition(obj.GetConditions(), shopv1alpha1.ConditionReady); ready != nil {
			ctrl.LoggerFrom(ctx).V(1).Info("status written", "ready", ready.Status, "reason", ready.Reason)
		}
	}
	return nil
}

// ensureFinalizer adds finalizer to obj, patching metadata only when it
// was missing. The patch carries the resourceVersion so a concurrent
// change of the finalizer list is retried rather than overwritten.
func ensureFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string) error {
	if controllerutil.ContainsFinalizer(obj, finalizer) {
		return nil
	}
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(obj, finalizer)
	if err := c.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("adding finalizer %s: %w", finalizer, err)
	}
	return nil
}

// removeFinalizer removes finalizer from obj if present.
func removeFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string) error {
	if !controllerutil.ContainsFinalizer(obj, finalizer) {
		return nil
	}
	patch := client.MergeFromWithOptions(obj.DeepCopyObject().(client.Object), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(obj, finalizer)
	if err := c.Patch(ctx, obj, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("removing finalizer %s: %w", finalizer, err)
	}
	return nil
}

// staleRetry is how soon a reconcile that found an older copy of its object
// than its own last write looks again: the cache is normally a few
// milliseconds behind.
const staleRetry = 100 * time.Millisecond

// writes remembers, per object, the resourceVersion of the controller's own
// last write. A reconcile that reads an older copy from the cache (an event
// raced ahead of the informer) waits for the cache rather than act on
// status it has already replaced: acting on it could repeat a platform call
// or patch status against the wrong base. Resource versions are compared
// as the API allows (k8s.io/apimachinery/pkg/util/resourceversion).
type writes struct {
	m sync.Map // client.ObjectKey → resourceVersion
}

// stale reports whether obj, as read, is older than the last write.
func (w *writes) stale(obj client.Object) bool {
	key := client.ObjectKeyFromObject(obj)
	last, ok := w.m.Load(key)
	if !ok {
		return false
	}
	cmp, err := resourceversion.CompareResourceVersion(obj.GetResourceVersion(), last.(string))
	if err != nil || cmp >= 0 {
		w.m.CompareAndDelete(key, last)
		return false
	}
	return true
}

// wrote records obj's resourceVersion after a write, if it changed from
// the one read.
func (w *writes) wrote(obj client.Object, read string) {
	if rv := obj.GetResourceVersion(); rv != read {
		w.m.Store(client.ObjectKeyFromObject(obj), rv)
	}
}

// forget drops what is remembered about key (the object is gone).
func (w *writes) forget(key client.ObjectKey) { w.m.Delete(key) }
