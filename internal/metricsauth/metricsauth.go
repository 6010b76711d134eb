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

// Package metricsauth guards the manager's metrics endpoint: a scrape must
// carry a bearer token the API server accepts (a TokenReview) for a user
// the API server allows to GET the path (a SubjectAccessReview on the
// non-resource URL, "/metrics"). It is what controller-runtime's
// filters.WithAuthenticationAndAuthorization does, with the same caching,
// without that filter's dependency on k8s.io/apiserver: that module
// brought 264 packages (gRPC, OpenTelemetry, CEL) into the manager for
// this one check, 29 MB of its 81 MB binary and 14 MiB of its resident
// memory before it did anything (docs/benchmarks.md, "The manager's own
// weight").
package metricsauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/apimachinery/pkg/util/wait"
	authenticationclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// How long answers are kept: the values controller-runtime's filter uses
// (a token's review for a minute, an allowed scrape for five, a denied
// one for thirty seconds), so a Prometheus scraping every 15 s costs the
// API server one review of each kind every few minutes. A token the API
// server refused is asked about again after ten seconds.
const (
	authenticatedTTL   = time.Minute
	unauthenticatedTTL = 10 * time.Second
	allowTTL           = 5 * time.Minute
	denyTTL            = 30 * time.Second
	// cacheSize bounds each cache: scrapers are few; a flood of made-up
	// tokens evicts only other made-up tokens' answers.
	cacheSize = 1024
	// reviewTimeout bounds each review, retries included.
	reviewTimeout = 10 * time.Second
)

// backoff retries a review the API server failed to answer (not one it
// answered "no"): three tries within about two seconds.
var backoff = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 3}

// Reviewer asks the API server who a token belongs to and what that user
// may do. The manager's comes from New; tests give their own.
type Reviewer interface {
	ReviewToken(ctx context.Context, review *authenticationv1.TokenReview) (*authenticationv1.TokenReview, error)
	ReviewAccess(ctx context.Context, review *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error)
}

// clients is the Reviewer of the API server the manager talks to.
type clients struct {
	tokens authenticationclient.TokenReviewInterface
	access authorizationclient.SubjectAccessReviewInterface
}

func (c clients) ReviewToken(ctx context.Context, r *authenticationv1.TokenReview) (*authenticationv1.TokenReview, error) {
	return c.tokens.Create(ctx, r, metav1.CreateOptions{})
}

func (c clients) ReviewAccess(ctx context.Context, r *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error) {
	return c.access.Create(ctx, r, metav1.CreateOptions{})
}

// New is a metrics server FilterProvider (metricsserver.Options): it
// reviews tokens and access with the API server the manager talks to. The
// manager's ClusterRole needs create on tokenreviews and
// subjectaccessreviews; a scraper needs get on the nonResourceURL
// "/metrics" (the chart's metrics-reader ClusterRole).
func New(config *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	authn, err := authenticationclient.NewForConfigAndClient(config, httpClient)
	if err != nil {
		return nil, fmt.Errorf("the TokenReview client: %w", err)
	}
	authz, err := authorizationclient.NewForConfigAndClient(config, httpClient)
	if err != nil {
		return nil, fmt.Errorf("the SubjectAccessReview client: %w", err)
	}
	return Filter(clients{tokens: authn.TokenReviews(), access: authz.SubjectAccessReviews()}), nil
}

// Filter is the metrics server filter that checks every request with r.
func Filter(r Reviewer) metricsserver.Filter {
	g := &guard{reviewer: r, tokens: newCache(), decisions: newCache()}
	return func(log logr.Logger, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			g.serve(log, next, w, req)
		}), nil
	}
}

func newCache() *cache.LRUExpireCache { return cache.NewLRUExpireCache(cacheSize) }

type guard struct {
	reviewer Reviewer
	// tokens maps a token's SHA-256 (never the token) to its review's
	// status; decisions maps a user and request to whether it is allowed.
	tokens, decisions *cache.LRUExpireCache
}

