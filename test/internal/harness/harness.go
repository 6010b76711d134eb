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

// Package harness is what the process-level suites (test/e2e,
// test/reliability) share: the real manager and shopsim binaries, built
// from ./cmd, against a local control plane (envtest's etcd and
// kube-apiserver), driven with the project's kubectl and shopsim's signed
// HTTP API, with every process's output kept in files so that the secret
// hygiene check (Hygiene) can search all of it.
//
// A suite's TestMain calls Main with a setup function; Main builds both
// binaries, starts the control plane and writes an admin kubeconfig, runs
// the setup (which starts shopsim and the managers it needs through E),
// runs the tests, and stops everything at the end, on SIGINT/SIGTERM, and
// shortly before the -timeout deadline. The work directory is removed
// unless a test failed or <PREFIX>_KEEP / E2E_KEEP is set.
package harness

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

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/subaccount-operator/subaccount-operator/internal/controlplane"
)

const (
	// adminUser is the kubeconfig's user, in system:masters.
	adminUser = "e2e-admin"
	// StartTimeout bounds waiting for shopsim and the manager to answer.
	StartTimeout = 60 * time.Second
	// stopGrace is how long a process may take to exit after SIGTERM
	// before its process group is killed.
	stopGrace = 15 * time.Second
	// timeoutMargin: everything is stopped this long (at most a quarter
	// of -timeout) before -timeout would panic the test binary, which would
	// leave the processes behind.
	timeoutMargin = 30 * time.Second
)

// Env is the state Main sets up. Fields are set before the tests run and
// read-only afterwards; the processes are guarded by mu.
type Env struct {
	Name       string // suite name, used in messages and the work directory
	Root       string // module root
	WorkDir    string // temporary directory of this run
	LogDir     string // process output files (everything Hygiene searches)
	Kubectl    string // the project's kubectl (absolute)
	Kubeconfig string
	KubeCache  string // kubectl --cache-dir
	ManagerBin string
	ShopsimBin string

	// ShopsimAddr and ShopsimURL are set by StartShopsim.
	ShopsimAddr string // 127.0.0.1:port
	ShopsimURL  string // http://127.0.0.1:port
	// AdminToken is shopsim's /admin bearer token (random per run).
	AdminToken string

	mu       sync.Mutex
	cp       *controlplane.ControlPlane
	procs    []*Proc // every process started, for teardown and Begin
	watches  []*Watch
	shopsim  *Proc
	shopsimN int
	aborting atomic.Bool
}

// E is the suite's environment (one per test binary).
var E = &Env{}

// Main is a suite's TestMain body: it sets up the control plane and the
// binaries, calls setup, runs m and tears everything down. It returns the
// exit code.
func Main(m *testing.M, name string, setup func(*Env) error) int {
	flag.Parse()
	// envtest logs through controller-runtime; the processes' output is
	// what matters here.
	ctrllog.SetLogger(logr.Discard())
	E.Name = name
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)

	var teardownOnce sync.Once
	teardown := func(failed bool) {
		teardownOnce.Do(func() {
			if err := E.stopAll(); err != nil {
				fmt.Fprintf(os.Stderr, "%s: teardown: %v\n", name, err)
			}
			if E.WorkDir == "" {
				return
			}
			if failed || os.Getenv("E2E_KEEP") != "" || os.Getenv(strings.ToUpper(name)+"_KEEP") != "" {
				fmt.Fprintf(os.Stderr, "%s: kept the logs and state of this run in %s\n", name, E.WorkDir)
				return
			}
			_ = os.RemoveAll(E.WorkDir)
		})
	}
	// A signal or the -timeout deadline would otherwise kill the test
	// binary and leave the control plane, shopsim and the manager running.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-signals
		E.aborting.Store(true)
		fmt.Fprintf(os.Stderr, "\n%s: got %s; stopping the managers, shopsim and the control plane\n", name, s)
		teardown(true)
		os.Exit(1)
	}()
	if d := testTimeout(); d > 0 {
		margin := min(timeoutMargin, d/4)
		time.AfterFunc(d-margin, func() {
			E.aborting.Store(true)
			fmt.Fprintf(os.Stderr, "\n%s: the -timeout of %s is %s away; stopping everything\n", name, d, margin)
			PrintTails(os.Stderr)
			teardown(true)
			os.Exit(1)
		})
	}

	started := time.Now()
	err := E.setup()
	if err == nil {
		err = setup(E)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: setup failed: %v\n", name, err)
		PrintTails(os.Stderr)
		teardown(true)
		return 1
	}
	fmt.Printf("%s: set up in %s (shopsim %s, work dir %s)\n",
		name, time.Since(started).Round(100*time.Millisecond), E.ShopsimURL, E.WorkDir)

	code := m.Run()
	teardown(code != 0)
	return code
}

