//go:build reliability

package reliability

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// TestSecretHygiene runs last (its file sorts last): it stops every
// process, then searches all the run's manager and shopsim output, and
// every Event and every version of every Shop, Role and SubAccount the
// watches saw, for every password, app secret and access token stored in
// the cluster or seen by a test, the shops' credentials, and every request
// signature shopsim received: zero hits.
func TestSecretHygiene(t *testing.T) {
	g := harness.Begin(t)
	g.Expect(harness.RememberStoredPasswords(t)).To(BeNumerically(">", 0))
	signatures, err := harness.RememberSignatures()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(signatures).To(BeNumerically(">", 0))

	stopManagers(t)
	g.Expect(env.Shopsim().Stop()).To(Succeed(), "shopsim's exit after SIGTERM")
	for _, w := range watches {
		w.Stop()
	}
	rep := harness.Hygiene(t)
	g.Expect(rep.Files).To(BeNumerically(">=", 2+len(watches)))
	figure(t, "secret hygiene: %d files (%d bytes of logs, Events and statuses) searched for %d secret values (%d request signatures) and their base64: no hit unless reported above",
		rep.Files, rep.Bytes, rep.Values, signatures)
}