func (g *guard) serve(log logr.Logger, next http.Handler, w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), reviewTimeout)
	defer cancel()
	token, ok := bearerToken(req)
	if !ok {
		unauthorized(w)
		return
	}
	user, ok, err := g.authenticate(ctx, token)
	if err != nil {
		log.Error(err, "Reviewing a metrics scraper's token failed")
		http.Error(w, "Authentication failed", http.StatusInternalServerError)
		return
	}
	if !ok {
		log.V(4).Info("A metrics scrape's token was not accepted")
		unauthorized(w)
		return
	}
	allowed, reason, err := g.authorize(ctx, user, strings.ToLower(req.Method), req.URL.Path)
	if err != nil {
		msg := fmt.Sprintf("Authorization for user %s failed", user.Username)
		log.Error(err, msg)
		http.Error(w, msg, http.StatusInternalServerError)
		return
	}
	if !allowed {
		msg := fmt.Sprintf("Authorization denied for user %s", user.Username)
		log.V(4).Info(msg, "reason", reason)
		http.Error(w, msg, http.StatusForbidden)
		return
	}
	next.ServeHTTP(w, req)
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
	http.Error(w, "Unauthorized", http.StatusUnauthorized)
}

// bearerToken is the request's "Authorization: Bearer TOKEN" token.
func bearerToken(req *http.Request) (string, bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(req.Header.Get("Authorization")), " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// tokenAnswer is a cached token review.
type tokenAnswer struct {
	authenticated bool
	user          authenticationv1.UserInfo
}

// authenticate asks the API server whom token belongs to (or the cache,
// for a token asked about within authenticatedTTL).
func (g *guard) authenticate(ctx context.Context, token string) (authenticationv1.UserInfo, bool, error) {
	key := sha256.Sum256([]byte(token))
	if v, ok := g.tokens.Get(key); ok {
		a := v.(tokenAnswer)
		return a.user, a.authenticated, nil
	}
	var answer *authenticationv1.TokenReview
	err := retry.OnError(backoff, retriable(ctx), func() error {
		var err error
		answer, err = g.reviewer.ReviewToken(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}})
		return err
	})
	if err != nil {
		return authenticationv1.UserInfo{}, false, err
	}
	a := tokenAnswer{authenticated: answer.Status.Authenticated, user: answer.Status.User}
	ttl := authenticatedTTL
	if !a.authenticated {
		ttl = unauthenticatedTTL
	}
	g.tokens.Add(key, a, ttl)
	return a.user, a.authenticated, nil
}

// authorize asks the API server whether user may verb path (or the
// cache). The reason is the API server's, for the log.
func (g *guard) authorize(ctx context.Context, user authenticationv1.UserInfo, verb, path string) (bool, string, error) {
	spec := authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra(user.Extra),
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
	}
	key := decisionKey(spec)
	if v, ok := g.decisions.Get(key); ok {
		return v.(bool), "cached", nil
	}
	var answer *authorizationv1.SubjectAccessReview
	err := retry.OnError(backoff, retriable(ctx), func() error {
		var err error
		answer, err = g.reviewer.ReviewAccess(ctx, &authorizationv1.SubjectAccessReview{Spec: spec})
		return err
	})
	if err != nil {
		return false, "", err
	}
	allowed := answer.Status.Allowed && !answer.Status.Denied
	ttl := allowTTL
	if !allowed {
		ttl = denyTTL
	}
	g.decisions.Add(key, allowed, ttl)
	return allowed, answer.Status.Reason, nil
}

// retriable retries a failed review while ctx lasts, unless the API
// server refused the review itself (a 4xx other than 429: the manager may
// not create reviews, say), which no retry mends.
func retriable(ctx context.Context) func(error) bool {
	return func(err error) bool {
		if ctx.Err() != nil {
			return false
		}
		var status apierrors.APIStatus
		if errors.As(err, &status) {
			code := status.Status().Code
			return code == http.StatusTooManyRequests || code >= 500 || code == 0
		}
		return true
	}
}

func extra(in map[string]authenticationv1.ExtraValue) map[string]authorizationv1.ExtraValue {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]authorizationv1.ExtraValue, len(in))
	for k, v := range in {
		out[k] = authorizationv1.ExtraValue(v)
	}
	return out
}

// decisionKey identifies a review by everything the API server decides
// on: the spec in JSON, which is unambiguous whatever the names hold (map
// keys sorted, strings quoted).
func decisionKey(s authorizationv1.SubjectAccessReviewSpec) string {
	b, err := json.Marshal(s)
	if err != nil { // a spec of strings always encodes
		panic(fmt.Sprintf("encoding a SubjectAccessReview spec: %v", err))
	}
	return string(b)
}
