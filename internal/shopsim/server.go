// Package shopsim is the reference server of the platform gateway protocol
// v1 (package wire) over an in-memory platform (memory.Engine): any number
// of shops, each under /v1/shops/{platform}/{mainAccount}/..., with the
// engine's business rules (there is no second copy of them here), request
// signing, fault injection, an optional state file and a read-only web page.
// For Taobao shops it also speaks TOP, Taobao's own open API, at
// /router/rest from the same engine (top.go; the protocol is package top,
// shared with the native TOP driver), so the driver (package taobao) is
// tested against a faithful peer.
//
// Handler serves
//
//   - /v1/... the API, served by the gateway kit (pkg/gateway, see
//     newGateway); shopsim adds its faults, statistics and state file
//     through the kit's Options. Every request is authenticated: the shop's app key
//     (X-App-Key) and access token (Authorization: Bearer) must match, and
//     wire.VerifyRequest with the shop's app secret must pass, and the
//     X-Nonce must not repeat one the app key used in the last 10 minutes
//     (a replayed request is refused, wire.ErrReplayed). A request for a
//     shop that does not exist is refused exactly like a bad signature
//     (401), so the answers do not tell which shops exist. A request for
//     an existing shop is counted for it (Stats) either way; only an
//     authenticated one has its signature and nonce kept, faults injected
//     and the shop's rate-limit token taken: an unauthenticated request
//     leaves nothing behind but counters of an existing shop, and cannot
//     spend a shop's token. Each call is then served by a platform.Client from
//     engine.Factory() built with the shop's credentials, and its errors
//     are mapped with wire.ErrorFor.
//   - /router/rest: TOP for Taobao shops (see serveTOP): the shop is found
//     by app_key and session, the signature (md5, hmac or hmac-sha256) and
//     the GMT+8 timestamp (±10 minutes) are checked, and every answer is a
//     TOP envelope.
//   - /api/router: Pinduoduo's open platform for Pinduoduo shops
//     (pdd.mall.info.get, see servePinduoduo): the shop is found by
//     client_id, the MD5 signature, the Unix timestamp (±10 minutes) and
//     the access token are checked (an expired one is 10019), and every
//     answer is a Pinduoduo envelope.
//   - /admin/faults: GET and PUT the fault injection (Faults as JSON), with
//     "Authorization: Bearer <admin token>"; refused when no admin token is
//     configured.
//   - /admin/sms?phone=: GET the latest verification code sent to a phone
//     (same admin token), standing in for the employee's phone in tests and
//     demos; a real gateway never has it.
//   - / a read-only HTML page of every shop, its roles, sub-accounts and
//     recent audit entries (never a credential or password hash).
//
// Faults (latency, 503s, dropped connections, a per-shop rate limit) apply
// to the API only (/v1 after authentication, and /router/rest). With Options.StateFile set, the
// engine's Snapshot is written to that file after every successful write
// and before the answer is sent; see LoadState and SaveState.
// docs/platform-gateway.md describes the gateway protocol,
// docs/taobao-top.md the TOP side.
package shopsim

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/pinduoduo"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
	"github.com/subaccount-operator/subaccount-operator/pkg/gateway"
)

// Limits on what a request may carry.
const (
	// MaxBodyBytes bounds a request body; larger ones are refused (413).
	MaxBodyBytes = gateway.MaxBodyBytes
	// MaxIdempotencyKeyLength bounds the Idempotency-Key header (422).
	MaxIdempotencyKeyLength = gateway.MaxIdempotencyKeyLength
	// MaxSourceLength bounds the X-Source header (422).
	MaxSourceLength = gateway.MaxSourceLength
)

// Options configure a Server.
type Options struct {
	Clock  func() time.Time // nil = time.Now
	Faults Faults           // initial fault injection
	Logger *slog.Logger     // nil = discard; never log secrets
	// AdminToken is the bearer token of the /admin endpoints; empty disables
	// them (they answer 403).
	AdminToken string
	// StateFile, when set, receives the engine's Snapshot after every
	// successful write (see SaveState); "" keeps the state in memory only.
	// New does not read it: call LoadState first.
	StateFile string
	// ShowSMSCodes shows the SMS outbox (each phone's latest verification
	// code) on the web page, marked as the simulator's: shopsim stands in
	// for the employees' phones (make dev turns it on). Off, the page shows
	// no code, and codes are read only through /admin/sms.
	ShowSMSCodes bool
}

// Server serves one memory.Engine over the gateway protocol.
type Server struct {
	engine     *memory.Engine
	now        func() time.Time
	log        *slog.Logger
	adminToken string
	store      *stateFile // nil: memory only
	showSMS    bool       // Options.ShowSMSCodes

	// writeMu serializes API writes, so the read-modify-write of
	// PUT .../status and .../seat cannot interleave with another write.
	writeMu sync.Mutex

	mu      sync.Mutex // guards faults and buckets
	faults  Faults
	buckets map[string]*bucket

	faultCalls atomic.Uint64 // API calls that drew for a fault (faultDraw)

	stats statsRecorder // API call counters (GET /admin/stats)

	// pdd is the Pinduoduo shops' app authorisations (pinduoduo.go).
	pdd pddTokens

	// api serves /v1 (authentication, nonces, idempotency, routes).
	api *gateway.Server

	handler http.Handler
}

