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

// Package e2e is the end-to-end suite ('make test-e2e'): the real manager
// and shopsim binaries, built from ./cmd, against a local control plane
// (envtest's etcd and kube-apiserver), driven only with the project's
// kubectl and shopsim's signed HTTP API.
//
// TestMain builds both binaries, starts the control plane and writes an
// admin kubeconfig, starts shopsim on a free loopback port with a state
// file, starts the manager with the gateway driver (its metrics on a
// loopback port) and waits for /readyz.
// Both processes' output goes to files under a temporary directory; their
// tails are printed when a test fails. Everything is stopped at the end,
// on SIGINT/SIGTERM, and shortly before the -timeout deadline. The
// temporary directory is removed unless a test failed or E2E_KEEP is set.
//
// Run it once per process (-count=1, as 'make test-e2e' does): the
// platform's account names are unique per shop, and TestSecretHygiene,
// the last test, stops the manager and shopsim to search their output.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

const (
	// adminUser is the kubeconfig's user, in system:masters.
	adminUser = "e2e-admin"
	// startTimeout bounds waiting for shopsim and the manager to answer.
	startTimeout = 60 * time.Second
	// stopGrace is how long a process may take to exit after SIGTERM
	// before its process group is killed.
	stopGrace = 15 * time.Second
	// timeoutMargin: everything is stopped this long (at most a quarter
	// of -timeout) before -timeout would panic the test binary, which would
	// leave the processes behind.
	timeoutMargin = 30 * time.Second
)

// suite is the state TestMain sets up; read-only for the tests, except the
// shopsim process, which the restart test replaces (under mu).
var suite struct {
	root        string // module root
	workDir     string // temporary directory of this run
	logDir      string // process output files
	kubectl     string // the project's kubectl (absolute)
	kubeconfig  string
	kubeCache   string // kubectl --cache-dir
	managerBin  string
	shopsimBin  string
	shopsimAddr string // 127.0.0.1:port
	shopsimURL  string // http://127.0.0.1:port
	stateFile   string
	probeAddr   string
	// adminToken opens shopsim's /admin endpoints (the SMS outbox).
	adminToken  string
	metricsAddr string // the manager's /metrics, plain http on loopback

	mu       sync.Mutex
	env      *envtest.Environment
	manager  *proc
	shopsim  *proc
	shopsimN int // shopsim starts so far (names the log files)
}

// aborting is set when the run is being stopped early (a signal, the
// -timeout deadline): the tests still to come are skipped.
var aborting atomic.Bool

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)

	var teardownOnce sync.Once
	teardown := func(failed bool) {
		teardownOnce.Do(func() {
			if err := stopAll(); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: teardown: %v\n", err)
			}
			if suite.workDir == "" {
				return
			}
			if failed || os.Getenv("E2E_KEEP") != "" {
				fmt.Fprintf(os.Stderr, "e2e: kept the logs and state of this run in %s\n", suite.workDir)
				return
			}
			_ = os.RemoveAll(suite.workDir)
		})
	}
	// A signal or the -timeout deadline would otherwise kill the test
	// binary and leave the control plane, shopsim and the manager running.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-signals
		aborting.Store(true)
		fmt.Fprintf(os.Stderr, "\ne2e: got %s; stopping the manager, shopsim and the control plane\n", s)
		teardown(true)
		os.Exit(1)
	}()
	if d := testTimeout(); d > 0 {
		margin := min(timeoutMargin, d/4)
		time.AfterFunc(d-margin, func() {
			aborting.Store(true)
			fmt.Fprintf(os.Stderr, "\ne2e: the -timeout of %s is %s away; stopping everything\n", d, margin)
			printTails(os.Stderr)
			teardown(true)
			os.Exit(1)
		})
	}

	started := time.Now()
	if err := setup(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: setup failed: %v\n", err)
		printTails(os.Stderr)
		teardown(true)
		return 1
	}
	fmt.Printf("e2e: set up in %s (shopsim %s, manager probes %s, work dir %s)\n",
		time.Since(started).Round(100*time.Millisecond), suite.shopsimURL, suite.probeAddr, suite.workDir)

	code := m.Run()
	teardown(code != 0)
	return code
}

