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

// Package metrics holds the operator's Prometheus metrics, served beside
// controller-runtime's own from sigs.k8s.io/controller-runtime/pkg/metrics.Registry:
//
//   - platform calls, timed by a platform.Factory decorator (InstrumentFactory),
//     and waits for the per-shop token bucket (LimitedFactory's OnWait hook);
//   - state gauges computed at scrape time from the manager's cache
//     (StateCollector, registered by RegisterState);
//   - drift corrections, counted where the controllers emit DriftCorrected;
//   - Kubernetes Events not written, counted by the operator's Event
//     recorder (internal/eventrecorder).
//
// Shops are labelled by namespace and shop (the Shop's name); no label ever
// holds a credential, a token, a password or an account's personal data.
// docs/observability.md documents every metric.
package metrics

import (
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// Metric names.
const (
	PlatformCallsName        = "subaccount_platform_calls_total"
	PlatformCallDurationName = "subaccount_platform_call_duration_seconds"
	RateLimitWaitName        = "subaccount_platform_ratelimit_wait_seconds"
	DriftCorrectionsName     = "subaccount_drift_corrections_total"
	SubAccountsName          = "subaccount_subaccounts"
	ShopSeatsUsedName        = "subaccount_shop_seats_used"
	ShopSeatsCapacityName    = "subaccount_shop_seats_capacity"
	ShopCredentialsValidName = "subaccount_shop_credentials_valid"
	VerificationsPendingName = "subaccount_verification_codes_pending"
	LastActivityAgeName      = "subaccount_accounts_by_last_activity_age"
	EventsDroppedName        = "subaccount_events_dropped_total"
)

// Names lists every metric this package registers.
func Names() []string {
	return []string{
		PlatformCallsName, PlatformCallDurationName, RateLimitWaitName, DriftCorrectionsName,
		SubAccountsName, ShopSeatsUsedName, ShopSeatsCapacityName, ShopCredentialsValidName,
		VerificationsPendingName, LastActivityAgeName, EventsDroppedName,
	}
}

// ResultOK is the result label of a call that returned no error.
const ResultOK = "ok"

// ResultOther is the result label of an error that wraps no sentinel
// (network failures, cancelled contexts).
const ResultOther = "other"

// resultKinds maps each sentinel error to its result label, in the order
// they are tested.
var resultKinds = []struct {
	err   error
	label string
}{
	{platform.ErrNotFound, "not_found"},
	{platform.ErrNameTaken, "name_taken"},
	{platform.ErrInvalid, "invalid"},
	{platform.ErrUnauthorized, "unauthorized"},
	{platform.ErrForbidden, "forbidden"},
	{platform.ErrRateLimited, "rate_limited"},
	{platform.ErrQuotaExhausted, "quota_exhausted"},
	{platform.ErrConflict, "conflict"},
	{platform.ErrNotSupported, "not_supported"},
	{platform.ErrTransient, "transient"},
}

// Result is the result label of a platform call that returned err: "ok",
// the sentinel's kind, or "other".
func Result(err error) string {
	if err == nil {
		return ResultOK
	}
	for _, k := range resultKinds {
		if errors.Is(err, k.err) {
			return k.label
		}
	}
	return ResultOther
}

var (
	platformCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: PlatformCallsName,
		Help: "Calls to a shop's platform API, by shop, platform, method and result (ok or the error kind).",
	}, []string{"namespace", "shop", "platform", "method", "result"})

	platformCallDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    PlatformCallDurationName,
		Help:    "Duration of calls to a shop's platform API, excluding the wait for the shop's rate limit.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"namespace", "shop", "platform", "method", "result"})

	rateLimitWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    RateLimitWaitName,
		Help:    "Time platform calls spent waiting for the shop's rate-limit token bucket.",
		Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"namespace", "shop"})

	driftCorrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: DriftCorrectionsName,
		Help: "Platform objects changed outside the operator and restored (DriftCorrected events), by shop and kind.",
	}, []string{"namespace", "shop", "kind"})

	eventsDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: EventsDroppedName,
		Help: "Kubernetes Events the operator did not write, by reason: queue_full (the recorder's queue was full) or send_failed (refused by the API server, out of retries, or still queued at shutdown).",
	}, []string{"reason"})
)

// The reason label of EventsDroppedName.
const (
	// EventsQueueFull: the recorder's queue was full when the Event was
	// made, so it was never queued.
	EventsQueueFull = "queue_full"
	// EventsSendFailed: the Event was queued but not written: the API
	// server refused it, the retries ran out, or the manager stopped first.
	EventsSendFailed = "send_failed"
)

func init() {
	ctrlmetrics.Registry.MustRegister(platformCalls, platformCallDuration, rateLimitWait, driftCorrections, eventsDropped)
	// Both series exist from the start, so a rate() over them reads 0, not
	// nothing, until the first Event is dropped.
	eventsDropped.WithLabelValues(EventsQueueFull)
	eventsDropped.WithLabelValues(EventsSendFailed)
}

// splitShop turns a ShopConfig Key ("namespace/name") into the namespace
// and shop labels.
func splitShop(key string) (namespace, shop string) {
	if ns, name, ok := strings.Cut(key, "/"); ok {
		return ns, name
	}
	return "", key
}

// ObserveRateLimitWait records how long a call to the shop (a ShopConfig
// Key, "namespace/name") waited for its rate limit. It is the signature of
// platform.LimitedFactory's OnWait.
func ObserveRateLimitWait(shop string, d time.Duration) {
	ns, name := splitShop(shop)
	rateLimitWait.WithLabelValues(ns, name).Observe(d.Seconds())
}

// DriftCorrected counts one DriftCorrected event: a platform object of kind
// ("Role", "SubAccount") belonging to the Shop namespace/shop was changed
// outside the operator and restored.
func DriftCorrected(namespace, shop, kind string) {
	driftCorrections.WithLabelValues(namespace, shop, kind).Inc()
}

// EventsDropped counts n Events the operator's Event recorder did not
// write, for reason (EventsQueueFull or EventsSendFailed).
func EventsDropped(reason string, n int) {
	eventsDropped.WithLabelValues(reason).Add(float64(n))
}

// LimitedFactory wraps driver in the per-shop rate limiter with every call
// timed: platform.NewLimitedFactory(InstrumentFactory(driver)), so call
// durations exclude rate-limit waits, and the waits are observed through
// OnWait.
func LimitedFactory(driver platform.Factory) *platform.LimitedFactory {
	f := platform.NewLimitedFactory(InstrumentFactory(driver))
	f.OnWait = ObserveRateLimitWait
	return f
}
