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
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// credentials protects the Shop's credentials Secret with a finalizer and,
// when something may have changed there or in what we ask with, checks the
// credentials with ShopInfo: a new generation, a changed credentials
// Secret, a failed last check, a restart, or a drift check being due. A
// SubAccount arriving or leaving is counted from the cache (seats).
func (r *ShopReconciler) credentials(ctx context.Context, s *shopScope) (stepResult, error) {
	shop := s.shop
	secret, err := r.protectCredentials(ctx, shop)
	if err != nil {
		s.memo.check = nil
		return stepResult{}, err
	}
	s.secret = secret
	last := s.memo.check
	// A switched-off service is asked about again at each look (the Shop
	// is Stalled: every few minutes, or at once on requested-at), so the
	// owner's switching it on is seen without a change to the Shop.
	if last != nil && !s.driftDue && last.generation == shop.Generation && last.secretVersion == secret.ResourceVersion &&
		last.service != platform.ServiceOff && !last.recount &&
		apimeta.IsStatusConditionTrue(shop.Status.Conditions, shopv1alpha1.ConditionCredentialsValid) {
		due, err := r.recountDue(ctx, shop)
		if err != nil {
			return stepResult{}, err
		}
		if !due {
			return stepResult{}, nil
		}
	}
	s.memo.check = nil
	pc, err := s.client(ctx)
	if err != nil {
		return stepResult{}, err
	}
	s.infoFrom = r.now()
	info, err := r.checkCredentials(ctx, shop, pc, s.fingerprint)
	if err != nil {
		return stepResult{}, err
	}
	s.info, s.infoTo = &info, r.now()
	shop.Status.PhoneVerification = string(info.PhoneVerification)
	return stepResult{}, nil
}

// recountDue says whether the cache shows a SubAccount of shop holding an
// account it adopted since the last count, or gone after leaving its
// account on the platform (DriftTracker.recountDue).
func (r *ShopReconciler) recountDue(ctx context.Context, shop *shopv1alpha1.Shop) (bool, error) {
	key := client.ObjectKeyFromObject(shop)
	if !r.Drift.awaitsRecount(key) {
		return false, nil
	}
	managed, err := byIndex[*shopv1alpha1.SubAccount](ctx, r.Client, &shopv1alpha1.SubAccountList{}, shop.Namespace, indexSubAccountShop, shop.Name)
	if err != nil {
		return false, fmt.Errorf("listing SubAccounts of the shop: %w", err)
	}
	return r.Drift.recountDue(key, managed), nil
}

// credentialsRetry is how long credentials the platform refused are not
// tried again, unless they change.
const credentialsRetry = stallRetry

// rejection is credentials the platform refused: their fingerprint, when,
// and the outcome.
type rejection struct {
	fingerprint string
	at          time.Time
	err         *outcome
}

// checkCredentials calls ShopInfo, unless the same credentials were refused
// less than credentialsRetry ago: then it answers that refusal again
// without a call, so that the Shop's dependants coming and going, or its
// Secret's unrelated changes, cannot hammer the platform with credentials
// it already refused. Changed credentials are checked at once.
func (r *ShopReconciler) checkCredentials(ctx context.Context, shop *shopv1alpha1.Shop, pc platform.Client, fingerprint string) (platform.ShopInfo, error) {
	memo := r.memo(shop)
	if prev := memo.rejected; prev != nil && prev.fingerprint == fingerprint {
		if left := prev.at.Add(credentialsRetry).Sub(r.now()); left > 0 {
			o := *prev.err
			o.requeueAfter = left
			return platform.ShopInfo{}, &o
		}
	}
	info, err := pc.ShopInfo(ctx)
	if err == nil {
		memo.rejected = nil
		return info, nil
	}
	out := platformOutcome("checking the shop's credentials", err)
	if o, isOutcome := out.(*outcome); isOutcome && o.reason == shopv1alpha1.ReasonCredentialsRejected {
		memo.rejected = &rejection{fingerprint: fingerprint, at: r.now(), err: o}
	}
	return platform.ShopInfo{}, out
}

