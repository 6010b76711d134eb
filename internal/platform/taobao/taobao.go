// Package taobao is the operator's native driver for the Taobao Open
// Platform (TOP): a platform.Client that speaks TOP's own protocol to
// https://eco.taobao.com/router/rest (or the Shop's endpoint), without a
// gateway. docs/taobao-top.md describes what TOP can and cannot do and how
// each platform.Client method maps to a TOP method.
//
// The protocol itself (methods, parameters, signing, envelopes, answer
// types, error codes) is package top, shared with shopsim's TOP-compatible
// endpoint; this package is the client. Every call is one form-encoded
// UTF-8 POST with the common parameters method, app_key, session (the
// shop's access token), timestamp (yyyy-MM-dd HH:mm:ss in GMT+8, whatever
// the machine's zone), format=json, v=2.0 and sign_method, plus the
// method's own parameters, signed with top.Sign (md5, hmac or hmac-sha256
// over the sorted parameters, keyed with the app secret). The caller's
// platform.WithSource goes along as the X-Source header (TOP ignores it;
// shopsim records it in its audit log). Each call runs under a per-call
// timeout.
//
// Answers are TOP envelopes (top.ParseEnvelope): {"<method>_response":
// {...}} on success, {"error_response": {...}} on failure, mapped by
// top.ErrorFrom (code 7 bans are ErrRateLimited with the ban's length as
// RetryAfter).
// Transport errors, the per-call timeout and malformed answers are
// platform.ErrTransient; when the caller's own context ends, the error
// wraps ctx.Err(). Messages never contain the app secret, the session or
// the signature: every error goes through platform.Sanitize, which scrubs
// them, cuts the message to platform.MaxMessageBytes and scrubs again.
// Transport failures say only platform.UnreachableMessage; the address and
// what went wrong are in the error's Detail, for the log
// (platform.DetailOf), as is an excerpt of an answer that is not TOP's.
//
// The driver does not retry, for the reasons the gateway driver gives:
// the controllers re-queue with backoff and honour platform.RetryAfter.
//
// TOP cannot create or delete a sub-account, set a password, assign roles
// or extra permissions, change an employee's profile, or update or delete a
// role. Those methods answer platform.ErrNotSupported without a call, and
// the client reports its Capabilities (platform.CapabilityReporter) so the
// controllers adopt existing accounts and say what they cannot apply. It
// reads, though, an account's roles (each with its permissions) and direct
// permissions (GetAccount, FindAccount): Capabilities.Observe says so, and
// the controllers report a difference from the spec instead of writing it.
package taobao

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
)

// Defaults and limits.
const (
	// DefaultTimeout bounds one call (connect, send, answer, body).
	DefaultTimeout = 10 * time.Second
	// UserAgent is sent with every request.
	UserAgent = "subaccount-operator-top/" + top.Version
	// DefaultSignMethod is used when Options.SignMethod is empty.
	DefaultSignMethod = top.SignHMACSHA256
	// maxBody bounds an answer.
	maxBody = 16 << 20
)

// Options configure a Factory.
type Options struct {
	// HTTPClient sends the requests. Nil means a client of the factory's
	// own with dial and TLS-handshake timeouts, TLS 1.2 or later verified
	// against the system roots, the environment's proxy settings, and
	// redirects not followed.
	HTTPClient *http.Client
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
	// Clock stamps the requests; nil is time.Now.
	Clock func() time.Time
	// SignMethod signs the requests; empty is DefaultSignMethod
	// (hmac-sha256). ClientFor refuses an unknown one.
	SignMethod top.SignMethod
}

