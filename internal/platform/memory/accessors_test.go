package memory

import (
	"reflect"
	"testing"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func TestShopCredentials(t *testing.T) {
	f := newFixture(t)
	got, ok := f.e.ShopCredentials(platform.Taobao, taobaoMain)
	if !ok || got != creds {
		t.Fatalf("ShopCredentials = %+v, %t; want the shop's credentials", got, ok)
	}
	if _, ok := f.e.ShopCredentials(platform.Douyin, taobaoMain); ok {
		t.Error("ShopCredentials of an unknown shop reported ok")
	}
	newCreds := platform.Credentials{AppKey: "k2", AppSecret: "s2", AccessToken: "t2"}
	if err := f.e.SetCredentials(platform.Taobao, taobaoMain, newCreds); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.e.ShopCredentials(platform.Taobao, taobaoMain); got != newCreds {
		t.Errorf("after SetCredentials: %+v", got)
	}
}

func TestShops(t *testing.T) {
	if got := NewEngine().Shops(); len(got) != 0 {
		t.Errorf("empty engine: %v", got)
	}
	f := newFixture(t)
	f.account(t, platform.Taobao, validRequest("xh", f.role(t, platform.Taobao, "cs", "wangwang").ID))
	want := []platform.ShopInfo{
		{Platform: platform.Douyin, MainAccount: douyinMain, SeatsTotal: 10, PhoneVerification: platform.PhoneVerificationBeforeCreate},
		{Platform: platform.Pinduoduo, MainAccount: pddMain, SeatsTotal: 10, PhoneVerification: platform.PhoneVerificationNone},
		{Platform: platform.Taobao, MainAccount: taobaoMain, SeatsUsed: 1, SeatsTotal: 10, Service: platform.ServiceOn,
			PhoneVerification: platform.PhoneVerificationNone},
	}
	if got := f.e.Shops(); !reflect.DeepEqual(got, want) {
		t.Errorf("Shops =\n%+v\nwant\n%+v", got, want)
	}
}

func TestAuditSource(t *testing.T) {
	f := newFixture(t)
	c := f.clients[platform.Taobao]
	if got := platform.SourceFrom(ctx); got != "" {
		t.Errorf("platform.SourceFrom(background) = %q", got)
	}
	src := platform.WithSource(ctx, "SubAccount/default/xiaohong")
	if got := platform.SourceFrom(src); got != "SubAccount/default/xiaohong" {
		t.Errorf("SourceFrom = %q", got)
	}
	roleCtx := platform.WithSource(ctx, "Role/default/cs")
	r, err := c.CreateRole(roleCtx, platform.RoleSpec{Name: "cs", Permissions: []string{"wangwang"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateRole(roleCtx, r.ID, platform.RoleSpec{Name: "cs", Permissions: []string{"phone"}}); err != nil {
		t.Fatal(err)
	}
	a, err := c.CreateAccount(src, validRequest("xh", r.ID), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateAccount(src, a.ID, platform.AccountState{RoleIDs: []string{r.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPassword(src, a.ID, "An0ther-pass"); err != nil {
		t.Fatal(err)
	}
	// A write without a source records none.
	if _, err := c.UpdateAccount(ctx, a.ID, platform.AccountState{}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAccount(src, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRole(roleCtx, r.ID); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range f.e.Audit(platform.Taobao, taobaoMain) {
		got = append(got, e.Action+" "+e.Source)
	}
	want := []string{
		"role.create Role/default/cs",
		"role.update Role/default/cs",
		"account.create SubAccount/default/xiaohong",
		"account.update SubAccount/default/xiaohong",
		"account.password SubAccount/default/xiaohong",
		"account.update ",
		"account.delete SubAccount/default/xiaohong",
		"role.delete Role/default/cs",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("audit =\n%q\nwant\n%q", got, want)
	}
	// The source survives a snapshot.
	snap, err := f.e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e2 := NewEngine()
	if err := e2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if a := e2.Audit(platform.Taobao, taobaoMain); a[0].Source != "Role/default/cs" {
		t.Errorf("restored source = %q", a[0].Source)
	}
}
