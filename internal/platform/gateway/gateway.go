// Package gateway is the operator's driver for the platform gateway
// protocol v1 (package wire): a platform.Client speaking signed JSON over
// HTTP with net/http.
//
// Every call builds its body from the wire types, signs the request with
// wire.SignRequest (app key, app secret and access token from the shop's
// credentials), sends the request ID of creates as wire.HeaderIdempotencyKey
// and the caller's platform.WithSource as wire.HeaderSource, and runs under a
// per-call timeout. Failures map to the platform sentinels:
//
//   - a non-2xx answer goes through wire.ErrorFrom with the parsed error
//     body (nil when it is not the wire error shape) and the Retry-After
//     header (seconds or an HTTP date, at most MaxRetryAfter);
//   - transport errors, the per-call timeout, dropped connections and
//     malformed success bodies are platform.ErrTransient;
//   - when the caller's own context is cancelled or past its deadline, the
//     error wraps ctx.Err(), so errors.Is(err, context.Canceled) (or
//     context.DeadlineExceeded) holds.
//
// Error messages never contain the app secret, the access token, the
// request's signature or a password sent in the call: every error goes
// through platform.Sanitize, which scrubs them, cuts the message to
// platform.MaxMessageBytes and scrubs again. Transport failures say only
// platform.UnreachableMessage; the address and what went wrong are in the
// error's Detail, for the log (platform.DetailOf), as is an excerpt of an
// answer that is not the gateway protocol's.
//
// The driver does not retry. The controllers already re-queue failed
// reconciles with backoff and honour platform.RetryAfter; retrying here as
// well would multiply attempts, hold a reconcile worker (and the shop's
// rate-limit tokens, see platform.LimitedFactory) while sleeping, and
// silently repeat writes that are not idempotent (PUT password, DELETE).
// Creates are idempotent per request ID, so the controllers' retries of
// them are safe. (net/http itself may replay a request once when a reused
// keep-alive connection turns out to be closed before anything was
// answered; that is the transport's usual, safe behaviour.)
package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// Defaults and limits.
const (
	// DefaultTimeout bounds one call (connect, send, answer, body).
	DefaultTimeout = 10 * time.Second
	// DefaultUserAgent is sent when Options.UserAgent is empty.
	DefaultUserAgent = "subaccount-operator-gateway/" + wire.Version
	// MaxRetryAfter caps a Retry-After the gateway asks for, so a bogus
	// header cannot park an object for days (or overflow a Duration).
	MaxRetryAfter = time.Hour
	// maxBody bounds a success body; maxErrorBody an error body.
	maxBody      = 16 << 20
	maxErrorBody = 64 << 10
)

// Options configure a Factory.
type Options struct {
	// HTTPClient sends the requests. Nil means a client of the factory's
	// own with dial and TLS-handshake timeouts, TLS 1.2 or later verified
	// against the system roots, the environment's proxy settings, and
	// redirects not followed (a redirect is answered as an error).
	HTTPClient *http.Client
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
	// Clock stamps the signatures and dates Retry-After; nil is time.Now.
	Clock func() time.Time
	// UserAgent is sent with every request; empty is DefaultUserAgent.
	UserAgent string
}

