package pinduoduo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// Defaults and limits of the client.
const (
	// DefaultTimeout bounds one call (connect, send, answer, body).
	DefaultTimeout = 10 * time.Second
	// UserAgent is sent with every request.
	UserAgent = "subaccount-operator-pop/" + Version
	// maxBody bounds an answer: pdd.mall.info.get's is a few hundred bytes.
	maxBody = 1 << 20
)

// DefaultEndpoint is the open platform's router.
var DefaultEndpoint = platform.DefaultEndpoint(platform.Pinduoduo)

// App is one shop's app on the open platform: the app's client ID and
// secret, the access token the shop granted it, and the router to call
// ("" is DefaultEndpoint). Printing it never shows the secret or the token.
type App struct {
	Endpoint     string
	ClientID     string
	ClientSecret string
	AccessToken  string
}

// String shows the endpoint and client ID; the secrets are redacted.
func (a App) String() string {
	return fmt.Sprintf("{Endpoint:%s ClientID:%s ClientSecret:%s AccessToken:%s}", a.Endpoint, a.ClientID,
		redacted(a.ClientSecret), redacted(a.AccessToken))
}

// Format prints String for every verb, so no verb or flag reaches the
// secrets.
func (a App) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

func redacted(s string) string {
	if s == "" {
		return ""
	}
	return platform.Redacted
}

// Options configure a Client.
type Options struct {
	// HTTPClient sends the requests; nil is platform.NewHTTPClient().
	HTTPClient *http.Client
	// Timeout bounds each call; zero is DefaultTimeout.
	Timeout time.Duration
	// Clock stamps the requests; nil is time.Now.
	Clock func() time.Time
	// AllowedHosts, when not empty, are the only endpoint hosts the client
	// calls (the manager's --allowed-endpoint-hosts), as for the Shops'
	// own endpoints (platform.RestrictEndpoints).
	AllowedHosts platform.EndpointHosts
}

// Client calls the open platform for any shop's App. It is safe for
// concurrent use and keeps nothing between calls.
type Client struct{ opts Options }

// NewClient returns a client.
func NewClient(opts Options) *Client {
	if opts.HTTPClient == nil {
		opts.HTTPClient = platform.NewHTTPClient()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Client{opts: opts}
}

// MallInfo checks the app's credentials by reading the shop its access
// token belongs to (pdd.mall.info.get). Errors are *platform.Error:
// ErrTokenExpired, ErrRateLimited, ErrTransient (also for a transport
// failure, a timeout, or an answer that is not the open platform's),
// ErrInvalid (any other refusal, or a bad endpoint; no request is sent
// then); when ctx ends, the error wraps ctx.Err(). Messages never hold the
// client secret, the access token or the signature; what only the log may
// show (the address, an excerpt of a foreign answer) is in the error's
// Detail.
func (c *Client) MallInfo(ctx context.Context, app App) (MallInfo, error) {
	var info MallInfo
	err := c.call(ctx, app, MethodMallInfo, &info)
	return info, err
}

// endpoint validates the app's router URL: https, or http to loopback,
// without user info, query or fragment, allowed by AllowedHosts; one
// without a path gets RouterPath.
func (c *Client) endpoint(app App) (string, error) {
	raw := strings.TrimSpace(app.Endpoint)
	if raw == "" {
		raw = DefaultEndpoint
	}
	what, secrets := "the open platform endpoint", []string{app.ClientSecret, app.AccessToken}
	if err := c.opts.AllowedHosts.Check(raw, what, DefaultEndpoint, secrets...); err != nil {
		return "", err
	}
	u, err := platform.ParseEndpoint(raw, what, DefaultEndpoint, secrets...)
	if err != nil {
		return "", err
	}
	if u.Path == "" || u.Path == "/" {
		u.Path, u.RawPath = RouterPath, ""
	}
	return u.String(), nil
}

// call runs one method with the common parameters and decodes its answer
// into out.
func (c *Client) call(ctx context.Context, app App, method string, out any) (err error) {
	secrets := []string{app.ClientSecret, app.AccessToken}
	defer func() { err = platform.Sanitize(err, secrets...) }()
	endpoint, err := c.endpoint(app)
	if err != nil {
		return err
	}
	form := url.Values{}
	form.Set(ParamType, method)
	form.Set(ParamClientID, app.ClientID)
	form.Set(ParamAccessToken, app.AccessToken)
	form.Set(ParamTimestamp, strconv.FormatInt(c.opts.Clock().Unix(), 10))
	form.Set(ParamDataType, DataType)
	form.Set(ParamVersion, Version)
	sign := Sign(app.ClientSecret, form)
	form.Set(ParamSign, sign)
	secrets = append(secrets, sign)

	callCtx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return platform.NewError(platform.ErrInvalid, "endpoint", "%s: building the request: %s", method, platform.Scrub(err.Error(), secrets...))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	resp, err := c.opts.HTTPClient.Do(req)
	if err == nil {
		defer func() { _ = resp.Body.Close() }()
	}
	var data []byte
	if err == nil {
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	}
	if err != nil {
		return platform.TransportError(ctx, callCtx, "Pinduoduo", method, c.opts.Timeout, err, secrets...)
	}
	env, perr := ParseEnvelope(method, data)
	switch {
	case perr == nil && env.Error != nil:
		return ErrorFrom(method, *env.Error)
	case resp.StatusCode == http.StatusTooManyRequests:
		return &platform.Error{Kind: platform.ErrRateLimited, RetryAfter: RetryAfterThrottled,
			Message: fmt.Sprintf("%s: HTTP status %d from the open platform", method, resp.StatusCode)}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout || len(data) > maxBody || (perr != nil && resp.StatusCode/100 == 2):
		return &platform.Error{Kind: platform.ErrTransient, Message: method + ": the answer is not the open platform's",
			Detail: fmt.Sprintf("HTTP status %d: %s", resp.StatusCode, platform.ScrubbedExcerpt(data, secrets...))}
	case resp.StatusCode/100 != 2:
		// A redirect, 404 or the like: the endpoint is not a router.
		return &platform.Error{Kind: platform.ErrInvalid, Field: "endpoint",
			Message: fmt.Sprintf("%s: HTTP status %d from the open platform endpoint", method, resp.StatusCode),
			Detail:  platform.ScrubbedExcerpt(data, secrets...)}
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		return &platform.Error{Kind: platform.ErrTransient, Message: method + ": the answer is not in the shape the open platform documents",
			Detail: platform.Scrub(err.Error(), secrets...)}
	}
	return nil
}
