package shopsim

import (
	"encoding/json"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

// An agent's presence and reception capacity are the agent's own (Douyin's
// help page for Feige): the agent changes them in the chat client (the
// admin endpoint stands in for it), a main-account write that leaves them
// empty keeps them, and the page says what Busy means for customers.
func TestAgentOwnsPresenceAndCapacity(t *testing.T) {
	f := newFixture(t, Options{AdminToken: adminToken})
	g := f.g
	role := f.role("客服", "wangwang-chat")
	var a wire.Account
	f.ok(http.StatusCreated, http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "xh", Password: "Pa55word!",
		AccountState: wire.AccountState{RoleIDs: []string{role.ID}, Seat: &wire.Seat{Chat: true, Capacity: 12, Presence: platform.PresenceOnline}}}, &a, sig{})

	change := AgentSeatChange{Platform: platform.Taobao, MainAccount: tbMain, AccountID: a.ID, Presence: platform.PresenceBusy, Capacity: 30}
	body, err := json.Marshal(change)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.admin(http.MethodPut, AdminPathAgentSeat, "wrong", string(body)).status).To(Equal(http.StatusUnauthorized))
	r := f.admin(http.MethodPut, AdminPathAgentSeat, adminToken, string(body))
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	g.Expect(f.engine.Accounts(platform.Taobao, tbMain)[0].Seat).To(Equal(&platform.Seat{Chat: true, Capacity: 30, Presence: platform.PresenceBusy}))
	last := f.engine.Audit(platform.Taobao, tbMain)
	g.Expect(last[len(last)-1]).To(And(
		HaveField("Action", memory.ActionSeatByAgent), HaveField("Source", memory.SourceAgent),
		HaveField("Detail", "presence Online -> Busy (忙碌, cannot receive messages); reception capacity 12 -> 30, by the agent")))

	// The main account's write with presence empty and capacity 0 keeps both.
	var updated wire.Account
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathSeat, a.ID), wire.Seat{Chat: true}, &updated, sig{})
	g.Expect(updated.Seat).To(Equal(&wire.Seat{Chat: true, Capacity: 30, Presence: platform.PresenceBusy}))

	page := string(f.get("/", "").body)
	g.Expect(page).To(ContainSubstring("Busy (忙碌, cannot receive messages)"))

	bad := `{"platform":"taobao","mainAccount":"` + tbMain + `","accountID":"` + a.ID + `","presence":"Away"}`
	g.Expect(f.admin(http.MethodPut, AdminPathAgentSeat, adminToken, bad).status).To(Equal(http.StatusUnprocessableEntity))
}

// SetSeatCapacity is made by whoever holds the shop's API credentials,
// signed in with the agent's login: the audit says so, and never that the
// agent did it.
func TestSeatCapacityAuditSaysOnTheAgentsBehalf(t *testing.T) {
	f := newFixture(t, Options{})
	g := f.g
	role := f.role("客服", "wangwang-chat")
	var a wire.Account
	f.ok(http.StatusCreated, http.MethodPost, wire.PathAccounts, wire.CreateAccount{Name: "xh", Password: "Pa55word!",
		AccountState: wire.AccountState{RoleIDs: []string{role.ID}, Seat: &wire.Seat{Chat: true, Capacity: 12, Presence: platform.PresenceOnline}}}, &a, sig{})
	f.ok(http.StatusOK, http.MethodPut, at(wire.PathSeatCapacity, a.ID),
		wire.SeatCapacityChange{Capacity: 20, ActAs: wire.ActAs{Name: "xh", Password: "Pa55word!"}}, nil,
		sig{header: map[string]string{wire.HeaderSource: "SubAccount/default/xh"}})
	last := f.engine.Audit(platform.Taobao, tbMain)
	g.Expect(last[len(last)-1]).To(And(HaveField("Action", memory.ActionSeatCapacity), HaveField("Source", "SubAccount/default/xh"),
		HaveField("Detail", "reception capacity 12 -> 20, set by the API caller on the sub-account's behalf, signed in with its login")))
}
