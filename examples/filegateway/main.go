// Command filegateway is a minimal gateway built on pkg/gateway: one shop
// whose roles and sub-accounts live in a JSON file. Each method of
// backOffice is where a real gateway calls the merchant's back office;
// the kit does the signatures, nonces, idempotency, paging checks, errors
// and logs. See docs/writing-a-gateway.md.
//
//	GATEWAY_APP_KEY=k GATEWAY_APP_SECRET=s GATEWAY_ACCESS_TOKEN=t \
//	  go run ./examples/filegateway --main-account myshop --file shop.json
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
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
// implement answers 501 through gateway.Unsupported.
type backOffice struct {
	gateway.Unsupported
	shop  gateway.Shop
	creds gateway.Credentials
	path  string
	mu    sync.Mutex
	st    state
}

var catalog = []gateway.Permission{{Code: "chat", Name: "Customer chat"}, {Code: "orders", Name: "Orders"}, {Code: "refunds", Name: "Refunds", HighRisk: true}}

func (b *backOffice) load() error {
	b.st = state{Hashes: map[string]string{}}
	data, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	return json.Unmarshal(data, &b.st)
}

// save writes the file; an error is a 503, so the operator retries.
func (b *backOffice) save() error {
	data, _ := json.MarshalIndent(b.st, "", "  ")
	if os.WriteFile(b.path+".tmp", data, 0o600) != nil || os.Rename(b.path+".tmp", b.path) != nil {
		return gateway.NewError(gateway.ErrTransient, "", "saving the shop failed")
	}
	return nil
}

func (b *backOffice) nextID() string { b.st.NextID++; return strconv.Itoa(100000 + b.st.NextID) }

func hash(id, password string) string {
	sum := sha256.Sum256([]byte(id + "\x00" + password))
	return hex.EncodeToString(sum[:])
}

func (b *backOffice) ShopInfo(context.Context) (gateway.ShopInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return gateway.ShopInfo{Platform: b.shop.Platform, MainAccount: b.shop.MainAccount,
		SeatsUsed: int32(len(b.st.Accounts)), SeatsTotal: 1000}, nil
}

func (b *backOffice) Permissions(context.Context) ([]gateway.Permission, error) { return catalog, nil }

func (b *backOffice) ListRoles(context.Context) ([]gateway.Role, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.st.Roles), nil
}

func (b *backOffice) CreateRole(_ context.Context, spec gateway.RoleSpec, _ string) (gateway.Role, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if slices.ContainsFunc(b.st.Roles, func(r gateway.Role) bool { return r.Name == spec.Name }) {
		return gateway.Role{}, gateway.NewError(gateway.ErrNameTaken, "name", "role %q exists", spec.Name)
	}
	r := gateway.Role{ID: b.nextID(), RoleSpec: spec}
	b.st.Roles = append(b.st.Roles, r)
	return r, b.save()
}

func (b *backOffice) DeleteRole(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.IndexFunc(b.st.Roles, func(r gateway.Role) bool { return r.ID == id })
	if i < 0 {
		return gateway.NewError(gateway.ErrNotFound, "id", "no role %s", id)
	}
	if slices.ContainsFunc(b.st.Accounts, func(a gateway.Account) bool { return slices.Contains(a.RoleIDs, id) }) {
		return gateway.NewError(gateway.ErrConflict, "", "role %s is still assigned", id)
	}
	b.st.Roles = slices.Delete(b.st.Roles, i, i+1)
	return b.save()
}

// ListAccounts pages accounts kept in ID order (IDs grow and have the same length).
func (b *backOffice) ListAccounts(_ context.Context, opts gateway.ListOptions) (gateway.AccountPage, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	page := gateway.Paginate(b.st.Accounts, opts)
	page.Accounts = slices.Clone(page.Accounts)
	return page, nil
}

// byID matches the account id.
func byID(id string) func(gateway.Account) bool {
	return func(a gateway.Account) bool { return a.ID == id }
}

func (b *backOffice) find(match func(gateway.Account) bool, what string) (int, error) {
	if i := slices.IndexFunc(b.st.Accounts, match); i >= 0 {
		return i, nil
	}
	return -1, gateway.NewError(gateway.ErrNotFound, "id", "no sub-account %s", what)
}

func (b *backOffice) GetAccount(_ context.Context, id string) (gateway.Account, error) {
	return b.get(byID(id), id)
}

func (b *backOffice) FindAccount(_ context.Context, name string) (gateway.Account, error) {
	return b.get(func(a gateway.Account) bool { return a.Name == name }, name)
}