// Aborting reports whether the run is being stopped early.
func (e *Env) Aborting() bool { return e.aborting.Load() }

// testTimeout is the -test.timeout flag (0 when there is none).
func testTimeout() time.Duration {
	f := flag.Lookup("test.timeout")
	if f == nil {
		return 0
	}
	d, _ := f.Value.(flag.Getter).Get().(time.Duration)
	return d
}

func (e *Env) setup() error {
	var err error
	if e.Root, err = moduleRoot(); err != nil {
		return err
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set; run it through make")
	}
	if !filepath.IsAbs(assets) {
		assets = filepath.Join(e.Root, assets)
	}
	for _, b := range []string{controlplane.Etcd, controlplane.APIServer} {
		if !controlplane.IsExecutable(filepath.Join(assets, b)) {
			return fmt.Errorf("%s is not an executable; run it through make", filepath.Join(assets, b))
		}
	}
	// Only the project's kubectl: $KUBECTL as the Makefile sets it (a
	// path, never a name looked up on PATH), else the one next to the
	// control plane.
	e.Kubectl = os.Getenv("KUBECTL")
	switch {
	case e.Kubectl == "":
		e.Kubectl = filepath.Join(assets, "kubectl")
	case !strings.ContainsRune(e.Kubectl, filepath.Separator):
		return fmt.Errorf("KUBECTL=%q is not a path; the suite uses only the project's kubectl (bin/k8s/...), never one from PATH", e.Kubectl)
	case !filepath.IsAbs(e.Kubectl):
		e.Kubectl = filepath.Join(e.Root, e.Kubectl)
	}
	if !controlplane.IsExecutable(e.Kubectl) {
		return fmt.Errorf("kubectl %s is not an executable; run it through make", e.Kubectl)
	}

	if e.WorkDir, err = os.MkdirTemp("", "subaccount-"+e.Name+"-"); err != nil {
		return err
	}
	e.LogDir = filepath.Join(e.WorkDir, "logs")
	e.KubeCache = filepath.Join(e.WorkDir, "kube-cache")
	binDir := filepath.Join(e.WorkDir, "bin")
	for _, dir := range []string{e.LogDir, e.KubeCache, binDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	token := make([]byte, 16)
	_, _ = rand.Read(token) // crypto/rand.Read never fails
	e.AdminToken = hex.EncodeToString(token)
	RememberSecret("shopsim's admin token", e.AdminToken)

	// The binaries, as a user would build them.
	e.ManagerBin = filepath.Join(binDir, "manager")
	e.ShopsimBin = filepath.Join(binDir, "shopsim")
	for _, b := range []struct{ out, pkg string }{{e.ManagerBin, "./cmd"}, {e.ShopsimBin, "./cmd/shopsim"}} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir = e.Root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build -o %s %s: %v\n%s", b.out, b.pkg, err, out)
		}
	}

	// The control plane (a failed Start stops what it started).
	cp, err := controlplane.Start(controlplane.Options{AssetsDir: assets,
		CRDDir: filepath.Join(e.Root, "config", "crd", "bases"), Kubectl: e.Kubectl})
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.cp = cp
	e.mu.Unlock()
	admin, err := cp.AddAdmin(adminUser)
	if err != nil {
		return err
	}
	e.Kubeconfig = filepath.Join(e.WorkDir, "kubeconfig")
	return controlplane.WriteKubeconfig(admin, e.Kubeconfig)
}

