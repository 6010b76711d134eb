// Package gateway is the kit for writing a platform gateway: an HTTP
// service that speaks the operator's gateway protocol v1
// (docs/platform-gateway.md) for the shops of a platform without a public
// sub-account API, doing the work in the back office.
//
// A provider implements Provider (which shops it serves, with which
// credentials) and Client for each shop (the back-office operations:
// accounts, roles, and what else the platform has; embed Unsupported for
// the rest), and serves New(provider, Options{}). The Server does
// everything the protocol asks around those calls, so that every
// gateway gets it right the same way:
//
//   - authentication: the app key, the access token, the HMAC-SHA256
//     signature over method, path, query, timestamp, nonce and body, the
//     timestamp within 5 minutes of the clock, and the nonce never used
//     before by the app key (remembered for 10 minutes, bounded per app
//     key). An unknown shop is refused exactly like a bad signature;
//   - request limits: a body of at most 1 MiB (413), Idempotency-Key and
//     X-Source lengths, strict JSON (unknown fields are 422);
//   - idempotency: a create (POST /accounts, /roles, /departments) with an
//     Idempotency-Key it has answered before is answered again with the
//     stored answer, without calling the Client, while the object exists;
//     the key is also passed to the Client (requestID) for a provider that
//     keeps it across restarts;
//   - writes to one shop run one at a time, so the read-modify-write of
//     PUT .../status and .../seat sees no other write;
//   - paging of GET /accounts (page, pageSize, their defaults and ranges);
//   - errors: a Client error's kind (ErrNotFound, ErrNameTaken, ...) picks
//     the status and code, its RetryAfter the Retry-After header;
//   - one structured log line per request (log/slog): method, path,
//     status, duration, source; never a header value, body, secret,
//     password, code or signature.
//
// Package conformance (pkg/gateway/conformance) checks a running gateway
// end to end; docs/writing-a-gateway.md is the provider's guide.
package gateway

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// Limits on what a request may carry.
const (
	// MaxBodyBytes bounds a request body; larger ones are refused (413).
	MaxBodyBytes = 1 << 20
	// MaxIdempotencyKeyLength bounds the Idempotency-Key header (422).
	MaxIdempotencyKeyLength = 256
	// MaxSourceLength bounds the X-Source header (422).
	MaxSourceLength = 512
)

// Shop identifies one shop: /v1/shops/{platform}/{mainAccount}.
type Shop struct {
	Platform    Name
	MainAccount string
}

// Key is "platform/mainAccount".
func (s Shop) Key() string { return string(s.Platform) + "/" + s.MainAccount }

// Provider is what a gateway implements: the shops it serves and, for an
// authenticated request, the shop's back-office Client.
type Provider interface {
	// Credentials returns the credentials the shop's requests must be
	// signed with; ok is false when the gateway does not serve the shop.
	Credentials(ctx context.Context, shop Shop) (creds Credentials, ok bool)
	// Client returns the shop's back-office operations, for a request that
	// passed authentication with creds. An error is answered like a
	// Client's error.
	Client(ctx context.Context, shop Shop, creds Credentials) (Client, error)
}

