package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/memory"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
	"github.com/subaccount-operator/subaccount-operator/pkg/gateway/conformance"
)

const adminToken = "admin-token-for-tests"

// The command runs the suite against shopsim's Douyin shop, reading the
// SMS codes from shopsim's outbox, prints every check and exits 0; the
// report holds no credential.
func TestRunAgainstShopsim(t *testing.T) {
	g := NewWithT(t)
	engine := memory.NewEngine()
	creds := platform.Credentials{AppKey: "dy-key", AppSecret: "dy-secret-value", AccessToken: "dy-token-value"}
	// The suite checks the first revision's order: the account first.
	g.Expect(engine.AddShop(memory.ShopSetup{Platform: platform.Douyin, MainAccount: "dyshop", Credentials: creds, SeatQuota: 60,
		PhoneVerification: platform.PhoneVerificationAfterCreate})).To(Succeed())
	ts := httptest.NewServer(shopsim.New(engine, shopsim.Options{AdminToken: adminToken}).Handler())
	t.Cleanup(ts.Close)

	file := filepath.Join(t.TempDir(), "shop.yaml")
	t.Setenv("CONFORMANCE_TEST_SECRET", creds.AppSecret)
	g.Expect(os.WriteFile(file, []byte(`platform: douyin
mainAccount: dyshop
appKey: dy-key
appSecretEnv: CONFORMANCE_TEST_SECRET
accessToken: dy-token-value
shopsimAdminToken: `+adminToken+"\n"), 0o600)).To(Succeed())

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--endpoint", ts.URL, "--credentials", file, "--accounts", "40"}, &stdout, &stderr)
	t.Log(stdout.String())
	g.Expect(code).To(Equal(0), stderr.String())
	for _, check := range conformance.Checks() {
		if check == conformance.CheckPhoneChange {
			// The account first: no phone change with a code to check.
			g.Expect(stdout.String()).To(ContainSubstring("SKIPPED  " + check + ": "))
			continue
		}
		// The verification flow too (codes read from /admin/sms), and the
		// activity feed (its account signs in with /admin/sign-in).
		g.Expect(stdout.String()).To(ContainSubstring("PASSED   "+check+"\n"), check)
	}
	for _, secret := range []string{creds.AppSecret, creds.AccessToken, adminToken} {
		g.Expect(stdout.String()).NotTo(ContainSubstring(secret))
	}
}

func TestUsage(t *testing.T) {
	g := NewWithT(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	g.Expect(os.WriteFile(bad, []byte("platform: douyin\nappSecrett: x\n"), 0o600)).To(Succeed())
	for _, args := range [][]string{
		{},
		{"--endpoint", "http://127.0.0.1:1"},
		{"--endpoint", "ftp://x", "--credentials", bad},
		{"--endpoint", "http://127.0.0.1:1", "--credentials", bad},
		{"--endpoint", "http://127.0.0.1:1", "--credentials", filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		var stdout, stderr bytes.Buffer
		g.Expect(run(context.Background(), args, &stdout, &stderr)).To(Equal(2), "%v", args)
		g.Expect(strings.TrimSpace(stderr.String())).NotTo(BeEmpty())
	}
}
