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
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// delta is after minus before, dropping zeros.
func delta[V int | float64](before, after map[string]V) map[string]V {
	out := map[string]V{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func sum[V int | float64](m map[string]V) V {
	var n V
	for _, v := range m {
		n += v
	}
	return n
}

// perItem renders m's entries divided by n, largest first.
func perItem[V int | float64](m map[string]V, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, float64(m[k])/float64(n)))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// counts renders m's entries as totals, largest first.
func counts[V int | float64](m map[string]V) string {
	return perItem(m, 1)
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// callRecorder records when each shop's gateway calls reached shopsim, by
// the shop's app key.
type callRecorder struct {
	mu    sync.Mutex
	shops map[string]int // app key → shop index
	calls map[int][]time.Time
}

func newCallRecorder() *callRecorder {
	return &callRecorder{shops: map[string]int{}, calls: map[int][]time.Time{}}
}

func (c *callRecorder) register(appKey string, shop int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shops[appKey] = shop
}

func (c *callRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		if key := r.Header.Get(wire.HeaderAppKey); key != "" {
			c.mu.Lock()
			if shop, ok := c.shops[key]; ok {
				c.calls[shop] = append(c.calls[shop], now)
			}
			c.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// between returns shop's calls in [from, to).
func (c *callRecorder) between(shop int, from, to time.Time) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, t := range c.calls[shop] {
		if !t.Before(from) && t.Before(to) {
			out = append(out, t)
		}
	}
	return out
}

// all returns every shop's calls.
func (c *callRecorder) all() map[int][]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int][]time.Time, len(c.calls))
	for k, v := range c.calls {
		out[k] = append([]time.Time(nil), v...)
	}
	return out
}

// overdraft replays calls (sorted arrival times at shopsim) through a token
// bucket of rate and burst and returns the lowest token count seen: below
// zero means more calls arrived than the limit allows (by that many calls,
// network jitter included).
func overdraft(calls []time.Time, rate float64, burst int) float64 {
	tokens, lowest := float64(burst), float64(burst)
	var last time.Time
	for i, t := range calls {
		if i > 0 {
			tokens = min(float64(burst), tokens+rate*t.Sub(last).Seconds())
		}
		last = t
		tokens--
		lowest = min(lowest, tokens)
	}
	return lowest
}

// achievedRate is the sustained rate of calls after the initial burst:
// (calls - burst) over the time from the first to the last call.
func achievedRate(calls []time.Time, burst int) float64 {
	if len(calls) <= burst+1 {
		return 0
	}
	d := calls[len(calls)-1].Sub(calls[0]).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(len(calls)-burst) / d
}