// Options configure a Server. The zero value is a complete gateway.
type Options struct {
	Clock  func() time.Time // nil = time.Now
	Logger *slog.Logger     // nil = discard
	// MaxNoncesPerAppKey bounds the nonces remembered per app key (0 =
	// DefaultMaxNoncesPerAppKey); a full store answers 429 rather than
	// forget a nonce early.
	MaxNoncesPerAppKey int
	// MaxStoredAnswers bounds the create answers kept per shop for
	// Idempotency-Key (0 = DefaultMaxStoredAnswers); the oldest go first.
	MaxStoredAnswers int
	// WriteLock, when set, is held around every write instead of the
	// Server's own lock per shop (a server with writes of its own, such as
	// shopsim's TOP endpoint, shares one lock with them).
	WriteLock sync.Locker
	// LockReads runs reads under the same lock as writes, so a back
	// office with no locking of its own (a file, a map) never reads while
	// it is written. A Client's answer is encoded after the lock is let
	// go: return copies, not the slices a write will change.
	LockReads bool
	// Committed, when set, is called after every write that changed state,
	// with the write lock still held (a store saves its state there). An
	// error answers 503 unavailable: the client retries.
	Committed func(ctx context.Context, shop Shop) error
	// Intercept, when set, sees every authenticated request before its
	// nonce is recorded and before it is routed; it returns true when it
	// answered (or dropped) the request. A request answered there may be
	// sent again with the same nonce (a connection closed before any answer
	// is resent that way by net/http). shopsim injects faults and its rate
	// limit there.
	Intercept func(w http.ResponseWriter, r *http.Request, shop Shop) bool
	// Arrived, when set, is called when a request for a shop the Provider
	// serves arrives, authenticated or not.
	Arrived func(shop Shop, at time.Time)
	// Observe, when set, is called once for every request under /v1 once
	// it was answered.
	Observe func(Observation)
}

// Observation is what happened to one request, for metrics.
type Observation struct {
	Shop Shop
	// Known is true when the Provider serves the shop.
	Known bool
	// Authenticated is true when the request passed authentication (it
	// may still have been refused as a replay).
	Authenticated bool
	// Route is "METHOD /path-pattern" (a wire.Path* constant), or
	// "METHOD ?" when no route matched ("OTHER ?" for a method HTTP does
	// not define); "" for a path outside /v1/shops/{platform}/{main}/...
	Route string
	// Status is the answer's status; 0 when none was written (dropped).
	Status     int
	RetryAfter time.Duration
	Start      time.Time
	Duration   time.Duration
	// Signature is the request's X-Signature when it authenticated (a
	// test searches logs for it); never log it.
	Signature string
}

// Server serves the gateway protocol for a Provider.
type Server struct {
	provider Provider
	opts     Options
	now      func() time.Time
	log      *slog.Logger
	nonces   *nonceStore
	answers  *answerStore

	locksMu sync.Mutex
	locks   map[string]*sync.Mutex // per shop, when Options.WriteLock is nil

	// decoy are credentials no shop has, checked for a request to an
	// unknown shop so that it is refused exactly like a bad signature.
	decoy Credentials
}

