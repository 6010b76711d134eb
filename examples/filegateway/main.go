// Command filegateway is a minimal gateway built on pkg/gateway: one shop
// whose roles and sub-accounts live in a JSON file. Each method of
// backOffice is where a real gateway calls the merchant's back office;
// the kit does the signatures, nonces, idempotency, paging checks,
// locking, errors and logs, and saves the file after each write
// (Options.Committed). See docs/writing-a-gateway.md.
//
//	GATEWAY_APP_KEY=k GATEWAY_APP_SECRET=s GATEWAY_ACCESS_TOKEN=t \
//	  go run ./examples/filegateway --main-account myshop --file shop.json
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/subaccount-operator/subaccount-operator/pkg/gateway"
)

// state is the file: what the back office holds.
type state struct {
	NextID   int               `json:"nextId"`
	Roles    []gateway.Role    `json:"roles"`
	Accounts []gateway.Account `json:"accounts"`
	Hashes   map[string]string `json:"passwordHashes"` // by account ID; never the password
}

// backOffice is one shop's operations (gateway.Client); what it does not
// implement answers 501 through gateway.Unsupported. It needs no lock:
// the kit runs one call of the shop at a time (Options.LockReads).
type backOffice struct {
	gateway.Unsupported
	shop gateway.Shop
	path string
	st   state
}

var catalog = []gateway.Permission{{Code: "chat", Name: "Customer chat"}, {Code: "orders", Name: "Orders"}, {Code: "refunds", Name: "Refunds", HighRisk: true}}

func (b *backOffice) load() error {
	b.st = state{Hashes: map[string]string{}}
	return gateway.LoadJSON(b.path, &b.st)
}

// save writes the file after each write (Options.Committed); an error
// answers 503, so the operator retries.
func (b *backOffice) save(context.Context, gateway.Shop) error { return gateway.SaveJSON(b.path, b.st) }

func (b *backOffice) nextID() string { b.st.NextID++; return strconv.Itoa(100000 + b.st.NextID) }

func hash(id, password string) string {
	sum := sha256.Sum256([]byte(id + "\x00" + password))
	return hex.EncodeToString(sum[:])
}

func (b *backOffice) ShopInfo(context.Context) (gateway.ShopInfo, error) {
	return gateway.ShopInfo{Platform: b.shop.Platform, MainAccount: b.shop.MainAccount,
		SeatsUsed: int32(len(b.st.Accounts)), SeatsTotal: 1000}, nil
}

func (b *backOffice) Permissions(context.Context) ([]gateway.Permission, error) { return catalog, nil }

func (b *backOffice) ListRoles(context.Context) ([]gateway.Role, error) {
	return slices.Clone(b.st.Roles), nil
}

func (b *backOffice) CreateRole(_ context.Context, spec gateway.RoleSpec, _ string) (gateway.Role, error) {
	if slices.ContainsFunc(b.st.Roles, func(r gateway.Role) bool { return r.Name == spec.Name }) {
		return gateway.Role{}, gateway.NewError(gateway.ErrNameTaken, "name", "role %q exists", spec.Name)
	}
	r := gateway.Role{ID: b.nextID(), RoleSpec: spec}
	b.st.Roles = append(b.st.Roles, r)
	return r, nil
}

func (b *backOffice) DeleteRole(_ context.Context, id string) error {
	i := slices.IndexFunc(b.st.Roles, func(r gateway.Role) bool { return r.ID == id })
	if i < 0 {
		return gateway.NewError(gateway.ErrNotFound, "id", "no role %s", id)
	}
	if slices.ContainsFunc(b.st.Accounts, func(a gateway.Account) bool { return slices.Contains(a.RoleIDs, id) }) {
		return gateway.NewError(gateway.ErrConflict, "", "role %s is still assigned", id)
	}
	b.st.Roles = slices.Delete(b.st.Roles, i, i+1)
	return nil
}

// ListAccounts pages accounts kept in ID order (IDs grow and have the same length).
func (b *backOffice) ListAccounts(_ context.Context, opts gateway.ListOptions) (gateway.AccountPage, error) {
	page := gateway.Paginate(b.st.Accounts, opts)
	page.Accounts = slices.Clone(page.Accounts)
	return page, nil
}

func byID(id string) func(gateway.Account) bool {
	return func(a gateway.Account) bool { return a.ID == id }
}