func (o Options) normalized() Options {
	if o.HTTPClient == nil {
		o.HTTPClient = platform.NewHTTPClient()
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.SignMethod == "" {
		o.SignMethod = DefaultSignMethod
	}
	return o
}

// NewFactory returns a platform.Factory of TOP clients (*Client). All
// clients of the factory share its HTTP client and its record of role
// creations (see Client.CreateRole).
func NewFactory(opts Options) platform.Factory {
	return &factory{opts: opts.normalized(), roles: newCreateLog()}
}

type factory struct {
	opts  Options
	roles *createLog
}

// ClientFor returns the shop's *Client; see New.
func (f *factory) ClientFor(_ context.Context, cfg platform.ShopConfig) (platform.Client, error) {
	return newClient(f.opts, cfg, f.roles)
}

// New returns a TOP client for one shop. The shop must be a Taobao shop
// with a main account. Its endpoint, when set, must be an absolute https
// URL, or http to a loopback host (127.0.0.0/8, ::1, localhost), without
// user info, query or fragment; an endpoint without a path gets
// top.RouterPath. An empty endpoint is platform.DefaultEndpoint(platform.Taobao).
// Anything else is a *platform.Error of kind ErrInvalid naming the field.
// No request is sent.
func New(opts Options, cfg platform.ShopConfig) (*Client, error) {
	return newClient(opts.normalized(), cfg, newCreateLog())
}

func newClient(opts Options, cfg platform.ShopConfig, roles *createLog) (*Client, error) {
	if cfg.Platform != platform.Taobao {
		return nil, platform.NewError(platform.ErrInvalid, "platform",
			"the native TOP driver serves Taobao shops only, not %q", cfg.Platform)
	}
	if strings.TrimSpace(cfg.MainAccount) == "" {
		return nil, platform.NewError(platform.ErrInvalid, "mainAccount", "the shop's main account is empty")
	}
	if !opts.SignMethod.Valid() {
		return nil, platform.NewError(platform.ErrInvalid, "signMethod", "unknown TOP sign method %q: use %s, %s or %s",
			opts.SignMethod, top.SignMD5, top.SignHMAC, top.SignHMACSHA256)
	}
	endpoint, err := endpointURL(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{opts: opts, endpoint: endpoint, main: cfg.MainAccount, shopKey: cfg.Key, creds: cfg.Credentials, roles: roles}, nil
}

// endpointURL validates the shop's endpoint (see New).
func endpointURL(cfg platform.ShopConfig) (string, error) {
	raw := strings.TrimSpace(cfg.Endpoint)
	if raw == "" {
		return platform.DefaultEndpoint(platform.Taobao), nil
	}
	u, err := platform.ParseEndpoint(raw, "the TOP endpoint", platform.DefaultEndpoint(platform.Taobao),
		cfg.Credentials.AppSecret, cfg.Credentials.AccessToken)
	if err != nil {
		return "", err
	}
	if u.Path == "" || u.Path == "/" {
		u.Path, u.RawPath = top.RouterPath, ""
	}
	return u.String(), nil
}

// Client is a platform.Client for one Taobao shop over TOP. Besides the
// platform.Client methods it offers what TOP has and the interface does
// not: Departments, Duties and PresenceLog.
type Client struct {
	opts     Options
	endpoint string
	main     string
	shopKey  string
	creds    platform.Credentials
	roles    *createLog
}

var (
	_ platform.Client             = (*Client)(nil)
	_ platform.CapabilityReporter = (*Client)(nil)
)

// Endpoint is the URL the client posts to.
func (c *Client) Endpoint() string { return c.endpoint }

// call runs one TOP method with its business parameters (empty values are
// left out) and decodes the object under the method's response key into
// out (when non-nil).
func (c *Client) call(ctx context.Context, method string, params map[string]string, out any) (err error) {
	secrets := []string{c.creds.AppSecret, c.creds.AccessToken}
	// Every error leaves bounded and scrubbed, with the signature too.
	defer func() { err = platform.Sanitize(err, secrets...) }()
	form := url.Values{}
	for k, v := range params {
		if v != "" {
			form.Set(k, v)
		}
	}
	form.Set(top.ParamMethod, method)
	form.Set(top.ParamAppKey, c.creds.AppKey)
	if c.creds.AccessToken != "" {
		form.Set(top.ParamSession, c.creds.AccessToken)
	}
	form.Set(top.ParamTimestamp, top.FormatTimestamp(c.opts.Clock()))
	form.Set(top.ParamFormat, top.Format)
	form.Set(top.ParamVersion, top.Version)
	form.Set(top.ParamSignMethod, string(c.opts.SignMethod))
	sign, err := top.Sign(c.opts.SignMethod, c.creds.AppSecret, form)
	if err != nil {
		return platform.NewError(platform.ErrInvalid, "signMethod", "%s: %v", method, err)
	}
	form.Set(top.ParamSign, sign)
	secrets = append(secrets, sign)

	callCtx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return platform.NewError(platform.ErrInvalid, "", "%s: building the request: %s", method, platform.Scrub(err.Error(), secrets...))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	if src := platform.SourceFrom(ctx); src != "" {
		req.Header.Set(top.HeaderSource, src)
	}

	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return c.transportError(ctx, callCtx, method, err, secrets)
	}
	defer func() { _ = resp.Body.Close() }()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(method, resp.StatusCode, resp.Header, data, secrets)
	}
	if readErr != nil {
		return c.transportError(ctx, callCtx, method, readErr, secrets)
	}
	if len(data) > maxBody {
		return &platform.Error{Kind: platform.ErrTransient, Message: fmt.Sprintf("%s: the answer is larger than %d bytes", method, maxBody)}
	}
	env, err := top.ParseEnvelope(method, data)
	if err != nil {
		return &platform.Error{Kind: platform.ErrTransient, Message: method + ": the answer is not TOP's",
			Detail: platform.Scrub(err.Error(), secrets...)}
	}
	if env.Error != nil {
		return top.ErrorFrom(method, *env.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		return &platform.Error{Kind: platform.ErrTransient, Message: method + ": the answer is not in the shape TOP documents",
			Detail: platform.Scrub(fmt.Sprintf("decoding the answer: %v", err), secrets...)}
	}
	return nil
}

// transportError maps a failure to send or to read the answer: the
// caller's cancellation stays a context error; our per-call timeout and
// everything else are transient, with the public
// platform.UnreachableMessage and what happened (the address, refused,
// timed out, TLS) in Detail, for the log only.
func (c *Client) transportError(ctx, callCtx context.Context, method string, err error, secrets []string) error {
	return platform.TransportError(ctx, callCtx, "TOP", method, c.opts.Timeout, err, secrets...)
}

// statusError maps a non-2xx answer. TOP itself answers 200 even for
// errors; a TOP error envelope in another status is still honoured.
// Otherwise it is a proxy or the wrong URL: 429 is ErrRateLimited (with
// Retry-After seconds), 408 and 5xx ErrTransient, 401 ErrUnauthorized,
// 403 ErrForbidden, a redirect, 404 or 405 an ErrInvalid "endpoint" (the
// URL does not serve TOP), any other 4xx ErrInvalid. An excerpt of the
// answer goes to Detail (the log only), scrubbed before it is cut: cut
// first, a session crossing the cut kept its first part.
func statusError(method string, status int, header http.Header, data []byte, secrets []string) *platform.Error {
	if env, err := top.ParseEnvelope(method, data); err == nil && env.Error != nil {
		return top.ErrorFrom(method, *env.Error)
	}
	pe := &platform.Error{Kind: platform.ErrInvalid, Message: fmt.Sprintf("%s: HTTP status %d from the TOP endpoint", method, status),
		Detail: platform.ScrubbedExcerpt(data, secrets...)}
	switch {
	case status == http.StatusTooManyRequests:
		pe.Kind = platform.ErrRateLimited
		pe.RetryAfter = top.DefaultBan
		if secs, err := strconv.ParseUint(strings.TrimSpace(header.Get("Retry-After")), 10, 64); err == nil {
			pe.RetryAfter = min(time.Duration(min(secs, uint64(top.MaxRetryAfter/time.Second)))*time.Second, top.MaxRetryAfter)
		}
	case status == http.StatusRequestTimeout || status >= 500:
		pe.Kind = platform.ErrTransient
	case status == http.StatusUnauthorized:
		pe.Kind = platform.ErrUnauthorized
	case status == http.StatusForbidden:
		pe.Kind = platform.ErrForbidden
	case status < 400 || status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		pe.Field = "endpoint"
	}
	return pe
}

// createLog remembers, per shop and request ID, the name of each role the
// factory's clients asked TOP to create, so a create repeated after a lost
// answer can find its role (TOP has no idempotency key). It holds at most
// maxCreateLog entries, dropping the oldest.
type createLog struct {
	mu    sync.Mutex
	names map[string]string
	order []string
}

const maxCreateLog = 4096

func newCreateLog() *createLog { return &createLog{names: map[string]string{}} }

func (l *createLog) record(key, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.names[key]; !ok {
		l.order = append(l.order, key)
		if len(l.order) > maxCreateLog {
			delete(l.names, l.order[0])
			l.order = l.order[1:]
		}
	}
	l.names[key] = name
}

func (l *createLog) lookup(key string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	name, ok := l.names[key]
	return name, ok
}
