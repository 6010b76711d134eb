package shopsim

import (
	"net/http"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// Departments (Taobao) and notification contacts.

func listDepartments(_ *Server, c *apiCall) (int, any, error) {
	deps, err := c.client.ListDepartments(c.ctx)
	out := wire.DepartmentList{Items: make([]wire.Department, 0, len(deps))}
	for _, d := range deps {
		out.Items = append(out.Items, wire.FromDepartment(d))
	}
	return http.StatusOK, out, err
}

// createDepartment answers 201, also when the Idempotency-Key repeats an
// earlier create.
func createDepartment(_ *Server, c *apiCall) (int, any, error) {
	var in wire.DepartmentSpec
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return 0, nil, err
	}
	d, err := c.client.CreateDepartment(c.ctx, platform.DepartmentSpec(in), key)
	return http.StatusCreated, wire.FromDepartment(d), err
}

func deleteDepartment(_ *Server, c *apiCall) (int, any, error) {
	return http.StatusNoContent, nil, c.client.DeleteDepartment(c.ctx, c.params["id"])
}

func listContacts(_ *Server, c *apiCall) (int, any, error) {
	contacts, err := c.client.ListContacts(c.ctx)
	out := wire.ContactList{Items: make([]wire.Contact, 0, len(contacts))}
	for _, ct := range contacts {
		out.Items = append(out.Items, wire.FromContact(ct))
	}
	return http.StatusOK, out, err
}

func addContact(_ *Server, c *apiCall) (int, any, error) {
	var in wire.ContactSpec
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	ct, err := c.client.AddContact(c.ctx, platform.ContactSpec(in))
	return http.StatusCreated, wire.FromContact(ct), err
}

func updateContact(_ *Server, c *apiCall) (int, any, error) {
	var in wire.ContactSpec
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	ct, err := c.client.UpdateContact(c.ctx, c.params["id"], platform.ContactSpec(in))
	return http.StatusOK, wire.FromContact(ct), err
}

func deleteContact(_ *Server, c *apiCall) (int, any, error) {
	return http.StatusNoContent, nil, c.client.DeleteContact(c.ctx, c.params["id"])
}

// verifyContact enters the SMS code; like verifyAccount, a wrong code
// (422) still uses an attempt, so the state file is saved then too.
func verifyContact(s *Server, c *apiCall) (int, any, error) {
	var in wire.VerifyCode
	if err := decode(c.body, &in); err != nil {
		return 0, nil, err
	}
	ct, err := c.client.VerifyContact(c.ctx, c.params["id"], in.Code)
	s.saveOnInvalid(err)
	return http.StatusOK, wire.FromContact(ct), err
}

// resendContactCode sends a new code; the body is empty (or {}).
func resendContactCode(_ *Server, c *apiCall) (int, any, error) {
	if err := noBody(c); err != nil {
		return 0, nil, err
	}
	ct, err := c.client.ResendContactCode(c.ctx, c.params["id"])
	return http.StatusOK, wire.FromContact(ct), err
}
