package gateway

import (
	"context"
	"net/http"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// ListDepartments is GET /departments.
func (c *client) ListDepartments(ctx context.Context) ([]platform.Department, error) {
	var out wire.DepartmentList
	if err := c.do(ctx, request{method: http.MethodGet, path: wire.PathDepartments, out: &out}); err != nil {
		return nil, err
	}
	deps := make([]platform.Department, 0, len(out.Items))
	for _, d := range out.Items {
		deps = append(deps, d.ToDepartment())
	}
	return deps, nil
}

// CreateDepartment is POST /departments with the request ID as
// Idempotency-Key.
func (c *client) CreateDepartment(ctx context.Context, spec platform.DepartmentSpec, requestID string) (platform.Department, error) {
	var out wire.Department
	err := c.do(ctx, request{method: http.MethodPost, path: wire.PathDepartments, in: wire.DepartmentSpec(spec), out: &out, idempotencyKey: requestID})
	if err != nil {
		return platform.Department{}, err
	}
	return out.ToDepartment(), nil
}

// DeleteDepartment is DELETE /departments/{id}.
func (c *client) DeleteDepartment(ctx context.Context, id string) error {
	p, err := path(wire.PathDepartment, "id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p})
}

// ListContacts is GET /contacts.
func (c *client) ListContacts(ctx context.Context) ([]platform.Contact, error) {
	var out wire.ContactList
	if err := c.do(ctx, request{method: http.MethodGet, path: wire.PathContacts, out: &out}); err != nil {
		return nil, err
	}
	contacts := make([]platform.Contact, 0, len(out.Items))
	for _, ct := range out.Items {
		contacts = append(contacts, ct.ToContact())
	}
	return contacts, nil
}

// AddContact is POST /contacts; the gateway sends the phone a code.
func (c *client) AddContact(ctx context.Context, spec platform.ContactSpec) (platform.Contact, error) {
	return c.contact(ctx, request{method: http.MethodPost, path: wire.PathContacts, in: wire.ContactSpec(spec)})
}

// UpdateContact is PUT /contacts/{id}.
func (c *client) UpdateContact(ctx context.Context, id string, spec platform.ContactSpec) (platform.Contact, error) {
	p, err := path(wire.PathContact, "id", id)
	if err != nil {
		return platform.Contact{}, err
	}
	return c.contact(ctx, request{method: http.MethodPut, path: p, in: wire.ContactSpec(spec)})
}

// DeleteContact is DELETE /contacts/{id}.
func (c *client) DeleteContact(ctx context.Context, id string) error {
	p, err := path(wire.PathContact, "id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p})
}

// VerifyContact is POST /contacts/{id}/verify with the code, scrubbed from
// error messages as VerifyAccount's.
func (c *client) VerifyContact(ctx context.Context, id, code string) (platform.Contact, error) {
	p, err := path(wire.PathContactVerify, "id", id)
	if err != nil {
		return platform.Contact{}, err
	}
	return c.contact(ctx, request{method: http.MethodPost, path: p, in: wire.VerifyCode{Code: code},
		secrets: codeSecrets(code)})
}

// ResendContactCode is POST /contacts/{id}/verification-code without a
// body (429 with Retry-After within a minute of the last code).
func (c *client) ResendContactCode(ctx context.Context, id string) (platform.Contact, error) {
	p, err := path(wire.PathContactCode, "id", id)
	if err != nil {
		return platform.Contact{}, err
	}
	return c.contact(ctx, request{method: http.MethodPost, path: p})
}

func (c *client) contact(ctx context.Context, r request) (platform.Contact, error) {
	var out wire.Contact
	r.out = &out
	if err := c.do(ctx, r); err != nil {
		return platform.Contact{}, err
	}
	return out.ToContact(), nil
}
