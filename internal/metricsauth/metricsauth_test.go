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

package metricsauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fakeReviewer answers reviews from its tables and records what it was
// asked.
type fakeReviewer struct {
	mu sync.Mutex
	// users are the tokens it accepts.
	users map[string]authenticationv1.UserInfo
	// allowed are the "user verb path" triples it allows.
	allowed map[string]bool
	// tokenErrs and accessErrs are returned, first to last, before any
	// answer.
	tokenErrs, accessErrs []error

	tokenReviews  []string
	accessReviews []authorizationv1.SubjectAccessReviewSpec
}

func (f *fakeReviewer) ReviewToken(_ context.Context, r *authenticationv1.TokenReview) (*authenticationv1.TokenReview, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenReviews = append(f.tokenReviews, r.Spec.Token)
	if len(f.tokenErrs) > 0 {
		err := f.tokenErrs[0]
		f.tokenErrs = f.tokenErrs[1:]
		return nil, err
	}
	out := r.DeepCopy()
	out.Status.User, out.Status.Authenticated = f.users[r.Spec.Token]
	return out, nil
}

func (f *fakeReviewer) ReviewAccess(_ context.Context, r *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accessReviews = append(f.accessReviews, r.Spec)
	if len(f.accessErrs) > 0 {
		err := f.accessErrs[0]
		f.accessErrs = f.accessErrs[1:]
		return nil, err
	}
	out := r.DeepCopy()
	a := r.Spec.NonResourceAttributes
	out.Status.Allowed = f.allowed[r.Spec.User+" "+a.Verb+" "+a.Path]
	out.Status.Reason = "no RBAC policy matched"
	return out, nil
}

func (f *fakeReviewer) calls() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokenReviews), len(f.accessReviews)
}

const (
	scraperToken  = "scraper-token-3f9a"
	strangerToken = "stranger-token-77c1"
)

func newFake() *fakeReviewer {
	return &fakeReviewer{
		users: map[string]authenticationv1.UserInfo{
			scraperToken: {Username: "system:serviceaccount:monitoring:prometheus", UID: "u-1",
				Groups: []string{"system:serviceaccounts", "system:authenticated"},
				Extra:  map[string]authenticationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"prometheus-0"}}},
			strangerToken: {Username: "system:serviceaccount:shop-a:intruder", Groups: []string{"system:authenticated"}},
		},
		allowed: map[string]bool{"system:serviceaccount:monitoring:prometheus get /metrics": true},
	}
}

