package memory

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// Creating and deleting objects with new request IDs again and again does
// not grow the request-ID maps beyond a bound of the live objects (they
// used to keep one entry per create for ever), and a live object's
// request ID still answers with it.
func TestRequestIDsAreBounded(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Pinduoduo]
	role := f.role(t, platform.Pinduoduo, "kept")
	kept, err := c.CreateAccount(ctx, validRequest("kept", role.ID), "kept-request")
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 500
	for i := range rounds {
		a, err := c.CreateAccount(ctx, validRequest(fmt.Sprintf("a%d", i), role.ID), fmt.Sprintf("account-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteAccount(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		r, err := c.CreateRole(ctx, platform.RoleSpec{Name: fmt.Sprintf("r%d", i)}, fmt.Sprintf("role-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteRole(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.e.mu.Lock()
	sh := f.e.state.Shops[ShopKey(platform.Pinduoduo, pddMain)]
	accounts, roles := len(sh.AccountRequests), len(sh.RoleRequests)
	f.e.mu.Unlock()
	if bound := 2*1 + requestSlack + 1; accounts > bound || roles > bound {
		t.Fatalf("after %d creates and deletes: %d account and %d role request IDs kept, want at most %d", rounds, accounts, roles, bound)
	}
	again, err := c.CreateAccount(ctx, validRequest("kept", role.ID), "kept-request")
	if err != nil || again.ID != kept.ID {
		t.Fatalf("repeated create = %v, %v; want the account %s created first", again.ID, err, kept.ID)
	}
}

// The SMS outbox keeps at most MaxSMSOutbox phones, forgetting the one
// whose code is the oldest.
func TestSMSOutboxIsBounded(t *testing.T) {
	f := newFixture(t)
	f.e.mu.Lock()
	for i := range MaxSMSOutbox + 3 {
		f.e.sendCode(fmt.Sprintf("1%010d", i), t0.Add(time.Duration(i)*time.Second))
	}
	n := len(f.e.state.SMS)
	f.e.mu.Unlock()
	if n != MaxSMSOutbox {
		t.Fatalf("outbox holds %d phones, want %d", n, MaxSMSOutbox)
	}
	if _, _, ok := f.e.SMS(fmt.Sprintf("1%010d", 0)); ok {
		t.Error("the oldest phone is still in the outbox")
	}
	if _, _, ok := f.e.SMS(fmt.Sprintf("1%010d", MaxSMSOutbox+2)); !ok {
		t.Error("the newest phone is not in the outbox")
	}
}

// An error built from a long input (6,000 unknown permission codes, about
// 60 KB) comes back cut to platform.MaxMessageBytes, marked as cut.
func TestLongErrorMessageIsBounded(t *testing.T) {
	f := newFixture(t)
	codes := make([]string, 6000)
	for i := range codes {
		codes[i] = fmt.Sprintf("nope-%05d", i)
	}
	_, err := f.clients[platform.Taobao].CreateRole(ctx, platform.RoleSpec{Name: "r", Permissions: codes}, "")
	var pe *platform.Error
	if !errors.As(err, &pe) {
		t.Fatalf("CreateRole = %v, want a *platform.Error", err)
	}
	if len(pe.Message) > platform.MaxMessageBytes || !strings.HasSuffix(pe.Message, platform.CutMarker) {
		t.Fatalf("message of %d bytes ending %q; want at most %d ending %q", len(pe.Message), pe.Message[max(0, len(pe.Message)-20):],
			platform.MaxMessageBytes, platform.CutMarker)
	}
	if !errors.Is(err, platform.ErrInvalid) || pe.Field != "permissions" {
		t.Fatalf("kind or field lost: %v", err)
	}
}
