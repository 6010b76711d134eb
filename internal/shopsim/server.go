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
//   - /v1/... the API. Every request is authenticated: the shop's app key
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
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
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

	stats statsRecorder // API call counters (GET /admin/stats)

	nonces *nonceStore // nonces accepted, refused when repeated

	// decoy are credentials no shop has, checked for a request to an
	// unknown shop so that it is refused like a bad signature.
	decoy platform.Credentials

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
		nonces:     newNonceStore(maxNoncesPerAppKey),
		decoy:      platform.Credentials{AppKey: rand.Text(), AppSecret: rand.Text(), AccessToken: rand.Text()},
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
		s.serveAPI(w, r)
	case p == top.RouterPath:
		s.serveTOP(w, r)
	case p == "/admin" || strings.HasPrefix(p, "/admin/"):
		s.serveAdmin(w, r)
	case p == "/":
		s.serveWeb(w, r)
	default:
		writeError(w, platform.NewError(platform.ErrNotFound, "", "no such page"))
	}
}

// apiCall is one authenticated API request, as the route handlers see it.
type apiCall struct {
	ctx      context.Context
	client   platform.Client
	platform platform.Name
	main     string
	params   map[string]string
	query    url.Values
	header   http.Header
	body     []byte
}

// serveAPI runs a /v1 request: path, body, the shop's counters (an
// existing shop only), authentication, then (only for an authenticated
// request) its signature and nonce, faults, rate limit, routing, the call,
// persistence, the answer. Nothing an unauthenticated request sends is
// kept: a made-up shop path adds no counters, no signature or nonce is
// kept, and the shop's rate-limit token is not spent.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	rec := &statusRecorder{ResponseWriter: w}
	counted := ""
	p, main, rest, ok := splitAPIPath(r.URL.EscapedPath())
	defer func() {
		if counted != "" {
			route := routeLabel(r.Method)
			if rt, _, _ := match(r.Method, rest); rt != nil {
				route = rt.method + " " + rt.path
			}
			retryAfter, _ := strconv.Atoi(rec.Header().Get(wire.HeaderRetryAfter))
			s.stats.answered(counted, s.now(), rec.status, route, time.Duration(retryAfter)*time.Second)
		}
		if rec.status != 0 {
			s.log.Info("api", "method", r.Method, "path", r.URL.EscapedPath(), "status", rec.status,
				"duration", s.now().Sub(start).String(), "source", r.Header.Get(wire.HeaderSource))
		}
	}()
	w = rec

	if !ok {
		writeError(w, platform.NewError(platform.ErrNotFound, "", "no such API path; shops are under /%s/shops/{platform}/{mainAccount}", wire.Version))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeErrorStatus(w, http.StatusRequestEntityTooLarge, wire.CodeInvalid, fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes))
			return
		}
		writeError(w, platform.NewError(platform.ErrInvalid, "", "reading the request body failed"))
		return
	}
	creds, known := s.engine.ShopCredentials(p, main)
	if !known {
		// An unknown shop is checked against credentials nobody has, so
		// it fails exactly as a bad signature for a known shop does: the
		// answer does not tell which shops exist.
		creds = s.decoy
	}
	key := memory.ShopKey(p, main)
	if known {
		// Counted for its shop whether or not it authenticates (the
		// counters are per existing shop, so bounded); only a verified
		// request's signature is kept.
		counted = key
		s.stats.arrived(key, start)
	}
	if err := s.authenticate(r, creds, body); err != nil || !known {
		s.stats.refused()
		if err == nil {
			err = platform.NewError(platform.ErrUnauthorized, "", "%s", wire.ErrBadSignature.Error())
		}
		writeError(w, err)
		return
	}
	s.stats.keepSignature(r.Header.Get(wire.HeaderSignature))
	if s.injectFaults(w, r, func(w http.ResponseWriter) {
		writeError(w, &platform.Error{Kind: platform.ErrTransient, RetryAfter: time.Second,
			Message: "the platform is unavailable (injected fault)"})
	}) {
		return
	}
	// The nonce is recorded only for a request that is served: net/http
	// sends a request again, with the same nonce, when its connection
	// closed before any answer (a dropped connection), and that repeat
	// must not be refused as a replay of a request that never ran.
	if err := s.useNonce(r, creds); err != nil {
		writeError(w, err)
		return
	}
	if allowed, wait := s.allow(key); !allowed {
		writeError(w, &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: wait,
			Message: "too many requests for this shop; retry after the Retry-After seconds"})
		return
	}
	rt, params, allow := match(r.Method, rest)
	if rt == nil {
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeErrorStatus(w, http.StatusMethodNotAllowed, wire.CodeNotSupported, fmt.Sprintf("method %s is not allowed here", r.Method))
			return
		}
		writeError(w, platform.NewError(platform.ErrNotFound, "", "no such API path"))
		return
	}
	client, err := s.engine.Factory().ClientFor(r.Context(), platform.ShopConfig{
		Key:         memory.ShopKey(p, main),
		Platform:    p,
		MainAccount: main,
		Credentials: platform.Credentials{AppKey: r.Header.Get(wire.HeaderAppKey), AppSecret: creds.AppSecret, AccessToken: wire.BearerToken(r)},
	})
	if err != nil {
		writeError(w, err)
		return
	}
	c := &apiCall{ctx: r.Context(), client: client, platform: p, main: main, params: params,
		query: r.URL.Query(), header: r.Header, body: body}

	var (
		status int
		out    any
	)
	if rt.write {
		src := r.Header.Get(wire.HeaderSource)
		if len(src) > MaxSourceLength {
			writeError(w, platform.NewError(platform.ErrInvalid, wire.HeaderSource, "the %s header must be at most %d bytes", wire.HeaderSource, MaxSourceLength))
			return
		}
		c.ctx = platform.WithSource(c.ctx, src)
		s.writeMu.Lock()
		status, out, err = rt.handle(s, c)
		s.writeMu.Unlock()
		if err == nil {
			if perr := s.store.save(); perr != nil {
				s.log.Error("saving the state file failed", "err", perr)
				err = platform.NewError(platform.ErrTransient, "", "the change was applied but the server could not save its state")
			}
		}
	} else {
		status, out, err = rt.handle(s, c)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, status, out)
}