// New returns a gateway serving provider's shops.
func New(provider Provider, opts Options) *Server {
	s := &Server{provider: provider, opts: opts, now: opts.Clock, log: opts.Logger, locks: map[string]*sync.Mutex{},
		decoy: Credentials{AppKey: rand.Text(), AppSecret: rand.Text(), AccessToken: rand.Text()}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	limit := opts.MaxNoncesPerAppKey
	if limit <= 0 {
		limit = DefaultMaxNoncesPerAppKey
	}
	s.nonces = newNonceStore(limit)
	stored := opts.MaxStoredAnswers
	if stored <= 0 {
		stored = DefaultMaxStoredAnswers
	}
	s.answers = newAnswerStore(stored)
	return s
}

// RememberedNonces is how many nonces the Server remembers, all app keys
// together (tests check that nothing unauthenticated is kept).
func (s *Server) RememberedNonces() int { return s.nonces.size() }

// call is one authenticated API request, as the route handlers see it.
type call struct {
	ctx    context.Context
	client Client
	shop   Shop
	params map[string]string
	query  url.Values
	header http.Header
	body   []byte
}

// ServeHTTP serves /v1/shops/{platform}/{mainAccount}/...: path, body
// size, authentication, then (only for an authenticated request)
// Intercept, the nonce, routing, the call, Committed, the answer. Nothing
// an unauthenticated request sends is kept.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	obs := Observation{Start: s.now()}
	shop, rest, ok := splitAPIPath(r.URL.EscapedPath())
	defer func() {
		obs.Status, obs.Duration = rec.status, s.now().Sub(obs.Start)
		obs.RetryAfter = time.Duration(atoi(rec.Header().Get(wire.HeaderRetryAfter))) * time.Second
		if rec.status != 0 {
			// Never a header value or the body: they carry secrets.
			s.log.Info("api", "method", r.Method, "path", r.URL.EscapedPath(), "status", rec.status,
				"duration", obs.Duration.String(), "source", r.Header.Get(wire.HeaderSource))
		}
		if s.opts.Observe != nil {
			s.opts.Observe(obs)
		}
	}()
	w = rec
	if !ok {
		WriteError(w, platform.NewError(platform.ErrNotFound, "", "no such API path; shops are under /%s/shops/{platform}/{mainAccount}", wire.Version))
		return
	}
	obs.Shop = shop
	obs.Route = routeLabel(r.Method)
	if rt, _, _ := match(r.Method, rest); rt != nil {
		obs.Route = rt.method + " " + rt.path
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			WriteErrorStatus(w, http.StatusRequestEntityTooLarge, wire.CodeInvalid, fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes))
			return
		}
		WriteError(w, platform.NewError(platform.ErrInvalid, "", "reading the request body failed"))
		return
	}
	creds, known := s.provider.Credentials(r.Context(), shop)
	obs.Known = known
	if !known {
		// Checked against credentials nobody has, so that it fails exactly
		// as a bad signature for a known shop does.
		creds = s.decoy
	} else if s.opts.Arrived != nil {
		s.opts.Arrived(shop, obs.Start)
	}
	if err := s.authenticate(r, creds, body); err != nil || !known {
		if err == nil {
			err = platform.NewError(platform.ErrUnauthorized, "", "%s", wire.ErrBadSignature.Error())
		}
		WriteError(w, err)
		return
	}
	obs.Authenticated, obs.Signature = true, r.Header.Get(wire.HeaderSignature)
	if s.opts.Intercept != nil && s.opts.Intercept(w, r, shop) {
		return
	}
	// The nonce is recorded only for a request that is served: net/http
	// sends a request again, with the same nonce, when its connection
	// closed before any answer, and that repeat must not be refused as a
	// replay of a request that never ran.
	if err := s.useNonce(r, creds); err != nil {
		WriteError(w, err)
		return
	}
	rt, params, allow := match(r.Method, rest)
	if rt == nil {
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			WriteErrorStatus(w, http.StatusMethodNotAllowed, wire.CodeNotSupported, fmt.Sprintf("method %s is not allowed here", r.Method))
			return
		}
		WriteError(w, platform.NewError(platform.ErrNotFound, "", "no such API path"))
		return
	}
	client, err := s.provider.Client(r.Context(), shop, creds)
	if err != nil {
		WriteError(w, err)
		return
	}
	c := &call{ctx: r.Context(), client: client, shop: shop, params: params, query: r.URL.Query(), header: r.Header, body: body}
	status, out, err := s.run(rt, c)
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, status, out)
}

// run calls the route: a read directly (under the write lock with
// LockReads), a write under the shop's write lock, answered from the stored answers when it repeats an
// Idempotency-Key, and followed by Committed.
func (s *Server) run(rt *route, c *call) (int, any, error) {
	if !rt.write {
		if s.opts.LockReads {
			lock := s.writeLock(c.shop)
			lock.Lock()
			defer lock.Unlock()
		}
		return rt.handle(c)
	}
	src := c.header.Get(wire.HeaderSource)
	if len(src) > MaxSourceLength {
		return 0, nil, platform.NewError(platform.ErrInvalid, wire.HeaderSource, "the %s header must be at most %d bytes", wire.HeaderSource, MaxSourceLength)
	}
	key := c.header.Get(wire.HeaderIdempotencyKey)
	if len(key) > MaxIdempotencyKeyLength {
		return 0, nil, platform.NewError(platform.ErrInvalid, wire.HeaderIdempotencyKey,
			"the %s header must be at most %d bytes", wire.HeaderIdempotencyKey, MaxIdempotencyKeyLength)
	}
	c.ctx = platform.WithSource(c.ctx, src)
	lock := s.writeLock(c.shop)
	lock.Lock()
	defer lock.Unlock()
	if rt.creates != "" && key != "" {
		if a, ok := s.answers.get(c.shop, rt.creates, key); ok {
			return a.status, a.body, nil
		}
	}
	status, out, err := rt.handle(c)
	if err != nil {
		// A wrong verification code is refused yet uses an attempt: that
		// change must be kept too.
		if rt.invalidChanges && errors.Is(err, platform.ErrInvalid) {
			if cerr := s.commit(c); cerr != nil {
				s.log.Error("committing a refused code's attempt failed", "err", cerr)
			}
		}
		return 0, nil, err
	}
	if err := s.commit(c); err != nil {
		s.log.Error("committing a write failed", "err", err)
		return 0, nil, platform.NewError(platform.ErrTransient, "", "the change was applied but the gateway could not save it")
	}
	switch {
	case rt.creates != "" && key != "":
		s.answers.put(c.shop, rt.creates, key, status, out, s.now())
	case rt.deletes != "":
		s.answers.forget(c.shop, rt.deletes, c.params["id"])
	}
	return status, out, nil
}