// served is the filter around a handler that answers "metrics"; logs
// collects every line the filter logs, at any verbosity.
func served(t *testing.T, r Reviewer) (http.Handler, *strings.Builder) {
	t.Helper()
	logs := &strings.Builder{}
	var mu sync.Mutex
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: 10})
	h, err := Filter(r)(log, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("metrics"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	return h, logs
}

func scrape(h http.Handler, method, path, authorization string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestScrapeWithoutABearerTokenIsUnauthorizedUnasked(t *testing.T) {
	g := NewWithT(t)
	f := newFake()
	h, _ := served(t, f)
	for _, auth := range []string{"", "Basic c2NyYXBlcjpwdw==", "Bearer", "Bearer   ", scraperToken} {
		rec := scrape(h, http.MethodGet, "/metrics", auth)
		g.Expect(rec.Code).To(Equal(http.StatusUnauthorized), "Authorization %q", auth)
		g.Expect(rec.Header().Get("WWW-Authenticate")).To(HavePrefix("Bearer"))
		g.Expect(rec.Body.String()).NotTo(ContainSubstring("metrics\n"))
	}
	tokens, access := f.calls()
	g.Expect(tokens).To(BeZero(), "a request without a bearer token must not reach the API server")
	g.Expect(access).To(BeZero())
}

func TestScraperAllowedGetsMetricsAndTheReviewCarriesTheUser(t *testing.T) {
	g := NewWithT(t)
	f := newFake()
	h, _ := served(t, f)
	rec := scrape(h, http.MethodGet, "/metrics", "bearer "+scraperToken) // the scheme is case-insensitive
	g.Expect(rec.Code).To(Equal(http.StatusOK))
	g.Expect(rec.Body.String()).To(Equal("metrics"))
	g.Expect(f.tokenReviews).To(Equal([]string{scraperToken}))
	g.Expect(f.accessReviews).To(HaveLen(1))
	spec := f.accessReviews[0]
	g.Expect(spec.User).To(Equal("system:serviceaccount:monitoring:prometheus"))
	g.Expect(spec.UID).To(Equal("u-1"))
	g.Expect(spec.Groups).To(Equal([]string{"system:serviceaccounts", "system:authenticated"}))
	g.Expect(spec.Extra).To(HaveKeyWithValue("authentication.kubernetes.io/pod-name", authorizationv1.ExtraValue{"prometheus-0"}))
	g.Expect(spec.NonResourceAttributes).To(Equal(&authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}))
	g.Expect(spec.ResourceAttributes).To(BeNil())
}

func TestAnswersAreCachedPerTokenAndPerRequest(t *testing.T) {
	g := NewWithT(t)
	f := newFake()
	h, _ := served(t, f)
	for range 3 {
		g.Expect(scrape(h, http.MethodGet, "/metrics", "Bearer "+scraperToken).Code).To(Equal(http.StatusOK))
		g.Expect(scrape(h, http.MethodGet, "/metrics", "Bearer "+strangerToken).Code).To(Equal(http.StatusForbidden))
		g.Expect(scrape(h, http.MethodGet, "/metrics", "Bearer made-up").Code).To(Equal(http.StatusUnauthorized))
	}
	tokens, access := f.calls()
	g.Expect(tokens).To(Equal(3), "one review per token")
	g.Expect(access).To(Equal(2), "one review per user and request")

	// Another path or verb is another question.
	g.Expect(scrape(h, http.MethodGet, "/debug/pprof/", "Bearer "+scraperToken).Code).To(Equal(http.StatusForbidden))
	g.Expect(scrape(h, http.MethodPost, "/metrics", "Bearer "+scraperToken).Code).To(Equal(http.StatusForbidden))
	_, access = f.calls()
	g.Expect(access).To(Equal(4))
	g.Expect(f.accessReviews[3].NonResourceAttributes.Verb).To(Equal("post"))
}

func TestDeniedScrapeNamesTheUserAndNoTokenIsLoggedOrKept(t *testing.T) {
	g := NewWithT(t)
	f := newFake()
	h, logs := served(t, f)
	g.Expect(scrape(h, http.MethodGet, "/metrics", "Bearer "+scraperToken).Code).To(Equal(http.StatusOK))
	rec := scrape(h, http.MethodGet, "/metrics", "Bearer "+strangerToken)
	g.Expect(rec.Code).To(Equal(http.StatusForbidden))
	g.Expect(rec.Body.String()).To(ContainSubstring("system:serviceaccount:shop-a:intruder"))
	g.Expect(scrape(h, http.MethodGet, "/metrics", "Bearer made-up").Code).To(Equal(http.StatusUnauthorized))

	g.Expect(logs.String()).To(ContainSubstring("denied"), "the filter logs at its verbosity")
	for _, token := range []string{scraperToken, strangerToken, "made-up"} {
		g.Expect(logs.String()).NotTo(ContainSubstring(token))
		g.Expect(rec.Body.String()).NotTo(ContainSubstring(token))
	}
}

func TestReviewFailuresAreRetriedThenAnswered500AndNotCached(t *testing.T) {
	g := NewWithT(t)
	backoffForTest(t)
	unavailable := apierrors.NewServiceUnavailable("etcd is down")
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "authentication.k8s.io", Resource: "tokenreviews"}, "", errors.New("RBAC"))

	f := newFake()
	f.tokenErrs = []error{unavailable, unavailable}
	h, _ := served(t, f)
	g.Expect(scrape(h, http.MethodGet, "/metrics", "Bearer "+scraperToken).Code).To(Equal(http.StatusOK), "two failures, then an answer, within the three tries")
	tokens, _ := f.calls()
	g.Expect(tokens).To(Equal(3))

	f = newFake()
	f.tokenErrs = []error{unavailable, unavailable, unavailable}
	h, logs := served(t, f)
	rec := scrape(h, http.MethodGet, "/metrics", "Bearer "+scraperToken)
	g.Expect(rec.Code).To(Equal(http.StatusInternalServerError))
	g.Expect(rec.Body.String()).To(ContainSubstring("Authentication failed"))
	g.Expect(logs.String()).To(ContainSubstring("etcd is down"))
	g.Expect(scrape(h, http.MethodGet, "/metrics", "Bearer "+scraperToken).Code).To(Equal(http.StatusOK), "a failure is not remembered")

	f = newFake()
	f.tokenErrs = []error{forbidden}
	h, _ = served(t, f)
	g.Expect(scrape(h, http.MethodGet, "/metrics", "Bearer "+scraperToken).Code).To(Equal(http.StatusInternalServerError))
	tokens, _ = f.calls()
	g.Expect(tokens).To(Equal(1), "the API server refusing the review itself is not retried")

	f = newFake()
	f.accessErrs = []error{unavailable, unavailable, unavailable}
	h, _ = served(t, f)
	rec = scrape(h, http.MethodGet, "/metrics", "Bearer "+scraperToken)
	g.Expect(rec.Code).To(Equal(http.StatusInternalServerError))
	g.Expect(rec.Body.String()).To(ContainSubstring("Authorization for user system:serviceaccount:monitoring:prometheus failed"))
	g.Expect(scrape(h, http.MethodGet, "/metrics", "Bearer "+scraperToken).Code).To(Equal(http.StatusOK))
}

