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

package main

// The bench scrapes the manager's metrics endpoint as Prometheus does in a
// cluster: over HTTPS, with a service account's token that the chart's
// metrics-reader ClusterRole allows, at a fixed interval. A scrape costs
// the manager memory (the state gauges walk every cached SubAccount) and
// a TokenReview and SubjectAccessReview now and then, so a bench without
// one would measure less than a cluster sees.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// scraperAccount is the service account the bench scrapes as.
const scraperAccount = "bench-scraper"

// scraper reads the manager's /metrics at url with a bearer token.
type scraper struct {
	url, token string
	http       *http.Client
}

// newScraper binds config/rbac/metrics_reader_role.yaml (what the chart
// tells Prometheus's service account to be bound to) to a service account
// of its own, and asks the API server for a token of it.
func newScraper(ctx context.Context, c client.Client, root, addr string) (*scraper, error) {
	role := &rbacv1.ClusterRole{}
	if err := readObjects(filepath.Join(root, "config", "rbac", "metrics_reader_role.yaml"), role); err != nil {
		return nil, fmt.Errorf("the metrics-reader ClusterRole: %w", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: managerNamespace, Name: scraperAccount}}
	if err := c.Create(ctx, sa); err != nil {
		return nil, fmt.Errorf("creating service account %s: %w", sa.Name, err)
	}
	if err := bindRole(ctx, c, role, "ClusterRole", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name}); err != nil {
		return nil, err
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(24 * 3600))}}
	if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
		return nil, fmt.Errorf("requesting a token of %s: %w", sa.Name, err)
	}
	return &scraper{url: "https://" + addr + "/metrics", token: tr.Status.Token, http: &http.Client{
		Timeout: 10 * time.Second,
		// The manager's certificate is the self-signed one it makes
		// without --metrics-cert-path; the bench talks to it on loopback.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback, self-signed
	}}, nil
}

// scrapes is what the scrapes of a phase read.
type scrapes struct {
	N     int
	Bytes int64 // of the last scrape's answer
	Every time.Duration
}

// run scrapes every interval, starting at once, until stop is closed; a
// scrape under way when it is closed is finished. Any scrape that fails
// (an error, a status other than 200) ends it with the error: a bench
// whose scrapes fail would report a manager that is not scraped.
func (s *scraper) run(ctx context.Context, every time.Duration, stop <-chan struct{}) (scrapes, error) {
	got := scrapes{Every: every}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		scrape := s.once
		if got.N == 0 {
			scrape = s.first
		}
		n, err := scrape(ctx)
		if err != nil {
			return got, fmt.Errorf("scrape %d of the manager's metrics: %w", got.N+1, err)
		}
		got.N, got.Bytes = got.N+1, n
		select {
		case <-stop:
			return got, nil
		case <-ctx.Done():
			return got, ctx.Err()
		case <-t.C:
		}
	}
}

func (s scrapes) String() string {
	if s.N == 0 {
		return "none (--scrape-interval 0)"
	}
	return fmt.Sprintf("%d, every %s, each answered 200 (the last %.0f KiB)", s.N, s.Every, float64(s.Bytes)/1024)
}

// first is the first scrape, which waits until the endpoint takes
// connections: a manager just started binds its metrics port a moment
// after the bench starts it.
func (s *scraper) first(ctx context.Context) (int64, error) {
	var n int64
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		n, last = s.once(ctx)
		if errors.Is(last, syscall.ECONNREFUSED) {
			return false, nil
		}
		return true, last
	})
	if err != nil && last != nil && !errors.Is(err, last) {
		err = errors.Join(err, last)
	}
	return n, err
}

func (s *scraper) once(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("status %s", resp.Status)
	}
	return n, nil
}

// during scrapes every interval (never when s is nil) until the returned
// function is called, which returns what the scrapes read.
func (s *scraper) during(ctx context.Context, every time.Duration) func() (scrapes, error) {
	if s == nil || every <= 0 {
		return func() (scrapes, error) { return scrapes{}, nil }
	}
	stop := make(chan struct{})
	type outcome struct {
		got scrapes
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		got, err := s.run(ctx, every, stop)
		done <- outcome{got, err}
	}()
	return func() (scrapes, error) {
		close(stop)
		o := <-done
		return o.got, o.err
	}
}

// loopbackAddr is a free loopback port for the manager's metrics endpoint,
// which the bench must know to scrape it.
func loopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
