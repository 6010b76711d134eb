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
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
)

// answers records the kind of every answer the API server gives, by method
// and path: whether its body is a PartialObjectMetadata, and in which
// media type.
type answers struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]string
}

func (a *answers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := a.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	kind := "whole object"
	if bytes.Contains(body, []byte("PartialObjectMetadata")) {
		kind = "PartialObjectMetadata"
	}
	a.mu.Lock()
	a.seen[req.Method+" "+req.URL.Path] = kind + " in " + resp.Header.Get("Content-Type")
	a.mu.Unlock()
	return resp, nil
}

func (a *answers) of(method, path string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[method+" "+path]
}

// The metadata client's status patch, Secret patch and read reach the API
// server (the status and the Secret are written, the read sees the UID)
// and are answered with metadata alone, in protobuf, even for a
// SubAccount, whose whole object the API server could send only as JSON.
func TestMetadataClientIsAnsweredWithMetadataOnly(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	rec := &answers{seen: map[string]string{}}
	cfg := rest.CopyConfig(restConfig)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { rec.next = rt; return rec })
	httpClient, err := rest.HTTPClientFor(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	md, err := newMetadataClient(cfg, httpClient, scheme, suiteManager.GetRESTMapper())
	g.Expect(err).NotTo(HaveOccurred())
	const metadataOnly = "PartialObjectMetadata in application/vnd.kubernetes.protobuf"

	// No Shop: the operator stops at the shop step and never sets loginName.
	sa := newSubAccount(ns, "amy", "cs")
	g.Expect(k8s.Create(ctx, sa)).To(Succeed())
	before := sa.DeepCopy()
	sa.Status.LoginName = "metadata:amy"
	g.Expect(patchStatus(ctx, nil, md, before, sa)).To(Succeed())
	g.Expect(rec.of(http.MethodPatch, "/apis/shop.subaccount.io/v1alpha1/namespaces/"+ns+"/subaccounts/amy/status")).
		To(Equal(metadataOnly))
	g.Expect(sa.ResourceVersion).NotTo(Equal(before.ResourceVersion), "the answer's resourceVersion is taken")
	stored := &shopv1alpha1.SubAccount{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(sa), stored)).To(Succeed())
	g.Expect(stored.Status.LoginName).To(Equal("metadata:amy"))

	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(shopv1alpha1.GroupVersion.WithKind("SubAccount"))
	live.SetNamespace(ns)
	live.SetName("amy")
	live, err = md.get(ctx, live)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(live.UID).To(Equal(sa.UID))
	g.Expect(rec.of(http.MethodGet, "/apis/shop.subaccount.io/v1alpha1/namespaces/"+ns+"/subaccounts/amy")).
		To(Equal(metadataOnly))

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "amy-credentials"}}
	g.Expect(k8s.Create(ctx, secret)).To(Succeed())
	g.Expect(md.patch(ctx, secret, []byte(`{"data":{"username":"YW15"}}`))).To(Succeed())
	g.Expect(rec.of(http.MethodPatch, "/api/v1/namespaces/"+ns+"/secrets/amy-credentials")).To(Equal(metadataOnly))
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(secret), secret)).To(Succeed())
	g.Expect(string(secret.Data["username"])).To(Equal("amy"))
}
