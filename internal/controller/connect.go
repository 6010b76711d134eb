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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// Connector gives reconcilers a platform client for a Shop. It reads the
// Shop's credentials Secret from the cache when the Secret is labelled, and
// straight from the API server otherwise (the cache holds labelled Secrets
// only).
type Connector struct {
	Client    client.Client
	APIReader client.Reader
	Factory   platform.Factory
	// Shard, when set, is the label selector of the manager's shard
	// (Scope.Shard): the cache holds only the Shops, Roles and SubAccounts
	// it matches.
	Shard labels.Selector
	// OpenPlatform checks the apps Shops name in spec.openPlatform; nil is
	// a Pinduoduo client that may call any host.
	OpenPlatform OpenPlatform
	// meta, when set, reads and writes what only the metadata of the API
	// server's answer is needed from (metadataClient).
	meta *metadataClient
}

// secret reads a Secret in namespace by name, from the cache or the API.
func (c *Connector) secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	key := types.NamespacedName{Namespace: namespace, Name: name}
	secret := &corev1.Secret{}
	err := c.Client.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) && c.APIReader != nil {
		err = c.APIReader.Get(ctx, key, secret)
	}
	return secret, err
}

// shopConfig assembles the platform configuration of a Shop, with the API
// credentials from its Secret. Missing Secrets and keys are outcomes a
// person must fix.
func (c *Connector) shopConfig(ctx context.Context, shop *shopv1alpha1.Shop) (platform.ShopConfig, error) {
	ref := shop.Spec.CredentialsSecretRef.Name
	secret, err := c.secret(ctx, shop.Namespace, ref)
	if apierrors.IsNotFound(err) {
		return platform.ShopConfig{}, stalled(shopv1alpha1.ReasonSecretNotFound,
			"credentials Secret %q not found in namespace %q", ref, shop.Namespace)
	}
	if err != nil {
		return platform.ShopConfig{}, fmt.Errorf("reading credentials Secret %q: %w", ref, err)
	}
	if err := usableCredentials(secret); err != nil {
		return platform.ShopConfig{}, err
	}
	endpoint := shop.Spec.Endpoint
	if endpoint == "" {
		endpoint = platform.DefaultEndpoint(platform.Name(shop.Spec.Platform))
	}
	if err := boundEndpoint(secret, endpoint); err != nil {
		return platform.ShopConfig{}, err
	}
	api := string(shop.Spec.API)
	if api == "" {
		api = string(shopv1alpha1.ShopAPIGateway)
	}
	return platform.ShopConfig{
		Key:         shop.Namespace + "/" + shop.Name,
		Platform:    platform.Name(shop.Spec.Platform),
		MainAccount: shop.Spec.MainAccount,
		Endpoint:    endpoint,
		API:         api,
		Credentials: platform.Credentials{
			AppKey:      string(secret.Data[shopv1alpha1.SecretKeyAppKey]),
			AppSecret:   string(secret.Data[shopv1alpha1.SecretKeyAppSecret]),
			AccessToken: string(secret.Data[shopv1alpha1.SecretKeyAccessToken]),
		},
		RequestsPerSecond: float64(shop.Spec.RateLimit.RequestsPerSecond),
		Burst:             int(shop.Spec.RateLimit.Burst),
	}, nil
}

// usableCredentials refuses a Shop credentials Secret that does not opt
// in or lacks a key; it says which keys, never anything of their values.
func usableCredentials(secret *corev1.Secret) error {
	if err := requireOptIn(secret, "credentials Secret", shopv1alpha1.SecretRoleShopAPI); err != nil {
		return err
	}
	if missing := missingKeys(secret, shopv1alpha1.SecretKeyAppKey, shopv1alpha1.SecretKeyAppSecret, shopv1alpha1.SecretKeyAccessToken); len(missing) > 0 {
		return stalled(shopv1alpha1.ReasonSecretInvalid,
			"credentials Secret %q lacks the keys %s", secret.Name, strings.Join(missing, ", "))
	}
	return nil
}

// missingKeys lists the keys the Secret lacks or holds empty.
func missingKeys(secret *corev1.Secret, keys ...string) []string {
	var missing []string
	for _, k := range keys {
		if len(secret.Data[k]) == 0 {
			missing = append(missing, k)
		}
	}
	return missing
}

// requireOptIn refuses a Secret that does not carry LabelSecretRole with
// the value of its purpose. Whoever may write a Shop or SubAccount may
// name any Secret of the namespace in it; the label says the Secret's
// owner meant it for this use. Only the label is looked at.
func requireOptIn(secret *corev1.Secret, what, role string) error {
	if secret.Labels[shopv1alpha1.LabelSecretRole] == role {
		return nil
	}
	return stalled(shopv1alpha1.ReasonSecretNotLabelled,
		"%s %q is not labelled %s=%s, so the operator does not use it: label it if it is meant for this (kubectl label secret %s %s=%s)",
		what, secret.Name, shopv1alpha1.LabelSecretRole, role, secret.Name, shopv1alpha1.LabelSecretRole, role)
}

