package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

// FirstID is the first ID an empty engine assigns.
const FirstID int64 = 10000001

// MaxAuditEntries bounds each shop's audit log; older entries are dropped.
const MaxAuditEntries = 10000

// State is the whole state of an Engine, as Snapshot serializes it.
type State struct {
	// NextID is the next ID to assign to an account or role.
	NextID int64 `json:"nextID"`
	// Shops is keyed by ShopKey(platform, mainAccount).
	Shops map[string]*ShopState `json:"shops"`
	// SMS is the outbox of verification codes, keyed by phone number: the
	// latest code sent to each phone (see Engine.SMS). It stands in for the
	// employees' phones and is never part of an audit entry.
	SMS map[string]SMSMessage `json:"sms,omitempty"`
}

// SMSMessage is a verification code the engine sent to a phone.
type SMSMessage struct {
	Code   string    `json:"code"`
	SentAt time.Time `json:"sentAt"`
}

// ShopState is one shop: its settings, sub-accounts, roles and audit log.
type ShopState struct {
	Platform    platform.Name        `json:"platform"`
	MainAccount string               `json:"mainAccount"`
	MainPhone   string               `json:"mainPhone,omitempty"`
	Credentials platform.Credentials `json:"credentials"`
	SeatQuota   int32                `json:"seatQuota"`
	// Accounts and Roles are keyed by ID.
	Accounts map[string]*AccountRecord `json:"accounts"`
	Roles    map[string]*platform.Role `json:"roles"`
	// AccountRequests and RoleRequests map a create requestID to the ID it
	// created.
	AccountRequests map[string]string `json:"accountRequests"`
	RoleRequests    map[string]string `json:"roleRequests"`
	Audit           []AuditEntry      `json:"audit"`
	// Departments (Taobao) and notification Contacts are keyed by ID;
	// DepartmentRequests maps a create requestID to the ID it created.
	Departments        map[string]*DepartmentRecord `json:"departments,omitempty"`
	DepartmentRequests map[string]string            `json:"departmentRequests,omitempty"`
	Contacts           map[string]*ContactRecord    `json:"contacts,omitempty"`
	// ServiceOff is a Taobao shop whose owner has not switched the
	// sub-account service on (开启子账号服务); false (on) for every other
	// shop and for state files that predate it.
	ServiceOff bool `json:"serviceOff,omitempty"`
	// SeatLedger, when set, is how a Taobao shop's SeatQuota is made up
	// (free seats given and claimed, seats bought); SetSeatLedger keeps
	// the two in step.
	SeatLedger *platform.SeatLedger `json:"seatLedger,omitempty"`
	// Activity is what the sub-accounts did (ListActivity's feed), ordered
	// by time then ActivitySeq; at most MaxActivityEntries, oldest dropped.
	Activity    []ActivityRecord `json:"activity,omitempty"`
	ActivitySeq int64            `json:"activitySeq,omitempty"`
	// PhoneVerification is when the shop checks a new sub-account's phone
	// ("" is the platform's default, see phoneVerification).
	PhoneVerification platform.PhoneVerification `json:"phoneVerification,omitempty"`
	// Verifications are the codes RequestCode sent that were not used yet,
	// keyed by verification ID; VerificationRequests maps a requestID to
	// the verification it started.
	Verifications        map[string]*VerificationRecord `json:"verifications,omitempty"`
	VerificationRequests map[string]string              `json:"verificationRequests,omitempty"`
}

// AccountRecord is a stored sub-account. The password is kept only as a
// salted SHA-256 hash.
type AccountRecord struct {
	ID                string                `json:"id"`
	Name              string                `json:"name"`
	State             platform.AccountState `json:"state"`
	PasswordSalt      string                `json:"passwordSalt"`
	PasswordHash      string                `json:"passwordHash"`
	PasswordChangedAt time.Time             `json:"passwordChangedAt"`
	CreatedAt         time.Time             `json:"createdAt"`
	// Verification is the phone verification of a Douyin account; nil on
	// platforms (and for accounts) that need none.
	Verification *VerificationRecord `json:"verification,omitempty"`
	// PlatformFrozen and SeatFeeOwed are the platform's own marks on the
	// account (a penalty freeze, an unpaid seat fee): set only through
	// Engine.SetAccountStanding, never by a client's write.
	PlatformFrozen bool `json:"platformFrozen,omitempty"`
	SeatFeeOwed    bool `json:"seatFeeOwed,omitempty"`
}

