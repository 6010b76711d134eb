package catalog

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func mustFor(t *testing.T, p platform.Name) *Catalog {
	t.Helper()
	c, err := For(p)
	if err != nil {
		t.Fatalf("For(%s): %v", p, err)
	}
	return c
}

func allCodes(c *Catalog) []string {
	var out []string
	for _, p := range c.Permissions {
		out = append(out, p.Code)
	}
	sort.Strings(out)
	return out
}

func TestAllCatalogsLoad(t *testing.T) {
	tests := []struct {
		platform                         platform.Name
		passwordMin, roleMax, accountMax int
		expandTree, capacityBySubAccount bool
	}{
		{platform.Taobao, 8, 20, 32, true, false},
		{platform.Pinduoduo, 6, 20, 32, false, false},
		{platform.Douyin, 8, 30, 32, false, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.platform), func(t *testing.T) {
			c := mustFor(t, tt.platform)
			if c.Platform != tt.platform {
				t.Errorf("Platform = %q", c.Platform)
			}
			if c.PasswordMinLength != tt.passwordMin || c.RoleNameMaxLength != tt.roleMax ||
				c.AccountNameMaxLength != tt.accountMax || c.ExpandTree != tt.expandTree {
				t.Errorf("limits = %d/%d/%d/%t, want %d/%d/%d/%t",
					c.PasswordMinLength, c.RoleNameMaxLength, c.AccountNameMaxLength, c.ExpandTree,
					tt.passwordMin, tt.roleMax, tt.accountMax, tt.expandTree)
			}
			if c.SeatCapacityBySubAccount != tt.capacityBySubAccount {
				t.Errorf("SeatCapacityBySubAccount = %t, want %t", c.SeatCapacityBySubAccount, tt.capacityBySubAccount)
			}
			if len(c.Permissions) < 13 {
				t.Errorf("only %d permissions", len(c.Permissions))
			}
			for _, p := range c.Permissions {
				if p.Name == "" {
					t.Errorf("%s has no name", p.Code)
				}
			}
			again := mustFor(t, tt.platform)
			if again != c {
				t.Errorf("For is not cached: got a different *Catalog")
			}
		})
	}
}

func TestForUnknownPlatform(t *testing.T) {
	for _, p := range []platform.Name{"", "jd", "Taobao"} {
		c, err := For(p)
		if err == nil || c != nil {
			t.Fatalf("For(%q) = %v, %v; want error", p, c, err)
		}
		if !errors.Is(err, platform.ErrNotSupported) {
			t.Errorf("For(%q) error %v does not wrap ErrNotSupported", p, err)
		}
	}
}

func TestPlatformsAndTemplateNames(t *testing.T) {
	want := []platform.Name{platform.Douyin, platform.Pinduoduo, platform.Taobao}
	if got := Platforms(); !slices.Equal(got, want) {
		t.Errorf("Platforms() = %v, want %v", got, want)
	}
	wantNames := []string{"admin", "customer-service", "customer-service-lead", "designer", "finance",
		"logistics", "marketing", "operations", "warehouse"}
	names := TemplateNames()
	if !slices.Equal(names, wantNames) {
		t.Errorf("TemplateNames() = %v, want %v", names, wantNames)
	}
	names[0] = "mutated"
	Platforms()[0] = "mutated"
	if TemplateNames()[0] != "admin" || Platforms()[0] != platform.Douyin {
		t.Error("callers can mutate the package's lists")
	}
	for _, p := range Platforms() {
		c := mustFor(t, p)
		var got []string
		for name := range c.Templates {
			got = append(got, name)
		}
		sort.Strings(got)
		if !slices.Equal(got, wantNames) {
			t.Errorf("%s templates = %v, want %v", p, got, wantNames)
		}
	}
}

// TestLeastPrivilegeTemplates enforces that only admin and finance grant
// high-risk permissions, after tree expansion.
func TestLeastPrivilegeTemplates(t *testing.T) {
	for _, p := range Platforms() {
		c := mustFor(t, p)
		for _, name := range TemplateNames() {
			t.Run(string(p)+"/"+name, func(t *testing.T) {
				codes, ok := c.Template(name)
				if !ok || len(codes) == 0 {
					t.Fatalf("template %s missing or empty", name)
				}
				granted, err := c.Expand(codes)
				if err != nil {
					t.Fatalf("Expand: %v", err)
				}
				risky := c.HighRisk(granted)
				switch name {
				case TemplateAdmin, TemplateFinance:
					if len(risky) == 0 {
						t.Errorf("%s grants no high-risk permission", name)
					}
				default:
					if len(risky) != 0 {
						t.Errorf("%s grants high-risk permissions %v", name, risky)
					}
				}
			})
		}
	}
}

