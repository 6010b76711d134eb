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

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The scraper sends its token, counts the scrapes answered 200, and stops
// with an error at the first refused one.
func TestScraper(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if served.Add(1) > 3 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte("a_metric 1\n"))
	}))
	defer srv.Close()
	s := &scraper{url: srv.URL + "/metrics", token: "tok", http: srv.Client()}

	got, err := s.run(context.Background(), time.Millisecond, make(chan struct{}))
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("run = %v, want the fourth scrape's 403", err)
	}
	if got.N != 3 || got.Bytes != int64(len("a_metric 1\n")) {
		t.Errorf("scrapes = %+v, want 3 of 11 bytes", got)
	}

	s.token = "other"
	stop := s.during(context.Background(), time.Hour)
	if _, err := stop(); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a refused token: %v, want 401", err)
	}

	// A manager not serving yet: the scrapes start once it does.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	late := httptest.NewUnstartedServer(srv.Config.Handler)
	s = &scraper{url: "https://" + addr + "/metrics", token: "tok", http: srv.Client()}
	served.Store(0)
	stop = s.during(context.Background(), time.Hour)
	late.Listener, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	late.StartTLS()
	defer late.Close()
	if got, err := stop(); err != nil || got.N != 1 {
		t.Errorf("a manager serving late: %+v, %v; want one scrape", got, err)
	}

	var none *scraper
	if got, err := none.during(context.Background(), time.Second)(); err != nil || got.N != 0 {
		t.Errorf("no scraper: %+v, %v", got, err)
	}
}
