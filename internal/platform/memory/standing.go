package memory

import (
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// A Taobao shop's standing with the platform, which only the owner (in the
// back office) or the platform changes: whether the sub-account service is
// switched on, the seats given, claimed and bought, and the platform's own
// marks on an account (a penalty freeze, an unpaid seat fee). Clients only
// read them; tests and shopsim set them through the Engine.

// info is what ShopInfo reports about sh.
func (sh *ShopState) info() platform.ShopInfo {
	out := platform.ShopInfo{
		Platform:          sh.Platform,
		MainAccount:       sh.MainAccount,
		SeatsUsed:         int32(len(sh.Accounts)),
		SeatsTotal:        sh.SeatQuota,
		PhoneVerification: sh.phoneVerification(),
	}
	if sh.Platform != platform.Taobao {
		return out
	}
	out.Service = platform.ServiceOn
	if sh.ServiceOff {
		out.Service = platform.ServiceOff
	}
	if l := sh.SeatLedger; l != nil {
		ledger := *l
		out.SeatLedger = &ledger
	}
	return out
}

// setStanding sets a shop's service switch and seat ledger (nil keeps the
// quota as it is), which only Taobao shops have.
func (sh *ShopState) setStanding(serviceOff bool, ledger *platform.SeatLedger) error {
	if sh.Platform != platform.Taobao && (serviceOff || ledger != nil) {
		return platform.NewError(platform.ErrInvalid, "platform",
			"only Taobao shops have a sub-account service switch and a seat ledger, not %s", sh.Platform)
	}
	if l := ledger; l != nil {
		if l.FreeGiven < 0 || l.FreeClaimed < 0 || l.Bought < 0 || l.FreeClaimed > l.FreeGiven {
			return platform.NewError(platform.ErrInvalid, "seatLedger",
				"seats must not be negative, and no more free seats claimed (%d) than given (%d)", l.FreeClaimed, l.FreeGiven)
		}
		copied := *l
		sh.SeatLedger = &copied
		sh.SeatQuota = l.Quota()
	}
	sh.ServiceOff = serviceOff
	return nil
}

// SetService switches a Taobao shop's sub-account service on or off, as
// its owner does in the back office (开启子账号服务).
func (e *Engine) SetService(p platform.Name, mainAccount string, on bool) error {
	return e.withShopErr(p, mainAccount, func(sh *ShopState) error { return sh.setStanding(!on, sh.SeatLedger) })
}

// SetSeatLedger sets a Taobao shop's seats: free ones given and claimed
// (领取), and bought ones. The quota becomes claimed plus bought.
func (e *Engine) SetSeatLedger(p platform.Name, mainAccount string, ledger platform.SeatLedger) error {
	return e.withShopErr(p, mainAccount, func(sh *ShopState) error { return sh.setStanding(sh.ServiceOff, &ledger) })
}

// SetAccountStanding sets the platform's own marks on an account: frozen
// as a penalty (Taobao sub_status 3), and its seat fee unpaid (Taobao
// sub_owed_status). No client write changes or clears them.
func (e *Engine) SetAccountStanding(p platform.Name, mainAccount, id string, frozen, owed bool) error {
	return e.withShopErr(p, mainAccount, func(sh *ShopState) error {
		a, ok := sh.Accounts[id]
		if !ok {
			return accountNotFound(id)
		}
		a.PlatformFrozen, a.SeatFeeOwed = frozen, owed
		return nil
	})
}

// withShopErr runs fn on the shop under the engine's lock.
func (e *Engine) withShopErr(p platform.Name, mainAccount string, fn func(*ShopState) error) error {
	var err error
	if nf := e.withShop(p, mainAccount, func(sh *ShopState) { err = fn(sh) }); nf != nil {
		return nf
	}
	return err
}
