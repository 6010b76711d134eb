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
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/subaccount-operator/subaccount-operator/internal/eventrecorder"
	"github.com/subaccount-operator/subaccount-operator/internal/metrics"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// eventSource names the operator in the Events it emits.
const eventSource = "subaccount-operator"

// Option adjusts Setup.
type Option func(*options)

type options struct {
	now         func() time.Time
	concurrency Concurrency
	batchDelay  time.Duration
	scope       Scope
	open        OpenPlatform
}

// Concurrency is how many objects of each kind are reconciled at once
// (controller-runtime's MaxConcurrentReconciles per controller).
type Concurrency struct {
	Shop, Role, SubAccount, Staff int
}

// DefaultConcurrency suits hundreds of shops: SubAccount reconciles mostly
// wait on the platform (latency, per-shop rate limits) and on the API
// server's client rate limit, so several run at once; the shop queue
// interleaves shops (see fairQueue) so one busy shop cannot hold them all.
// A Staff reconcile makes no platform call but waits on the API server for
// its SubAccounts' writes: 8 lets a hundred people offboarded at once be
// written out quickly without crowding the API client.
var DefaultConcurrency = Concurrency{Shop: 2, Role: 4, SubAccount: 16, Staff: 8}

// DefaultStatusBatchDelay is how long a Shop's seat counts and a Role's
// member count wait after a SubAccount arrives or leaves before they are
// recomputed: a wave of SubAccounts costs one status write per Shop and
// Role per delay instead of one per SubAccount.
const DefaultStatusBatchDelay = 10 * time.Second

// WithConcurrency sets each controller's MaxConcurrentReconciles; zero
// fields keep the defaults.
func WithConcurrency(c Concurrency) Option {
	return func(o *options) {
		if c.Shop > 0 {
			o.concurrency.Shop = c.Shop
		}
		if c.Role > 0 {
			o.concurrency.Role = c.Role
		}
		if c.SubAccount > 0 {
			o.concurrency.SubAccount = c.SubAccount
		}
		if c.Staff > 0 {
			o.concurrency.Staff = c.Staff
		}
	}
}

// WithStatusBatchDelay sets how long aggregate status (Shop seats, Role
// member counts) waits to collect a burst of SubAccount changes.
func WithStatusBatchDelay(d time.Duration) Option {
	return func(o *options) { o.batchDelay = d }
}

// WithScope tells the controllers which part of the cluster the manager's
// cache holds (build the cache with the same Scope's CacheOptions): with a
// shard, a Role or SubAccount whose Shop is not in the cache is looked up
// on the API server, so that a Shop of another shard is told from a
// missing one.
func WithScope(s Scope) Option {
	return func(o *options) { o.scope = s }
}

// WithOpenPlatform sets how Shops' open-platform apps (spec.openPlatform)
// are checked; without it, a Pinduoduo client that may call any host.
func WithOpenPlatform(op OpenPlatform) Option {
	return func(o *options) { o.open = op }
}

// WithClock makes the controllers read the time from now (tests drive
// schedules and rotation with it instead of waiting).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Setup registers the field indexes and the four controllers with mgr,
// all reaching platforms through factory.
func Setup(ctx context.Context, mgr ctrl.Manager, factory platform.Factory, opts ...Option) error {
	o := options{now: time.Now, concurrency: DefaultConcurrency, batchDelay: DefaultStatusBatchDelay}
	for _, opt := range opts {
		opt(&o)
	}
	if err := SetupIndexes(ctx, mgr); err != nil {
		return err
	}
	if err := metrics.RegisterState(mgr.GetCache()); err != nil {
		return err
	}
	meta, err := newMetadataClient(mgr.GetConfig(), mgr.GetHTTPClient(), mgr.GetScheme(), mgr.GetRESTMapper())
	if err != nil {
		return err
	}
	conn := &Connector{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Factory: factory, OpenPlatform: o.open, meta: meta}
	if o.scope.sharded() {
		conn.Shard = o.scope.Shard
	}
	// The operator's own recorder, not mgr.GetEventRecorder: client-go's
	// broadcaster behind that one keeps a copy of every Event sent for
	// minutes, without bound (internal/eventrecorder).
	recorder, err := eventrecorder.New(mgr.GetClient(), mgr.GetScheme(), eventSource,
		eventrecorder.WithLogger(mgr.GetLogger().WithName("events")))
	if err != nil {
		return err
	}
	if err := mgr.Add(recorder); err != nil {
		return fmt.Errorf("adding the Event recorder to the manager: %w", err)
	}
	rec := boundedRecorder{inner: recorder}
	drift := NewDriftTracker()
	shops := &ShopReconciler{Client: mgr.GetClient(), Connector: conn, Recorder: rec, Drift: drift, Now: o.now,
		MaxConcurrentReconciles: o.concurrency.Shop, BatchDelay: o.batchDelay}
	shops.skeleton.meta = meta
	if err := shops.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Shop controller: %w", err)
	}
	roles := &RoleReconciler{Client: mgr.GetClient(), Connector: conn, Recorder: rec, Drift: drift,
		MaxConcurrentReconciles: o.concurrency.Role, BatchDelay: o.batchDelay}
	roles.skeleton.meta = meta
	if err := roles.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Role controller: %w", err)
	}
	subAccounts := &SubAccountReconciler{Client: mgr.GetClient(), Connector: conn, Recorder: rec, Drift: drift, Now: o.now,
		MaxConcurrentReconciles: o.concurrency.SubAccount}
	subAccounts.skeleton.meta = meta
	if err := subAccounts.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the SubAccount controller: %w", err)
	}
	staff := &StaffReconciler{Client: mgr.GetClient(), Recorder: rec, MaxConcurrentReconciles: o.concurrency.Staff}
	staff.skeleton.meta = meta
	if err := staff.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Staff controller: %w", err)
	}
	return nil
}