// New returns a server over engine.
func New(engine *memory.Engine, opts Options) *Server {
	s := &Server{
		engine:     engine,
		now:        opts.Clock,
		log:        opts.Logger,
		adminToken: opts.AdminToken,
		showSMS:    opts.ShowSMSCodes,
		buckets:    map[string]*bucket{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.StateFile != "" {
		s.store = &stateFile{path: opts.StateFile, engine: engine}
	}
	s.faults = opts.Faults.normalized()
	s.api = s.newGateway()
	s.handler = http.HandlerFunc(s.serveHTTP)
	return s
}

// Handler serves the API under /v1/..., the admin endpoints under
// /admin/... and the web page at /.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/"+wire.Version+"/"):
		s.api.ServeHTTP(w, r)
	case p == top.RouterPath:
		s.serveTOP(w, r)
	case p == pinduoduo.RouterPath:
		s.servePinduoduo(w, r)
	case p == "/admin" || strings.HasPrefix(p, "/admin/"):
		s.serveAdmin(w, r)
	case p == "/":
		s.serveWeb(w, r)
	default:
		writeError(w, platform.NewError(platform.ErrNotFound, "", "no such page"))
	}
}

// provider serves the engine's shops to the gateway kit (pkg/gateway),
// which does the protocol's authentication, nonces, idempotency, limits and
// errors: shopsim adds only its faults, statistics and state file.
type provider struct{ s *Server }

func (p provider) Credentials(_ context.Context, shop gateway.Shop) (platform.Credentials, bool) {
	return p.s.engine.ShopCredentials(shop.Platform, shop.MainAccount)
}

func (p provider) Client(ctx context.Context, shop gateway.Shop, creds platform.Credentials) (gateway.Client, error) {
	c, err := p.s.engine.Factory().ClientFor(ctx, platform.ShopConfig{
		Key: memory.ShopKey(shop.Platform, shop.MainAccount), Platform: shop.Platform,
		MainAccount: shop.MainAccount, Credentials: creds,
	})
	if err != nil {
		return nil, err
	}
	return auditClient{Client: c, engine: p.s.engine, shop: shop}, nil
}

// auditClient adds the engine's audit log of the shop (GET /audit).
type auditClient struct {
	platform.Client
	engine *memory.Engine
	shop   gateway.Shop
}

func (c auditClient) Audit(_ context.Context, since time.Time) ([]gateway.AuditEntry, error) {
	entries := c.engine.Audit(c.shop.Platform, c.shop.MainAccount)
	out := make([]gateway.AuditEntry, 0, len(entries))
	for _, e := range entries {
		if e.Time.Before(since) {
			continue
		}
		out = append(out, wire.AuditEntry{Time: e.Time, Action: e.Action, TargetID: e.TargetID,
			TargetName: e.TargetName, Detail: e.Detail, Source: e.Source})
	}
	return out, nil
}

// newGateway builds the /v1 API on the kit. Faults and the rate limit
// come after authentication and before the nonce is recorded (a dropped
// connection's request is resent with its nonce); statistics count every
// request for an existing shop; writes share writeMu with TOP's and are
// saved to the state file before the answer.
func (s *Server) newGateway() *gateway.Server {
	return gateway.New(provider{s}, gateway.Options{
		Clock:              s.now,
		Logger:             s.log,
		MaxNoncesPerAppKey: maxNoncesPerAppKey,
		WriteLock:          &s.writeMu,
		Committed:          func(context.Context, gateway.Shop) error { return s.store.save() },
		Intercept: func(w http.ResponseWriter, r *http.Request, shop gateway.Shop) bool {
			if s.injectFaults(w, r, func(w http.ResponseWriter) {
				writeError(w, &platform.Error{Kind: platform.ErrTransient, RetryAfter: time.Second,
					Message: "the platform is unavailable (injected fault)"})
			}) {
				return true
			}
			if allowed, wait := s.allow(shop.Key()); !allowed {
				writeError(w, &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: wait,
					Message: "too many requests for this shop; retry after the Retry-After seconds"})
				return true
			}
			return false
		},
		Arrived: func(shop gateway.Shop, at time.Time) { s.stats.arrived(shop.Key(), at) },
		Observe: func(o gateway.Observation) {
			if o.Route == "" {
				return // not a shop's path
			}
			if !o.Authenticated {
				s.stats.refused()
			} else {
				s.stats.keepSignature(o.Signature)
			}
			if o.Known {
				s.stats.answered(o.Shop.Key(), s.now(), o.Status, o.Route, o.RetryAfter)
			}
		},
	})
}

// maxNoncesPerAppKey is shopsim's bound on the nonces of one app key.
const maxNoncesPerAppKey = gateway.DefaultMaxNoncesPerAppKey

// writeJSON, writeError and writeErrorStatus answer the admin
// endpoints and the web page in the protocol's shapes.
func writeJSON(w http.ResponseWriter, status int, v any) { gateway.WriteJSON(w, status, v) }

func writeError(w http.ResponseWriter, err error) { gateway.WriteError(w, err) }

func writeErrorStatus(w http.ResponseWriter, status int, code, message string) {
	gateway.WriteErrorStatus(w, status, code, message)
}