// splitAPIPath splits "/v1/shops/{platform}/{main}/rest..." (escaped) into
// the platform, the unescaped main account and the unescaped segments of
// the rest.
func splitAPIPath(escaped string) (platform.Name, string, []string, bool) {
	rest, ok := strings.CutPrefix(escaped, "/"+wire.Version+"/shops/")
	if !ok {
		return "", "", nil, false
	}
	segs := strings.Split(rest, "/")
	if len(segs) < 3 {
		return "", "", nil, false
	}
	out := make([]string, len(segs))
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil || u == "" {
			return "", "", nil, false
		}
		out[i] = u
	}
	return platform.Name(out[0]), out[1], out[2:], true
}

// authenticate checks the timestamp, the signature, the app key and the
// access token. Messages never echo what was sent.
func (s *Server) authenticate(r *http.Request, creds platform.Credentials, body []byte) error {
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
func (s *Server) useNonce(r *http.Request, creds platform.Credentials) error {
	switch s.nonces.use(creds.AppKey, r.Header.Get(wire.HeaderNonce), s.now()) {
	case nonceReplayed:
		return platform.NewError(platform.ErrUnauthorized, "", "%s", wire.ErrReplayed.Error())
	case nonceFull:
		return &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: time.Second,
			Message: "too many requests within the replay window"}
	}
	return nil
}

// routeLabel is the statistics' route of a request no route matched:
// "METHOD ?" for the methods HTTP defines, "OTHER ?" for any other, so an
// authenticated client cannot add a counter per made-up method.
func routeLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method + " ?"
	}
	return "OTHER ?"
}

// writeJSON writes v as the JSON answer (no body for 204).
func writeJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusNoContent || v == nil {
		w.WriteHeader(status)
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		writeErrorStatus(w, http.StatusInternalServerError, wire.CodeInternal, "encoding the answer failed")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// writeError answers with wire.ErrorFor(err), adding Retry-After on 429
// (always, at least 1 second) and on 503 (when the error asks for a wait).
func writeError(w http.ResponseWriter, err error) {
	status, body := wire.ErrorFor(err)
	wait, _ := platform.RetryAfter(err)
	switch {
	case status == http.StatusTooManyRequests:
		w.Header().Set(wire.HeaderRetryAfter, retryAfterSeconds(wait))
	case status == http.StatusServiceUnavailable && wait > 0:
		w.Header().Set(wire.HeaderRetryAfter, retryAfterSeconds(wait))
	}
	writeBody(w, status, body)
}

func writeErrorStatus(w http.ResponseWriter, status int, code, message string) {
	writeBody(w, status, wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: message}})
}

func writeBody(w http.ResponseWriter, status int, body wire.ErrorBody) {
	data, _ := json.Marshal(body) // a struct of strings always marshals
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// retryAfterSeconds renders a wait as whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// decode reads a JSON body strictly: one object, no unknown fields.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return platform.NewError(platform.ErrInvalid, "", "the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return platform.NewError(platform.ErrInvalid, "", "the request body is not valid: %v", err)
	}
	if dec.More() {
		return platform.NewError(platform.ErrInvalid, "", "the request body must be a single JSON object")
	}
	return nil
}

// statusRecorder remembers the status written, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Hijack).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