// VerificationRecord is the stored state of an account's phone
// verification. The code is kept only as a salted SHA-256 hash (the plain
// code is in the SMS outbox, standing in for the employee's phone).
type VerificationRecord struct {
	Verified bool `json:"verified"`
	// ID identifies a verification RequestCode started; AccountID is the
	// account whose phone it changes ("" for a new account). Both are
	// empty on an account's own record.
	ID        string `json:"id,omitempty"`
	AccountID string `json:"accountID,omitempty"`
	// Phone is the full number the last code went to.
	Phone        string    `json:"phone"`
	CodeSalt     string    `json:"codeSalt,omitempty"`
	CodeHash     string    `json:"codeHash,omitempty"`
	SentAt       time.Time `json:"sentAt"`
	ExpiresAt    time.Time `json:"expiresAt"`
	AttemptsLeft int       `json:"attemptsLeft"`
}

// AuditEntry records one write. It never contains a password.
type AuditEntry struct {
	Time time.Time `json:"time"`
	// Action is e.g. "account.create", "account.update", "account.password",
	// "account.delete", "role.create", "role.update", "role.delete".
	Action     string `json:"action"`
	TargetID   string `json:"targetID,omitempty"`
	TargetName string `json:"targetName,omitempty"`
	Detail     string `json:"detail,omitempty"`
	// Source names what caused the write, as passed with platform.WithSource (the
	// shopsim server passes the X-Source header: the Kubernetes resource's
	// kind/namespace/name). Empty when the caller gave none.
	Source string `json:"source,omitempty"`
}

// ShopSetup describes a shop to add to an Engine.
type ShopSetup struct {
	Platform    platform.Name
	MainAccount string
	// MainPhone is the main account's phone; on Douyin no sub-account (of any
	// shop) may be bound to it.
	MainPhone   string
	Credentials platform.Credentials
	// SeatQuota is how many sub-accounts the shop may have.
	SeatQuota int32
	// ServiceOff and SeatLedger: see ShopState (Taobao shops only). A
	// ledger sets SeatQuota to its claimed plus bought seats.
	ServiceOff bool
	SeatLedger *platform.SeatLedger
	// PhoneVerification, on Douyin, is BeforeCreate (the default: the code
	// comes first, as Douyin's back office does it) or AfterCreate (the
	// account first, its phone verified afterwards: what a gateway of
	// protocol v1's first revision does, kept to test that the operator
	// still works with one). Elsewhere it must be empty or None.
	PhoneVerification platform.PhoneVerification
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the engine's clock (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(e *Engine) { e.now = now }
}

// Engine is a multi-shop in-memory platform. It is safe for concurrent use.
type Engine struct {
	mu    sync.Mutex
	now   func() time.Time
	state State
	calls map[string]int
	fault func(method string) error
}

// NewEngine returns an empty engine.
func NewEngine(opts ...Option) *Engine {
	e := &Engine{
		now:   time.Now,
		state: State{NextID: FirstID, Shops: map[string]*ShopState{}, SMS: map[string]SMSMessage{}},
		calls: map[string]int{},
	}
	for _, opt := range opts {
		opt(e)
	}
	return e
}

// ShopKey is the key of a shop in State.Shops.
func ShopKey(p platform.Name, mainAccount string) string {
	return string(p) + "/" + mainAccount
}

// AddShop adds a shop. The platform must have a catalog, the main account
// must be non-empty without ':' and not yet added for that platform, the
// quota must not be negative, and on Douyin MainPhone must not be bound to
// another shop.
func (e *Engine) AddShop(s ShopSetup) error {
	if _, err := catalog.For(s.Platform); err != nil {
		return platform.NewError(platform.ErrInvalid, "platform", "unknown platform %q", s.Platform)
	}
	if strings.TrimSpace(s.MainAccount) == "" || strings.Contains(s.MainAccount, ":") {
		return platform.NewError(platform.ErrInvalid, "mainAccount", "main account must be non-empty and contain no ':'")
	}
	if s.SeatQuota < 0 {
		return platform.NewError(platform.ErrInvalid, "seatQuota", "seat quota must not be negative")
	}
	if err := checkPhoneVerification(s.Platform, s.PhoneVerification); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	key := ShopKey(s.Platform, s.MainAccount)
	if _, ok := e.state.Shops[key]; ok {
		return platform.NewError(platform.ErrConflict, "mainAccount", "shop %s already exists", key)
	}
	sh := &ShopState{
		Platform:          s.Platform,
		MainAccount:       s.MainAccount,
		MainPhone:         s.MainPhone,
		Credentials:       s.Credentials,
		SeatQuota:         s.SeatQuota,
		PhoneVerification: s.PhoneVerification,
		Accounts:          map[string]*AccountRecord{},
		Roles:             map[string]*platform.Role{},
		AccountRequests:   map[string]string{},
		RoleRequests:      map[string]string{},
	}
	sh.init()
	if err := sh.setStanding(s.ServiceOff, s.SeatLedger); err != nil {
		return err
	}
	if s.Platform == platform.Douyin && s.MainPhone != "" && e.phoneInOtherDouyinShop(sh, s.MainPhone) {
		return platform.NewError(platform.ErrConflict, "phone", "the phone number is bound to another shop")
	}
	e.state.Shops[key] = sh
	return nil
}

