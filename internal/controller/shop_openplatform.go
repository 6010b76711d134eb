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
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/pinduoduo"
)

// OpenPlatform reads a shop from its platform's own open platform with
// the credentials of the shop's app: Pinduoduo's pdd.mall.info.get. The
// manager's is a *pinduoduo.Client (WithOpenPlatform); its errors are
// *platform.Error, pinduoduo.ErrTokenExpired for a token the platform no
// longer takes.
type OpenPlatform interface {
	MallInfo(ctx context.Context, app pinduoduo.App) (pinduoduo.MallInfo, error)
}

// openPlatformCheck is what the last check of a Shop's open-platform app
// found: the Shop's generation and the app Secret's resourceVersion it
// checked (a change of either checks again), when, and the refusal, if
// the platform refused.
type openPlatformCheck struct {
	generation    int64
	secretVersion string
	at            time.Time
	refused       *outcome
}

// openPlatform checks the app a Pinduoduo Shop names in spec.openPlatform
// and reads the shop's name into status.openPlatform, setting
// OpenPlatformCredentialsValid. It asks the platform only when something
// may have changed (as the credentials step does): a new generation, a
// changed app Secret, a drift check due, a restart, or a last check that
// failed in a way a retry can heal. A refusal is answered again from
// memory for credentialsRetry unless the Shop or the Secret changes, so
// the Shop's dependants coming and going cannot hammer the platform with
// a token it refused. A refusal stalls the Shop: its declared credentials
// do not work, as with the gateway's own.
func (r *ShopReconciler) openPlatform(ctx context.Context, s *shopScope) (stepResult, error) {
	shop := s.shop
	if shop.Spec.OpenPlatform == nil {
		s.memo.openPlatform = nil
		shop.Status.OpenPlatform = nil
		removeCondition(shop, shopv1alpha1.ConditionOpenPlatformCredentialsValid)
		return stepResult{}, nil
	}
	err := r.checkOpenPlatform(ctx, s)
	markStep(shop, shopv1alpha1.ConditionOpenPlatformCredentialsValid, err, openPlatformMessage(shop.Status.OpenPlatform))
	return stepResult{}, err
}

func (r *ShopReconciler) checkOpenPlatform(ctx context.Context, s *shopScope) error {
	shop := s.shop
	app, secret, err := s.conn.openPlatformApp(ctx, shop)
	if err != nil {
		s.memo.openPlatform = nil
		return err
	}
	now := r.now()
	// A drift check due asks again after a success (a token expires by
	// itself), not after a refusal: the drift check waits behind it, so it
	// stays due until the refusal is over.
	if last := s.memo.openPlatform; last != nil && last.generation == shop.Generation && last.secretVersion == secret.ResourceVersion {
		if left := last.at.Add(credentialsRetry).Sub(now); last.refused != nil && left > 0 {
			o := *last.refused
			o.requeueAfter = left
			return &o
		}
		if last.refused == nil && !s.driftDue && shop.Status.OpenPlatform != nil {
			return nil
		}
	}
	s.memo.openPlatform = nil
	info, err := s.conn.openPlatform().MallInfo(ctx, app)
	if err != nil {
		o := openPlatformOutcome(err)
		if o.stalled {
			s.memo.openPlatform = &openPlatformCheck{generation: shop.Generation, secretVersion: secret.ResourceVersion, at: now, refused: o}
		}
		return o
	}
	shop.Status.OpenPlatform = &shopv1alpha1.OpenPlatformStatus{ShopName: info.MallName,
		ShopID: strconv.FormatInt(info.MallID, 10), CheckedAt: &metav1.Time{Time: now}}
	s.memo.openPlatform = &openPlatformCheck{generation: shop.Generation, secretVersion: secret.ResourceVersion, at: now}
	return nil
}

