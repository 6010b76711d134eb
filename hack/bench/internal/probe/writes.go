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

package probe

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// WriteCounter counts the write requests (POST/PUT/PATCH/DELETE) sent
// through a rest.Config, by verb and resource.
type WriteCounter struct {
	mu     sync.Mutex
	counts map[string]int
	// seconds is the time all counted writes took, request to response
	// headers: with the count, the mean latency the writer saw.
	seconds float64
}

// NewWriteCounter is a WriteCounter with nothing counted.
func NewWriteCounter() *WriteCounter { return &WriteCounter{counts: map[string]int{}} }

// Wrap is a rest.Config transport wrapper counting the writes sent through rt.
func (w *WriteCounter) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			return rt.RoundTrip(r)
		}
		start := time.Now()
		resp, err := rt.RoundTrip(r)
		took := time.Since(start).Seconds()
		w.mu.Lock()
		w.counts[r.Method+" "+ResourceOf(r.URL.Path)]++
		w.seconds += took
		w.mu.Unlock()
		return resp, err
	})
}

// Latency is the total time of the writes counted so far, in seconds.
func (w *WriteCounter) Latency() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seconds
}

// Snapshot is the counts so far, by "VERB resource[/subresource]".
func (w *WriteCounter) Snapshot() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.counts))
	for k, v := range w.counts {
		out[k] = v
	}
	return out
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// ResourceOf extracts "resource[/subresource]" from an API path such as
// /apis/g/v/namespaces/ns/subaccounts/name/status.
func ResourceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return path
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	switch len(parts) {
	case 0:
		return "namespaces"
	case 1, 2:
		return parts[0]
	default:
		return parts[0] + "/" + parts[2]
	}
}