// ShopsimOptions configure StartShopsim.
type ShopsimOptions struct {
	Config    string // --config; required
	StateFile string // --state-file; "" keeps the state in memory
}

// StartShopsim starts shopsim (again, after StopShopsim: on the same
// address) with the admin token of the run and waits until it answers.
func (e *Env) StartShopsim(opts ShopsimOptions) (*Proc, error) {
	e.mu.Lock()
	if e.ShopsimAddr == "" {
		port, err := freePort()
		if err != nil {
			e.mu.Unlock()
			return nil, err
		}
		e.ShopsimAddr = fmt.Sprintf("127.0.0.1:%d", port)
		e.ShopsimURL = "http://" + e.ShopsimAddr
	}
	e.shopsimN++
	logPath := filepath.Join(e.LogDir, fmt.Sprintf("shopsim-%d.log", e.shopsimN))
	e.mu.Unlock()
	args := []string{"--listen", e.ShopsimAddr, "--config", opts.Config}
	if opts.StateFile != "" {
		args = append(args, "--state-file", opts.StateFile)
	}
	p, err := e.startProc("shopsim", logPath, []string{"SHOPSIM_ADMIN_TOKEN=" + e.AdminToken}, e.ShopsimBin, args...)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.shopsim = p
	e.mu.Unlock()
	// The read-only web page needs no signature; it answers once the
	// state is loaded and the listener is up.
	return p, waitHTTP(p, e.ShopsimURL+"/")
}

// Shopsim is the shopsim process last started.
func (e *Env) Shopsim() *Proc {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.shopsim
}

// ManagerOptions configure StartManager.
type ManagerOptions struct {
	// Name names the log file (<Name>.log; appended to across restarts).
	Name string
	// LeaderElect runs with leader election in namespace default.
	LeaderElect bool
	// Args are extra flags.
	Args []string
	// NoWait returns without waiting for /readyz.
	NoWait bool
	// Metrics serves /metrics over plain http on a free loopback port
	// (Proc.MetricsAddr); otherwise metrics are off.
	Metrics bool
}

// StartManager starts a manager with the gateway driver and debug logs
// (so that the secret hygiene check sees everything), its probes on a
// free port, and waits until it is ready.
func (e *Env) StartManager(opts ManagerOptions) (*Proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	probe := fmt.Sprintf("127.0.0.1:%d", port)
	metrics := "0"
	if opts.Metrics {
		if port, err = freePort(); err != nil {
			return nil, err
		}
		metrics = fmt.Sprintf("127.0.0.1:%d", port)
	}
	args := []string{
		"--kubeconfig", e.Kubeconfig,
		"--platform-driver=gateway",
		"--metrics-bind-address=" + metrics,
		"--metrics-secure=false",
		"--health-probe-bind-address=" + probe,
		"--zap-log-level=debug",
	}
	if opts.LeaderElect {
		args = append(args, "--leader-elect=true", "--leader-election-namespace=default")
	} else {
		args = append(args, "--leader-elect=false")
	}
	args = append(args, opts.Args...)
	p, err := e.startProc(opts.Name, filepath.Join(e.LogDir, opts.Name+".log"), nil, e.ManagerBin, args...)
	if err != nil {
		return nil, err
	}
	p.ProbeAddr = probe
	if opts.Metrics {
		p.MetricsAddr = metrics
	}
	if opts.NoWait {
		return p, nil
	}
	return p, waitHTTP(p, "http://"+probe+"/readyz")
}