// openPlatformOutcome says what a failed check means: an expired or
// invalid token is PinduoduoTokenExpired; an endpoint the operator may not
// call EndpointNotAllowed, one that is not a router InvalidSpec; any other
// refusal CredentialsRejected; throttling and the platform's own failures
// are retried (platformOutcome).
func openPlatformOutcome(err error) *outcome {
	const doing = "checking the app's credentials on Pinduoduo's open platform (pdd.mall.info.get)"
	o := &outcome{message: fmt.Sprintf("%s: %v", doing, err), stalled: true, requeueAfter: stallRetry, cause: err}
	switch {
	case errors.Is(err, pinduoduo.ErrTokenExpired):
		o.reason = shopv1alpha1.ReasonPinduoduoTokenExpired
		o.message += "; the shop must authorise the app again: put the new access token in the Secret (key " + shopv1alpha1.SecretKeyAccessToken + ")"
	case platform.IsEndpointNotAllowed(err):
		o.reason = shopv1alpha1.ReasonEndpointNotAllowed
	case platform.FieldOf(err) == "endpoint":
		o.reason = shopv1alpha1.ReasonInvalidSpec
	case errors.Is(err, platform.ErrInvalid):
		o.reason = shopv1alpha1.ReasonCredentialsRejected
	default:
		var po *outcome
		errors.As(platformOutcome(doing, err), &po)
		return po
	}
	return o
}

// openPlatformMessage is OpenPlatformCredentialsValid's message on success.
func openPlatformMessage(st *shopv1alpha1.OpenPlatformStatus) string {
	if st == nil {
		return "Pinduoduo's open platform accepted the app's credentials"
	}
	return fmt.Sprintf("Pinduoduo's open platform accepted the app's credentials: the shop is %q (mall_id %s)", st.ShopName, st.ShopID)
}

// openPlatform is the Connector's open-platform reader, or a client that
// may call any host when none was given.
func (c *Connector) openPlatform() OpenPlatform {
	if c.OpenPlatform == nil {
		return defaultOpenPlatform()
	}
	return c.OpenPlatform
}

var defaultOpenPlatform = sync.OnceValue(func() OpenPlatform { return pinduoduo.NewClient(pinduoduo.Options{}) })

// openPlatformApp reads the app of the Shop's spec.openPlatform from its
// Secret, under the rules of the Shop's credentials Secret: it must exist
// in the Shop's namespace, be labelled shop-api, hold every key, and allow
// the endpoint's host when its allowed-endpoint-hosts annotation lists
// some. It returns the Secret too, whose resourceVersion says whether the
// app changed.
func (c *Connector) openPlatformApp(ctx context.Context, shop *shopv1alpha1.Shop) (pinduoduo.App, *corev1.Secret, error) {
	spec := shop.Spec.OpenPlatform
	const what = "open platform credentials Secret"
	ref := spec.CredentialsSecretRef.Name
	secret, err := c.secret(ctx, shop.Namespace, ref)
	if apierrors.IsNotFound(err) {
		return pinduoduo.App{}, nil, stalled(shopv1alpha1.ReasonSecretNotFound, "%s %q not found in namespace %q", what, ref, shop.Namespace)
	}
	if err != nil {
		return pinduoduo.App{}, nil, fmt.Errorf("reading %s %q: %w", what, ref, err)
	}
	if err := requireOptIn(secret, what, shopv1alpha1.SecretRoleShopAPI); err != nil {
		return pinduoduo.App{}, nil, err
	}
	if missing := missingKeys(secret, shopv1alpha1.SecretKeyClientID, shopv1alpha1.SecretKeyClientSecret, shopv1alpha1.SecretKeyAccessToken); len(missing) > 0 {
		return pinduoduo.App{}, nil, stalled(shopv1alpha1.ReasonSecretInvalid, "%s %q lacks the keys %s", what, secret.Name, strings.Join(missing, ", "))
	}
	endpoint := spec.Endpoint
	if endpoint == "" {
		endpoint = pinduoduo.DefaultEndpoint
	}
	if err := boundEndpoint(secret, endpoint); err != nil {
		return pinduoduo.App{}, nil, err
	}
	return pinduoduo.App{Endpoint: endpoint, ClientID: string(secret.Data[shopv1alpha1.SecretKeyClientID]),
		ClientSecret: string(secret.Data[shopv1alpha1.SecretKeyClientSecret]),
		AccessToken:  string(secret.Data[shopv1alpha1.SecretKeyAccessToken])}, secret, nil
}
