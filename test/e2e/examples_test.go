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
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// TestExamples applies the README's complete example of each platform
// (docs/examples/<platform>.yaml), its Shop pointed at this run's shopsim,
// and waits until everything is Ready (on Douyin, until the agent's account
// exists and waits for its SMS code); the accounts with a password log in
// with the one in their Secret.
func TestExamples(t *testing.T) {
	for _, tc := range []struct {
		platform string
		shop     shop
		ready    []string
		login    []string
		pending  []string
	}{
		{"taobao", hongxing, []string{"shop/hongxing", "shoprole/tb-customer-service", "shoprole/tb-operations", "subaccount/tb-xiaomei", "subaccount/tb-dawei",
			"staff/tb-ajie"}, []string{"tb-xiaomei", "tb-dawei", "tb-ajie-hongxing"}, nil},
		{"pinduoduo", pdd, []string{"shop/pdd", "shoprole/pdd-customer-service", "subaccount/pdd-xiaoli", "subaccount/pdd-night"},
			[]string{"pdd-xiaoli", "pdd-night"}, nil},
		{"douyin", douyin, []string{"shop/douyin", "shoprole/dy-customer-service"}, nil, []string{"dy-xiaoyu"}},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			g := begin(t)
			data, err := os.ReadFile(filepath.Join(env.Root, "docs", "examples", tc.platform+".yaml"))
			g.Expect(err).NotTo(HaveOccurred())
			yaml := string(data)
			// One Shop endpoint; Pinduoduo's open-platform endpoint is on
			// shopsim too (its /api/router) and is pointed at this run's.
			shopEndpoint := regexp.MustCompile(`endpoint: ` + regexp.QuoteMeta(sampleEndpoint) + `(\s|$)`)
			g.Expect(shopEndpoint.FindAllString(yaml, -1)).To(HaveLen(1), "the example's Shop endpoint")
			ns := namespace(t, "e2e-example-"+tc.platform)
			kubectlIn(t, strings.ReplaceAll(yaml, "endpoint: "+sampleEndpoint, "endpoint: "+env.ShopsimURL), "apply", "-n", ns, "-f", "-")
			waitReady(t, ns, tc.ready...)
			for _, name := range tc.login {
				waitReady(t, ns, "subaccount/"+name)
				user, password := credentials(t, ns, name)
				ok, err := tc.shop.Login(user, password)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(ok).To(BeTrue(), "%s does not log in with the password of its Secret", user)
			}
			if tc.platform == "pinduoduo" {
				// The app on the open platform was checked against
				// shopsim's router and named the shop.
				g.Expect(jsonpath(t, ns, "shop/pdd", "{.status.openPlatform.shopName}")).To(Equal(tc.shop.MainAccount))
				g.Expect(jsonpath(t, ns, "shop/pdd", `{.status.conditions[?(@.type=="OpenPlatformCredentialsValid")].status}`)).To(Equal("True"))
			}
			for _, name := range tc.pending {
				kubectl(t, "wait", "-n", ns, "subaccount/"+name, "--timeout=60s",
					`--for=jsonpath={.status.conditions[?(@.type=="Verified")].reason}=PendingVerification`)
				// The code comes first: no account until it is entered.
				g.Expect(jsonpath(t, ns, "subaccount/"+name, "{.status.accountID}")).To(BeEmpty())
				g.Expect(jsonpath(t, ns, "subaccount/"+name, "{.status.verification.expiresAt}")).NotTo(BeEmpty())
			}
		})
	}
}
