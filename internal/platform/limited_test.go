package platform_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
)

func limitedSetup(t *testing.T) (*platform.LimitedFactory, platform.ShopConfig) {
	t.Helper()
	e := memory.NewEngine()
	creds := platform.Credentials{AppKey: "k", AppSecret: "s", AccessToken: "t"}
	if err := e.AddShop(memory.ShopSetup{Platform: platform.Taobao, MainAccount: "m", Credentials: creds, SeatQuota: 5}); err != nil {
		t.Fatal(err)
	}
	cfg := platform.ShopConfig{Key: "ns/m", Platform: platform.Taobao, MainAccount: "m", Credentials: creds, RequestsPerSecond: 1, Burst: 2}
	return platform.NewLimitedFactory(e.Factory()), cfg
}

// The burst passes at once; the next call waits for a token, and a caller
// whose deadline comes first gets a rate-limited error, not a hang.
func TestLimitedFactoryEnforcesBurstAndRate(t *testing.T) {
	f, cfg := limitedSetup(t)
	c, err := f.ClientFor(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := c.ShopInfo(context.Background()); err != nil {
			t.Fatalf("call %d within the burst: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = c.ShopInfo(ctx)
	if !errors.Is(err, platform.ErrRateLimited) {
		t.Fatalf("third call at 1 rps with burst 2 = %v, want ErrRateLimited", err)
	}
}

// Clients built for the same shop share one bucket; another shop has its own.
func TestLimitedFactorySharesBucketPerShop(t *testing.T) {
	f, cfg := limitedSetup(t)
	for i := range 2 {
		c, err := f.ClientFor(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ShopInfo(context.Background()); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	c, _ := f.ClientFor(context.Background(), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.ShopInfo(ctx); !errors.Is(err, platform.ErrRateLimited) {
		t.Fatalf("a new client of the same shop got a fresh bucket: %v", err)
	}
	other := cfg
	other.Key = "ns/other"
	c2, _ := f.ClientFor(context.Background(), other)
	if _, err := c2.ShopInfo(context.Background()); err != nil {
		t.Fatalf("another shop was limited by the first: %v", err)
	}
}