// SetCredentials replaces a shop's API credentials; clients holding the old
// ones fail with ErrUnauthorized from then on.
func (e *Engine) SetCredentials(p platform.Name, mainAccount string, creds platform.Credentials) error {
	return e.withShop(p, mainAccount, func(sh *ShopState) { sh.Credentials = creds })
}

// SetSeatQuota changes a shop's seat quota (e.g. seats bought). Lowering it
// below the accounts in use only blocks further creations.
func (e *Engine) SetSeatQuota(p platform.Name, mainAccount string, quota int32) error {
	if quota < 0 {
		return platform.NewError(platform.ErrInvalid, "seatQuota", "seat quota must not be negative")
	}
	return e.withShop(p, mainAccount, func(sh *ShopState) { sh.SeatQuota = quota })
}

func (e *Engine) withShop(p platform.Name, mainAccount string, fn func(*ShopState)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(p, mainAccount)]
	if !ok {
		return shopNotFound(p, mainAccount)
	}
	fn(sh)
	return nil
}

func shopNotFound(p platform.Name, mainAccount string) error {
	return platform.NewError(platform.ErrNotFound, "mainAccount", "no %s shop with main account %q", p, mainAccount)
}

// Factory returns a platform.Factory whose clients are bound to the shop
// named by ShopConfig.Platform and MainAccount and authenticate with
// ShopConfig.Credentials. An unknown shop is an ErrNotFound.
func (e *Engine) Factory() platform.Factory {
	return platform.FactoryFunc(func(_ context.Context, cfg platform.ShopConfig) (platform.Client, error) {
		e.mu.Lock()
		_, ok := e.state.Shops[ShopKey(cfg.Platform, cfg.MainAccount)]
		e.mu.Unlock()
		if !ok {
			return nil, shopNotFound(cfg.Platform, cfg.MainAccount)
		}
		return &client{e: e, platform: cfg.Platform, main: cfg.MainAccount, creds: cfg.Credentials}, nil
	})
}

// ShopCredentials returns the shop's current API credentials (false for an
// unknown shop). They are secrets: the shopsim server uses them to check
// requests and must never show or log them.
func (e *Engine) ShopCredentials(p platform.Name, mainAccount string) (platform.Credentials, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(p, mainAccount)]
	if !ok {
		return platform.Credentials{}, false
	}
	return sh.Credentials, true
}

// Shops reports every shop of the engine, sorted by platform and main
// account, as ShopInfo would (no credentials).
func (e *Engine) Shops() []platform.ShopInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]platform.ShopInfo, 0, len(e.state.Shops))
	for _, sh := range e.state.Shops {
		out = append(out, sh.info())
	}
	slices.SortFunc(out, func(a, b platform.ShopInfo) int {
		return strings.Compare(ShopKey(a.Platform, a.MainAccount), ShopKey(b.Platform, b.MainAccount))
	})
	return out
}

// Accounts returns the shop's sub-accounts sorted by ID (nil for an unknown
// shop).
func (e *Engine) Accounts(p platform.Name, mainAccount string) []platform.Account {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(p, mainAccount)]
	if !ok {
		return nil
	}
	return sh.accounts()
}

// Roles returns the shop's roles sorted by ID (nil for an unknown shop).
func (e *Engine) Roles(p platform.Name, mainAccount string) []platform.Role {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(p, mainAccount)]
	if !ok {
		return nil
	}
	return sh.roles()
}

