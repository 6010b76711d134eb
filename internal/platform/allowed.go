package platform

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// EndpointHosts is the list of endpoint hosts a cluster admin lets Shops
// name (the manager's --allowed-endpoint-hosts). A Shop's author chooses
// its endpoint, and the operator calls it with the credentials of the
// Secret the Shop names from inside the cluster; the list keeps those
// calls to the platforms' and gateways' hosts, so a Shop cannot point the
// operator at an internal address or port.
//
// Each pattern is a host, optionally with a port:
//
//   - "gateway.internal": that host, any port;
//   - "gateway.internal:8443": that host on port 8443 only (the URL's
//     port, or 443 for https and 80 for http when it names none);
//   - "*.example.com": any host under example.com, at any depth (not
//     example.com itself); "*.example.com:443" likewise on port 443;
//   - an IP address ("10.0.0.7", "[fd00::7]:8443") matches that address
//     as written in the URL.
//
// Hosts compare without case and without a trailing dot. A nil or empty
// list allows every host. Names are matched as written in the Shop: the
// list cannot stop a DNS name under an allowed domain from resolving to
// an internal address; the chart's NetworkPolicy limits where the manager
// may connect at all.
type EndpointHosts []hostPattern

type hostPattern struct {
	host     string // lower case, no trailing dot; "*.suffix" for a wildcard
	port     int    // 0: any
	wildcard bool
}

// ParseEndpointHosts parses a comma-separated list of patterns (see
// EndpointHosts); blanks around items are ignored, and an empty list
// allows every host.
func ParseEndpointHosts(list string) (EndpointHosts, error) {
	var out EndpointHosts
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parseHostPattern(item)
		if err != nil {
			return nil, fmt.Errorf("allowed endpoint host %q: %w", item, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseHostPattern(item string) (hostPattern, error) {
	host, port := item, 0
	if h, p, err := net.SplitHostPort(item); err == nil {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 65535 {
			return hostPattern{}, fmt.Errorf("the port must be 1-65535")
		}
		host, port = h, n
	} else if strings.HasPrefix(item, "[") && strings.HasSuffix(item, "]") {
		host = item[1 : len(item)-1]
	}
	host = normalHost(host)
	p := hostPattern{host: host, port: port}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		p.wildcard = true
		host = rest
	}
	switch {
	case host == "":
		return hostPattern{}, fmt.Errorf("the host is empty")
	case strings.ContainsAny(host, "*/?#@ "):
		return hostPattern{}, fmt.Errorf("a pattern is a host name or IP address, optionally starting with \"*.\" and ending with \":port\"")
	case p.wildcard && net.ParseIP(host) != nil:
		return hostPattern{}, fmt.Errorf("\"*.\" goes before a domain, not an IP address")
	}
	return p, nil
}

func normalHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// String lists the patterns as ParseEndpointHosts reads them.
func (hs EndpointHosts) String() string {
	items := make([]string, len(hs))
	for i, p := range hs {
		host := p.host
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		if p.port != 0 {
			host += ":" + strconv.Itoa(p.port)
		}
		items[i] = host
	}
	return strings.Join(items, ",")
}

// Allows reports whether an endpoint on host (without brackets) and port
// (the effective one) is allowed.
func (hs EndpointHosts) Allows(host string, port int) bool {
	if len(hs) == 0 {
		return true
	}
	host = normalHost(host)
	for _, p := range hs {
		if p.port != 0 && p.port != port {
			continue
		}
		if p.wildcard {
			if strings.HasSuffix(host, p.host[1:]) && len(host) > len(p.host)-1 {
				return true
			}
			continue
		}
		if host == p.host {
			return true
		}
	}
	return false
}

// EffectivePort is the port a call to u goes to: its own, or 443 for
// https and 80 for http.
func EffectivePort(u *url.URL) int {
	if n, err := strconv.Atoi(u.Port()); err == nil {
		return n
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}

// RestrictEndpoints wraps a Factory so that ClientFor refuses a shop whose
// endpoint is not allowed, before the inner factory (and so any
// connection) sees it: an *Error of kind ErrEndpointNotAllowed (an
// ErrInvalid, not retried) on Field "endpoint". A shop without an endpoint
// is checked at its platform's DefaultEndpoint, which is where a driver
// would go. An endpoint that ParseEndpoint refuses gets its error. With an
// empty list the inner factory is returned as it is.
func RestrictEndpoints(inner Factory, allowed EndpointHosts) Factory {
	if len(allowed) == 0 {
		return inner
	}
	return &restrictedFactory{inner: inner, allowed: allowed}
}

type restrictedFactory struct {
	inner   Factory
	allowed EndpointHosts
}

func (f *restrictedFactory) ClientFor(ctx context.Context, cfg ShopConfig) (Client, error) {
	raw := strings.TrimSpace(cfg.Endpoint)
	if raw == "" {
		raw = DefaultEndpoint(cfg.Platform)
	}
	if err := f.allowed.Check(raw, "the endpoint", "https://gateway.example.com", cfg.Credentials.AppSecret, cfg.Credentials.AccessToken); err != nil {
		return nil, err
	}
	return f.inner.ClientFor(ctx, cfg)
}

// Check refuses the endpoint raw unless the list allows its host and
// port: ParseEndpoint's error (what, example and secrets as there), or an
// *Error of kind ErrEndpointNotAllowed on Field "endpoint". An empty list
// allows every host that ParseEndpoint accepts.
func (hs EndpointHosts) Check(raw, what, example string, secrets ...string) error {
	u, err := ParseEndpoint(raw, what, example, secrets...)
	if err != nil {
		return err
	}
	port := EffectivePort(u)
	if !hs.Allows(u.Hostname(), port) {
		return &Error{Kind: ErrEndpointNotAllowed, Field: "endpoint",
			Message: fmt.Sprintf("%s %q (host %s, port %d) is not one this operator may call: "+
				"a cluster admin allows endpoint hosts with the manager's --allowed-endpoint-hosts", what, u.Redacted(), u.Hostname(), port)}
	}
	return nil
}
