//go:build reliability

package reliability

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
	"github.com/subaccount-operator/subaccount-operator/internal/shopsim"
	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// Sizes of the scenarios: the full run (default) and the bounded one
// RELIABILITY_SCALE=small runs in CI.
type sizes struct {
	name          string
	crashShops    int
	crashAccounts int // over all crash shops
	kills         int
	faultAccounts int // per run (fault-free and faulted)
	faultVictims  int // SubAccounts deleted or disabled during each run
	credsAccounts int // per shop
	driftAccounts int
	haAccounts    int
	delAccounts   int
	delRoles      int
}

var scale = func() sizes {
	if os.Getenv("RELIABILITY_SCALE") == "small" {
		return sizes{name: "small", crashShops: 2, crashAccounts: 60, kills: 5, faultAccounts: 30, faultVictims: 6,
			credsAccounts: 4, driftAccounts: 6, haAccounts: 30, delAccounts: 40, delRoles: 4}
	}
	return sizes{name: "full", crashShops: 5, crashAccounts: 500, kills: 12, faultAccounts: 200, faultVictims: 20,
		credsAccounts: 20, driftAccounts: 20, haAccounts: 200, delAccounts: 300, delRoles: 20}
}()

// managerMu guards manager, the single manager without leader election
// most scenarios use.
var (
	managerMu sync.Mutex
	manager   *harness.Proc
)

// startManager starts the single manager.
func startManager() error {
	p, err := env.StartManager(harness.ManagerOptions{Name: "manager"})
	managerMu.Lock()
	manager = p
	managerMu.Unlock()
	return err
}

func randomString(n int) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

// randomInt is in [lo, hi].
func randomInt(lo, hi int) int {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(hi-lo+1)))
	if err != nil {
		panic(err)
	}
	return lo + int(i.Int64())
}

