//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// A Taobao shop managed through Taobao's own open API (TOP), served by
// shopsim's /router/rest: the account is made in the back office and
// adopted; what TOP can do (disable, dispatch, create a role) reaches the
// platform; what it cannot (assign roles, set passwords, delete) is
// reported, not retried.
func TestTaobaoNativeTOP(t *testing.T) {
	g := begin(t)
	ns := namespace(t, "e2e-top")

	// The back office: the owner creates the sub-account by hand.
	status, err := hongxing.Call(http.MethodPost, wire.PathAccounts, nil,
		wire.CreateAccount{Name: "top-agent", Password: "BackOffice-1"}, nil)
	g.Expect(err).NotTo(HaveOccurred(), "creating the back-office account: %d", status)
	rememberSecret("the back-office password of top-agent", "BackOffice-1")

	kubectlIn(t, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: hongxing-top
  labels:
    shop.subaccount.io/secret: shop-api
type: Opaque
stringData:
  appKey: %q
  appSecret: %q
  accessToken: %q
---
apiVersion: shop.subaccount.io/v1alpha1
kind: Shop
metadata:
  name: top-shop
spec:
  platform: taobao
  api: TOP
  mainAccount: %s
  endpoint: %s
  credentialsSecretRef:
    name: hongxing-top
  seats:
    included: 15
  adoption:
    policy: AllowList
    accountNames: [top-agent]
---
apiVersion: shop.subaccount.io/v1alpha1
kind: Role
metadata:
  name: top-cs
spec:
  shopRef:
    name: top-shop
  displayName: TOP客服
  template: customer-service
---
apiVersion: shop.subaccount.io/v1alpha1
kind: SubAccount
metadata:
  name: top-agent
spec:
  shopRef:
    name: top-shop
  accountName: top-agent
  adoption: Adopt
  roles:
    - name: top-cs
  seat:
    chat: true
  deletionPolicy: Delete
`, hongxing.AppKey, hongxing.AppSecret, hongxing.AccessToken, hongxing.MainAccount, env.ShopsimURL), "apply", "-n", ns, "-f", "-")
	waitReady(t, ns, "shop/top-shop", "shoprole/top-cs", "subaccount/top-agent")

	// A role created through taobao.sellercenter.role.add.
	roleID := jsonpath(t, ns, "shoprole/top-cs", "{.status.roleID}")
	g.Expect(roleID).NotTo(BeEmpty())

	// Adopted, dispatch switched on through taobao.subuser.info.update.
	a, _, err := hongxing.AccountByName("top-agent")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(jsonpath(t, ns, "subaccount/top-agent", "{.status.accountID}")).To(Equal(a.ID))
	g.Expect(a.Seat).NotTo(BeNil())
	g.Expect(a.Seat.Chat).To(BeTrue(), "dispatch was not applied")

	// Reported, not applied: roles and passwords.
	limits := jsonpath(t, ns, "subaccount/top-agent", `{.status.conditions[?(@.type=="PlatformLimits")].message}`)
	g.Expect(limits).To(ContainSubstring("cannot apply roles"))
	g.Expect(jsonpath(t, ns, "subaccount/top-agent", `{.status.conditions[?(@.type=="CredentialsReady")].message}`)).
		To(ContainSubstring("cannot set passwords"))
	secret := jsonpath(t, ns, "subaccount/top-agent", "{.status.secretName}")
	g.Expect(jsonpath(t, ns, "secret/"+secret, "{.data.password}")).To(BeEmpty(), "no password may be generated for TOP")
	g.Expect(jsonpath(t, ns, "secret/"+secret, "{.data.username}")).NotTo(BeEmpty())
	ok, err := hongxing.Login("top-agent", "BackOffice-1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ok).To(BeTrue(), "the back-office password must be left alone")

	// Observed, not set: the account's roles as TOP reads them
	// (taobao.sellercenter.subuser.permissions.roles.get), none; a drift
	// check reports the Role the spec names as missing on the platform,
	// and nothing assigns it.
	g.Expect(jsonpath(t, ns, "subaccount/top-agent", "{.status.observedAccess}")).To(Equal("{}"))
	requested := strconv.FormatInt(time.Now().UnixNano(), 10)
	kubectl(t, "annotate", "-n", ns, "shop/top-shop", "--overwrite", "shop.subaccount.io/requested-at="+requested)
	kubectl(t, "wait", "-n", ns, "subaccount/top-agent", "--timeout=60s", "--for=condition=Drifted")
	g.Expect(jsonpath(t, ns, "subaccount/top-agent", `{.status.conditions[?(@.type=="Drifted")].message}`)).
		To(ContainSubstring("roles missing on the platform: Role top-cs (ID " + roleID + ")"))
	a, _, err = hongxing.AccountByName("top-agent")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.RoleIDs).To(BeEmpty(), "no role was assigned")

	// Disable and enable reach the platform.
	kubectl(t, "patch", "-n", ns, "subaccount/top-agent", "--type=merge", "-p", `{"spec":{"disabled":true}}`)
	g.Eventually(func() bool {
		a, _, _ := hongxing.AccountByName("top-agent")
		return a.Disabled
	}, "30s", "100ms").Should(BeTrue(), "disable through TOP")
	kubectl(t, "patch", "-n", ns, "subaccount/top-agent", "--type=merge", "-p", `{"spec":{"disabled":false}}`)
	g.Eventually(func() bool {
		a, _, _ := hongxing.AccountByName("top-agent")
		return !a.Disabled
	}, "30s", "100ms").Should(BeTrue(), "enable through TOP")

	// TOP cannot delete a sub-account: deletion disables it and says so.
	kubectl(t, "delete", "-n", ns, "subaccount/top-agent", "--wait", "--timeout=60s")
	a, _, err = hongxing.AccountByName("top-agent")
	g.Expect(err).NotTo(HaveOccurred(), "the account must still exist")
	g.Expect(a.Disabled).To(BeTrue())
	events := kubectl(t, "get", "events.events.k8s.io", "-n", ns, "-o", "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}")
	g.Expect(strings.Fields(events)).To(ContainElement("NotSupported"))

	// The Role cannot be deleted through TOP either: it is released with an Event.
	kubectl(t, "delete", "-n", ns, "shoprole/top-cs", "--wait", "--timeout=60s")
}
