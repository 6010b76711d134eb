//go:build reliability

package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// TestDeletionUnderPressure (scenario 6), with kube-controller-manager's
// garbage collector and namespace controller running: a SubAccount deleted
// in the foreground, a Role deleted while SubAccounts use it, then the
// whole namespace with hundreds of SubAccounts and Roles deleted. Nothing
// is left behind (no stuck finalizer, no platform account or role), and no
// credentials Secret is ever created again for an owner being deleted.
func TestDeletionUnderPressure(t *testing.T) {
	g := harness.Begin(t)
	if !env.ControllerManagerAvailable() {
		t.Fatal("kube-controller-manager is not next to the control plane; run 'make test-reliability' (it builds it)")
	}
	kcm, err := env.StartControllerManager()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = kcm.Stop() })

	ns := harness.Namespace(t, "deletion")
	var yaml strings.Builder
	yaml.WriteString(shopYAML("deletion", ""))
	for i := range scale.delRoles {
		yaml.WriteString(roleYAML(fmt.Sprintf("r%02d", i), "deletion"))
	}
	for i := range scale.delAccounts {
		yaml.WriteString(subAccountYAML(fmt.Sprintf("d%04d", i), "deletion", fmt.Sprintf("r%02d", i%scale.delRoles), ""))
	}
	apply(t, ns, yaml.String())
	waitAllReady(t, g, ns, "subaccounts", scale.delAccounts, 10*time.Minute)
	waitAllReady(t, g, ns, "roles.shop.subaccount.io", scale.delRoles, time.Minute)

	// Every Secret of the namespace, as it comes and goes (names and UIDs
	// only, never data).
	secretsLog := filepath.Join(env.WorkDir, "secrets-deletion.txt")
	watch, err := env.WatchColumns(secretsLog, ns, "secrets", "NAME:.metadata.name,UID:.metadata.uid")
	g.Expect(err).NotTo(HaveOccurred())
	before := map[string]string{}
	for name, s := range list(t, ns, "secrets") {
		before[name] = s.Metadata.UID
	}

	// Foreground deletion: the garbage collector deletes the Secret first,
	// the operator offboards; the Secret is not written again.
	fg := list(t, ns, "subaccounts")["d0000"]
	start := time.Now()
	harness.Kubectl(t, "delete", "-n", ns, "subaccount/d0000", "--cascade=foreground", "--wait", "--timeout=2m")
	figure(t, "deletion: foreground deletion of a SubAccount took %s", time.Since(start).Round(100*time.Millisecond))
	g.Expect(list(t, ns, "secrets")).NotTo(HaveKey(fg.Status.SecretName), "the Secret of the SubAccount deleted in the foreground")
	_, status, _ := shops["deletion"].AccountByName("d0000")
	g.Expect(status).To(Equal(404), "the account of the SubAccount deleted in the foreground")

	// A Role in use waits, and says who uses it; its SubAccounts stay Ready.
	harness.Kubectl(t, "delete", "-n", ns, "shoprole/r01", "--wait=false")
	g.Eventually(func() string {
		_, reason, msg := list(t, ns, "roles.shop.subaccount.io")["r01"].condition("Ready")
		return reason + ": " + msg
	}).Should(HavePrefix("InUse: "))
	g.Expect(list(t, ns, "subaccounts")["d0001"].ready()).To(BeTrue())

	// The namespace, with everything in it.
	start = time.Now()
	harness.Kubectl(t, "delete", "namespace", ns, "--wait=false")
	g.Eventually(func() string {
		out, _, _ := harness.RunKubectl("", "get", "namespace", ns, "-o", "name", "--ignore-not-found")
		return strings.TrimSpace(out)
	}).WithTimeout(10*time.Minute).WithPolling(time.Second).Should(BeEmpty(), "namespace %s is still there", ns)
	took := time.Since(start)
	g.Expect(watch.Stop()).To(Or(Succeed(), HaveOccurred())) // kubectl's watch ends with the namespace

	accounts, err := shops["deletion"].Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(accounts).To(BeEmpty(), "accounts left on the platform after the namespace was deleted")
	var roles struct{ Items []struct{ ID string } }
	_, err = shops["deletion"].Call("GET", "/roles", nil, nil, &roles)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(roles.Items).To(BeEmpty(), "roles left on the platform")

	// No Secret came back: every Secret the watch saw is one that existed
	// before, with the same UID.
	data, err := os.ReadFile(secretsLog)
	g.Expect(err).NotTo(HaveOccurred())
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		uid, existed := before[f[0]]
		g.Expect(existed).To(BeTrue(), "Secret %s was created during the deletions", f[0])
		g.Expect(f[1]).To(Equal(uid), "Secret %s was created again during the deletions", f[0])
	}
	figure(t, "deletion: namespace with %d SubAccounts and %d Roles deleted in %s; no account, role or finalizer left, no Secret recreated",
		scale.delAccounts-1, scale.delRoles, took.Round(time.Second))
}