// testTimeout is the -test.timeout flag (0 when there is none).
func testTimeout() time.Duration {
	f := flag.Lookup("test.timeout")
	if f == nil {
		return 0
	}
	d, _ := f.Value.(flag.Getter).Get().(time.Duration)
	return d
}

func setup() error {
	var err error
	if suite.root, err = moduleRoot(); err != nil {
		return err
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set; run 'make test-e2e'")
	}
	if !filepath.IsAbs(assets) {
		assets = filepath.Join(suite.root, assets)
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if !isExecutable(filepath.Join(assets, b)) {
			return fmt.Errorf("%s is not an executable; run 'make test-e2e'", filepath.Join(assets, b))
		}
	}
	// Only the project's kubectl: $KUBECTL as the Makefile sets it (a
	// path, never a name looked up on PATH), else the one next to the
	// control plane.
	suite.kubectl = os.Getenv("KUBECTL")
	switch {
	case suite.kubectl == "":
		suite.kubectl = filepath.Join(assets, "kubectl")
	case !strings.ContainsRune(suite.kubectl, filepath.Separator):
		return fmt.Errorf("KUBECTL=%q is not a path; the suite uses only the project's kubectl (bin/k8s/...), never one from PATH", suite.kubectl)
	case !filepath.IsAbs(suite.kubectl):
		suite.kubectl = filepath.Join(suite.root, suite.kubectl)
	}
	if !isExecutable(suite.kubectl) {
		return fmt.Errorf("kubectl %s is not an executable; run 'make test-e2e'", suite.kubectl)
	}

	if suite.workDir, err = os.MkdirTemp("", "subaccount-e2e-"); err != nil {
		return err
	}
	suite.logDir = filepath.Join(suite.workDir, "logs")
	suite.kubeCache = filepath.Join(suite.workDir, "kube-cache")
	binDir := filepath.Join(suite.workDir, "bin")
	for _, dir := range []string{suite.logDir, suite.kubeCache, binDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}

	// The binaries, as a user would build them.
	suite.managerBin = filepath.Join(binDir, "manager-e2e")
	suite.shopsimBin = filepath.Join(binDir, "shopsim-e2e")
	for _, b := range []struct{ out, pkg string }{{suite.managerBin, "./cmd"}, {suite.shopsimBin, "./cmd/shopsim"}} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir = suite.root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build -o %s %s: %v\n%s", b.out, b.pkg, err, out)
		}
	}

	// The control plane, with explicit binary paths so that no other
	// TEST_ASSET_* in the environment can pick other binaries.
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(suite.root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	env.ControlPlane.GetAPIServer().Path = filepath.Join(assets, "kube-apiserver")
	env.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(assets, "etcd")}
	env.ControlPlane.KubectlPath = suite.kubectl
	suite.mu.Lock()
	suite.env = env // registered before Start: a failed Start may leave processes
	suite.mu.Unlock()
	if _, err := env.Start(); err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	user, err := env.AddUser(envtest.User{Name: adminUser, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding the admin user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("building the kubeconfig: %w", err)
	}
	suite.kubeconfig = filepath.Join(suite.workDir, "kubeconfig")
	if err := os.WriteFile(suite.kubeconfig, kubeconfig, 0o600); err != nil {
		return err
	}

	// shopsim on a free loopback port, with a state file.
	port, err := freePort()
	if err != nil {
		return err
	}
	suite.shopsimAddr = fmt.Sprintf("127.0.0.1:%d", port)
	suite.shopsimURL = "http://" + suite.shopsimAddr
	suite.stateFile = filepath.Join(suite.workDir, "shopsim-state.json")
	token := make([]byte, 16)
	_, _ = rand.Read(token) // crypto/rand.Read never fails
	suite.adminToken = hex.EncodeToString(token)
	rememberSecret("shopsim's admin token", suite.adminToken)
	if err := startShopsim(); err != nil {
		return err
	}

	// The manager, with the gateway driver, probes on a free port.
	if port, err = freePort(); err != nil {
		return err
	}
	suite.probeAddr = fmt.Sprintf("127.0.0.1:%d", port)
	if port, err = freePort(); err != nil {
		return err
	}
	suite.metricsAddr = fmt.Sprintf("127.0.0.1:%d", port)
	manager, err := startProc("manager", filepath.Join(suite.logDir, "manager.log"), suite.managerBin,
		"--kubeconfig", suite.kubeconfig,
		"--platform-driver=gateway",
		"--leader-elect=false",
		// Metrics over plain http on loopback, scraped by TestMetrics.
		"--metrics-bind-address="+suite.metricsAddr,
		"--metrics-secure=false",
		"--health-probe-bind-address="+suite.probeAddr,
		// Debug logs too, so that the secret hygiene check sees everything.
		"--zap-log-level=debug",
	)
	if err != nil {
		return err
	}
	suite.mu.Lock()
	suite.manager = manager
	suite.mu.Unlock()
	return waitHTTP(manager, "http://"+suite.probeAddr+"/readyz")
}

