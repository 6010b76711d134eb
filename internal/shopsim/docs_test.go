package shopsim

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/pkg/gateway"
)

const (
	openAPIFile = "../../api/gateway/openapi.yaml"
	protocolDoc = "../../docs/platform-gateway.md"
	wireDir     = "../platform/gateway/wire"
	// shopPattern is the shop prefix as the OpenAPI file writes it.
	shopPattern = "/" + wire.Version + "/shops/{platform}/{mainAccount}"
)

// wirePaths reads every Path* constant of package wire from its source, so
// a constant added there is checked without touching this test.
func wirePaths(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(wireDir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, wireDir+"/"+e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Path") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("wire.%s is not a string literal", name.Name)
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out[name.Name] = v
				}
			}
		}
	}
	if len(out) < 13 {
		t.Fatalf("found only %d wire.Path* constants: %v", len(out), out)
	}
	return out
}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIFile, err)
	}
	return doc
}

func TestOpenAPICoversWirePaths(t *testing.T) {
	g := NewWithT(t)
	doc := loadOpenAPI(t)
	g.Expect(doc["openapi"]).To(HavePrefix("3.0."))
	paths, ok := doc["paths"].(map[string]any)
	g.Expect(ok).To(BeTrue(), "paths is not a map")

	wp := wirePaths(t)
	for name, p := range wp {
		g.Expect(paths).To(HaveKey(shopPattern+p), "wire.%s (%s) is not under paths in %s", name, p, openAPIFile)
	}
	// The methods documented are exactly the methods served, and nothing
	// else is documented.
	served := map[string][]string{}
	for _, rt := range gateway.Routes() {
		served[shopPattern+rt.Path] = append(served[shopPattern+rt.Path], strings.ToLower(rt.Method))
	}
	for p, item := range paths {
		g.Expect(served).To(HaveKey(p), "%s documents %s, which is not served", openAPIFile, p)
		var methods []string
		for k := range item.(map[string]any) {
			switch k {
			case "get", "put", "post", "delete", "patch", "head", "options":
				methods = append(methods, k)
			}
		}
		sort.Strings(methods)
		want := slices.Clone(served[p])
		sort.Strings(want)
		g.Expect(methods).To(Equal(want), "methods of %s", p)
	}
}

func TestRoutesServeEveryWirePath(t *testing.T) {
	for name, p := range wirePaths(t) {
		if !slices.ContainsFunc(gateway.Routes(), func(rt gateway.Route) bool { return rt.Path == p }) {
			t.Errorf("wire.%s (%s) has no route", name, p)
		}
	}
}

func TestOpenAPISchemasMatchWireTypes(t *testing.T) {
	g := NewWithT(t)
	schemas := loadOpenAPI(t)["components"].(map[string]any)["schemas"].(map[string]any)
	for _, v := range []any{
		wire.ErrorBody{}, wire.ErrorDetail{}, wire.ShopInfo{}, wire.Permission{}, wire.PermissionList{},
		wire.RoleSpec{}, wire.Role{}, wire.RoleList{}, wire.Profile{}, wire.Seat{}, wire.Security{},
		wire.AccountState{}, wire.CreateAccount{}, wire.Account{}, wire.AccountList{}, wire.PasswordChange{},
		wire.AccountStatus{}, wire.Department{}, wire.DepartmentList{}, wire.AuditEntry{}, wire.AuditList{},
		wire.LoginCheck{}, wire.LoginResult{}, wire.Verification{}, wire.VerifyCode{},
		wire.DepartmentSpec{}, wire.ContactSpec{}, wire.Contact{}, wire.ContactList{},
		wire.ActAs{}, wire.SeatCapacityChange{},
	} {
		typ := reflect.TypeOf(v)
		s, ok := schemas[typ.Name()].(map[string]any)
		g.Expect(ok).To(BeTrue(), "no schema %s", typ.Name())
		props, _ := s["properties"].(map[string]any)
		var got []string
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(got)
		g.Expect(got).To(Equal(jsonFields(typ)), "properties of schema %s", typ.Name())
	}
}

// jsonFields lists a struct's JSON field names, embedded structs flattened.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// TestSigningWorkedExamples computes the examples of
// docs/platform-gateway.md and checks the page shows them, and that the
// server accepts the first one.
func TestSigningWorkedExamples(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(protocolDoc)
	g.Expect(err).NotTo(HaveOccurred())
	page := string(data)
	const ts, nonce = "1704164645", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

	body := []byte(`{"name":"cs","permissions":["wangwang-chat"]}`)
	path := wire.ShopPrefix(platform.Taobao, "hongxing") + wire.PathRoles
	sts := wire.StringToSign(http.MethodPost, path, nil, ts, nonce, body)
	signature := wire.Sign(tbCreds.AppSecret, http.MethodPost, path, nil, ts, nonce, body)
	g.Expect(tbCreds.AppSecret).To(Equal("demo-app-secret"))
	g.Expect(page).To(ContainSubstring("```\n" + sts + "\n```"))
	g.Expect(page).To(ContainSubstring("X-Signature: " + signature))
	g.Expect(page).To(ContainSubstring("X-Nonce: " + nonce))
	g.Expect(page).To(ContainSubstring(string(body)))
	signature1 := signature

	path = wire.ShopPrefix(platform.Pinduoduo, "拼多多小店") + wire.PathAccounts
	q := url.Values{"pageSize": {"50"}, "page": {"2"}}
	sts = wire.StringToSign(http.MethodGet, path, q, ts, nonce, nil)
	signature = wire.Sign("pdd-app-secret", http.MethodGet, path, q, ts, nonce, nil)
	g.Expect(page).To(ContainSubstring("```\n" + sts + "\n```"))
	g.Expect(page).To(ContainSubstring("X-Signature: " + signature))

	// The server accepts example 1 at its timestamp.
	f := newFixture(t, Options{})
	secs, err := strconv.ParseInt(ts, 10, 64)
	g.Expect(err).NotTo(HaveOccurred())
	f.clock.Advance(time.Unix(secs, 0).Sub(f.clock.Now()))
	req := f.request(http.MethodPost, wire.PathRoles, body, sig{header: map[string]string{
		wire.HeaderIdempotencyKey: "role-default-cs-1", wire.HeaderSource: "Role/default/customer-service"}})
	req.Header.Set(wire.HeaderNonce, nonce)
	req.Header.Set(wire.HeaderSignature, signature1)
	g.Expect(f.send(req).status).To(Equal(http.StatusCreated))
}