// boundEndpoint refuses an endpoint that the credentials Secret's
// allowed-endpoint-hosts annotation, when it has one, does not list: a
// Shop naming someone else's API Secret cannot send its token to an
// endpoint of its own choosing. An empty list allows nothing.
func boundEndpoint(secret *corev1.Secret, endpoint string) error {
	list, ok := secret.Annotations[shopv1alpha1.AnnotationAllowedEndpointHosts]
	if !ok {
		return nil
	}
	hosts, err := platform.ParseEndpointHosts(list)
	if err != nil {
		return stalled(shopv1alpha1.ReasonSecretInvalid, "credentials Secret %q, annotation %s: %s",
			secret.Name, shopv1alpha1.AnnotationAllowedEndpointHosts, err.Error())
	}
	u, err := platform.ParseEndpoint(endpoint, "the endpoint", "https://gateway.example.com")
	if err != nil {
		return stalled(shopv1alpha1.ReasonInvalidSpec, "%s", platformMessage(err))
	}
	if len(hosts) == 0 || !hosts.Allows(u.Hostname(), platform.EffectivePort(u)) {
		return stalled(shopv1alpha1.ReasonEndpointNotAllowed,
			"credentials Secret %q may be used only with the endpoint hosts %q (annotation %s); endpoint %s (host %s, port %d) is not one of them, so nothing is sent to it",
			secret.Name, list, shopv1alpha1.AnnotationAllowedEndpointHosts, u.Redacted(), u.Hostname(), platform.EffectivePort(u))
	}
	return nil
}

// Connect returns a platform client for the Shop.
func (c *Connector) Connect(ctx context.Context, shop *shopv1alpha1.Shop) (platform.Client, error) {
	pc, _, err := c.connect(ctx, shop)
	return pc, err
}

// connect is Connect that also returns a fingerprint of what the client
// was built from (endpoint, API and credentials): a SHA-256, never the
// credentials themselves, kept in memory only.
func (c *Connector) connect(ctx context.Context, shop *shopv1alpha1.Shop) (platform.Client, string, error) {
	cfg, err := c.shopConfig(ctx, shop)
	if err != nil {
		return nil, "", err
	}
	pc, err := c.Factory.ClientFor(ctx, cfg)
	if err != nil {
		return nil, "", platformOutcome("connecting to the platform", err)
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{cfg.Endpoint, cfg.API, cfg.Credentials.AppKey,
		cfg.Credentials.AppSecret, cfg.Credentials.AccessToken}, "\x00")))
	return pc, hex.EncodeToString(sum[:]), nil
}

// catalogFor returns the permission catalog of a Shop's platform.
func catalogFor(shop *shopv1alpha1.Shop) (*catalog.Catalog, error) {
	cat, err := catalog.For(platform.Name(shop.Spec.Platform))
	if err != nil {
		return nil, stalled(shopv1alpha1.ReasonInvalidSpec, "platform %q: %v", shop.Spec.Platform, err)
	}
	return cat, nil
}

// shopOf fetches the Shop an object refers to; a missing or deleting Shop
// makes the dependant wait. In a shard, a Shop missing from the cache may
// belong to another shard: it is looked up on the API server, and if it
// exists the dependant is Stalled (its labels put it in the wrong shard),
// so that it is neither reconciled against the Shop nor let go as orphaned.
func (c *Connector) shopOf(ctx context.Context, namespace, name string) (*shopv1alpha1.Shop, error) {
	shop := &shopv1alpha1.Shop{}
	key := types.NamespacedName{Namespace: namespace, Name: name}
	err := c.Client.Get(ctx, key, shop)
	if apierrors.IsNotFound(err) && c.Shard != nil && c.APIReader != nil {
		switch err := c.APIReader.Get(ctx, key, &shopv1alpha1.Shop{}); {
		case err == nil:
			return nil, stalled(shopv1alpha1.ReasonShopNotInShard,
				"Shop %q is not in this manager's shard (%s): give this object the same shard labels as its Shop", name, c.Shard)
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("reading Shop %q: %w", name, err)
		}
	}
	if apierrors.IsNotFound(err) {
		return nil, waiting(shopv1alpha1.ReasonShopNotFound, "Shop %q not found in namespace %q", name, namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("reading Shop %q: %w", name, err)
	}
	return shop, nil
}

// cleanupClient returns a platform client for cleaning up obj's platform
// object on deletion, or nil when the Shop is gone: nothing can reach the
// platform then, and keeping the finalizer would block the namespace
// forever, so obj is let go with a warning Event naming what is left behind.
func cleanupClient(ctx context.Context, conn *Connector, rec events.EventRecorder, obj client.Object,
	shopName, action, leftBehind string) (platform.Client, error) {
	shop, err := conn.shopOf(ctx, obj.GetNamespace(), shopName)
	if err != nil {
		var o *outcome
		if errors.As(err, &o) && o.reason == shopv1alpha1.ReasonShopNotFound {
			rec.Eventf(obj, nil, corev1.EventTypeWarning, "Orphaned", action,
				"Shop %q is gone; %s is left on the platform", shopName, leftBehind)
			return nil, nil
		}
		return nil, err
	}
	if shop.Spec.Suspend {
		return nil, waiting(shopv1alpha1.ReasonSuspended, "Shop %q is suspended; clean-up resumes with it", shop.Name)
	}
	// Credentials the platform refused would be refused again: wait for
	// them to be fixed (the Shop's readiness re-queues this object) rather
	// than calling, and never drop the finalizer, which would orphan the
	// platform object.
	if c := apimeta.FindStatusCondition(shop.Status.Conditions, shopv1alpha1.ConditionCredentialsValid); c != nil &&
		c.Status == metav1.ConditionFalse && c.Reason == shopv1alpha1.ReasonCredentialsRejected {
		return nil, stalled(shopv1alpha1.ReasonCredentialsRejected,
			"Shop %q's API credentials are rejected by the platform, so %s cannot be cleaned up yet; the finalizer stays until the credentials Secret is fixed (%s)",
			shop.Name, leftBehind, c.Message)
	}
	return conn.Connect(ctx, shop)
}