func (b *backOffice) get(match func(gateway.Account) bool, what string) (gateway.Account, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, err := b.find(match, what)
	if err != nil {
		return gateway.Account{}, err
	}
	return b.st.Accounts[i], nil
}

// apply sets the managed state, checking the roles and computing the
// effective permissions as the back office would.
func (b *backOffice) apply(a *gateway.Account, st gateway.AccountState) error {
	perms := slices.Clone(st.ExtraPermissions)
	for _, id := range st.RoleIDs {
		i := slices.IndexFunc(b.st.Roles, func(r gateway.Role) bool { return r.ID == id })
		if i < 0 {
			return gateway.NewError(gateway.ErrInvalid, "roleIDs", "no role %s", id)
		}
		perms = append(perms, b.st.Roles[i].Permissions...)
	}
	slices.Sort(perms)
	a.AccountState, a.EffectivePermissions = st, slices.Compact(perms)
	return nil
}

func (b *backOffice) CreateAccount(_ context.Context, req gateway.CreateAccount, _ string) (gateway.Account, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(req.Password) < 8 {
		return gateway.Account{}, gateway.NewError(gateway.ErrInvalid, "password", "password must be at least 8 characters")
	}
	if _, err := b.find(func(a gateway.Account) bool { return a.Name == req.Name }, req.Name); err == nil {
		return gateway.Account{}, gateway.NewError(gateway.ErrNameTaken, "name", "sub-account %q exists", req.Name)
	}
	a := gateway.Account{ID: b.nextID(), Name: req.Name, Login: b.shop.MainAccount + ":" + req.Name, PasswordChangedAt: time.Now().UTC()}
	if err := b.apply(&a, req.AccountState); err != nil {
		return gateway.Account{}, err
	}
	b.st.Accounts = append(b.st.Accounts, a)
	b.st.Hashes[a.ID] = hash(a.ID, req.Password)
	return a, b.save()
}

func (b *backOffice) UpdateAccount(_ context.Context, id string, st gateway.AccountState) (gateway.Account, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, err := b.find(byID(id), id)
	if err == nil {
		err = b.apply(&b.st.Accounts[i], st)
	}
	if err != nil {
		return gateway.Account{}, err
	}
	return b.st.Accounts[i], b.save()
}

func (b *backOffice) DeleteAccount(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, err := b.find(byID(id), id)
	if err != nil {
		return err
	}
	b.st.Accounts = slices.Delete(b.st.Accounts, i, i+1)
	delete(b.st.Hashes, id)
	return b.save()
}

func (b *backOffice) CheckCredentials(_ context.Context, name, password string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, err := b.find(func(a gateway.Account) bool { return a.Name == name || a.Login == name }, name)
	return err == nil && !b.st.Accounts[i].Disabled && b.st.Hashes[b.st.Accounts[i].ID] == hash(b.st.Accounts[i].ID, password), nil
}

// Credentials and Client make backOffice the gateway's Provider too: one
// shop, its credentials from the environment.
func (b *backOffice) Credentials(_ context.Context, shop gateway.Shop) (gateway.Credentials, bool) {
	return b.creds, shop == b.shop
}

func (b *backOffice) Client(context.Context, gateway.Shop, gateway.Credentials) (gateway.Client, error) {
	return b, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on (put TLS in front of it)")
	file := flag.String("file", "shop.json", "the shop's JSON file")
	plat := flag.String("platform", "pinduoduo", "the shop's platform")
	main := flag.String("main-account", "", "the shop's main account")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	office := &backOffice{shop: gateway.Shop{Platform: gateway.Name(*plat), MainAccount: *main}, path: *file,
		creds: gateway.Credentials{AppKey: os.Getenv("GATEWAY_APP_KEY"), AppSecret: os.Getenv("GATEWAY_APP_SECRET"),
			AccessToken: os.Getenv("GATEWAY_ACCESS_TOKEN")}}
	if err := office.load(); err != nil || *main == "" {
		log.Error("cannot start: --main-account is required and --file must be readable", "err", err)
		os.Exit(2)
	}
	log.Info("serving", "listen", *listen, "shop", office.shop.Key())
	srv := &http.Server{Addr: *listen, Handler: gateway.New(office, gateway.Options{Logger: log}),
		ReadHeaderTimeout: 10 * time.Second}
	err := srv.ListenAndServe()
	log.Error("stopped", "err", err)
	os.Exit(1)
}
