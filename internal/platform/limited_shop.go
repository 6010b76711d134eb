package platform

import "context"

// Departments and notification contacts, each call through the shop's
// token bucket like every other.

func (c *limitedClient) ListDepartments(ctx context.Context) ([]Department, error) {
	return call(ctx, c, func() ([]Department, error) { return c.inner.ListDepartments(ctx) })
}

func (c *limitedClient) CreateDepartment(ctx context.Context, spec DepartmentSpec, requestID string) (Department, error) {
	return call(ctx, c, func() (Department, error) { return c.inner.CreateDepartment(ctx, spec, requestID) })
}

func (c *limitedClient) DeleteDepartment(ctx context.Context, id string) error {
	_, err := call(ctx, c, func() (struct{}, error) { return struct{}{}, c.inner.DeleteDepartment(ctx, id) })
	return err
}

func (c *limitedClient) ListContacts(ctx context.Context) ([]Contact, error) {
	return call(ctx, c, func() ([]Contact, error) { return c.inner.ListContacts(ctx) })
}

func (c *limitedClient) AddContact(ctx context.Context, spec ContactSpec) (Contact, error) {
	return call(ctx, c, func() (Contact, error) { return c.inner.AddContact(ctx, spec) })
}

func (c *limitedClient) UpdateContact(ctx context.Context, id string, spec ContactSpec) (Contact, error) {
	return call(ctx, c, func() (Contact, error) { return c.inner.UpdateContact(ctx, id, spec) })
}

func (c *limitedClient) DeleteContact(ctx context.Context, id string) error {
	_, err := call(ctx, c, func() (struct{}, error) { return struct{}{}, c.inner.DeleteContact(ctx, id) })
	return err
}

func (c *limitedClient) VerifyContact(ctx context.Context, id, code string) (Contact, error) {
	return callOwnLimit(ctx, c, func() (Contact, error) { return c.inner.VerifyContact(ctx, id, code) })
}

func (c *limitedClient) ResendContactCode(ctx context.Context, id string) (Contact, error) {
	return callOwnLimit(ctx, c, func() (Contact, error) { return c.inner.ResendContactCode(ctx, id) })
}

func (c *limitedClient) ListActivity(ctx context.Context, q ActivityQuery) (ActivityPage, error) {
	return call(ctx, c, func() (ActivityPage, error) { return c.inner.ListActivity(ctx, q) })
}
