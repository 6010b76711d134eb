//go:build reliability

package reliability

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// TestCrashAnywhere (scenario 1): a wave of SubAccounts over several shops;
// the manager is killed with SIGKILL at random moments — each after a
// random number of further platform calls, so always mid-work — and
// restarted each time. At the end every SubAccount is Ready, each shop's
// accounts are exactly the SubAccounts' (no duplicate, no orphan), each
// was created once, and every Secret's password logs in.
func TestCrashAnywhere(t *testing.T) {
	g := harness.Begin(t)
	ns := harness.Namespace(t, "crash")
	var setup, wave strings.Builder
	var shopNames []string
	for i := range scale.crashShops {
		name := fmt.Sprintf("crash-%d", i)
		shopNames = append(shopNames, name)
		setup.WriteString(shopYAML(name, ""))
		setup.WriteString(roleYAML(name+"-cs", name))
	}
	apply(t, ns, setup.String())
	waitAllReady(t, g, ns, "shops.shop.subaccount.io", scale.crashShops, 2*time.Minute)
	waitAllReady(t, g, ns, "roles.shop.subaccount.io", scale.crashShops, 2*time.Minute)

	for i := range scale.crashAccounts {
		shop := shopNames[i%len(shopNames)]
		wave.WriteString(subAccountYAML(fmt.Sprintf("c%04d", i), shop, shop+"-cs", ""))
	}
	started := time.Now()
	crashCalls := func() int {
		st := stats(g)
		n := 0
		for _, s := range shopNames {
			n += st.Shops[shopKey(s)].Calls
		}
		return n
	}
	before := crashCalls()
	// The wave goes in while the manager is being killed.
	applied := make(chan error, 1)
	go func() {
		_, stderr, err := harness.RunKubectl(wave.String(), "apply", "-n", ns, "-f", "-")
		if err != nil {
			err = fmt.Errorf("kubectl apply of the wave: %v: %s", err, stderr)
		}
		applied <- err
	}()

	// About two calls per SubAccount: spread the kills over the first
	// half of the wave's calls.
	maxStep := max(4, scale.crashAccounts/scale.kills)
	kills := 0
	var downtime time.Duration
	for kills < scale.kills {
		select {
		case err := <-applied:
			g.Expect(err).NotTo(HaveOccurred())
			applied <- nil
		default:
		}
		target := crashCalls() + randomInt(1, maxStep)
		g.Eventually(crashCalls).WithTimeout(3*time.Minute).WithPolling(20*time.Millisecond).
			Should(BeNumerically(">=", target), "kill %d: waiting for the platform calls to reach %d", kills+1, target)
		managerMu.Lock()
		m := manager
		managerMu.Unlock()
		m.Kill()
		kills++
		down := time.Now()
		g.Expect(startManager()).To(Succeed(), "restarting the manager after kill %d", kills)
		downtime += time.Since(down)
	}
	g.Expect(<-applied).To(Succeed())
	killsDone := time.Since(started)
	waitAllReady(t, g, ns, "subaccounts", scale.crashAccounts, 10*time.Minute)
	converged := time.Since(started)
	for _, shop := range shopNames {
		verifyAccounts(t, g, ns, shop)
	}
	figure(t, "crash: %d SubAccounts over %d shops, %d SIGKILLs in the first %s (restart to ready: %s on average); all Ready after %s; %d platform calls; no duplicate, no orphan, %d passwords log in",
		scale.crashAccounts, scale.crashShops, kills, killsDone.Round(time.Second), (downtime / time.Duration(kills)).Round(10*time.Millisecond),
		converged.Round(time.Second), crashCalls()-before, scale.crashAccounts)
}
