package platform_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func TestEndpointHosts(t *testing.T) {
	g := NewWithT(t)
	hosts, err := platform.ParseEndpointHosts(" *.example.com, gateway.internal:8443 ,10.0.0.7,[fd00::7]:9443,Shop.Test.,")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(hosts.String()).To(Equal("*.example.com,gateway.internal:8443,10.0.0.7,[fd00::7]:9443,shop.test"))
	for _, tc := range []struct {
		host string
		port int
		want bool
	}{
		{"api.example.com", 443, true},
		{"a.b.EXAMPLE.com.", 8443, true},
		{"example.com", 443, false},
		{"evil-example.com", 443, false},
		{"example.com.evil.org", 443, false},
		{"gateway.internal", 8443, true},
		{"gateway.internal", 443, false},
		{"10.0.0.7", 22, true},
		{"10.0.0.8", 443, false},
		{"fd00::7", 9443, true},
		{"fd00::7", 443, false},
		{"shop.test", 80, true},
		{"127.0.0.1", 6443, false},
	} {
		g.Expect(hosts.Allows(tc.host, tc.port)).To(Equal(tc.want), "%s:%d", tc.host, tc.port)
	}
	none, err := platform.ParseEndpointHosts(" , ")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(none.Allows("anything", 1)).To(BeTrue(), "an empty list allows every host")

	for _, bad := range []string{"*", "*.", "a.com:0", "a.com:99999", "a.com:x", "https://a.com", "a.com/path", "*.10.0.0.1", "a*.com", ":443"} {
		_, err := platform.ParseEndpointHosts(bad)
		g.Expect(err).To(HaveOccurred(), bad)
	}
}

// askedFactory records whether a client was asked for.
type askedFactory struct{ calls atomic.Int32 }

func (f *askedFactory) ClientFor(context.Context, platform.ShopConfig) (platform.Client, error) {
	f.calls.Add(1)
	return nil, nil
}

// A Shop whose endpoint is not allowed gets a clear error that is not
// retried, and the driver is never asked for a client (so no connection
// can be attempted); allowed ones pass through.
func TestRestrictEndpoints(t *testing.T) {
	g := NewWithT(t)
	hosts, err := platform.ParseEndpointHosts("*.example.com,gateway.internal:8443,eco.taobao.com:443")
	g.Expect(err).NotTo(HaveOccurred())
	inner := &askedFactory{}
	f := platform.RestrictEndpoints(inner, hosts)
	ctx := context.Background()
	creds := platform.Credentials{AppKey: "k", AppSecret: "s3cr3t", AccessToken: "t0k3n"}

	for _, endpoint := range []string{
		"https://10.96.0.1:443", "https://kubernetes.default.svc", "https://gateway.internal:6443", "http://127.0.0.1:8089",
		"https://example.com", "https://gw.example.com.evil.org",
	} {
		_, err := f.ClientFor(ctx, platform.ShopConfig{Platform: platform.Pinduoduo, MainAccount: "m", Endpoint: endpoint, Credentials: creds})
		g.Expect(err).To(MatchError(platform.ErrEndpointNotAllowed), endpoint)
		g.Expect(errors.Is(err, platform.ErrInvalid)).To(BeTrue())
		g.Expect(platform.FieldOf(err)).To(Equal("endpoint"))
		g.Expect(err.Error()).To(ContainSubstring("--allowed-endpoint-hosts"))
		_, retry := platform.RetryAfter(err)
		g.Expect(retry).To(BeFalse(), "not retried: a person must act")
	}
	g.Expect(inner.calls.Load()).To(BeZero(), "no refused endpoint reached the driver")

	for _, cfg := range []platform.ShopConfig{
		{Platform: platform.Douyin, Endpoint: "https://gw.example.com"},
		{Platform: platform.Douyin, Endpoint: "https://GW.Example.com:8443/base/"},
		{Platform: platform.Taobao, Endpoint: "https://gateway.internal:8443"},
		{Platform: platform.Taobao}, // the default endpoint, https://eco.taobao.com/router/rest
	} {
		cfg.MainAccount, cfg.Credentials = "m", creds
		_, err := f.ClientFor(ctx, cfg)
		g.Expect(err).NotTo(HaveOccurred(), cfg.Endpoint)
	}
	g.Expect(inner.calls.Load()).To(Equal(int32(4)))

	// Without a list nothing is wrapped.
	g.Expect(platform.RestrictEndpoints(inner, nil)).To(BeIdenticalTo(inner))
}
