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
// on the other platforms it works too. The caller is whoever holds the
// shop's API credentials (the operator), so the audit entry says the
// change was made on the sub-account's behalf, never by the agent; it
// names the change, never the password.
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
		sh.audit(c.e.clock(), platform.SourceFrom(ctx), ActionSeatCapacity, a.ID, a.Name,
			fmt.Sprintf("reception capacity %d -> %d, set by the API caller on the sub-account's behalf, signed in with its login", old, capacity))
		// The platform saw the sub-account sign in and act.
		now := c.e.clock()
		sh.recordActivity(now, a, platform.ActivityLogin, "", "", "")
		sh.recordActivity(now, a, platform.ActivityOperation, "", "seat.capacity", fmt.Sprintf("reception capacity %d", capacity))
		out = sh.view(a)
		return nil
	})
	return out, err
}

// Audit actions of the seat settings.
const (
	// ActionSeatCapacity is SetSeatCapacity: the API caller signed in as
	// the agent.
	ActionSeatCapacity = "account.seat.capacity"
	// ActionSeatByAgent is the agent's own change in the chat client
	// (SetSeatAsAgent).
	ActionSeatByAgent = "account.seat.agent"
	// SourceAgent is the audit source of the agent's own changes.
	SourceAgent = "agent"
)

// SetSeatAsAgent is the agent's own change of their presence and
// reception capacity in the chat client (Feige, Qianniu), as a person does
// it, not through the shop's API: it stands in for the agent in tests and
// demos (shopsim's admin endpoint). An empty presence or a zero capacity
// keeps that setting. The audit entry's source is SourceAgent.
func (e *Engine) SetSeatAsAgent(p platform.Name, mainAccount, id string, presence platform.Presence, capacity int32) (platform.Account, error) {
	var out platform.Account
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(p, mainAccount)]
	if !ok {
		return out, shopNotFound(p, mainAccount)
	}
	err := func() error {
		a, ok := sh.Accounts[id]
		switch {
		case !ok:
			return accountNotFound(id)
		case a.State.Seat == nil:
			return platform.NewError(platform.ErrConflict, "seat", "sub-account %q has no customer-service seat", a.Name)
		case capacity != 0 && (capacity < MinSeatCapacity || capacity > MaxSeatCapacity):
			return platform.NewError(platform.ErrInvalid, "seat.capacity", "reception capacity must be %d-%d, got %d", MinSeatCapacity, MaxSeatCapacity, capacity)
		}
		seat := *a.State.Seat
		var changes []string
		moved := false
		switch presence {
		case "", seat.Presence:
		case platform.PresenceOnline, platform.PresenceBusy, platform.PresenceBreak:
			changes = append(changes, fmt.Sprintf("presence %s -> %s", seat.Presence, platform.PresenceMeaning(presence)))
			seat.Presence, moved = presence, true
		default:
			return platform.NewError(platform.ErrInvalid, "seat.presence", "presence must be %s, %s or %s, got %q",
				platform.PresenceOnline, platform.PresenceBusy, platform.PresenceBreak, presence)
		}
		if capacity != 0 && capacity != seat.Capacity {
			changes = append(changes, fmt.Sprintf("reception capacity %d -> %d", seat.Capacity, capacity))
			seat.Capacity = capacity
		}
		a.State.Seat = &seat
		if len(changes) > 0 {
			now := e.clock()
			sh.audit(now, SourceAgent, ActionSeatByAgent, a.ID, a.Name, strings.Join(changes, "; ")+", by the agent")
			// The agent's own act, in their activity feed.
			if moved {
				sh.recordActivity(now, a, platform.ActivityPresence, string(presence), "", "")
			}
		}
		out = sh.view(a)
		return nil
	}()
	return out, err
}
