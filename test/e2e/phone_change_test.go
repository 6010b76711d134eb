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
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
)

// TestDouyinPhoneChange: a Douyin agent created with the code shopsim
// texted to her phone (no account before it) gets a new phone in her
// spec. The operator asks shopsim for a code for the new phone; the
// SubAccount is PendingVerification with the new phone masked and the
// expiry, and shopsim keeps the old phone until the code, read from
// shopsim's SMS stand-in and handed over, is accepted; then the account
// has the new phone and the SubAccount is Ready again.
func TestDouyinPhoneChange(t *testing.T) {
	g := begin(t)
	ns := namespace(t, "e2e-phone")
	const oldPhone, newPhone = "13800138071", "13800138072"
	kubectlIn(t, shopYAML(phoneShop, "phone-api", "phone", "")+roleYAML("cs", "phone")+
		subAccountYAML("xiaozhou", "phone", "cs", `  phone: "`+oldPhone+`"
`), "apply", "-n", ns, "-f", "-")
	handOverSMSCode(t, ns, "xiaozhou", oldPhone)
	waitReady(t, ns, "subaccount/xiaozhou")

	kubectl(t, "patch", "-n", ns, "subaccount/xiaozhou", "--type=merge", "-p", `{"spec":{"phone":"`+newPhone+`"}}`)
	awaitCode(t, ns, "xiaozhou")
	g.Expect(jsonpath(t, ns, "subaccount/xiaozhou", `{.status.verification.phone}`)).To(Equal("138****8072"))
	g.Expect(jsonpath(t, ns, "subaccount/xiaozhou", `{.status.verification.expiresAt}`)).NotTo(BeEmpty())
	g.Expect(jsonpath(t, ns, "subaccount/xiaozhou", `{.status.conditions[?(@.type=="Ready")].reason}`)).To(Equal("PendingVerification"))
	a, status, err := phoneShop.AccountByName("e2e-xiaozhou")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(status).To(Equal(http.StatusOK))
	g.Expect(a.Profile.Phone).To(Equal(oldPhone), "the old phone stays until the new one's code is accepted")

	handOverCode(t, ns, "xiaozhou", newPhone)
	kubectl(t, "wait", "-n", ns, "subaccount/xiaozhou", "--timeout=60s", "--for=condition=Verified=True")
	waitReady(t, ns, "subaccount/xiaozhou")
	a, _, err = phoneShop.AccountByName("e2e-xiaozhou")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.Profile.Phone).To(Equal(newPhone))
	g.Expect(a.Verification).NotTo(BeNil())
	g.Expect(a.Verification.Verified).To(BeTrue())
	g.Expect(jsonpath(t, ns, "subaccount/xiaozhou", `{.status.verification.phone}`)).To(Equal("138****8072"))
	entries, err := phoneShop.Audit()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(entries).To(ContainElement(HaveField("Action", "account.phone")))
}
