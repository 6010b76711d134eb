package conformance

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// maxAnswerInReport bounds an answer quoted in the report.
const maxAnswerInReport = 400

// client sends the suite's requests, signed like the operator signs them
// unless a test changes the signing.
type client struct {
	target Target
	http   *http.Client
	prefix string // the shop's escaped prefix
}

// signing changes how one request is signed, to send what a gateway must
// refuse.
type signing struct {
	at        time.Time // zero: now
	badSig    bool      // a signature that does not match
	idemKey   string
	replayOf  *http.Request       // send this request's exact headers again
	keepFirst func(*http.Request) // is handed the request as signed, to replay it
}

// exchange is one request and its answer.
type exchange struct {
	req    Request
	status int
	header http.Header
	body   []byte
	err    error
}

// fail turns the exchange into a failed result.
func (x exchange) fail(check, format string, args ...any) Result {
	q := x.req
	return Result{Check: check, Outcome: Failed, Reason: fmt.Sprintf(format, args...), Request: &q}
}

// decode reads the answer's JSON into v.
func (x exchange) decode(v any) error {
	if err := json.Unmarshal(x.body, v); err != nil {
		return fmt.Errorf("the answer is not the protocol's JSON: %w", err)
	}
	return nil
}

// errorBody is the answer's error, or the zero value.
func (x exchange) errorBody() wire.ErrorDetail {
	var b wire.ErrorBody
	_ = json.Unmarshal(x.body, &b)
	return b.Error
}

func (c *client) newRequest(ctx context.Context, method, path string, query url.Values, body []byte) (*http.Request, error) {
	u := strings.TrimRight(c.target.Endpoint, "/") + c.prefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

func (c *client) sign(req *http.Request, body []byte, s signing) {
	at := s.at
	if at.IsZero() {
		at = time.Now()
	}
	cr := c.target.Credentials
	wire.SignRequest(req, cr.AppKey, cr.AppSecret, cr.AccessToken, body, at)
	if s.badSig {
		// The signature of another body: well formed, not this request's.
		req.Header.Set(wire.HeaderSignature, wire.Sign(cr.AppSecret, req.Method, req.URL.EscapedPath(), req.URL.Query(),
			req.Header.Get(wire.HeaderTimestamp), req.Header.Get(wire.HeaderNonce), []byte("another body")))
	}
	if s.idemKey != "" {
		req.Header.Set(wire.HeaderIdempotencyKey, s.idemKey)
	}
	req.Header.Set(wire.HeaderSource, "Conformance/"+c.target.namePrefix())
}

// do sends method path with in as its JSON body.
func (c *client) do(ctx context.Context, method, path string, query url.Values, in any, s signing) exchange {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return exchange{err: err}
		}
	}
	req, err := c.newRequest(ctx, method, path, query, body)
	if err != nil {
		return exchange{err: err}
	}
	if s.replayOf != nil {
		req.Header = s.replayOf.Header.Clone()
	} else {
		c.sign(req, body, s)
	}
	if s.keepFirst != nil {
		s.keepFirst(req)
	}
	return c.send(req, body)
}

func (c *client) record(req *http.Request, body []byte) Request {
	return Request{Method: req.Method, Path: req.URL.EscapedPath() + query(req.URL), Body: redact(body),
		IdempotencyKey: req.Header.Get(wire.HeaderIdempotencyKey)}
}

func query(u *url.URL) string {
	if u.RawQuery == "" {
		return ""
	}
	return "?" + u.RawQuery
}

func (c *client) send(req *http.Request, body []byte) exchange {
	x := exchange{req: c.record(req, body)}
	resp, err := c.http.Do(req)
	if err != nil {
		x.err = err
		x.req.Error = err.Error()
		return x
	}
	defer func() { _ = resp.Body.Close() }()
	x.status, x.header = resp.StatusCode, resp.Header
	x.body, x.err = io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	x.req.Status = resp.StatusCode
	x.req.Answer = string(x.body)
	if len(x.req.Answer) > maxAnswerInReport {
		x.req.Answer = x.req.Answer[:maxAnswerInReport] + "..."
	}
	x.req.Answer = strings.TrimSpace(x.req.Answer)
	return x
}

// sendAndDrop writes a signed request on its own connection and closes it
// without reading an answer: the client of a create whose connection
// dropped does not know whether it ran.
func (c *client) sendAndDrop(ctx context.Context, method, path string, in any, s signing) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := c.newRequest(ctx, method, path, nil, body)
	if err != nil {
		return err
	}
	c.sign(req, body, s)
	host := req.URL.Host
	if req.URL.Port() == "" {
		port := "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(req.URL.Hostname(), port)
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	if req.URL.Scheme == "https" {
		cfg := &tls.Config{ServerName: req.URL.Hostname(), MinVersion: tls.VersionTLS12}
		if t, ok := c.http.Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
			cfg = t.TLSClientConfig.Clone()
			cfg.ServerName = req.URL.Hostname()
		}
		conn, err = (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", host)
	} else {
		conn, err = d.DialContext(ctx, "tcp", host)
	}
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", host, err)
	}
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	werr := req.Write(conn)
	if cerr := conn.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// secretFields are the JSON fields the report never shows.
var secretFields = map[string]bool{"password": true, "code": true}

// redact replaces the secret fields of a JSON body, at any depth.
func redact(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "(not JSON)"
	}
	out, _ := json.Marshal(redactValue(v))
	return string(out)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, sub := range t {
			if secretFields[k] {
				t[k] = "(redacted)"
				continue
			}
			t[k] = redactValue(sub)
		}
	case []any:
		for i := range t {
			t[i] = redactValue(t[i])
		}
	}
	return v
}
