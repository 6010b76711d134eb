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
	"net/http"
	"sync"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// metadataClient reads and patches objects through client-go's metadata
// client: the API server answers with the object's metadata alone, in
// protobuf, rather than the whole object. It is for the reads and writes
// whose answer the operator uses only for its metadata (a status patch's
// new resourceVersion, a SubAccount's deletionTimestamp before its Secret
// is made, a Secret's patch): for a SubAccount, whose whole object is JSON,
// the API server encodes and the manager reads and decodes a few hundred
// bytes instead of several kilobytes. Each kind's REST mapping is looked up
// once; controller-runtime's own metadata reads look it up on every call.
type metadataClient struct {
	client    metadata.Interface
	scheme    *runtime.Scheme
	mapper    apimeta.RESTMapper
	resources sync.Map // schema.GroupVersionKind → schema.GroupVersionResource
}

// newMetadataClient builds a metadataClient on the manager's config and
// HTTP client (its connections and client rate limit settings).
func newMetadataClient(cfg *rest.Config, httpClient *http.Client, scheme *runtime.Scheme, mapper apimeta.RESTMapper) (*metadataClient, error) {
	c, err := metadata.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("building the metadata client: %w", err)
	}
	return &metadataClient{client: c, scheme: scheme, mapper: mapper}, nil
}

// resource is where obj's kind is served, in obj's namespace.
func (c *metadataClient) resource(obj client.Object) (metadata.ResourceInterface, error) {
	gvk, err := apiutil.GVKForObject(obj, c.scheme)
	if err != nil {
		return nil, err
	}
	gvr, ok := c.resources.Load(gvk)
	if !ok {
		mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, err
		}
		gvr, _ = c.resources.LoadOrStore(gvk, mapping.Resource)
	}
	return c.client.Resource(gvr.(schema.GroupVersionResource)).Namespace(obj.GetNamespace()), nil
}

// get reads the metadata of obj's object, by obj's namespace and name,
// from the API server.
func (c *metadataClient) get(ctx context.Context, obj client.Object) (*metav1.PartialObjectMetadata, error) {
	r, err := c.resource(obj)
	if err != nil {
		return nil, err
	}
	return r.Get(ctx, obj.GetName(), metav1.GetOptions{})
}

// patch sends a merge patch of obj (of its subresource, if one is named)
// and sets obj's resourceVersion from the answer. The rest of obj stays as
// it was: the caller knows what it patched.
func (c *metadataClient) patch(ctx context.Context, obj client.Object, data []byte, subresource ...string) error {
	r, err := c.resource(obj)
	if err != nil {
		return err
	}
	got, err := r.Patch(ctx, obj.GetName(), types.MergePatchType, data, metav1.PatchOptions{}, subresource...)
	if err != nil {
		return err
	}
	obj.SetResourceVersion(got.ResourceVersion)
	return nil
}
