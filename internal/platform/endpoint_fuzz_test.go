package platform_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// FuzzParseEndpoint: any string gives either an endpoint the drivers may
// send credentials to (https, or http to a loopback host; a host; no user
// info, query or fragment; parsing it again gives it back) or an
// ErrInvalid on field "endpoint"; an endpoint host list that allows it
// agrees with what the URL says.
func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"https://gw.example.com", "http://127.0.0.1:8089/base/", "HTTP://[::1]:1", "http://10.0.0.1",
		"https://u:p@h", "https://h?q", "https://h#f", "ftp://h", "//h", "https://", " https://h ", "https://h:99999",
		"http://localhost.", "https://%zz", "https://[fe80::1%25eth0]/", "mailto:x@y"} {
		f.Add(s, "*.example.com,gw.example.com:443,127.0.0.1")
	}
	f.Fuzz(func(t *testing.T, raw, allowedList string) {
		u, err := platform.ParseEndpoint(raw, "the endpoint", "https://gw.example.com", "s3cr3t")
		if err != nil {
			var pe *platform.Error
			if !errors.As(err, &pe) || !errors.Is(err, platform.ErrInvalid) || pe.Field != "endpoint" {
				t.Fatalf("ParseEndpoint(%q) = %v, want an ErrInvalid on endpoint", raw, err)
			}
			return
		}
		switch {
		case u.Scheme != "https" && !(u.Scheme == "http" && platform.IsLoopback(u.Hostname())):
			t.Fatalf("ParseEndpoint(%q) accepted scheme %q to host %q", raw, u.Scheme, u.Hostname())
		case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Hostname() == "" || u.Opaque != "":
			t.Fatalf("ParseEndpoint(%q) accepted %#v", raw, u)
		}
		again, err := platform.ParseEndpoint(u.String(), "the endpoint", "", "s3cr3t")
		if err != nil || again.String() != u.String() {
			t.Fatalf("ParseEndpoint(%q) = %q, which parses again as %v, %v", raw, u, again, err)
		}
		hosts, err := platform.ParseEndpointHosts(allowedList)
		if err != nil {
			return
		}
		if strings.TrimSpace(allowedList) == "" && !hosts.Allows(u.Hostname(), 443) {
			t.Fatalf("an empty list refused %q", u.Hostname())
		}
	})
}
