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

// A SubAccount's deletion: its deletion policy carried out on the platform.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func (r *SubAccountReconciler) reconcileDelete(ctx context.Context, sa *shopv1alpha1.SubAccount) (ctrl.Result, error) {
	left, err := r.offboard(ctx, sa)
	if err != nil {
		markDeleting(sa, err)
		return summarizeDelete(err)
	}
	if left && sa.Status.AccountID != "" {
		// Its seat stays taken once the SubAccount is gone: the Shop
		// counts again then (DriftTracker.recountDue).
		r.Drift.accountLeft(sa, r.now())
	}
	return ctrl.Result{}, removeFinalizer(ctx, r.Client, sa, subAccountFinalizer)
}

// offboard carries out the deletion policy on the platform, and says
// whether it left the account there (retained, disabled, or neither
// deletable nor disablable). It never writes the credentials Secret,
// except to let it outlive a retained account.
func (r *SubAccountReconciler) offboard(ctx context.Context, sa *shopv1alpha1.SubAccount) (left bool, err error) {
	policy := sa.DeletionPolicyOrDefault()
	if policy != shopv1alpha1.DeletionPolicyDelete {
		// The account lives on; so must the only copy of its password.
		if err := r.keepSecret(ctx, sa); err != nil {
			return false, err
		}
	}
	if policy == shopv1alpha1.DeletionPolicyRetain {
		r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Retained", "Offboard",
			"left sub-account %s on the platform (deletionPolicy Retain)", sa.Status.LoginName)
		return true, nil
	}
	pc, err := cleanupClient(ctx, r.Connector, r.Recorder, sa, sa.Spec.ShopRef.Name, "Offboard",
		"sub-account "+sa.Status.LoginName)
	if err != nil || pc == nil {
		return false, err
	}
	caps := platform.CapabilitiesOf(pc)
	if policy == shopv1alpha1.DeletionPolicyDelete && !caps.DeleteAccount {
		if !caps.AccountDisabled {
			r.Recorder.Eventf(sa, nil, corev1.EventTypeWarning, "NotSupported", "Offboard",
				"the platform's API can neither delete nor disable sub-accounts; %s is left as it is: remove it in the back office", sa.Status.LoginName)
			return true, nil
		}
		r.Recorder.Eventf(sa, nil, corev1.EventTypeWarning, "NotSupported", "Offboard",
			"the platform's API cannot delete sub-accounts; disabling %s instead: delete it in the back office", sa.Status.LoginName)
		policy = shopv1alpha1.DeletionPolicyDisable
	}
	id, err := r.accountToOffboard(ctx, pc, caps, sa)
	if err != nil || id == "" {
		return false, err
	}
	if policy == shopv1alpha1.DeletionPolicyDisable {
		acct, err := pc.GetAccount(ctx, id)
		if errors.Is(err, platform.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, platformOutcome("reading the account to disable it", err)
		}
		if acct.Disabled {
			return true, nil
		}
		acct.AccountState.Disabled = true
		if _, err := pc.UpdateAccount(ctx, id, acct.AccountState); err != nil {
			if errors.Is(err, platform.ErrNotFound) {
				return false, nil
			}
			return false, platformOutcome("disabling the account", err)
		}
		r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Disabled", "Offboard",
			"disabled sub-account %s (deletionPolicy Disable)", sa.Status.LoginName)
		return true, nil
	}
	if err := pc.DeleteAccount(ctx, id); err != nil && !errors.Is(err, platform.ErrNotFound) {
		return false, platformOutcome("deleting the account", err)
	}
	r.Recorder.Eventf(sa, nil, corev1.EventTypeNormal, "Deleted", "Offboard",
		"deleted sub-account %s (ID %s)", sa.Status.LoginName, id)
	return false, nil
}

// accountToOffboard returns the platform ID of the SubAccount's account.
// When status lost it (a crash right after creating), the account is looked
// up by name, and counts as ours only if the password we hold logs in:
// an account we did not create is never touched.
func (r *SubAccountReconciler) accountToOffboard(ctx context.Context, pc platform.Client, caps platform.Capabilities, sa *shopv1alpha1.SubAccount) (string, error) {
	if sa.Status.AccountID != "" {
		return sa.Status.AccountID, nil
	}
	if !caps.CheckCredentials {
		return "", nil // ownership cannot be proven: leave it alone
	}
	acct, err := pc.FindAccount(ctx, sa.Spec.AccountName)
	if errors.Is(err, platform.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", platformOutcome("looking the account up by name", err)
	}
	secret, err := r.credentialsSecret(ctx, sa)
	if err != nil || !metav1.IsControlledBy(secret, sa) {
		return "", nil
	}
	ok, err := pc.CheckCredentials(ctx, sa.Spec.AccountName, string(secret.Data[shopv1alpha1.SecretKeyPassword]))
	if err != nil {
		return "", platformOutcome("checking whether the account is ours", err)
	}
	if !ok {
		return "", nil
	}
	return acct.ID, nil
}

// keepSecret drops the SubAccount's owner reference from its credentials
// Secret so garbage collection leaves it: the account it logs in to stays.
func (r *SubAccountReconciler) keepSecret(ctx context.Context, sa *shopv1alpha1.SubAccount) error {
	secret, err := r.credentialsSecret(ctx, sa)
	if apierrors.IsNotFound(err) || (err == nil && !metav1.IsControlledBy(secret, sa)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the credentials Secret: %w", err)
	}
	patch := client.MergeFrom(secret.DeepCopy())
	secret.OwnerReferences = slices.DeleteFunc(secret.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == sa.UID })
	if err := r.Patch(ctx, secret, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("keeping the credentials Secret: %w", err)
	}
	return nil
}