func TestAdminGrantsEverything(t *testing.T) {
	for _, p := range Platforms() {
		c := mustFor(t, p)
		codes, _ := c.Template(TemplateAdmin)
		got, err := c.Expand(codes)
		if err != nil {
			t.Fatal(err)
		}
		if want := allCodes(c); !slices.Equal(got, want) {
			t.Errorf("%s admin grants %v, want every code %v", p, got, want)
		}
	}
}

func TestFinanceSeesFundsButCannotEditItems(t *testing.T) {
	funds := map[platform.Name][]string{
		platform.Taobao:    {"funds-payment", "funds-view"},
		platform.Pinduoduo: {"funds.payment", "funds.view"},
		platform.Douyin:    {"funds-payment", "funds-view"},
	}
	for p, want := range funds {
		c := mustFor(t, p)
		codes, _ := c.Template(TemplateFinance)
		granted, _ := c.Expand(codes)
		if got := c.HighRisk(granted); !slices.Equal(got, want) {
			t.Errorf("%s finance high-risk = %v, want %v", p, got, want)
		}
	}
}

// TestHighRiskSet pins exactly which codes are high-risk on each platform:
// item deletion, price change, funds, payment data and sub-account management.
func TestHighRiskSet(t *testing.T) {
	want := map[platform.Name][]string{
		platform.Taobao:    {"funds-payment", "funds-view", "item-delete", "item-price", "subaccount-manage"},
		platform.Pinduoduo: {"funds.payment", "funds.view", "item.delete", "item.price", "shop.subaccount"},
		platform.Douyin:    {"funds-payment", "funds-view", "product-delete", "product-price", "shop-subaccount"},
	}
	for p, codes := range want {
		c := mustFor(t, p)
		if got := c.HighRisk(allCodes(c)); !slices.Equal(got, codes) {
			t.Errorf("%s high-risk = %v, want %v", p, got, codes)
		}
	}
}

// TestHighRiskAreLeaves: granting a high-risk code on Taobao must not drag
// in other permissions, and a low-risk child never drags in a risky parent.
func TestHighRiskAreLeaves(t *testing.T) {
	for _, p := range Platforms() {
		c := mustFor(t, p)
		for _, perm := range c.Permissions {
			if perm.HighRisk && len(c.children[perm.Code]) > 0 {
				t.Errorf("%s: high-risk %s has children %v", p, perm.Code, c.children[perm.Code])
			}
		}
	}
}

