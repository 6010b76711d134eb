package memory

import (
	"context"
	"fmt"
	"strings"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// SetSeatCapacity changes an account's reception capacity signed in as the
// sub-account itself: as must be the account's own login (name or
// "main:name" and its password), and the account must be able to log in
// (enabled, phone verified). On Douyin this is the only way to change it;
// on the other platforms it works too. The audit entry names the change,
// never the password.
func (c *client) SetSeatCapacity(ctx context.Context, id string, capacity int32, as platform.SubAccountLogin) (platform.Account, error) {
	var out platform.Account
	err := c.call(ctx, "SetSeatCapacity", func(sh *ShopState, _ *catalog.Catalog) error {
		a, ok := sh.Accounts[id]
		if !ok {
			return accountNotFound(id)
		}
		login := sh.findAccount(strings.TrimPrefix(as.Name, sh.MainAccount+":"))
		switch {
		case login == nil || !checkPassword(login, as.Password):
			return platform.NewError(platform.ErrUnauthorized, "actAs", "the sub-account's login name or password is wrong")
		case login.State.Disabled:
			return platform.NewError(platform.ErrUnauthorized, "actAs", "sub-account %q is disabled and cannot sign in", login.Name)
		case !login.authorised():
			return platform.NewError(platform.ErrUnauthorized, "actAs", "sub-account %q cannot sign in until its phone is verified", login.Name)
		case login.ID != a.ID:
			return platform.NewError(platform.ErrForbidden, "actAs", "a sub-account may change only its own reception capacity")
		case a.State.Seat == nil:
			return platform.NewError(platform.ErrConflict, "seat", "sub-account %q has no customer-service seat", a.Name)
		case capacity < MinSeatCapacity || capacity > MaxSeatCapacity:
			return platform.NewError(platform.ErrInvalid, "seat.capacity", "reception capacity must be %d-%d, got %d", MinSeatCapacity, MaxSeatCapacity, capacity)
		}
		seat := *a.State.Seat
		old := seat.Capacity
		seat.Capacity = capacity
		a.State.Seat = &seat
		sh.audit(c.e.clock(), platform.SourceFrom(ctx), "account.seat.capacity", a.ID, a.Name,
			fmt.Sprintf("reception capacity %d -> %d, by the sub-account itself", old, capacity))
		// The platform saw the sub-account sign in and act.
		now := c.e.clock()
		sh.recordActivity(now, a, platform.ActivityLogin, "", "", "")
		sh.recordActivity(now, a, platform.ActivityOperation, "", "seat.capacity", fmt.Sprintf("reception capacity %d", capacity))
		out = sh.view(a)
		return nil
	})
	return out, err
}