// find is the account match selects and its index; what names it in the error.
func (b *backOffice) find(match func(gateway.Account) bool, what string) (int, gateway.Account, error) {
	if i := slices.IndexFunc(b.st.Accounts, match); i >= 0 {
		return i, b.st.Accounts[i], nil
	}
	return -1, gateway.Account{}, gateway.NewError(gateway.ErrNotFound, "id", "no sub-account %s", what)
}

func (b *backOffice) GetAccount(_ context.Context, id string) (gateway.Account, error) {
	_, a, err := b.find(byID(id), id)
	return a, err
}

func (b *backOffice) FindAccount(_ context.Context, name string) (gateway.Account, error) {
	_, a, err := b.find(func(a gateway.Account) bool { return a.Name == name }, name)
	return a, err
}

// apply sets the managed state and, as the back office would, the
// effective permissions (an unknown role is refused).
func (b *backOffice) apply(a *gateway.Account, st gateway.AccountState) error {
	perms, err := gateway.UnionPermissions(b.st.Roles, st)
	if err == nil {
		a.AccountState, a.EffectivePermissions = st, perms
	}
	return err
}

func (b *backOffice) CreateAccount(_ context.Context, req gateway.CreateAccount, _ string) (gateway.Account, error) {
	if len(req.Password) < 8 {
		return gateway.Account{}, gateway.NewError(gateway.ErrInvalid, "password", "password must be at least 8 characters")
	}
	if _, _, err := b.find(func(a gateway.Account) bool { return a.Name == req.Name }, req.Name); err == nil {
		return gateway.Account{}, gateway.NewError(gateway.ErrNameTaken, "name", "sub-account %q exists", req.Name)
	}
	a := gateway.Account{ID: b.nextID(), Name: req.Name, Login: b.shop.MainAccount + ":" + req.Name, PasswordChangedAt: time.Now().UTC()}
	if err := b.apply(&a, req.AccountState); err != nil {
		return gateway.Account{}, err
	}
	b.st.Accounts = append(b.st.Accounts, a)
	b.st.Hashes[a.ID] = hash(a.ID, req.Password)
	return a, nil
}

func (b *backOffice) UpdateAccount(_ context.Context, id string, st gateway.AccountState) (gateway.Account, error) {
	i, a, err := b.find(byID(id), id)
	if err == nil {
		if err = b.apply(&a, st); err == nil {
			b.st.Accounts[i] = a
		}
	}
	return a, err
}

func (b *backOffice) DeleteAccount(_ context.Context, id string) error {
	i, _, err := b.find(byID(id), id)
	if err != nil {
		return err
	}
	b.st.Accounts = slices.Delete(b.st.Accounts, i, i+1)
	delete(b.st.Hashes, id)
	return nil
}

func (b *backOffice) CheckCredentials(_ context.Context, name, password string) (bool, error) {
	_, a, err := b.find(func(a gateway.Account) bool { return a.Name == name || a.Login == name }, name)
	return err == nil && !a.Disabled && b.st.Hashes[a.ID] == hash(a.ID, password), nil
}

// server is the gateway: the kit serving the one shop, signed with creds.
func server(b *backOffice, creds gateway.Credentials, log *slog.Logger) *gateway.Server {
	return gateway.New(gateway.SingleShop(b.shop, creds, b), gateway.Options{Logger: log, LockReads: true, Committed: b.save})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on (put TLS in front of it)")
	file := flag.String("file", "shop.json", "the shop's JSON file")
	plat := flag.String("platform", "pinduoduo", "the shop's platform")
	main := flag.String("main-account", "", "the shop's main account")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	office := &backOffice{shop: gateway.Shop{Platform: gateway.Name(*plat), MainAccount: *main}, path: *file}
	creds := gateway.Credentials{AppKey: os.Getenv("GATEWAY_APP_KEY"), AppSecret: os.Getenv("GATEWAY_APP_SECRET"),
		AccessToken: os.Getenv("GATEWAY_ACCESS_TOKEN")}
	if err := office.load(); err != nil || *main == "" {
		log.Error("cannot start: --main-account is required and --file must be readable", "err", err)
		os.Exit(2)
	}
	log.Info("serving", "listen", *listen, "shop", office.shop.Key())
	srv := &http.Server{Addr: *listen, Handler: server(office, creds, log), ReadHeaderTimeout: 10 * time.Second}
	log.Error("stopped", "err", srv.ListenAndServe())
	os.Exit(1)
}