// NewFactory returns a platform.Factory of gateway clients. All clients of
// the factory share its HTTP client (and so its connection pool).
func NewFactory(opts Options) platform.Factory {
	if opts.HTTPClient == nil {
		opts.HTTPClient = platform.NewHTTPClient()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	return &factory{opts: opts}
}

type factory struct {
	opts Options
}

// ClientFor validates the shop's endpoint and returns its client. The
// endpoint must be an absolute https URL, or http when the host is a
// loopback address (127.0.0.0/8, ::1) or "localhost"; it must carry no
// user info, query or fragment. Anything else is a *platform.Error of kind
// ErrInvalid with Field "endpoint". No request is sent.
func (f *factory) ClientFor(_ context.Context, cfg platform.ShopConfig) (platform.Client, error) {
	base, err := baseURL(cfg)
	if err != nil {
		return nil, err
	}
	return &client{
		opts:  f.opts,
		base:  base,
		creds: cfg.Credentials,
	}, nil
}

// baseURL is the validated endpoint followed by the shop's path prefix,
// without a trailing slash.
func baseURL(cfg platform.ShopConfig) (string, error) {
	if strings.TrimSpace(cfg.MainAccount) == "" {
		return "", platform.NewError(platform.ErrInvalid, "mainAccount", "the shop's main account is empty")
	}
	if cfg.Platform == "" {
		return "", platform.NewError(platform.ErrInvalid, "platform", "the shop's platform is empty")
	}
	if strings.TrimSpace(cfg.Endpoint) == "" {
		return "", platform.NewError(platform.ErrInvalid, "endpoint", "the gateway endpoint is empty; an https:// URL is required")
	}
	u, err := platform.ParseEndpoint(cfg.Endpoint, "the gateway endpoint", "https://gateway.example.com", secretsOf(cfg.Credentials)...)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(u.String(), "/") + wire.ShopPrefix(cfg.Platform, cfg.MainAccount), nil
}

func secretsOf(c platform.Credentials) []string {
	return []string{c.AppSecret, c.AccessToken}
}

// client is a platform.Client for one shop.
type client struct {
	opts  Options
	base  string
	creds platform.Credentials
}

var _ platform.Client = (*client)(nil)

// request is one call to the gateway.
type request struct {
	method string
	// path is relative to the shop prefix, already path-escaped.
	path  string
	query url.Values
	// in is marshalled as the JSON body when non-nil.
	in any
	// out receives the JSON success body when non-nil.
	out any
	// idempotencyKey is sent on creates when non-empty.
	idempotencyKey string
	// secrets are scrubbed from error messages in addition to the app
	// secret, access token and signature (passwords).
	secrets []string
}

// do runs one call: marshal, sign, send under the per-call timeout, read
// and decode the answer, and map any failure to a platform error.
func (c *client) do(ctx context.Context, r request) (err error) {
	secrets := append([]string{c.creds.AppSecret, c.creds.AccessToken}, r.secrets...)
	// Every error leaves bounded and scrubbed, with the signature too.
	defer func() { err = platform.Sanitize(err, secrets...) }()
	op := r.method + " " + r.path

	var body []byte
	if r.in != nil {
		if body, err = json.Marshal(r.in); err != nil {
			return platform.NewError(platform.ErrInvalid, "", "%s: encoding the request: %s", op, scrub(err.Error(), secrets...))
		}
	}
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}

	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	callCtx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, r.method, target, reader)
	if err != nil {
		return platform.NewError(platform.ErrInvalid, "", "%s: building the request: %s", op, scrub(err.Error(), secrets...))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if r.idempotencyKey != "" {
		req.Header.Set(wire.HeaderIdempotencyKey, r.idempotencyKey)
	}
	if src := platform.SourceFrom(ctx); src != "" {
		req.Header.Set(wire.HeaderSource, src)
	}
	wire.SignRequest(req, c.creds.AppKey, c.creds.AppSecret, c.creds.AccessToken, body, c.opts.Clock())
	secrets = append(secrets, req.Header.Get(wire.HeaderSignature))

	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return c.transportError(ctx, callCtx, op, err, secrets)
	}
	defer func() { _ = resp.Body.Close() }()

	limit := int64(maxBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = maxErrorBody
	}
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A partial error body still tells the status; the parse below
		// copes with truncation.
		return errorFromResponse(resp.StatusCode, resp.Header, data, c.opts.Clock(), secrets...)
	}
	if readErr != nil {
		return c.transportError(ctx, callCtx, op, readErr, secrets)
	}
	if int64(len(data)) > limit {
		return &platform.Error{Kind: platform.ErrTransient, Message: fmt.Sprintf("%s: the answer is larger than %d bytes", op, limit)}
	}
	if r.out == nil {
		return nil
	}
	if err := json.Unmarshal(data, r.out); err != nil {
		return &platform.Error{Kind: platform.ErrTransient,
			Message: fmt.Sprintf("%s: the %d answer is not the gateway protocol's", op, resp.StatusCode),
			Detail:  scrub(fmt.Sprintf("decoding the answer: %v", err), secrets...)}
	}
	return nil
}

// transportError maps a failure to send or to read the answer: the
// caller's cancellation stays a context error; our per-call timeout and
// everything else are transient, with the public UnreachableMessage
// (whether the port was closed, filtered or spoke plain HTTP, and the
// address, would let a Shop's author probe the network through status) and
// what happened in Detail, for the log.
func (c *client) transportError(ctx, callCtx context.Context, op string, err error, secrets []string) error {
	return platform.TransportError(ctx, callCtx, "gateway", op, c.opts.Timeout, err, secrets...)
}

// errorFromResponse maps a non-2xx answer to a platform error through
// wire.ErrorFrom. A body that is not the wire error shape counts as
// absent; a short, single-line excerpt of it is kept in the message.
func errorFromResponse(status int, header http.Header, data []byte, now time.Time, secrets ...string) error {
	var parsed *wire.ErrorBody
	var eb wire.ErrorBody
	if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
		parsed = &eb
	}
	err := wire.ErrorFrom(status, parsed, parseRetryAfter(header.Get(wire.HeaderRetryAfter), now))
	var pe *platform.Error
	if !errors.As(err, &pe) {
		return err // not produced by wire.ErrorFrom today
	}
	if pe.Message == "" {
		// wire.ErrorFrom leaves it empty for the statuses it knows.
		pe.Message = http.StatusText(status)
		if pe.Message == "" {
			pe.Message = fmt.Sprintf("HTTP status %d", status)
		}
	}
	if parsed == nil {
		// Not the gateway's answer (a proxy's page, or another server at
		// the endpoint): an excerpt for the log only, scrubbed before and
		// after the cut so no prefix of a secret survives it.
		pe.Detail = platform.ScrubbedExcerpt(data, secrets...)
	}
	return platform.Sanitize(pe, secrets...)
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date, relative to now. Absent, malformed or past values are zero; the
// result is at most MaxRetryAfter and never shorter than asked for.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || secs > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	switch {
	case d <= 0:
		return 0
	case d > MaxRetryAfter:
		return MaxRetryAfter
	}
	// HTTP dates have whole seconds but now may not: round up.
	return (d + time.Second - 1).Truncate(time.Second)
}
