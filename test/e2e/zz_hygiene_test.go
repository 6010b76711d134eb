//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/test/internal/harness"
)

// Named to sort last: go test runs a package's tests in file order, and
// this one stops the processes to read their whole output.

// TestSecretHygiene runs last: it stops the manager and shopsim, then
// searches their whole output, and every version of every Event and
// operator object's status the watches saw, for every password the suite
// saw in a Secret, every password, app secret and access token still
// stored, the shops' app secrets and access tokens, and every request
// signature shopsim received. There must be no hit.
func TestSecretHygiene(t *testing.T) {
	g := begin(t)
	samples(t) // something to look for even when run alone
	for _, s := range []shop{hongxing, pdd, douyin} {
		s.RememberSecrets()
	}
	g.Expect(harness.RememberStoredPasswords(t)).To(BeNumerically(">=", len(sampleAccounts)))
	signatures, err := harness.RememberSignatures()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(signatures).To(BeNumerically(">", 0))

	// Stop the processes first, so their shutdown output is searched too.
	g.Expect(suite.manager.Stop()).To(Succeed(), "the manager's exit after SIGTERM")
	g.Expect(env.Shopsim().Stop()).To(Succeed(), "shopsim's exit after SIGTERM")
	for _, w := range suite.watches {
		w.Stop()
	}

	checkStructuredLogs(t, suite.manager.LogPath)
	rep := harness.Hygiene(t)
	g.Expect(rep.Files).To(BeNumerically(">=", 2+len(suite.watches)))
	t.Logf("searched %d files (%d bytes: logs, Events, statuses) for %d secret values and their base64: no hit unless reported above", rep.Files, rep.Bytes, rep.Values)
}

// checkStructuredLogs reads the manager's JSON log: every line is JSON, and
// every line of a reconcile (it has a reconcileID) names the resource
// (namespace, name), its shop and the shop's platform (but when the Shop is
// not there to name it, and for a Staff, which spans shops).
func checkStructuredLogs(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reconcileLines := 0
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue // a stack trace under an error line
		}
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("manager.log line %d is not JSON: %v", i+1, err)
			continue
		}
		if _, ok := entry["reconcileID"]; !ok {
			continue
		}
		reconcileLines++
		keys := []string{"controller", "namespace", "name", "shop", "platform"}
		switch {
		case entry["controller"] == "staff":
			keys = keys[:3] // a Staff is one person across shops: its status rows name them
		case entry["reason"] == "ShopNotFound" || entry["reason"] == "ShopNotInShard":
			keys = keys[:4] // no Shop to take the platform from
		}
		for _, key := range keys {
			if v, _ := entry[key].(string); v == "" {
				t.Errorf("manager.log line %d (%v) has no %s", i+1, entry["msg"], key)
			}
		}
	}
	// The manager runs at debug level: each status write logs a line.
	if reconcileLines == 0 {
		t.Error("manager.log has no reconcile log line to check")
	}
	t.Logf("%d reconcile log lines, each with the resource, its shop and its platform unless reported above", reconcileLines)
}