// shopYAML is a Shop named after its shopsim shop, and its credentials
// Secret (labelled so that changes reach the operator at once).
func shopYAML(name string, extraSpec string) string {
	s := shops[name]
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %[1]s-api
  labels:
    shop.subaccount.io/secret: shop-api
type: Opaque
stringData:
  appKey: %[2]q
  appSecret: %[3]q
  accessToken: %[4]q
---
apiVersion: shop.subaccount.io/v1alpha1
kind: Shop
metadata:
  name: %[1]s
spec:
  platform: taobao
  mainAccount: %[1]s
  endpoint: %[5]s
  credentialsSecretRef:
    name: %[1]s-api
%[6]s---
`, name, s.AppKey, s.AppSecret, s.AccessToken, env.ShopsimURL, extraSpec)
}

// roleYAML is a customer-service Role of shop.
func roleYAML(name, shop string) string {
	return fmt.Sprintf(`apiVersion: shop.subaccount.io/v1alpha1
kind: Role
metadata:
  name: %s
spec:
  shopRef:
    name: %s
  displayName: %s
  template: customer-service
---
`, name, shop, name)
}

// subAccountYAML is a SubAccount of shop whose accountName is its name.
func subAccountYAML(name, shop, role, extraSpec string) string {
	roles := ""
	if role != "" {
		roles = "  roles: [{name: " + role + "}]\n"
	}
	return fmt.Sprintf(`apiVersion: shop.subaccount.io/v1alpha1
kind: SubAccount
metadata:
  name: %[1]s
spec:
  shopRef:
    name: %[2]s
  accountName: %[1]s
  displayName: %[1]s
  employee:
    name: %[1]s
%[3]s%[4]s---
`, name, shop, roles, extraSpec)
}

// apply applies yaml in ns.
func apply(t testing.TB, ns, yaml string) {
	t.Helper()
	harness.KubectlIn(t, yaml, "apply", "-n", ns, "-f", "-")
}

// object is the part of an operator object the suite reads.
type object struct {
	Metadata struct {
		Name              string
		UID               string
		DeletionTimestamp *time.Time
		CreationTimestamp time.Time
		Finalizers        []string
		Generation        int64
	}
	Spec struct {
		AccountName string
		ShopRef     struct{ Name string }
		Disabled    bool
	}
	Status struct {
		ObservedGeneration int64
		AccountID          string
		SecretName         string
		Conditions         []struct {
			Type, Status, Reason, Message string
			ObservedGeneration            int64
		}
	}
}

// condition returns the condition of type typ ("" status when absent).
func (o object) condition(typ string) (status, reason, message string) {
	for _, c := range o.Status.Conditions {
		if c.Type == typ {
			return c.Status, c.Reason, c.Message
		}
	}
	return "", "", ""
}

// ready is Ready=True at the current generation.
func (o object) ready() bool {
	for _, c := range o.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True" && c.ObservedGeneration == o.Metadata.Generation && o.Status.ObservedGeneration == o.Metadata.Generation
		}
	}
	return false
}

// list reads every object of kind in ns with one kubectl call.
func list(t testing.TB, ns, kind string) map[string]object {
	t.Helper()
	var l struct{ Items []object }
	if err := json.Unmarshal([]byte(harness.Kubectl(t, "get", kind, "-n", ns, "-o", "json")), &l); err != nil {
		t.Fatalf("decoding %s: %v", kind, err)
	}
	out := make(map[string]object, len(l.Items))
	for _, o := range l.Items {
		out[o.Metadata.Name] = o
	}
	return out
}

// notReady names the objects of kind in ns that are not Ready (at most 5,
// with their reason), and counts them.
func notReady(t testing.TB, ns, kind string) (int, string) {
	var names []string
	n := 0
	for name, o := range list(t, ns, kind) {
		if !o.ready() {
			n++
			if len(names) < 5 {
				_, reason, msg := o.condition("Ready")
				names = append(names, fmt.Sprintf("%s (%s: %s)", name, reason, msg))
			}
		}
	}
	return n, strings.Join(names, "; ")
}

// waitAllReady waits until there are want objects of kind in ns, all
// Ready.
func waitAllReady(t testing.TB, g Gomega, ns, kind string, want int, timeout time.Duration) {
	t.Helper()
	g.Eventually(func() error {
		objs := list(t, ns, kind)
		if len(objs) != want {
			return fmt.Errorf("%d %s, want %d", len(objs), kind, want)
		}
		if n, which := notReady(t, ns, kind); n > 0 {
			return fmt.Errorf("%d %s not Ready, e.g. %s", n, kind, which)
		}
		return nil
	}).WithTimeout(timeout).WithPolling(time.Second).Should(Succeed())
}

// secretsIn reads every Secret of ns (name -> key -> value), remembering
// passwords for the hygiene check.
func secretsIn(t testing.TB, ns string) map[string]map[string]string {
	t.Helper()
	var l struct {
		Items []struct {
			Metadata struct{ Name string }
			Data     map[string]string
		}
	}
	if err := json.Unmarshal([]byte(harness.Kubectl(t, "get", "secrets", "-n", ns, "-o", "json")), &l); err != nil {
		t.Fatalf("decoding Secrets: %v", err)
	}
	out := map[string]map[string]string{}
	for _, s := range l.Items {
		m := map[string]string{}
		for k, v := range s.Data {
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatalf("Secret %s/%s: %v", ns, s.Metadata.Name, err)
			}
			m[k] = string(raw)
			if k == "password" {
				harness.RememberSecret("the password in Secret "+ns+"/"+s.Metadata.Name, string(raw))
			}
		}
		out[s.Metadata.Name] = m
	}
	return out
}

// verifyAccounts checks that the shop's accounts are exactly the
// SubAccounts of ns using it (no duplicate, no orphan beyond allowed), each
// with the ID in status, and that every Secret's password logs in.
func verifyAccounts(t testing.TB, g Gomega, ns, shop string, allowed ...string) {
	t.Helper()
	subs := list(t, ns, "subaccounts")
	secrets := secretsIn(t, ns)
	accounts, err := shops[shop].Accounts()
	g.Expect(err).NotTo(HaveOccurred())
	want := map[string]object{}
	for _, sa := range subs {
		if sa.Spec.ShopRef.Name == shop {
			want[sa.Spec.AccountName] = sa
		}
	}
	for name, a := range accounts {
		sa, ok := want[name]
		if !ok {
			g.Expect(allowed).To(ContainElement(name), "account %s on shop %s belongs to no SubAccount (an orphan)", name, shop)
			continue
		}
		g.Expect(a.ID).To(Equal(sa.Status.AccountID), "account %s: ID on the platform vs status.accountID", name)
		// Disabled as declared, unless a drift was reported (driftPolicy
		// Report) instead of corrected.
		if drifted, _, _ := sa.condition("Drifted"); drifted != "True" {
			g.Expect(a.Disabled).To(Equal(sa.Spec.Disabled), "account %s: disabled on the platform vs spec.disabled", name)
		}
	}
	for name := range want {
		g.Expect(accounts).To(HaveKey(name), "SubAccount %s has no account on shop %s", name, shop)
	}
	// Every create is in the audit log once: no second account was made
	// and deleted behind the scenes.
	entries, err := shops[shop].Audit()
	g.Expect(err).NotTo(HaveOccurred())
	// (An account deleted behind the operator's back is created again.)
	creates, outOfBand := map[string]int{}, map[string]int{}
	for _, e := range entries {
		switch {
		case e.Action == "account.create":
			creates[e.TargetName]++
		case e.Action == "account.delete" && !strings.HasPrefix(e.Source, "SubAccount/"):
			outOfBand[e.TargetName]++
		}
	}
	for name, n := range creates {
		g.Expect(n).To(Equal(1+outOfBand[name]), "account %s was created %d times on shop %s (deleted out of band %d times)", name, n, shop, outOfBand[name])
	}
	// Passwords, checked in parallel.
	// A disabled account must not log in; the others must.
	type job struct {
		login, password, sa string
		disabled            bool
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				ok, err := shops[shop].Login(j.login, j.password)
				if err != nil || ok == j.disabled {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s (logs in: %t, disabled: %t, err: %v)", j.sa, ok, j.disabled, err))
					mu.Unlock()
				}
			}
		}()
	}
	for name, sa := range want {
		s, ok := secrets[sa.Status.SecretName]
		if !ok {
			mu.Lock()
			failures = append(failures, name+" has no Secret "+sa.Status.SecretName)
			mu.Unlock()
			continue
		}
		jobs <- job{s["username"], s["password"], name, accounts[sa.Spec.AccountName].Disabled}
	}
	close(jobs)
	wg.Wait()
	g.Expect(failures).To(BeEmpty(), "SubAccounts whose Secret's password does not log in (or does, though disabled)")
}

// stats reads shopsim's counters.
func stats(g Gomega) shopsim.Stats {
	s, err := harness.Stats()
	g.Expect(err).NotTo(HaveOccurred())
	return s
}

// shopKey is the stats key of a shop.
func shopKey(name string) string { return "taobao/" + name }

// calls is how many API calls shop received.
func calls(g Gomega, shop string) int { return stats(g).Shops[shopKey(shop)].Calls }

// setFaults replaces shopsim's faults.
func setFaults(g Gomega, f shopsim.Faults) {
	g.Expect(harness.SetFaults(f)).To(Succeed())
}

// figure logs a measured figure in a form docs/reliability.md quotes.
func figure(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Logf("figure ["+scale.name+"]: "+format, args...)
}

var _ = wire.Account{}

// stopManagers stops the managers still running (SIGTERM).
func stopManagers(t testing.TB) {
	managerMu.Lock()
	defer managerMu.Unlock()
	for _, m := range append([]*harness.Proc{manager}, haManagers...) {
		if m == nil {
			continue
		}
		if done, _ := m.Exited(); done {
			continue
		}
		if err := m.Stop(); err != nil {
			t.Errorf("stopping %s: %v", m.Name(), err)
		}
	}
}

// haManagers are the leader-elected managers of TestHighAvailability.
var haManagers []*harness.Proc
