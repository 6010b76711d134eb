//go:build reliability

package reliability

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// faultPhases is the faulted run's schedule, a phase every faultPhase, in
// a loop, starting as the wave is applied: 10% of calls answered 503 and 10%
// dropped all along, plus a burst of 429s (2 calls a second per shop, with
// Retry-After) and a latency spike of two seconds.
var faultPhases = []shopsim.Faults{
	{ErrorRate: 0.1, DropRate: 0.1, RateLimit: 2},
	{ErrorRate: 0.1, DropRate: 0.1, Latency: 2 * time.Second},
	{ErrorRate: 0.1, DropRate: 0.1},
}

const faultPhase = 1500 * time.Millisecond

// offboardSlack is how much later than the last create the offboarding may
// finish under faults: the latency spike plus one fault phase.
const offboardSlack = 2*time.Second + faultPhase

// waveResult is what one run of the wave measured.
type waveResult struct {
	calls       int
	stats       shopsim.ShopStats
	offboarded  time.Duration // every deletion and disabling done
	created     time.Duration // every new SubAccount Ready
	converged   time.Duration // every new SubAccount Ready and every deleted one gone
	applyTook   time.Duration
	phasesCycle int
}

// TestPlatformFaults (scenario 2): the same wave — victims created first,
// then new SubAccounts applied and, behind them, half the victims deleted
// and half disabled — runs on a shop without faults, then on another shop
// with faults. Both converge with nothing lost; the faulted run makes at
// most three times the platform calls of the fault-free one; no call for
// the shop arrives while a Retry-After it was given runs (shopsim counts
// them); and the deletions and disablings finish before the last create.
func TestPlatformFaults(t *testing.T) {
	g := harness.Begin(t)
	base := runWave(t, g, "baseline", false)
	faulted := runWave(t, g, "faulted", true)

	figure(t, "faults: fault-free run: %d platform calls, offboarding done after %s, creates Ready after %s, wave converged after %s (%d SubAccounts, %d victims)",
		base.calls, base.offboarded.Round(100*time.Millisecond), base.created.Round(100*time.Millisecond), base.converged.Round(100*time.Millisecond), scale.faultAccounts, scale.faultVictims)
	figure(t, "faults: faulted run: %d platform calls (%.2f× the fault-free run; answers %v), offboarding done after %s, creates Ready after %s, wave converged after %s, %d fault phases; %d calls inside a Retry-After",
		faulted.calls, float64(faulted.calls)/float64(base.calls), faulted.stats.ByStatus, faulted.offboarded.Round(100*time.Millisecond),
		faulted.created.Round(100*time.Millisecond), faulted.converged.Round(100*time.Millisecond), faulted.phasesCycle, faulted.stats.EarlyCalls)

	// The faults happened.
	g.Expect(faulted.stats.ByStatus).To(HaveKey("503"))
	g.Expect(faulted.stats.ByStatus).To(HaveKey("dropped"))
	g.Expect(faulted.stats.RateLimited).To(BeNumerically(">", 0), "no 429 was answered: the bursts did not bite")
	g.Expect(faulted.phasesCycle).To(BeNumerically(">=", len(faultPhases)), "the wave was over before every kind of fault had its turn")
	// No retry storm.
	g.Expect(faulted.calls).To(BeNumerically("<=", 3*base.calls), "platform calls with faults vs without")
	// Retry-After honoured for the whole shop.
	g.Expect(faulted.stats.EarlyCalls).To(BeZero(), "calls sent while a Retry-After the shop was given still ran")
	// Offboarding is not starved behind the creates: it is done by the time
	// the last new SubAccount is Ready, give or take what a single unlucky call can lose
	// to the faults (one latency spike, then one fault phase of retrying) —
	// at the small scale the whole wave takes only a few fault phases.
	g.Expect(faulted.offboarded).To(BeNumerically("<=", faulted.created+offboardSlack),
		"the deletions and disablings waited for the whole wave of creates")
}

