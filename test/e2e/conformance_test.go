//go:build e2e

/*
Copyright 2026 The subaccount-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/pkg/gateway"
	"github.com/subaccount-operator/subaccount-operator/pkg/gateway/conformance"
	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// conformanceShops are shopsim's shops for the gateway conformance suite
// alone (the paging check fills one with 500 accounts, which would disturb
// the other tests' shops): one per platform kind of the suite, Taobao
// (no phone verification) and Douyin (the SMS code flow, after creation
// and, on conformance-cf, the code first). Their credentials are random
// per run.
var conformanceShops = []shop{
	{Platform: platform.Taobao, MainAccount: "conformance-tb", AppKey: "conformance-tb", AppSecret: rand.Text(), AccessToken: rand.Text()},
	{Platform: platform.Douyin, MainAccount: "conformance-dy", AppKey: "conformance-dy", AppSecret: rand.Text(), AccessToken: rand.Text()},
	{Platform: platform.Douyin, MainAccount: "conformance-cf", AppKey: "conformance-cf", AppSecret: rand.Text(), AccessToken: rand.Text()},
}

// codeFirstShop is the conformance shop whose code comes first.
const codeFirstShop = "conformance-cf"

// writeShopsimConfig writes the example shops plus the conformance shops
// to the work dir and returns the file.
func writeShopsimConfig(dir string) (string, error) {
	example, err := os.ReadFile(filepath.Join(env.Root, "hack", "shopsim.example.yaml"))
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	b.Write(example)
	for i, s := range conformanceShops {
		s.RememberSecrets()
		fmt.Fprintf(&b, "  - platform: %s\n    mainAccount: %s\n    mainPhone: \"1380000009%d\"\n    seatQuota: %d\n    appKey: %q\n    appSecret: %q\n    accessToken: %q\n",
			s.Platform, s.MainAccount, i, conformance.DefaultAccounts+20, s.AppKey, s.AppSecret, s.AccessToken)
		if s.MainAccount == codeFirstShop {
			b.WriteString("    phoneVerification: BeforeCreate\n")
		} else if s.Platform == platform.Douyin {
			// The first revision's order (the account first), as shopsim's
			// Douyin default is now the code first.
			fmt.Fprintf(&b, "    phoneVerification: %s\n", platform.PhoneVerificationAfterCreate)
		}
	}
	b.WriteString(staffShopsimConfig())
	b.WriteString(shopsimEntries(ownShops, "1380000007"))
	path := filepath.Join(dir, "shopsim.yaml")
	return path, os.WriteFile(path, b.Bytes(), 0o600)
}

// TestGatewayConformance runs the conformance suite (the one a provider
// runs with go run ./cmd/gateway-conformance) against shopsim's binary:
// every check passes, paging over 500 accounts (60 on the code-first
// shop, where each create waits for a code), and the SMS code flow runs
// on Douyin, after creation and before it, with the codes read from
// /admin/sms; the phone change with a code on the code-first shop; the
// activity feed pages over an account's sign-ins (/admin/sign-in).
func TestGatewayConformance(t *testing.T) {
	for _, s := range conformanceShops {
		t.Run(s.MainAccount, func(t *testing.T) {
			t.Parallel() // each on its own shop
			accounts := conformance.DefaultAccounts
			if s.MainAccount == codeFirstShop {
				// Every create there waits for an SMS code; the two
				// other shops page over 500 already.
				accounts = 60
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			report := conformance.Run(ctx, conformance.Target{
				Endpoint:    env.ShopsimURL,
				Shop:        gateway.Shop{Platform: s.Platform, MainAccount: s.MainAccount},
				Credentials: gateway.Credentials{AppKey: s.AppKey, AppSecret: s.AppSecret, AccessToken: s.AccessToken},
				Accounts:    accounts,
				Codes: func(_ context.Context, phone string) (string, error) {
					msg, err := harness.SMS(phone)
					return msg.Code, err
				},
				Activity: func(_ context.Context, name, password string, n int) error {
					for range n {
						if err := harness.SignIn(s.Platform, s.MainAccount, name, password); err != nil {
							return err
						}
					}
					return nil
				},
			})
			var out bytes.Buffer
			_ = report.WriteText(&out)
			t.Log(out.String())
			if !report.Passed() {
				t.Fatalf("shopsim fails the gateway conformance checks %v", report.Failed())
			}
			for _, res := range report.Results {
				skippable := (s.Platform == platform.Taobao && res.Check == conformance.CheckVerification) ||
					(s.MainAccount != codeFirstShop && res.Check == conformance.CheckPhoneChange)
				if res.Outcome != conformance.Passed && !skippable {
					t.Errorf("%s was %s: %s", res.Check, res.Outcome, res.Reason)
				}
			}
		})
	}
}