func TestTheTokenCacheIsKeyedByDigest(t *testing.T) {
	g := NewWithT(t)
	gd := &guard{reviewer: newFake(), tokens: newCache(), decisions: newCache()}
	_, ok, err := gd.authenticate(context.Background(), scraperToken)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue())
	keys := gd.tokens.Keys()
	g.Expect(keys).To(HaveLen(1))
	g.Expect(keys[0]).NotTo(BeAssignableToTypeOf(""), "the raw token must not be a cache key")
	_, ok, _ = gd.authenticate(context.Background(), strangerToken+"x")
	g.Expect(ok).To(BeFalse())
}

func TestDecisionKeySeparatesEveryField(t *testing.T) {
	g := NewWithT(t)
	base := authorizationv1.SubjectAccessReviewSpec{User: "u", UID: "1", Groups: []string{"a", "b"},
		Extra:                 map[string]authorizationv1.ExtraValue{"k": {"v"}},
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}}
	variants := []func(*authorizationv1.SubjectAccessReviewSpec){
		func(s *authorizationv1.SubjectAccessReviewSpec) { s.User = "u2" },
		func(s *authorizationv1.SubjectAccessReviewSpec) { s.UID = "2" },
		func(s *authorizationv1.SubjectAccessReviewSpec) { s.Groups = []string{"a"} },
		func(s *authorizationv1.SubjectAccessReviewSpec) { s.Groups = []string{"a,b"} },
		func(s *authorizationv1.SubjectAccessReviewSpec) { s.Extra = nil },
		func(s *authorizationv1.SubjectAccessReviewSpec) {
			s.Extra = map[string]authorizationv1.ExtraValue{"k": {"w"}}
		},
		func(s *authorizationv1.SubjectAccessReviewSpec) { s.NonResourceAttributes.Path = "/metricsx" },
		func(s *authorizationv1.SubjectAccessReviewSpec) { s.NonResourceAttributes.Verb = "post" },
		// Names holding what a hand-made separator would use.
		func(s *authorizationv1.SubjectAccessReviewSpec) { s.User, s.UID = "u\x001", "" },
		func(s *authorizationv1.SubjectAccessReviewSpec) { s.Groups = []string{"a\x01b"} },
	}
	seen := map[string]int{decisionKey(base): -1}
	for i, change := range variants {
		s := *base.DeepCopy()
		change(&s)
		k := decisionKey(s)
		prev, dup := seen[k]
		g.Expect(dup).To(BeFalse(), "variant %d has the key of %d", i, prev)
		seen[k] = i
	}
}

// backoffForTest shortens the retry waits for the test.
func backoffForTest(t *testing.T) {
	saved := backoff
	backoff.Duration = time.Millisecond
	t.Cleanup(func() { backoff = saved })
}
