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
	"reflect"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// patchStatus writes obj's status if it differs from before: the one status
// write of a reconcile, and none when nothing changed. The merge patch is
// computed from the two statuses only (what client.MergeFrom would find,
// without encoding and diffing metadata and spec as well: at 10,000
// SubAccounts that was a fifth of the manager's allocations).
//
// With md, the patch goes through the metadata client: the API server's
// answer is after's metadata, not the whole object, and only after's
// resourceVersion is taken from it (the status sent is the status it now
// has). Without md (unit tests on a fake client), controller-runtime's
// status client reads the whole answer into after.
func patchStatus(ctx context.Context, c client.Client, md *metadataClient, before, after client.Object) error {
	was, is := statusField(before), statusField(after)
	if !was.IsValid() || !is.IsValid() {
		return fmt.Errorf("%T has no status", after)
	}
	if equality.Semantic.DeepEqual(was.Interface(), is.Interface()) {
		return nil
	}
	diff, err := json.Marshal(is.Interface())
	if err != nil {
		return fmt.Errorf("encoding status: %w", err)
	}
	// From an empty status (a new object's first write) the patch is the
	// status itself; otherwise the difference between the two.
	if !was.IsZero() {
		from, err := json.Marshal(was.Interface())
		if err != nil {
			return fmt.Errorf("encoding status: %w", err)
		}
		if diff, err = jsonpatch.CreateMergePatch(from, diff); err != nil {
			return fmt.Errorf("computing status patch: %w", err)
		}
	}
	if string(diff) == "{}" {
		return nil // equal once encoded (e.g. an empty list and none)
	}
	data := append(append([]byte(`{"status":`), diff...), '}')
	if md != nil {
		err = md.patch(ctx, after, data, "status")
	} else {
		err = c.Status().Patch(ctx, after, client.RawPatch(types.MergePatchType, data))
	}
	if client.IgnoreNotFound(err) != nil {
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

// statusField is obj's Status field (every kind of this API has one).
func statusField(obj client.Object) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem().FieldByName("Status")
}

// ensureFinalizer adds finalizer to obj, patching metadata only when it
// was missing.
func ensureFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string) error {
	if controllerutil.ContainsFinalizer(obj, finalizer) {
		return nil
	}
	controllerutil.AddFinalizer(obj, finalizer)
	if err := patchFinalizers(ctx, c, obj); err != nil {
		return fmt.Errorf("adding finalizer %s: %w", finalizer, err)
	}
	return nil
}

// removeFinalizer removes finalizer from obj if present.
func removeFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string) error {
	if !controllerutil.ContainsFinalizer(obj, finalizer) {
		return nil
	}
	controllerutil.RemoveFinalizer(obj, finalizer)
	if err := patchFinalizers(ctx, c, obj); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("removing finalizer %s: %w", finalizer, err)
	}
	return nil
}

// patchFinalizers writes obj's finalizer list as it now is, with the
// resourceVersion it was read at, so a concurrent change of the list fails
// with a conflict and is retried rather than overwritten: the merge patch
// client.MergeFromWithOptimisticLock would compute, written directly
// instead of by copying, encoding and diffing the whole object.
func patchFinalizers(ctx context.Context, c client.Client, obj client.Object) error {
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"finalizers": obj.GetFinalizers(), "resourceVersion": obj.GetResourceVersion()}})
	if err != nil {
		return err
	}
	return c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, data))
}