func TestPlatformCodes(t *testing.T) {
	tests := []struct {
		platform platform.Name
		code     string
		parent   string
		nameHas  string
	}{
		{platform.Taobao, "sell", "", "Item management"},
		{platform.Taobao, "sm", "sell", "Shop management"},
		{platform.Taobao, "sm-design", "sm", "装修"},
		{platform.Taobao, "sm-tbd-visit", "sm-design", ""},
		{platform.Taobao, "sm-tbd-publish", "sm-design", ""},
		{platform.Taobao, "phone", "", "Mobile shop"},
		{platform.Taobao, "wangwang-chat", "wangwang", "旺旺"},
		{platform.Pinduoduo, "order.view", "order", "Order viewing (订单查看)"},
		{platform.Pinduoduo, "logistics.query", "logistics", "Logistics query"},
		{platform.Douyin, "im-chat", "im", "飞鸽"},
		{platform.Douyin, "order-view", "order", "Order viewing"},
	}
	for _, tt := range tests {
		c := mustFor(t, tt.platform)
		p, ok := c.Lookup(tt.code)
		if !ok {
			t.Errorf("%s: %s missing", tt.platform, tt.code)
			continue
		}
		if p.Code != tt.code || p.Parent != tt.parent || !strings.Contains(p.Name, tt.nameHas) {
			t.Errorf("%s: Lookup(%s) = %+v", tt.platform, tt.code, p)
		}
	}
	if _, ok := mustFor(t, platform.Taobao).Lookup("order.view"); ok {
		t.Error("Taobao knows a Pinduoduo code")
	}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name     string
		platform platform.Name
		codes    []string
		want     []string
		unknown  []string
	}{
		{"taobao leaf grants ancestors", platform.Taobao, []string{"sm-tbd-visit"},
			[]string{"sell", "sm", "sm-design", "sm-tbd-visit"}, nil},
		{"taobao middle grants ancestors and descendants", platform.Taobao, []string{"sm"},
			[]string{"sell", "sm", "sm-design", "sm-tbd-publish", "sm-tbd-visit"}, nil},
		{"taobao root grants whole subtree", platform.Taobao, []string{"funds"},
			[]string{"funds", "funds-payment", "funds-view"}, nil},
		{"taobao dedupe, parent listed with a child is partial", platform.Taobao, []string{"sm-tbd-visit", "sm-design", "sm-tbd-visit"},
			[]string{"sell", "sm", "sm-design", "sm-tbd-visit"}, nil},
		{"taobao dedupe, parent alone grants all below", platform.Taobao, []string{"sm-design", "sm-design"},
			[]string{"sell", "sm", "sm-design", "sm-tbd-publish", "sm-tbd-visit"}, nil},
		{"taobao childless root", platform.Taobao, []string{"phone"}, []string{"phone"}, nil},
		{"taobao empty", platform.Taobao, nil, nil, nil},
		{"taobao unknown codes all listed", platform.Taobao, []string{"x", "sm", "a", "x"}, nil, []string{"a", "x"}},
		{"pinduoduo exact", platform.Pinduoduo, []string{"order.view", "chat.reply", "order.view"},
			[]string{"chat.reply", "order.view"}, nil},
		{"pinduoduo parent does not expand", platform.Pinduoduo, []string{"item"}, []string{"item"}, nil},
		{"pinduoduo unknown", platform.Pinduoduo, []string{"sm"}, nil, []string{"sm"}},
		{"douyin exact", platform.Douyin, []string{"im-chat"}, []string{"im-chat"}, nil},
		{"douyin child does not grant parent", platform.Douyin, []string{"funds-view"}, []string{"funds-view"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustFor(t, tt.platform)
			got, err := c.Expand(tt.codes)
			if tt.unknown != nil {
				var ue *UnknownPermissionsError
				if !errors.As(err, &ue) {
					t.Fatalf("Expand error = %v, want *UnknownPermissionsError", err)
				}
				if !slices.Equal(ue.Codes, tt.unknown) {
					t.Errorf("unknown = %v, want %v", ue.Codes, tt.unknown)
				}
				if !errors.Is(err, platform.ErrInvalid) {
					t.Error("UnknownPermissionsError does not match ErrInvalid")
				}
				if !strings.Contains(err.Error(), strings.Join(tt.unknown, ", ")) {
					t.Errorf("message %q does not list the codes", err)
				}
				if got != nil {
					t.Errorf("got %v alongside an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Expand(%v) = %v, want %v", tt.codes, got, tt.want)
			}
		})
	}
}

func TestHighRisk(t *testing.T) {
	c := mustFor(t, platform.Taobao)
	got := c.HighRisk([]string{"item-delete", "phone", "item-delete", "nope", "funds-view", "sell"})
	if want := []string{"funds-view", "item-delete"}; !slices.Equal(got, want) {
		t.Errorf("HighRisk = %v, want %v", got, want)
	}
	if got := c.HighRisk([]string{"phone"}); got != nil {
		t.Errorf("HighRisk(phone) = %v, want nil", got)
	}
}

func TestLookupAndTemplate(t *testing.T) {
	c := mustFor(t, platform.Pinduoduo)
	if p, ok := c.Lookup("item.delete"); !ok || !p.HighRisk || p.Parent != "item" {
		t.Errorf("Lookup(item.delete) = %+v, %t", p, ok)
	}
	if _, ok := c.Lookup("missing"); ok {
		t.Error("Lookup(missing) found something")
	}
	codes, ok := c.Template(TemplateCustomerService)
	if want := []string{"chat.reply", "logistics.query", "order.view"}; !ok || !slices.Equal(codes, want) {
		t.Errorf("Template(customer-service) = %v, %t; want %v", codes, ok, want)
	}
	codes[0] = "mutated"
	if again, _ := c.Template(TemplateCustomerService); again[0] != "chat.reply" {
		t.Error("Template returns the shared slice")
	}
	if _, ok := c.Template("owner"); ok {
		t.Error("Template(owner) found something")
	}
}

// validFile is a minimal valid catalog; cases below break one thing each.
func validFile() string {
	var b strings.Builder
	b.WriteString(`platform: pinduoduo
passwordMinLength: 6
roleNameMaxLength: 20
accountNameMaxLength: 32
expandTree: false
permissions:
  - {code: order, name: "Orders"}
  - {code: order.view, name: "Order viewing", parent: order}
  - {code: item.delete, name: "Item deletion", highRisk: true}
templates:
`)
	for _, name := range templateNames {
		b.WriteString("  " + name + ": [order.view]\n")
	}
	return b.String()
}

