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

package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// kubectlTimeout bounds one kubectl call (kubectl wait has its own
// --timeout, shorter than this).
const kubectlTimeout = 5 * time.Minute

// tailLines is how much of each process's output a failing test prints.
const tailLines = 80

// Begin prepares t: on failure it prints the tails of the processes'
// output, and it fails t if a process nobody stopped died meanwhile.
func Begin(t *testing.T) Gomega {
	t.Helper()
	if E.Aborting() {
		t.Skip("the run is being stopped")
	}
	t.Cleanup(func() {
		E.mu.Lock()
		procs := append([]*Proc(nil), E.procs...)
		E.mu.Unlock()
		for _, p := range procs {
			// Only an exit nobody asked for is an error.
			if done, err := p.Exited(); done && !p.stopCalled.Load() {
				t.Errorf("%s exited unexpectedly: %v", p.name, err)
			}
		}
		if t.Failed() && !E.Aborting() {
			var b strings.Builder
			PrintTails(&b)
			t.Log(b.String())
		}
	})
	return NewWithT(t)
}

// PrintTails writes the last lines of every process output file.
func PrintTails(w io.Writer) {
	if E.LogDir == "" {
		return
	}
	files, _ := filepath.Glob(filepath.Join(E.LogDir, "*.log"))
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
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines, sc.Err()
}

// Kubectl runs the project's kubectl against the control plane with args
// and returns its stdout; it fails t when kubectl fails.
func Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	return KubectlIn(t, "", args...)
}

// KubectlIn is Kubectl with stdin.
func KubectlIn(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	stdout, stderr, err := RunKubectl(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return stdout
}

// RunKubectl runs kubectl and returns its stdout and stderr, and an error
// when it fails. Output is never logged here: it may hold secrets.
func RunKubectl(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, E.Kubectl, kubectlArgs(args)...)
	cmd.Dir = E.Root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func kubectlArgs(args []string) []string {
	return append([]string{"--kubeconfig", E.Kubeconfig, "--cache-dir", E.KubeCache}, args...)
}

// Namespace creates the namespace name (idempotent).
func Namespace(t testing.TB, name string) string {
	t.Helper()
	KubectlIn(t, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name), "apply", "-f", "-")
	return name
}

// JSONPath reads one field of an object with kubectl.
func JSONPath(t testing.TB, ns, obj, path string) string {
	t.Helper()
	return Kubectl(t, "get", "-n", ns, obj, "-o", "jsonpath="+path)
}

// WaitReady waits with kubectl until every obj is Ready for its current
// generation.
func WaitReady(t testing.TB, ns string, objs ...string) {
	t.Helper()
	Kubectl(t, append([]string{"wait", "-n", ns, "--for=condition=Ready", "--timeout=60s"}, objs...)...)
}

// Credentials reads the credentials Secret of SubAccount ns/name with
// kubectl and returns its username and password (remembered as a secret).
func Credentials(t testing.TB, ns, name string) (string, string) {
	t.Helper()
	secret := JSONPath(t, ns, "subaccount/"+name, "{.status.secretName}")
	if secret == "" {
		t.Fatalf("SubAccount %s/%s has no status.secretName", ns, name)
	}
	decode := func(key string) string {
		enc := JSONPath(t, ns, "secret/"+secret, "{.data."+key+"}")
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
	RememberSecret(fmt.Sprintf("the password of SubAccount %s/%s", ns, name), password)
	return user, password
}

// Watched are what a suite watches for the hygiene check: every Event and
// every version of the operator's objects (their status).
var Watched = []string{"events", "shops.shop.subaccount.io", "roles.shop.subaccount.io", "subaccounts.shop.subaccount.io"}

// Watch runs `kubectl get <what> -A --watch -o json` writing into
// <LogDir>/watch-<name>.log, so that every version of the objects (their
// status, or every Event) is kept for the secret hygiene check; when the
// API server ends the watch, it is started again (appending). It must never
// be used on Secrets. Stop it before searching the file.
func (e *Env) Watch(name, what string) (*Watch, error) {
	if strings.Contains(what, "secret") {
		return nil, fmt.Errorf("watching %s would copy secrets into the logs", what)
	}
	start := func() (*Proc, error) {
		return e.startProc("watch-"+name, filepath.Join(e.LogDir, "watch-"+name+".log"), nil, e.Kubectl,
			kubectlArgs([]string{"get", what, "-A", "--watch", "-o", "json"})...)
	}
	p, err := start()
	if err != nil {
		return nil, err
	}
	w := &Watch{cur: p, stop: make(chan struct{}), done: make(chan struct{})}
	e.mu.Lock()
	e.watches = append(e.watches, w)
	e.mu.Unlock()
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-w.proc().Done():
			}
			select {
			case <-w.stop:
				return
			default:
			}
			// The API server ended the watch (its request timeout): an
			// expected exit; watch again.
			w.proc().stopCalled.Store(true)
			next, err := start()
			if err != nil {
				return
			}
			w.mu.Lock()
			w.cur = next
			w.mu.Unlock()
		}
	}()
	return w, nil
}

// Watch is a kubectl watch that restarts when the server ends it.
type Watch struct {
	mu   sync.Mutex
	cur  *Proc
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func (w *Watch) proc() *Proc {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

// Stop ends the watch for good.
func (w *Watch) Stop() {
	w.once.Do(func() {
		close(w.stop)
		<-w.done
		_ = w.proc().Stop() // kubectl exits 2 or so on SIGTERM: not an error here
	})
}

// WatchColumns starts `kubectl get <what> -n ns --watch -o custom-columns=<columns>
// --no-headers` writing into path (outside LogDir when the names may not
// be searched). Use it for Secrets: only the columns asked for are written.
func (e *Env) WatchColumns(path, ns, what, columns string) (*Proc, error) {
	return e.startProc("watch-"+what+"-"+ns, path, nil, e.Kubectl,
		kubectlArgs([]string{"get", what, "-n", ns, "--watch", "--no-headers", "-o", "custom-columns=" + columns})...)
}