// Audit returns a copy of the shop's audit log, oldest first (nil for an
// unknown shop).
func (e *Engine) Audit(p platform.Name, mainAccount string) []AuditEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	sh, ok := e.state.Shops[ShopKey(p, mainAccount)]
	if !ok {
		return nil
	}
	return slices.Clone(sh.Audit)
}

// Calls returns how many times each Client method was called (including
// calls that failed), keyed by method name, e.g. "CreateAccount".
func (e *Engine) Calls() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.calls)
}

// ResetCalls zeroes the call counters.
func (e *Engine) ResetCalls() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = map[string]int{}
}

// SetFault installs a hook called with the method name at the start of
// every Client call (outside the engine's lock); a non-nil result is
// returned as the call's error before anything else happens. nil removes it.
func (e *Engine) SetFault(fault func(method string) error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fault = fault
}

// Snapshot serializes the whole state as JSON. It contains credentials,
// password hashes and the SMS outbox of verification codes.
func (e *Engine) Snapshot() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return json.MarshalIndent(e.state, "", "  ")
}

// Restore replaces the whole state with a Snapshot. On error the state is
// unchanged. Call counters and the fault hook are kept.
func (e *Engine) Restore(data []byte) error {
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("memory: restore: %w", err)
	}
	if err := normalize(&st); err != nil {
		return fmt.Errorf("memory: restore: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state = st
	return nil
}

// normalize checks a decoded State and fills in empty maps and NextID.
func normalize(st *State) error {
	if st.Shops == nil {
		st.Shops = map[string]*ShopState{}
	}
	if st.SMS == nil {
		st.SMS = map[string]SMSMessage{}
	}
	maxID := FirstID - 1
	seen := map[string]string{}
	noteID := func(id, what string) error {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
			return fmt.Errorf("%s has a non-numeric ID %q", what, id)
		}
		if prev, dup := seen[id]; dup {
			return fmt.Errorf("ID %s used by %s and %s", id, prev, what)
		}
		seen[id] = what
		maxID = max(maxID, n)
		return nil
	}
	for key, sh := range st.Shops {
		if sh == nil {
			return fmt.Errorf("shop %q is null", key)
		}
		if _, err := catalog.For(sh.Platform); err != nil {
			return fmt.Errorf("shop %q: %w", key, err)
		}
		if key != ShopKey(sh.Platform, sh.MainAccount) {
			return fmt.Errorf("shop key %q does not match platform %q and main account %q", key, sh.Platform, sh.MainAccount)
		}
		if sh.Accounts == nil {
			sh.Accounts = map[string]*AccountRecord{}
		}
		if sh.Roles == nil {
			sh.Roles = map[string]*platform.Role{}
		}
		if sh.AccountRequests == nil {
			sh.AccountRequests = map[string]string{}
		}
		if sh.RoleRequests == nil {
			sh.RoleRequests = map[string]string{}
		}
		sh.init()
		for id, a := range sh.Accounts {
			if a == nil || a.ID != id {
				return fmt.Errorf("shop %q: account %q is null or has a different ID", key, id)
			}
			if err := noteID(id, "account "+key+"/"+a.Name); err != nil {
				return err
			}
			if v := a.Verification; v != nil && (v.AttemptsLeft < 0 || v.AttemptsLeft > VerificationAttempts) {
				return fmt.Errorf("shop %q: account %q has %d verification attempts left", key, id, v.AttemptsLeft)
			}
		}
		for id, r := range sh.Roles {
			if r == nil || r.ID != id {
				return fmt.Errorf("shop %q: role %q is null or has a different ID", key, id)
			}
			if err := noteID(id, "role "+key+"/"+r.Name); err != nil {
				return err
			}
		}
		if err := sh.normalizeDepartmentsAndContacts(key, noteID); err != nil {
			return err
		}
	}
	if st.NextID <= maxID {
		st.NextID = maxID + 1
	}
	return nil
}

// nextID assigns an ID. Callers hold e.mu.
func (e *Engine) nextID() string {
	id := e.state.NextID
	e.state.NextID++
	return strconv.FormatInt(id, 10)
}

// clock returns the current time in UTC without a monotonic reading, so it
// survives a JSON round trip unchanged.
func (e *Engine) clock() time.Time { return e.now().UTC() }

// requestSlack is how many entries a request-ID map may hold beyond twice
// the shop's live objects of its kind before the entries of deleted ones
// are swept (see remember).
const requestSlack = 64