// protectCredentials puts a finalizer on the Shop's credentials Secret so it
// outlives the Shop's dependants, and returns the Secret.
func (r *ShopReconciler) protectCredentials(ctx context.Context, shop *shopv1alpha1.Shop) (*corev1.Secret, error) {
	secret, err := r.Connector.secret(ctx, shop.Namespace, shop.Spec.CredentialsSecretRef.Name)
	if apierrors.IsNotFound(err) {
		return nil, stalled(shopv1alpha1.ReasonSecretNotFound, "credentials Secret %q not found in namespace %q",
			shop.Spec.CredentialsSecretRef.Name, shop.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("reading credentials Secret: %w", err)
	}
	// Only a Secret that is a Shop's API Secret gets the finalizer: a Shop
	// naming any other Secret must not make it undeletable. One that held
	// it and no longer opts in (its label removed, a key gone) is let go:
	// no Shop may use it now, so nothing is protected by keeping it.
	if err := usableCredentials(secret); err != nil {
		if rerr := removeFinalizer(ctx, r.Client, secret, credentialsFinalizer); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	// A Secret becomes a former one only when a Shop's credentialsSecretRef
	// changes (or its Shop goes, which releases it): the scan runs once per
	// Secret the Shop names, and once after each start, not on each of the
	// Shop's reconciles (at 10,000 SubAccounts about 1,300 in one wave, each
	// looking at every Shop's Secret).
	memo := r.memo(shop)
	if memo.releasedFormerFor != shop.Spec.CredentialsSecretRef.Name {
		if err := r.releaseFormerCredentials(ctx, shop); err != nil {
			return nil, err
		}
		memo.releasedFormerFor = shop.Spec.CredentialsSecretRef.Name
	}
	if !secret.DeletionTimestamp.IsZero() {
		return secret, nil // being deleted: the finalizer we may hold is released with the Shop
	}
	return secret, ensureFinalizer(ctx, r.Client, secret, credentialsFinalizer)
}

// releaseFormerCredentials lets go of the Secrets of the Shop's namespace
// that hold the credentials finalizer but that no live Shop names any
// more: the Shop's credentialsSecretRef was changed to another Secret.
// The finalizer goes only on labelled Secrets, which the cache holds.
func (r *ShopReconciler) releaseFormerCredentials(ctx context.Context, shop *shopv1alpha1.Shop) error {
	secrets, err := byIndex[*corev1.Secret](ctx, r.Client, &corev1.SecretList{}, shop.Namespace, indexSecretCredentialsFinalizer, credentialsFinalizer)
	if err != nil {
		return fmt.Errorf("listing Secrets: %w", err)
	}
	for _, s := range secrets {
		if s.Name != shop.Spec.CredentialsSecretRef.Name && controllerutil.ContainsFinalizer(s, credentialsFinalizer) {
			if err := r.releaseUnused(ctx, shop, s.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// releaseCredentials removes the credentials finalizer unless another live
// Shop uses the same Secret.
func (r *ShopReconciler) releaseCredentials(ctx context.Context, shop *shopv1alpha1.Shop) error {
	return r.releaseUnused(ctx, shop, shop.Spec.CredentialsSecretRef.Name)
}

// releaseUnused removes the credentials finalizer from Secret name unless
// a live Shop other than shop names it.
func (r *ShopReconciler) releaseUnused(ctx context.Context, shop *shopv1alpha1.Shop, name string) error {
	users, err := byIndex[*shopv1alpha1.Shop](ctx, r.Client, &shopv1alpha1.ShopList{}, shop.Namespace, indexShopSecret, name)
	if err != nil {
		return fmt.Errorf("listing Shops using Secret %q: %w", name, err)
	}
	for _, u := range users {
		if u.UID != shop.UID && u.DeletionTimestamp.IsZero() {
			return nil
		}
	}
	secret, err := r.Connector.secret(ctx, shop.Namespace, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading credentials Secret: %w", err)
	}
	return removeFinalizer(ctx, r.Client, secret, credentialsFinalizer)
}
