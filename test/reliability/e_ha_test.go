//go:build reliability

package reliability

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// Leader election timings: controller-runtime's defaults, which the
// manager uses.
const (
	leaseDuration = 15 * time.Second
	retryPeriod   = 2 * time.Second
	// maxTakeover bounds the hand-over: the standby counts the lease from
	// when it last saw the record change (it polls every retryPeriod plus
	// up to 120% jitter, so up to 4.4s after the leader's last renewal),
	// the lease then runs leaseDuration, and the standby notices at its
	// next poll (up to 4.4s more): 15s + 2 × 4.4s < 15s + 5 × 2s.
	maxTakeover = leaseDuration + 5*retryPeriod
)

// acquired reports whether manager p's output says it became the leader.
func acquired(p *harness.Proc) bool {
	data, err := os.ReadFile(p.LogPath)
	return err == nil && strings.Contains(strings.ToLower(string(data)), "successfully acquired lease")
}

// TestHighAvailability (scenario 5): two managers with leader election;
// the leader is killed with SIGKILL in the middle of a wave; the other
// takes over within the lease duration plus the standby's polling (see
// maxTakeover), and the
// wave converges with no duplicate and nothing lost.
func TestHighAvailability(t *testing.T) {
	g := harness.Begin(t)
	// The single manager gives way to two replicas.
	managerMu.Lock()
	single := manager
	manager = nil
	managerMu.Unlock()
	if single != nil {
		g.Expect(single.Stop()).To(Succeed())
	}
	var replicas []*harness.Proc
	for i := range 2 {
		p, err := env.StartManager(harness.ManagerOptions{Name: fmt.Sprintf("ha-%d", i), LeaderElect: true, NoWait: true})
		g.Expect(err).NotTo(HaveOccurred())
		replicas = append(replicas, p)
	}
	managerMu.Lock()
	haManagers = replicas
	managerMu.Unlock()
	var leader, standby *harness.Proc
	g.Eventually(func() bool {
		for i, p := range replicas {
			if acquired(p) {
				leader, standby = p, replicas[1-i]
				return true
			}
		}
		return false
	}).WithTimeout(2 * leaseDuration).Should(BeTrue())
	t.Logf("%s is the leader", leader.Name())

	ns := harness.Namespace(t, "ha")
	apply(t, ns, shopYAML("ha", "")+roleYAML("cs", "ha"))
	waitAllReady(t, g, ns, "roles.shop.subaccount.io", 1, time.Minute)
	var wave strings.Builder
	for i := range scale.haAccounts {
		wave.WriteString(subAccountYAML(fmt.Sprintf("h%04d", i), "ha", "cs", ""))
	}
	// Every platform call takes 300ms, so that the wave lasts long enough
	// to be interrupted.
	setFaults(g, shopsim.Faults{Latency: 300 * time.Millisecond})
	start := time.Now()
	applied := make(chan error, 1)
	go func() {
		_, stderr, err := harness.RunKubectl(wave.String(), "apply", "-n", ns, "-f", "-")
		if err != nil {
			err = fmt.Errorf("kubectl apply of the wave: %v: %s", err, stderr)
		}
		applied <- err
	}()
	// Mid-wave: a quarter of the creates done.
	creates := func() int { return stats(g).Shops[shopKey("ha")].ByRoute["POST "+wire.PathAccounts] }
	g.Eventually(creates).WithTimeout(5 * time.Minute).WithPolling(20 * time.Millisecond).Should(BeNumerically(">=", max(1, scale.haAccounts/4)))
	leader.Kill()
	killed := time.Now()
	created := creates()
	g.Expect(created).To(BeNumerically("<", scale.haAccounts), "the wave was over before the leader was killed")
	g.Expect(acquired(standby)).To(BeFalse(), "the standby led before the leader died")
	g.Eventually(func() bool { return acquired(standby) }).WithTimeout(2*leaseDuration).WithPolling(50*time.Millisecond).
		Should(BeTrue(), "the standby never took over")
	takeover := time.Since(killed)
	g.Expect(<-applied).To(Succeed())
	waitAllReady(t, g, ns, "subaccounts", scale.haAccounts, 10*time.Minute)
	converged := time.Since(start)
	setFaults(g, shopsim.Faults{})
	verifyAccounts(t, g, ns, "ha")
	figure(t, "HA: leader killed after %d of %d creates (300ms platform latency); the standby took over %s later (lease %s, retry %s); all Ready after %s; no duplicate, nothing lost",
		created, scale.haAccounts, takeover.Round(100*time.Millisecond), leaseDuration, retryPeriod, converged.Round(time.Second))
	g.Expect(takeover).To(BeNumerically("<=", maxTakeover), "takeover time")
	// The survivor is the manager of the scenarios that follow.
	managerMu.Lock()
	manager = standby
	managerMu.Unlock()
}