// ControllerManagerAvailable reports whether kube-controller-manager is
// next to the control plane ('make envtest-controller-manager').
func (e *Env) ControllerManagerAvailable() bool {
	return controlplane.IsExecutable(filepath.Join(filepath.Dir(e.Kubectl), controlplane.ControllerManager))
}

// StartControllerManager starts kube-controller-manager with only the
// garbage collector and the namespace controller, which envtest lacks:
// owner references, foreground deletion and namespace deletion then work
// as in a cluster. It waits until the controllers have started.
func (e *Env) StartControllerManager() (*Proc, error) {
	bin := filepath.Join(filepath.Dir(e.Kubectl), controlplane.ControllerManager)
	p, err := e.startProc(controlplane.ControllerManager, filepath.Join(e.LogDir, "kube-controller-manager.log"), nil, bin,
		controlplane.ControllerManagerArgs(e.Kubeconfig)...)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(StartTimeout)
	for {
		data, _ := os.ReadFile(p.LogPath)
		if controlplane.ControllerManagerStarted(data) {
			return p, nil
		}
		if done, err := p.Exited(); done {
			return nil, fmt.Errorf("kube-controller-manager exited: %v (output: %s)", err, p.LogPath)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("kube-controller-manager did not start its controllers within %s (output: %s)", StartTimeout, p.LogPath)
		}
		select {
		case <-p.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stopAll stops every process still running, then the control plane.
func (e *Env) stopAll() error {
	e.mu.Lock()
	watches := e.watches
	e.mu.Unlock()
	for _, w := range watches {
		w.Stop() // first, so that they are not started again
	}
	e.mu.Lock()
	procs, cp := e.procs, e.cp
	e.mu.Unlock()
	var errs []error
	// Managers first (they call shopsim and the API server), shopsim last.
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if p.name == "shopsim" {
			continue
		}
		if done, _ := p.Exited(); done {
			continue
		}
		if err := p.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	for _, p := range procs {
		if p.name != "shopsim" {
			continue
		}
		if done, _ := p.Exited(); done {
			continue
		}
		if err := p.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	if cp != nil {
		if err := cp.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("control plane: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Proc is a subprocess in its own process group, its output in a file.
type Proc struct {
	name        string
	LogPath     string
	ProbeAddr   string // a manager's health probe address
	MetricsAddr string // a manager's /metrics address (plain http), if served
	cmd         *exec.Cmd
	done        chan struct{} // closed when it has exited
	waitErr     error         // its exit, once done

	stopCalled atomic.Bool
	stopOnce   sync.Once
	stopErr    error
}

// Name is the process's name.
func (p *Proc) Name() string { return p.name }

// Pid is the process ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

func (e *Env) startProc(name, logPath string, env []string, bin string, args ...string) (*Proc, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = e.WorkDir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so that it and anything it starts can be
	// stopped together; killed if this test binary dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	return p, nil
}

// Exited reports whether the process has exited, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM to the process group, waits up to stopGrace, then
// kills the group. It returns the process's exit error (nil for a clean
// exit after SIGTERM); calling it again returns the same.
func (p *Proc) Stop() error {
	p.stopCalled.Store(true)
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		if done, err := p.Exited(); done {
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

// Kill sends SIGKILL to the process group (a crash: no shutdown code
// runs) and waits until the process has exited.
func (p *Proc) Kill() {
	p.stopCalled.Store(true)
	p.stopOnce.Do(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		p.stopErr = errors.New(p.name + " was killed")
	})
}

// waitHTTP waits until url answers 200, failing early if p exits.
func waitHTTP(p *Proc, url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(StartTimeout)
	for {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s exited before answering %s: %v (output: %s)", p.name, url, err, p.LogPath)
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
			return fmt.Errorf("%s did not answer %s within %s: %v", p.name, url, StartTimeout, err)
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
