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

package metrics

import (
	"context"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// InstrumentFactory wraps inner so that every call of its clients is
// counted in subaccount_platform_calls_total and timed in
// subaccount_platform_call_duration_seconds. Wrap it inside the rate
// limiter (platform.NewLimitedFactory(InstrumentFactory(driver))) so the
// durations are the platform's, not the wait for a token.
func InstrumentFactory(inner platform.Factory) platform.Factory {
	return platform.FactoryFunc(func(ctx context.Context, shop platform.ShopConfig) (platform.Client, error) {
		c, err := inner.ClientFor(ctx, shop)
		if err != nil {
			return nil, err
		}
		ns, name := splitShop(shop.Key)
		return &instrumentedClient{inner: c, labels: [3]string{ns, name, string(shop.Platform)}}, nil
	})
}

// now is the clock calls are timed with; tests replace it.
var now = time.Now

// instrumentedClient times each call of inner.
type instrumentedClient struct {
	inner platform.Client
	// labels are namespace, shop and platform.
	labels [3]string
}

var (
	_ platform.Client             = (*instrumentedClient)(nil)
	_ platform.CapabilityReporter = (*instrumentedClient)(nil)
)

// Capabilities passes on the inner client's.
func (c *instrumentedClient) Capabilities() platform.Capabilities {
	return platform.CapabilitiesOf(c.inner)
}

// observe records one call of method that started at start and returned err.
func (c *instrumentedClient) observe(method string, start time.Time, err error) {
	d := now().Sub(start).Seconds()
	result := Result(err)
	platformCalls.WithLabelValues(c.labels[0], c.labels[1], c.labels[2], method, result).Inc()
	platformCallDuration.WithLabelValues(c.labels[0], c.labels[1], c.labels[2], method, result).Observe(d)
}

// timed runs fn as a call of method.
func timed[T any](c *instrumentedClient, method string, fn func() (T, error)) (T, error) {
	start := now()
	v, err := fn()
	c.observe(method, start, err)
	return v, err
}

// timedErr runs fn, which returns only an error, as a call of method.
func timedErr(c *instrumentedClient, method string, fn func() error) error {
	start := now()
	err := fn()
	c.observe(method, start, err)
	return err
}

func (c *instrumentedClient) ShopInfo(ctx context.Context) (platform.ShopInfo, error) {
	return timed(c, "ShopInfo", func() (platform.ShopInfo, error) { return c.inner.ShopInfo(ctx) })
}

func (c *instrumentedClient) Permissions(ctx context.Context) ([]platform.Permission, error) {
	return timed(c, "Permissions", func() ([]platform.Permission, error) { return c.inner.Permissions(ctx) })
}

func (c *instrumentedClient) ListRoles(ctx context.Context) ([]platform.Role, error) {
	return timed(c, "ListRoles", func() ([]platform.Role, error) { return c.inner.ListRoles(ctx) })
}

func (c *instrumentedClient) GetRole(ctx context.Context, id string) (platform.Role, error) {
	return timed(c, "GetRole", func() (platform.Role, error) { return c.inner.GetRole(ctx, id) })
}

func (c *instrumentedClient) CreateRole(ctx context.Context, spec platform.RoleSpec, requestID string) (platform.Role, error) {
	return timed(c, "CreateRole", func() (platform.Role, error) { return c.inner.CreateRole(ctx, spec, requestID) })
}

func (c *instrumentedClient) UpdateRole(ctx context.Context, id string, spec platform.RoleSpec) (platform.Role, error) {
	return timed(c, "UpdateRole", func() (platform.Role, error) { return c.inner.UpdateRole(ctx, id, spec) })
}

func (c *instrumentedClient) DeleteRole(ctx context.Context, id string) error {
	return timedErr(c, "DeleteRole", func() error { return c.inner.DeleteRole(ctx, id) })
}

func (c *instrumentedClient) ListAccounts(ctx context.Context, opts platform.ListOptions) (platform.AccountPage, error) {
	return timed(c, "ListAccounts", func() (platform.AccountPage, error) { return c.inner.ListAccounts(ctx, opts) })
}

func (c *instrumentedClient) GetAccount(ctx context.Context, id string) (platform.Account, error) {
	return timed(c, "GetAccount", func() (platform.Account, error) { return c.inner.GetAccount(ctx, id) })
}

func (c *instrumentedClient) FindAccount(ctx context.Context, name string) (platform.Account, error) {
	return timed(c, "FindAccount", func() (platform.Account, error) { return c.inner.FindAccount(ctx, name) })
}

func (c *instrumentedClient) CreateAccount(ctx context.Context, req platform.CreateAccount, requestID string) (platform.Account, error) {
	return timed(c, "CreateAccount", func() (platform.Account, error) { return c.inner.CreateAccount(ctx, req, requestID) })
}

func (c *instrumentedClient) UpdateAccount(ctx context.Context, id string, state platform.AccountState) (platform.Account, error) {
	return timed(c, "UpdateAccount", func() (platform.Account, error) { return c.inner.UpdateAccount(ctx, id, state) })
}

func (c *instrumentedClient) SetPassword(ctx context.Context, id, password string) error {
	return timedErr(c, "SetPassword", func() error { return c.inner.SetPassword(ctx, id, password) })
}

func (c *instrumentedClient) DeleteAccount(ctx context.Context, id string) error {
	return timedErr(c, "DeleteAccount", func() error { return c.inner.DeleteAccount(ctx, id) })
}

func (c *instrumentedClient) VerifyAccount(ctx context.Context, id, code string) (platform.Account, error) {
	return timed(c, "VerifyAccount", func() (platform.Account, error) { return c.inner.VerifyAccount(ctx, id, code) })
}

func (c *instrumentedClient) ResendVerification(ctx context.Context, id string) (platform.Account, error) {
	return timed(c, "ResendVerification", func() (platform.Account, error) { return c.inner.ResendVerification(ctx, id) })
}

func (c *instrumentedClient) RequestCode(ctx context.Context, req platform.CodeRequest, requestID string) (platform.Verification, error) {
	return timed(c, "RequestCode", func() (platform.Verification, error) { return c.inner.RequestCode(ctx, req, requestID) })
}

func (c *instrumentedClient) ChangePhone(ctx context.Context, id string, code platform.VerificationCode) (platform.Account, error) {
	return timed(c, "ChangePhone", func() (platform.Account, error) { return c.inner.ChangePhone(ctx, id, code) })
}

func (c *instrumentedClient) SetSeatCapacity(ctx context.Context, id string, capacity int32, as platform.SubAccountLogin) (platform.Account, error) {
	return timed(c, "SetSeatCapacity", func() (platform.Account, error) { return c.inner.SetSeatCapacity(ctx, id, capacity, as) })
}

func (c *instrumentedClient) CheckCredentials(ctx context.Context, name, password string) (bool, error) {
	return timed(c, "CheckCredentials", func() (bool, error) { return c.inner.CheckCredentials(ctx, name, password) })
}
