package manager

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// With --allowed-endpoint-hosts set, the manager's factory refuses a Shop
// whose endpoint is elsewhere before any connection is attempted: a
// listener at that endpoint sees none. Allowed, the same endpoint is
// called (so the listener does see connections).
func TestFactoryRefusesEndpointsNotAllowed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = conn.Close()
		}
	}()
	cfg := platform.ShopConfig{Key: "ns/shop", Platform: platform.Taobao, MainAccount: "m", Endpoint: "http://" + ln.Addr().String(),
		Credentials: platform.Credentials{AppKey: "k", AppSecret: "s", AccessToken: "t"}, RequestsPerSecond: 100, Burst: 100}
	ctx := context.Background()

	only, err := platform.ParseEndpointHosts("*.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, driver := range []string{"gateway", "memory"} {
		f, err := platformFactory(driver, 1, only, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ClientFor(ctx, cfg); !platform.IsEndpointNotAllowed(err) {
			t.Fatalf("%s: ClientFor = %v, want ErrEndpointNotAllowed", driver, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections to a refused endpoint", n)
	}

	loopback, err := platform.ParseEndpointHosts("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	f, err := platformFactory("gateway", 1, loopback, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.ClientFor(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ShopInfo(ctx); err == nil {
		t.Fatal("ShopInfo against a listener that closes every connection succeeded")
	}
	if accepted.Load() == 0 {
		t.Fatal("the allowed endpoint was not called")
	}
}
