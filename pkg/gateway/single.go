package gateway

import (
	"context"
	"slices"
)

// SingleShop is the Provider of a gateway that serves one shop: requests
// for it must be signed with creds, and client serves them. A gateway run
// by one merchant for their own store needs no more.
func SingleShop(shop Shop, creds Credentials, client Client) Provider {
	return singleShop{shop: shop, creds: creds, client: client}
}

type singleShop struct {
	shop   Shop
	creds  Credentials
	client Client
}

func (p singleShop) Credentials(_ context.Context, shop Shop) (Credentials, bool) {
	if shop != p.shop {
		return Credentials{}, false
	}
	return p.creds, true
}

func (p singleShop) Client(context.Context, Shop, Credentials) (Client, error) { return p.client, nil }

// UnionPermissions is the effective permissions of an account in state st
// on a back office that grants exactly its roles' permissions and its
// extra ones: their union, sorted. A role ID that is not among roles is
// ErrInvalid on roleIDs. (A platform whose permission codes imply others,
// as Taobao's tree does, grants more.)
func UnionPermissions(roles []Role, st AccountState) ([]string, error) {
	perms := slices.Clone(st.ExtraPermissions)
	for _, id := range st.RoleIDs {
		i := slices.IndexFunc(roles, func(r Role) bool { return r.ID == id })
		if i < 0 {
			return nil, NewError(ErrInvalid, "roleIDs", "no role %s", id)
		}
		perms = append(perms, roles[i].Permissions...)
	}
	slices.Sort(perms)
	return slices.Compact(perms), nil
}