// runWave runs the wave on shop (namespace faults-<shop>), with the fault
// schedule when faulted, and checks the end state.
func runWave(t *testing.T, g Gomega, shop string, faulted bool) waveResult {
	ns := harness.Namespace(t, "faults-"+shop)
	apply(t, ns, shopYAML(shop, "")+roleYAML("cs", shop))
	waitAllReady(t, g, ns, "shops.shop.subaccount.io", 1, time.Minute)
	waitAllReady(t, g, ns, "roles.shop.subaccount.io", 1, time.Minute)
	var victims, wave strings.Builder
	for i := range scale.faultVictims {
		victims.WriteString(subAccountYAML(fmt.Sprintf("v%03d", i), shop, "cs", ""))
	}
	apply(t, ns, victims.String())
	waitAllReady(t, g, ns, "subaccounts", scale.faultVictims, 2*time.Minute)
	for i := range scale.faultAccounts {
		wave.WriteString(subAccountYAML(fmt.Sprintf("w%04d", i), shop, "cs", ""))
	}

	var res waveResult
	before := stats(g).Shops[shopKey(shop)]
	stop := make(chan struct{})
	done := make(chan int)
	if faulted {
		go func() {
			n := 0
			tick := time.NewTicker(faultPhase)
			defer tick.Stop()
			for {
				if err := harness.SetFaults(faultPhases[n%len(faultPhases)]); err != nil {
					t.Errorf("setting faults: %v", err)
				}
				n++
				select {
				case <-stop:
					done <- n
					return
				case <-tick.C:
				}
			}
		}()
	}
	start := time.Now()
	apply(t, ns, wave.String())
	res.applyTook = time.Since(start)
	// Behind the backlog of creates: delete half the victims, disable the
	// others.
	var deleted, disabled []string
	for i := range scale.faultVictims {
		name := fmt.Sprintf("v%03d", i)
		if i%2 == 0 {
			deleted = append(deleted, "subaccount/"+name)
		} else {
			disabled = append(disabled, name)
		}
	}
	harness.Kubectl(t, append([]string{"delete", "-n", ns, "--wait=false"}, deleted...)...)
	for _, name := range disabled {
		harness.Kubectl(t, "patch", "-n", ns, "subaccount/"+name, "--type=merge", "-p", `{"spec":{"disabled":true}}`)
	}
	g.Eventually(func() error {
		subs := list(t, ns, "subaccounts")
		offboarding, creating := 0, 0
		for name, sa := range subs {
			switch {
			case strings.HasPrefix(name, "w"):
				if !sa.ready() {
					creating++
				}
			case sa.Spec.Disabled:
				if !sa.ready() {
					offboarding++
				}
			default: // deleted, still there
				offboarding++
			}
		}
		if offboarding == 0 && res.offboarded == 0 {
			res.offboarded = time.Since(start)
		}
		if creating == 0 && res.created == 0 {
			res.created = time.Since(start)
		}
		if creating == 0 && res.converged == 0 && len(subs) == scale.faultAccounts+len(disabled) {
			res.converged = time.Since(start)
		}
		if res.offboarded == 0 || res.converged == 0 {
			return fmt.Errorf("%d victims still being offboarded, %d new SubAccounts not Ready", offboarding, creating)
		}
		return nil
	}).WithTimeout(10 * time.Minute).WithPolling(500 * time.Millisecond).Should(Succeed())
	if faulted {
		close(stop)
		res.phasesCycle = <-done
		setFaults(g, shopsim.Faults{})
	}
	after := stats(g).Shops[shopKey(shop)]
	res.calls = after.Calls - before.Calls
	res.stats = diffStats(after, before)

	// Nothing lost: every account is there, with its password; the
	// disabled ones are disabled, the deleted ones gone.
	verifyAccounts(t, g, ns, shop)
	accounts, err := shops[shop].Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	for _, name := range disabled {
		g.Expect(accounts[name].Disabled).To(BeTrue(), "%s is not disabled on the platform", name)
	}
	return res
}

// diffStats is after minus before.
func diffStats(after, before shopsim.ShopStats) shopsim.ShopStats {
	out := shopsim.ShopStats{
		Calls:       after.Calls - before.Calls,
		RateLimited: after.RateLimited - before.RateLimited,
		EarlyCalls:  after.EarlyCalls - before.EarlyCalls,
		ByStatus:    map[string]int{},
		ByRoute:     map[string]int{},
	}
	for k, v := range after.ByStatus {
		if d := v - before.ByStatus[k]; d != 0 {
			out.ByStatus[k] = d
		}
	}
	for k, v := range after.ByRoute {
		if d := v - before.ByRoute[k]; d != 0 {
			out.ByRoute[k] = d
		}
	}
	return out
}
