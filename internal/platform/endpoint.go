package platform

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// ParseEndpoint validates the endpoint a driver is to send a shop's
// credentials to: an absolute https URL, or plain http to a loopback host
// only (anywhere else plain http would carry the credentials unencrypted);
// no user info (credentials come from the Shop's Secret), query or
// fragment. what names the endpoint in messages ("the gateway endpoint"),
// example shows a good one, and secrets are scrubbed from parse errors.
// Failures are ErrInvalid with Field "endpoint". The scheme comes back in
// lower case.
func ParseEndpoint(raw, what, example string, secrets ...string) (*url.URL, error) {
	invalid := func(format string, args ...any) error {
		return NewError(ErrInvalid, "endpoint", format, args...)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Error repeats the input, which could hold user info; keep
		// only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, invalid("%s is not a valid URL: %s", what, Scrub(err.Error(), secrets...))
	}
	shown := u.Redacted()
	switch {
	case u.User != nil:
		return nil, invalid("%s %q must not contain user info; credentials come from the Shop's Secret", what, shown)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return nil, invalid("%s %q must be an absolute URL with a host, such as %s", what, shown, example)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, invalid("%s %q must not have a query or fragment", what, shown)
	case strings.Contains(u.Hostname(), "%"):
		// An IPv6 zone (fe80::1%eth0) names an interface of the manager's
		// own node, never a shop's API; a zone also takes bytes that do not
		// survive printing the URL and parsing it again.
		return nil, invalid("%s %q must not have an IPv6 zone", what, shown)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, invalid("%s %q uses plain http, which would send the shop's credentials unencrypted; "+
				"use https (plain http is only allowed to a loopback host: 127.0.0.0/8, ::1 or localhost)", what, shown)
		}
	default:
		return nil, invalid("%s %q has scheme %q; it must be https (or http to a loopback host)", what, shown, u.Scheme)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u, nil
}

// IsLoopback reports whether host (without port or brackets) is
// "localhost" or a loopback IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