// startShopsim starts shopsim on suite.shopsimAddr with the suite's state
// file and the example config, and waits until it answers.
func startShopsim() error {
	suite.mu.Lock()
	suite.shopsimN++
	logPath := filepath.Join(suite.logDir, fmt.Sprintf("shopsim-%d.log", suite.shopsimN))
	suite.mu.Unlock()
	p, err := startProc("shopsim", logPath, suite.shopsimBin,
		"--listen", suite.shopsimAddr,
		"--config", filepath.Join(suite.root, "hack", "shopsim.example.yaml"),
		"--state-file", suite.stateFile,
		"--admin-token", suite.adminToken,
	)
	if err != nil {
		return err
	}
	suite.mu.Lock()
	suite.shopsim = p
	suite.mu.Unlock()
	// The read-only web page needs no signature; it answers once the
	// state is loaded and the listener is up.
	return waitHTTP(p, suite.shopsimURL+"/")
}

// stopShopsim stops shopsim with SIGTERM (a graceful shutdown that
// flushes the state file) and returns its exit error.
func stopShopsim() error {
	suite.mu.Lock()
	p := suite.shopsim
	suite.mu.Unlock()
	return p.stop()
}

// stopAll stops the manager, then shopsim, then the control plane.
func stopAll() error {
	suite.mu.Lock()
	manager, shopsim, env := suite.manager, suite.shopsim, suite.env
	suite.mu.Unlock()
	var errs []error
	if manager != nil {
		if err := manager.stop(); err != nil {
			errs = append(errs, fmt.Errorf("manager: %w", err))
		}
	}
	if shopsim != nil {
		if err := shopsim.stop(); err != nil {
			errs = append(errs, fmt.Errorf("shopsim: %w", err))
		}
	}
	if env != nil {
		if err := env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("control plane: %w", err))
		}
	}
	return errors.Join(errs...)
}

// proc is a subprocess in its own process group, its output in a file.
type proc struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when it has exited
	waitErr error         // its exit, once done

	stopCalled atomic.Bool
	stopOnce   sync.Once
	stopErr    error
}

func startProc(name, logPath, bin string, args ...string) (*proc, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = suite.workDir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so that it and anything it starts can be
	// stopped together; killed if this test binary dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited, and how.
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// stop sends SIGTERM to the process group, waits up to stopGrace, then
// kills the group. It returns the process's exit error (nil for a clean
// exit after SIGTERM); calling it again returns the same.
func (p *proc) stop() error {
	p.stopCalled.Store(true)
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		if done, err := p.exited(); done {
			p.stopErr = fmt.Errorf("%s had already exited: %v", p.name, err)
			_ = syscall.Kill(-pgid, syscall.SIGKILL) // anything left in its group
			return
		}
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
			p.stopErr = p.waitErr
		case <-time.After(stopGrace):
			p.stopErr = fmt.Errorf("%s did not exit within %s of SIGTERM; killed", p.name, stopGrace)
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
	return p.stopErr
}

// waitHTTP waits until url answers 200, failing early if p exits.
func waitHTTP(p *proc, url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		if done, err := p.exited(); done {
			return fmt.Errorf("%s exited before answering %s: %v (output: %s)", p.name, url, err, p.logPath)
		}
		resp, err := client.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %s within %s: %v", p.name, url, startTimeout, err)
		}
		select {
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePort is a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func moduleRoot() (string, error) {
	out, err := exec.CommandContext(context.Background(), "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the module")
	}
	return filepath.Dir(gomod), nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
