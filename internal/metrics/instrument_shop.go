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

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// Departments and notification contacts, timed like every other call.

func (c *instrumentedClient) ListDepartments(ctx context.Context) ([]platform.Department, error) {
	return timed(c, "ListDepartments", func() ([]platform.Department, error) { return c.inner.ListDepartments(ctx) })
}

func (c *instrumentedClient) CreateDepartment(ctx context.Context, spec platform.DepartmentSpec, requestID string) (platform.Department, error) {
	return timed(c, "CreateDepartment", func() (platform.Department, error) { return c.inner.CreateDepartment(ctx, spec, requestID) })
}

func (c *instrumentedClient) DeleteDepartment(ctx context.Context, id string) error {
	return timedErr(c, "DeleteDepartment", func() error { return c.inner.DeleteDepartment(ctx, id) })
}

func (c *instrumentedClient) ListContacts(ctx context.Context) ([]platform.Contact, error) {
	return timed(c, "ListContacts", func() ([]platform.Contact, error) { return c.inner.ListContacts(ctx) })
}

func (c *instrumentedClient) AddContact(ctx context.Context, spec platform.ContactSpec) (platform.Contact, error) {
	return timed(c, "AddContact", func() (platform.Contact, error) { return c.inner.AddContact(ctx, spec) })
}

func (c *instrumentedClient) UpdateContact(ctx context.Context, id string, spec platform.ContactSpec) (platform.Contact, error) {
	return timed(c, "UpdateContact", func() (platform.Contact, error) { return c.inner.UpdateContact(ctx, id, spec) })
}

func (c *instrumentedClient) DeleteContact(ctx context.Context, id string) error {
	return timedErr(c, "DeleteContact", func() error { return c.inner.DeleteContact(ctx, id) })
}

func (c *instrumentedClient) VerifyContact(ctx context.Context, id, code string) (platform.Contact, error) {
	return timed(c, "VerifyContact", func() (platform.Contact, error) { return c.inner.VerifyContact(ctx, id, code) })
}

func (c *instrumentedClient) ResendContactCode(ctx context.Context, id string) (platform.Contact, error) {
	return timed(c, "ResendContactCode", func() (platform.Contact, error) { return c.inner.ResendContactCode(ctx, id) })
}

func (c *instrumentedClient) ListActivity(ctx context.Context, q platform.ActivityQuery) (platform.ActivityPage, error) {
	return timed(c, "ListActivity", func() (platform.ActivityPage, error) { return c.inner.ListActivity(ctx, q) })
}
