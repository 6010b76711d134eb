package taobao

import (
	"context"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// ListDepartments is Departments with member counts: TOP lists each
// department's sub-accounts (sub_user_ids).
func (c *Client) ListDepartments(ctx context.Context) ([]platform.Department, error) {
	deps, err := c.Departments(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]platform.Department, 0, len(deps))
	for _, d := range deps {
		out = append(out, platform.Department{ID: d.ID, DepartmentSpec: platform.DepartmentSpec{Name: d.Name, ParentID: d.ParentID},
			Members: len(d.AccountIDs)})
	}
	return out, nil
}

// CreateDepartment is not supported: taobao.subuser.department.add is gone
// from TOP's catalogue.
func (c *Client) CreateDepartment(context.Context, platform.DepartmentSpec, string) (platform.Department, error) {
	return platform.Department{}, notSupported("create a department", "create it in the seller back office (子账号 › 部门结构)")
}

// DeleteDepartment is not supported, as CreateDepartment.
func (c *Client) DeleteDepartment(context.Context, string) error {
	return notSupported("delete a department", "delete it in the seller back office (子账号 › 部门结构)")
}

const contactsInstead = "set the notification contacts in the seller back office"

// ListContacts is not supported: TOP has no notification contacts.
func (c *Client) ListContacts(context.Context) ([]platform.Contact, error) {
	return nil, notSupported("list notification contacts", contactsInstead)
}

// AddContact is not supported, as ListContacts.
func (c *Client) AddContact(context.Context, platform.ContactSpec) (platform.Contact, error) {
	return platform.Contact{}, notSupported("add a notification contact", contactsInstead)
}

// UpdateContact is not supported, as ListContacts.
func (c *Client) UpdateContact(context.Context, string, platform.ContactSpec) (platform.Contact, error) {
	return platform.Contact{}, notSupported("rename a notification contact", contactsInstead)
}

// DeleteContact is not supported, as ListContacts.
func (c *Client) DeleteContact(context.Context, string) error {
	return notSupported("delete a notification contact", contactsInstead)
}

// VerifyContact is not supported, as ListContacts.
func (c *Client) VerifyContact(context.Context, string, string) (platform.Contact, error) {
	return platform.Contact{}, notSupported("verify a notification contact", contactsInstead)
}

// ResendContactCode is not supported, as ListContacts.
func (c *Client) ResendContactCode(context.Context, string) (platform.Contact, error) {
	return platform.Contact{}, notSupported("send a notification contact a code", contactsInstead)
}