// remember maps a create's requestID to the ID it created. An entry whose
// object was deleted answers nothing any more (a repeated create makes a
// new object), so once the map holds more than twice the live objects
// plus requestSlack those entries are dropped: the map stays within a
// bound of the shop's live objects however many objects are created and
// deleted, at an amortized constant cost per create.
func remember(requests map[string]string, requestID, id string, live func(id string) bool, liveCount int) {
	if requestID == "" {
		return
	}
	requests[requestID] = id
	if len(requests) <= 2*liveCount+requestSlack {
		return
	}
	for k, v := range requests {
		if !live(v) {
			delete(requests, k)
		}
	}
}

func (sh *ShopState) audit(at time.Time, source, action, id, name, detail string) {
	sh.Audit = append(sh.Audit, AuditEntry{Time: at, Action: action, TargetID: id, TargetName: name, Detail: detail, Source: source})
	if n := len(sh.Audit) - MaxAuditEntries; n > 0 {
		sh.Audit = slices.Delete(sh.Audit, 0, n)
	}
}

// compareIDs orders numeric IDs numerically (shorter first, then bytewise).
func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func sortedIDs[V any](m map[string]V) []string {
	ids := slices.Collect(maps.Keys(m))
	slices.SortFunc(ids, compareIDs)
	return ids
}

func (sh *ShopState) accounts() []platform.Account {
	ids := sortedIDs(sh.Accounts)
	if len(ids) == 0 {
		return nil
	}
	out := make([]platform.Account, 0, len(ids))
	for _, id := range ids {
		out = append(out, sh.view(sh.Accounts[id]))
	}
	return out
}

func (sh *ShopState) roles() []platform.Role {
	ids := sortedIDs(sh.Roles)
	if len(ids) == 0 {
		return nil
	}
	out := make([]platform.Role, 0, len(ids))
	for _, id := range ids {
		out = append(out, copyRole(sh.Roles[id]))
	}
	return out
}

func (sh *ShopState) findAccount(name string) *AccountRecord {
	for _, a := range sh.Accounts {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func (sh *ShopState) findRole(name string) *platform.Role {
	for _, r := range sh.Roles {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// view renders a stored account as the platform reports it.
func (sh *ShopState) view(a *AccountRecord) platform.Account {
	set := map[string]struct{}{}
	for _, id := range a.State.RoleIDs {
		if r, ok := sh.Roles[id]; ok {
			for _, c := range r.Permissions {
				set[c] = struct{}{}
			}
		}
	}
	for _, c := range a.State.ExtraPermissions {
		set[c] = struct{}{}
	}
	var eff []string
	if len(set) > 0 {
		eff = slices.Sorted(maps.Keys(set))
	}
	return platform.Account{
		ID:                   a.ID,
		Name:                 a.Name,
		Login:                sh.MainAccount + ":" + a.Name,
		AccountState:         copyState(a.State),
		EffectivePermissions: eff,
		PasswordChangedAt:    a.PasswordChangedAt,
		Verification:         a.Verification.view(),
		PlatformFrozen:       a.PlatformFrozen,
		SeatFeeOwed:          a.SeatFeeOwed,
	}
}

func copyState(s platform.AccountState) platform.AccountState {
	s.RoleIDs = slices.Clone(s.RoleIDs)
	s.ExtraPermissions = slices.Clone(s.ExtraPermissions)
	if s.Seat != nil {
		seat := *s.Seat
		s.Seat = &seat
	}
	return s
}

func copyRole(r *platform.Role) platform.Role {
	out := *r
	out.Permissions = slices.Clone(r.Permissions)
	return out
}

// AutoRegisterFactory is Factory for demos and local runs: a shop the
// engine does not know yet is added on first use, with the credentials it
// presents and the given seat quota. Later calls must present the same
// credentials.
func (e *Engine) AutoRegisterFactory(seatQuota int32) platform.Factory {
	inner := e.Factory()
	return platform.FactoryFunc(func(ctx context.Context, cfg platform.ShopConfig) (platform.Client, error) {
		c, err := inner.ClientFor(ctx, cfg)
		if !errors.Is(err, platform.ErrNotFound) {
			return c, err
		}
		err = e.AddShop(ShopSetup{Platform: cfg.Platform, MainAccount: cfg.MainAccount, Credentials: cfg.Credentials, SeatQuota: seatQuota})
		if err != nil && !errors.Is(err, platform.ErrConflict) && !errors.Is(err, platform.ErrNameTaken) {
			return nil, err
		}
		return inner.ClientFor(ctx, cfg)
	})
}
