//go:build e2e

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// Named to sort last: go test runs a package's tests in file order, and
// this one stops the processes to read their whole output.

// TestSecretHygiene runs last: it stops the manager and shopsim, then
// searches their whole output for every password the suite saw in a
// Secret, every credentials Secret's password still stored, and the
// shops' app secrets and access tokens. There must be no hit.
func TestSecretHygiene(t *testing.T) {
	g := begin(t)
	samples(t) // something to look for even when run alone
	for _, s := range []shop{hongxing, pdd, douyin} {
		rememberSecret("the app secret of "+string(s.platform)+"/"+s.mainAccount, s.appSecret)
		rememberSecret("the access token of "+string(s.platform)+"/"+s.mainAccount, s.accessToken)
	}
	// Every password still in a Secret, including ones no test read.
	var list struct {
		Items []struct {
			Metadata struct{ Namespace, Name string }
			Data     map[string]string
		}
	}
	g.Expect(json.Unmarshal([]byte(kubectl(t, "get", "secrets", "-A", "-o", "json")), &list)).To(Succeed())
	passwords := 0
	for _, s := range list.Items {
		enc, ok := s.Data["password"]
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(enc)
		g.Expect(err).NotTo(HaveOccurred())
		rememberSecret(fmt.Sprintf("the password in Secret %s/%s", s.Metadata.Namespace, s.Metadata.Name), string(raw))
		passwords++
	}
	g.Expect(passwords).To(BeNumerically(">=", len(sampleAccounts)))

	// Stop the processes first, so their shutdown output is searched too.
	suite.mu.Lock()
	manager, shopsim := suite.manager, suite.shopsim
	suite.mu.Unlock()
	g.Expect(manager.stop()).To(Succeed(), "the manager's exit after SIGTERM")
	g.Expect(shopsim.stop()).To(Succeed(), "shopsim's exit after SIGTERM")

	files, err := filepath.Glob(filepath.Join(suite.logDir, "*.log"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(files).To(ContainElements(HaveSuffix("manager.log"), HaveSuffix("shopsim-1.log")))
	checkStructuredLogs(t, manager.logPath)
	secrets.Lock()
	defer secrets.Unlock()
	values := make([]string, 0, len(secrets.values))
	for v := range secrets.values {
		values = append(values, v)
	}
	sort.Strings(values)
	size := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		size += len(data)
		for _, v := range values {
			for _, form := range []struct{ how, s string }{{"", v}, {"base64 of ", base64.StdEncoding.EncodeToString([]byte(v))}} {
				if n := strings.Count(string(data), form.s); n > 0 {
					// Never print the value itself.
					t.Errorf("%s contains %s%s (%d times)", filepath.Base(f), form.how, secrets.values[v], n)
				}
			}
		}
	}
	t.Logf("searched %d output files (%d bytes) for %d secret values: no hit unless reported above", len(files), size, len(values))
}

// checkStructuredLogs reads the manager's JSON log: every line is JSON, and
// every line of a reconcile (it has a reconcileID) names the resource
// (namespace, name), its shop and the shop's platform (but when the Shop is
// not there to name it).
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
		if r := entry["reason"]; r == "ShopNotFound" || r == "ShopNotInShard" {
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
