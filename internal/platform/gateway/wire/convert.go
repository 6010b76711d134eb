package wire

import "github.com/subaccount-operator/subaccount-operator/internal/platform"

// Conversions between the wire types and the platform domain types.

// FromRoleSpec converts a domain role spec.
func FromRoleSpec(s platform.RoleSpec) RoleSpec {
	return RoleSpec{Name: s.Name, Description: s.Description, Permissions: nonNil(s.Permissions)}
}

// ToRoleSpec converts to a domain role spec.
func (s RoleSpec) ToRoleSpec() platform.RoleSpec {
	return platform.RoleSpec{Name: s.Name, Description: s.Description, Permissions: s.Permissions}
}

// FromRole converts a domain role.
func FromRole(r platform.Role) Role { return Role{ID: r.ID, RoleSpec: FromRoleSpec(r.RoleSpec)} }

// ToRole converts to a domain role.
func (r Role) ToRole() platform.Role {
	return platform.Role{ID: r.ID, RoleSpec: r.RoleSpec.ToRoleSpec()}
}

// FromAccountState converts a domain account state.
func FromAccountState(s platform.AccountState) AccountState {
	out := AccountState{
		Profile:          Profile(s.Profile),
		RoleIDs:          nonNil(s.RoleIDs),
		ExtraPermissions: nonNil(s.ExtraPermissions),
		Disabled:         s.Disabled,
		Security:         Security(s.Security),
	}
	if s.Seat != nil {
		seat := Seat(*s.Seat)
		out.Seat = &seat
	}
	return out
}

// ToAccountState converts to a domain account state.
func (s AccountState) ToAccountState() platform.AccountState {
	out := platform.AccountState{
		Profile:          platform.Profile(s.Profile),
		RoleIDs:          emptyToNil(s.RoleIDs),
		ExtraPermissions: emptyToNil(s.ExtraPermissions),
		Disabled:         s.Disabled,
		Security:         platform.Security(s.Security),
	}
	if s.Seat != nil {
		seat := platform.Seat(*s.Seat)
		out.Seat = &seat
	}
	return out
}

// FromShopInfo converts the domain shop info.
func FromShopInfo(i platform.ShopInfo) ShopInfo {
	out := ShopInfo{Platform: i.Platform, MainAccount: i.MainAccount, SeatsUsed: i.SeatsUsed, SeatsTotal: i.SeatsTotal, Service: i.Service,
		PhoneVerification: i.PhoneVerification}
	if l := i.SeatLedger; l != nil {
		w := SeatLedger(*l)
		out.SeatLedger = &w
	}
	return out
}

// ToShopInfo converts to the domain shop info.
func (i ShopInfo) ToShopInfo() platform.ShopInfo {
	out := platform.ShopInfo{Platform: i.Platform, MainAccount: i.MainAccount, SeatsUsed: i.SeatsUsed, SeatsTotal: i.SeatsTotal, Service: i.Service,
		PhoneVerification: i.PhoneVerificationOf()}
	if l := i.SeatLedger; l != nil {
		d := platform.SeatLedger(*l)
		out.SeatLedger = &d
	}
	return out
}

// FromAccount converts a domain account.
func FromAccount(a platform.Account) Account {
	out := Account{ID: a.ID, Name: a.Name, Login: a.Login, AccountState: FromAccountState(a.AccountState),
		EffectivePermissions: nonNil(a.EffectivePermissions), PasswordChangedAt: a.PasswordChangedAt,
		PlatformFrozen: a.PlatformFrozen, SeatFeeOwed: a.SeatFeeOwed}
	if v := a.Verification; v != nil {
		w := Verification(*v)
		out.Verification = &w
	}
	return out
}

// ToAccount converts to a domain account.
func (a Account) ToAccount() platform.Account {
	out := platform.Account{ID: a.ID, Name: a.Name, Login: a.Login, AccountState: a.AccountState.ToAccountState(),
		EffectivePermissions: emptyToNil(a.EffectivePermissions), PasswordChangedAt: a.PasswordChangedAt,
		PlatformFrozen: a.PlatformFrozen, SeatFeeOwed: a.SeatFeeOwed}
	if v := a.Verification; v != nil {
		d := platform.Verification(*v)
		out.Verification = &d
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func emptyToNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// FromDepartment converts a domain department.
func FromDepartment(d platform.Department) Department {
	return Department{ID: d.ID, DepartmentSpec: DepartmentSpec(d.DepartmentSpec), Members: d.Members}
}

// ToDepartment converts to a domain department.
func (d Department) ToDepartment() platform.Department {
	return platform.Department{ID: d.ID, DepartmentSpec: platform.DepartmentSpec(d.DepartmentSpec), Members: d.Members}
}

// FromContact converts a domain contact.
func FromContact(c platform.Contact) Contact {
	return Contact{ID: c.ID, ContactSpec: ContactSpec(c.ContactSpec), Verification: Verification(c.Verification)}
}

// ToContact converts to a domain contact.
func (c Contact) ToContact() platform.Contact {
	return platform.Contact{ID: c.ID, ContactSpec: platform.ContactSpec(c.ContactSpec), Verification: platform.Verification(c.Verification)}
}
