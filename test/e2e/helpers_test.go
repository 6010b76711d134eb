//go:build e2e

/*
Copyright 2026 The subaccount-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/gateway/wire"
)

// kubectlTimeout bounds one kubectl call (kubectl wait has its own
// --timeout, shorter than this).
const kubectlTimeout = 2 * time.Minute

// tailLines is how much of each process's output a failing test prints.
const tailLines = 80

// begin prepares t: on failure it prints the tails of the processes'
// output, and it fails t if the manager or shopsim died meanwhile.
func begin(t *testing.T) Gomega {
	t.Helper()
	if aborting.Load() {
		t.Skip("the run is being stopped")
	}
	t.Cleanup(func() {
		suite.mu.Lock()
		procs := []*proc{suite.manager, suite.shopsim}
		suite.mu.Unlock()
		for _, p := range procs {
			if p == nil {
				continue
			}
			// Only an exit nobody asked for is an error.
			if done, err := p.exited(); done && !p.stopCalled.Load() {
				t.Errorf("%s exited unexpectedly: %v", p.name, err)
			}
		}
		if t.Failed() && !aborting.Load() {
			var b strings.Builder
			printTails(&b)
			t.Log(b.String())
		}
	})
	return NewWithT(t)
}

// printTails writes the last lines of every process output file.
func printTails(w io.Writer) {
	if suite.logDir == "" {
		return
	}
	files, _ := filepath.Glob(filepath.Join(suite.logDir, "*.log"))
	sort.Strings(files)
	for _, f := range files {
		lines, err := tail(f, tailLines)
		if err != nil {
			fmt.Fprintf(w, "--- %s: %v\n", f, err)
			continue
		}
		fmt.Fprintf(w, "--- last %d lines of %s:\n%s\n", len(lines), f, strings.Join(lines, "\n"))
	}
}

func tail(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines, sc.Err()
}

// kubectl runs the project's kubectl against the control plane with args
// and returns its stdout; it fails t when kubectl fails.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return kubectlIn(t, "", args...)
}

// kubectlIn is kubectl with stdin.
func kubectlIn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	stdout, stderr, err := runKubectl(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return stdout
}

// runKubectl runs kubectl and returns its stdout and stderr, and an error
// when it fails. Output is never logged here: it may hold secrets.
func runKubectl(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	full := append([]string{"--kubeconfig", suite.kubeconfig, "--cache-dir", suite.kubeCache}, args...)
	cmd := exec.CommandContext(ctx, suite.kubectl, full...)
	cmd.Dir = suite.root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// namespace creates the namespace name (once per run).
func namespace(t *testing.T, name string) string {
	t.Helper()
	kubectlIn(t, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name), "apply", "-f", "-")
	return name
}

// jsonpath reads one field of an object with kubectl.
func jsonpath(t *testing.T, ns, obj, path string) string {
	t.Helper()
	return kubectl(t, "get", "-n", ns, obj, "-o", "jsonpath="+path)
}

// waitReady waits with kubectl until every obj is Ready for its current
// generation.
func waitReady(t *testing.T, ns string, objs ...string) {
	t.Helper()
	kubectl(t, append([]string{"wait", "-n", ns, "--for=condition=Ready", "--timeout=60s"}, objs...)...)
}

// secrets are every secret value the suite has seen: none may appear in
// the processes' output (TestSecretHygiene). Keys say what each is.
var secrets = struct {
	sync.Mutex
	values map[string]string // value -> what it is
}{values: map[string]string{}}

func rememberSecret(what, value string) {
	if value == "" {
		return
	}
	secrets.Lock()
	defer secrets.Unlock()
	if _, ok := secrets.values[value]; !ok {
		secrets.values[value] = what
	}
}

// credentials reads the credentials Secret of SubAccount ns/name with
// kubectl and returns its username and password.
func credentials(t *testing.T, ns, name string) (string, string) {
	t.Helper()
	secret := jsonpath(t, ns, "subaccount/"+name, "{.status.secretName}")
	if secret == "" {
		t.Fatalf("SubAccount %s/%s has no status.secretName", ns, name)
	}
	decode := func(key string) string {
		enc := jsonpath(t, ns, "secret/"+secret, "{.data."+key+"}")
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			t.Fatalf("Secret %s/%s key %s is not base64: %v", ns, secret, key, err)
		}
		return string(raw)
	}
	user, password := decode("username"), decode("password")
	if password == "" {
		t.Fatalf("Secret %s/%s has no password", ns, secret)
	}
	rememberSecret(fmt.Sprintf("the password of SubAccount %s/%s", ns, name), password)
	return user, password
}

// shop is one of shopsim's shops (hack/shopsim.example.yaml) with its
// API credentials.
type shop struct {
	platform    platform.Name
	mainAccount string
	appKey      string
	appSecret   string
	accessToken string
}

var (
	// hongxing is the shop of config/samples.
	hongxing = shop{platform.Taobao, "hongxing", "12345678", "demo-app-secret", "demo-session-token"}
	// pdd is the Pinduoduo shop, used by the deletion policy test.
	pdd = shop{platform.Pinduoduo, "拼多多小店", "pdd-demo-client-id", "demo-pdd-client-secret", "demo-pdd-access-token"}
	// douyin is only here so that its credentials are checked for too.
	douyin = shop{platform.Douyin, "抖店旗舰店", "7000000000000000000", "demo-douyin-app-secret", "demo-douyin-access-token"}
)

var httpClient = &http.Client{Timeout: 10 * time.Second}

// call sends a signed request to shopsim for path (relative to the shop's
// prefix, already escaped) and decodes a 2xx answer into out. It returns
// the status; a non-2xx answer is also an error carrying the error body.
func (s shop) call(method, path string, query url.Values, in, out any) (int, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return 0, err
		}
	}
	u := suite.shopsimURL + wire.ShopPrefix(s.platform, s.mainAccount) + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	wire.SignRequest(req, s.appKey, s.appSecret, s.accessToken, body, time.Now())
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding %q: %w", method, path, data, err)
		}
	}
	return resp.StatusCode, nil
}

// accounts lists the shop's accounts (GET /accounts), by account name.
func (s shop) accounts() (map[string]wire.Account, error) {
	out := map[string]wire.Account{}
	for page := 1; ; page++ {
		var list wire.AccountList
		q := url.Values{"page": {fmt.Sprint(page)}, "pageSize": {fmt.Sprint(wire.MaxPageSize)}}
		if _, err := s.call(http.MethodGet, wire.PathAccounts, q, nil, &list); err != nil {
			return nil, err
		}
		for _, a := range list.Items {
			out[a.Name] = a
		}
		if len(list.Items) == 0 || len(out) >= list.Total {
			return out, nil
		}
	}
}

// accountByName is GET /accounts/by-name/{name}: the account and the
// status (404 when there is none).
func (s shop) accountByName(name string) (wire.Account, int, error) {
	var a wire.Account
	status, err := s.call(http.MethodGet, strings.Replace(wire.PathAccountName, "{name}", url.PathEscape(name), 1), nil, nil, &a)
	return a, status, err
}

// login is POST /login: whether name (or main:name) logs in with password.
func (s shop) login(name, password string) (bool, error) {
	var res wire.LoginResult
	_, err := s.call(http.MethodPost, wire.PathLogin, nil, wire.LoginCheck{Name: name, Password: password}, &res)
	return res.OK, err
}

// audit is GET /audit: the shop's write log.
func (s shop) audit() ([]wire.AuditEntry, error) {
	var list wire.AuditList
	_, err := s.call(http.MethodGet, wire.PathAudit, nil, nil, &list)
	return list.Items, err
}