func (s *Server) commit(c *call) error {
	if s.opts.Committed == nil {
		return nil
	}
	return s.opts.Committed(c.ctx, c.shop)
}

// writeLock is Options.WriteLock, or the shop's own lock. Only shops that
// authenticated get one, so the map is bounded by the Provider's shops.
func (s *Server) writeLock(shop Shop) sync.Locker {
	if s.opts.WriteLock != nil {
		return s.opts.WriteLock
	}
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	l, ok := s.locks[shop.Key()]
	if !ok {
		l = &sync.Mutex{}
		s.locks[shop.Key()] = l
	}
	return l
}

// splitAPIPath splits "/v1/shops/{platform}/{main}/rest..." (escaped) into
// the shop and the unescaped segments of the rest.
func splitAPIPath(escaped string) (Shop, []string, bool) {
	rest, ok := strings.CutPrefix(escaped, "/"+wire.Version+"/shops/")
	if !ok {
		return Shop{}, nil, false
	}
	segs := strings.Split(rest, "/")
	if len(segs) < 3 {
		return Shop{}, nil, false
	}
	out := make([]string, len(segs))
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil || u == "" {
			return Shop{}, nil, false
		}
		out[i] = u
	}
	return Shop{Platform: platform.Name(out[0]), MainAccount: out[1]}, out[2:], true
}

// authenticate checks the timestamp, the signature, the app key and the
// access token. Messages never echo what was sent.
func (s *Server) authenticate(r *http.Request, creds Credentials, body []byte) error {
	if err := wire.VerifyRequest(r, creds.AppSecret, body, s.now()); err != nil {
		return platform.NewError(platform.ErrUnauthorized, "", "%s", err.Error())
	}
	keyOK := subtle.ConstantTimeCompare([]byte(r.Header.Get(wire.HeaderAppKey)), []byte(creds.AppKey)) == 1
	tokenOK := subtle.ConstantTimeCompare([]byte(wire.BearerToken(r)), []byte(creds.AccessToken)) == 1
	if !keyOK || !tokenOK {
		return platform.NewError(platform.ErrUnauthorized, "", "invalid app key or access token")
	}
	return nil
}

// useNonce refuses an authenticated request whose nonce the app key used
// within nonceTTL, and records it otherwise.
func (s *Server) useNonce(r *http.Request, creds Credentials) error {
	switch s.nonces.use(creds.AppKey, r.Header.Get(wire.HeaderNonce), s.now()) {
	case nonceReplayed:
		return platform.NewError(platform.ErrUnauthorized, "", "%s", wire.ErrReplayed.Error())
	case nonceFull:
		return &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: time.Second,
			Message: "too many requests within the replay window"}
	}
	return nil
}

// routeLabel is the route of a request no route matched: "METHOD ?" for
// the methods HTTP defines, "OTHER ?" for any other, so a client cannot add
// a label per made-up method.
func routeLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method + " ?"
	}
	return "OTHER ?"
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
