package gateway

import (
	"context"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// Unsupported answers every operation with ErrNotSupported (501). A
// provider embeds it in its Client and implements what its platform's back
// office can do; an operation added to the protocol later then answers 501
// on its gateway instead of breaking its build.
type Unsupported struct{}

var _ Client = Unsupported{}

func notSupported(op string) error {
	return platform.NewError(platform.ErrNotSupported, "", "this gateway does not support %s", op)
}

func (Unsupported) ShopInfo(context.Context) (ShopInfo, error) {
	return ShopInfo{}, notSupported("reading the shop")
}
func (Unsupported) Permissions(context.Context) ([]Permission, error) {
	return nil, notSupported("the permission catalog")
}
func (Unsupported) ListRoles(context.Context) ([]Role, error) { return nil, notSupported("roles") }
func (Unsupported) GetRole(context.Context, string) (Role, error) {
	return Role{}, notSupported("roles")
}
func (Unsupported) CreateRole(context.Context, RoleSpec, string) (Role, error) {
	return Role{}, notSupported("roles")
}
func (Unsupported) UpdateRole(context.Context, string, RoleSpec) (Role, error) {
	return Role{}, notSupported("roles")
}
func (Unsupported) DeleteRole(context.Context, string) error { return notSupported("roles") }
func (Unsupported) ListAccounts(context.Context, ListOptions) (AccountPage, error) {
	return AccountPage{}, notSupported("listing accounts")
}
func (Unsupported) GetAccount(context.Context, string) (Account, error) {
	return Account{}, notSupported("reading accounts")
}
func (Unsupported) FindAccount(context.Context, string) (Account, error) {
	return Account{}, notSupported("finding accounts by name")
}
func (Unsupported) CreateAccount(context.Context, CreateAccount, string) (Account, error) {
	return Account{}, notSupported("creating accounts")
}
func (Unsupported) UpdateAccount(context.Context, string, AccountState) (Account, error) {
	return Account{}, notSupported("updating accounts")
}
func (Unsupported) SetPassword(context.Context, string, string) error {
	return notSupported("setting passwords")
}
func (Unsupported) DeleteAccount(context.Context, string) error {
	return notSupported("deleting accounts")
}
func (Unsupported) SetSeatCapacity(context.Context, string, int32, SubAccountLogin) (Account, error) {
	return Account{}, notSupported("the reception capacity")
}
func (Unsupported) CheckCredentials(context.Context, string, string) (bool, error) {
	return false, notSupported("checking a login")
}
func (Unsupported) VerifyAccount(context.Context, string, string) (Account, error) {
	return Account{}, notSupported("phone verification")
}
func (Unsupported) ResendVerification(context.Context, string) (Account, error) {
	return Account{}, notSupported("phone verification")
}
func (Unsupported) RequestCode(context.Context, CodeRequest, string) (Verification, error) {
	return Verification{}, notSupported("phone verification before creation")
}
func (Unsupported) ChangePhone(context.Context, string, VerificationCode) (Account, error) {
	return Account{}, notSupported("phone verification before creation")
}
func (Unsupported) ListDepartments(context.Context) ([]Department, error) {
	return []Department{}, nil // the protocol: [] on platforms without departments
}
func (Unsupported) CreateDepartment(context.Context, DepartmentSpec, string) (Department, error) {
	return Department{}, notSupported("departments")
}
func (Unsupported) DeleteDepartment(context.Context, string) error {
	return notSupported("departments")
}
func (Unsupported) ListContacts(context.Context) ([]Contact, error) {
	return nil, notSupported("notification contacts")
}
func (Unsupported) AddContact(context.Context, ContactSpec) (Contact, error) {
	return Contact{}, notSupported("notification contacts")
}
func (Unsupported) UpdateContact(context.Context, string, ContactSpec) (Contact, error) {
	return Contact{}, notSupported("notification contacts")
}
func (Unsupported) DeleteContact(context.Context, string) error {
	return notSupported("notification contacts")
}
func (Unsupported) VerifyContact(context.Context, string, string) (Contact, error) {
	return Contact{}, notSupported("notification contacts")
}
func (Unsupported) ResendContactCode(context.Context, string) (Contact, error) {
	return Contact{}, notSupported("notification contacts")
}
func (Unsupported) ListActivity(context.Context, ActivityQuery) (ActivityPage, error) {
	return ActivityPage{}, notSupported("the activity feed")
}