func TestParseValidation(t *testing.T) {
	valid := validFile()
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{"valid", valid, ""},
		{"not yaml", "platform: [", "decode"},
		{"unknown field", valid + "colour: red\n", "decode"},
		{"unknown platform", strings.Replace(valid, "platform: pinduoduo", "platform: jd", 1), `unknown platform "jd"`},
		{"zero password length", strings.Replace(valid, "passwordMinLength: 6", "passwordMinLength: 0", 1), "passwordMinLength must be positive"},
		{"missing role length", strings.Replace(valid, "roleNameMaxLength: 20\n", "", 1), "roleNameMaxLength must be positive"},
		{"duplicate code", strings.Replace(valid, `{code: item.delete,`, `{code: order,`, 1), `duplicate permission code "order"`},
		{"bad code", strings.Replace(valid, `{code: item.delete,`, `{code: Item_Delete,`, 1), "not lowercase"},
		{"no name", strings.Replace(valid, `name: "Orders"`, `name: " "`, 1), `"order" has no name`},
		{"unknown parent", strings.Replace(valid, "parent: order}", "parent: orders}", 1), `unknown parent "orders"`},
		{"cycle", strings.Replace(valid, `{code: order, name: "Orders"}`, `{code: order, name: "Orders", parent: order.view}`, 1), "cycle: order -> order.view -> order"},
		{"self cycle", strings.Replace(valid, `{code: order, name: "Orders"}`, `{code: order, name: "Orders", parent: order}`, 1), "cycle: order -> order"},
		{"template unknown code", strings.Replace(valid, "finance: [order.view]", "finance: [order.view, funds]", 1), `template "finance": unknown permission "funds"`},
		{"missing template", strings.Replace(valid, "  warehouse: [order.view]\n", "", 1), `template "warehouse" missing`},
		{"extra template", valid + "  owner: [order]\n", `unknown template "owner"`},
		{"empty template", strings.Replace(valid, "designer: [order.view]", "designer: []", 1), `template "designer" is empty`},
		{"no permissions", strings.Split(valid, "permissions:")[0] + "templates: {}\n", "no permissions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse([]byte(tt.data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				if c.Platform != platform.Pinduoduo || len(c.Permissions) != 3 || len(c.Templates) != 9 {
					t.Errorf("parsed %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatalf("parse succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestEmbeddedFilesMatchPlatforms(t *testing.T) {
	entries, err := files.ReadDir("data")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	want := []string{"douyin", "pinduoduo", "taobao"}
	if !slices.Equal(got, want) {
		t.Errorf("embedded files = %v, want %v", got, want)
	}
	for _, name := range got {
		data, _ := files.ReadFile("data/" + name + ".yaml")
		if _, err := parse(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// An expanded set must expand to itself: roles store expanded sets and the
// platform unions and expands them again, so a second expansion that grew
// the set would grant what nobody asked for.
func TestExpandIsIdempotent(t *testing.T) {
	for _, p := range Platforms() {
		c, err := For(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs := map[string][]string{}
		for _, perm := range c.Permissions {
			inputs["code "+perm.Code] = []string{perm.Code}
		}
		for name, codes := range c.Templates {
			inputs["template "+name] = codes
		}
		for name, codes := range inputs {
			once, err := c.Expand(codes)
			if err != nil {
				t.Fatalf("%s %s: %v", p, name, err)
			}
			twice, err := c.Expand(once)
			if err != nil {
				t.Fatalf("%s %s: %v", p, name, err)
			}
			if !slices.Equal(once, twice) {
				t.Errorf("%s %s: Expand(Expand(x)) = %v, want %v", p, name, twice, once)
			}
		}
	}
}

// A parent listed with some of its children grants only those children.
func TestExpandPartialParent(t *testing.T) {
	c, err := For(platform.Taobao)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Expand([]string{"trade", "trade-order-view"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"trade", "trade-order-view"}; !slices.Equal(got, want) {
		t.Errorf("Expand(trade, trade-order-view) = %v, want %v", got, want)
	}
	got, _ = c.Expand([]string{"trade"})
	if want := []string{"trade", "trade-address", "trade-order-view", "trade-refund"}; !slices.Equal(got, want) {
		t.Errorf("Expand(trade) = %v, want %v", got, want)
	}
}
