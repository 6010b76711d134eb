//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// sms reads the latest code shopsim "sent" to phone.
var sms = harness.SMS

// TestShopNotificationContacts: a Douyin Shop's notification contact is
// added on shopsim, which texts it a code; the code handed over in the
// Secret named by convention verifies it, and the Secret is consumed.
func TestShopNotificationContacts(t *testing.T) {
	g := begin(t)
	ns := namespace(t, "e2e-contacts")
	const phone = "13900000077"
	kubectlIn(t, shopYAML(douyin, "douyin-api", "douyin", fmt.Sprintf(`  notificationContacts:
    - name: 值班客服
      phone: %q
`, phone)), "apply", "-n", ns, "-f", "-")
	waitReady(t, ns, "shop/douyin")
	kubectl(t, "wait", "-n", ns, "shop/douyin", "--timeout=60s", "--for=condition=ContactsVerified=False")
	g.Expect(jsonpath(t, ns, "shop/douyin", `{.status.conditions[?(@.type=="ContactsVerified")].reason}`)).To(Equal("PendingVerification"))
	g.Expect(jsonpath(t, ns, "shop/douyin", `{.status.notificationContacts[0].verification.attemptsLeft}`)).To(Equal("5"))
	g.Expect(jsonpath(t, ns, "shop/douyin", `{.status.notificationContacts[0].verification.phone}`)).To(Equal("139****0077"))

	var contacts wire.ContactList
	_, err := douyin.Call(http.MethodGet, wire.PathContacts, nil, nil, &contacts)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(contacts.Items).To(ContainElement(And(HaveField("Name", "值班客服"), HaveField("Phone", phone))))

	m, err := sms(phone)
	g.Expect(err).NotTo(HaveOccurred())
	secret := "douyin-contact-" + phone + "-verification"
	kubectl(t, "create", "secret", "generic", secret, "-n", ns, "--from-literal=code="+m.Code)
	kubectl(t, "label", "secret", secret, "-n", ns, "shop.subaccount.io/secret=verification")
	kubectl(t, "wait", "-n", ns, "shop/douyin", "--timeout=60s", "--for=condition=ContactsVerified=True")
	g.Expect(jsonpath(t, ns, "shop/douyin", `{.status.notificationContacts[0].verification.verified}`)).To(Equal("true"))
	g.Eventually(func() string {
		out, _, _ := runKubectl("", "get", "secret", secret, "-n", ns, "--ignore-not-found", "-o", "name")
		return out
	}).Should(BeEmpty(), "the code Secret is consumed")
	_, err = douyin.Call(http.MethodGet, wire.PathContacts, nil, nil, &contacts)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(contacts.Items).To(ContainElement(And(HaveField("Phone", phone), HaveField("Verification.Verified", true))))
	entries, err := douyin.Audit()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(entries).To(ContainElement(And(HaveField("Action", "contact.verify"), HaveField("Source", "Shop/"+ns+"/douyin"))))
}
