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

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/pprof/profile"

	"github.com/subaccount-operator/subaccount-operator/hack/bench/internal/probe"
	"github.com/subaccount-operator/subaccount-operator/internal/controller"
)

// managerOptions are the knobs the manager process runs with: the flags of
// cmd/main.go, and the bench manager's own.
type managerOptions struct {
	Kubeconfig string
	// MetricsAddr is where the manager serves its metrics (a loopback
	// port of the kernel's choosing when empty).
	MetricsAddr string
	QPS         float64
	Burst       int
	Concurrency controller.Concurrency
	BatchDelay  time.Duration
	SyncPeriod  time.Duration
	// MemoryLimit is the manager process's GOMEMLIMIT (the Go runtime's
	// soft memory limit, as --memory-limit-ratio sets it from a
	// container's limit in a cluster); empty leaves it unset.
	MemoryLimit string
	// CPUs, when set, are the only CPUs the manager process runs on
	// (--split-cpus).
	CPUs []int
	// ProfileDir, when set, is where the manager writes the profiles and
	// execution trace of the phases the bench asks for (profile.go).
	ProfileDir string
}

func (m managerOptions) args() []string {
	metrics := m.MetricsAddr
	if metrics == "" {
		metrics = "127.0.0.1:0"
	}
	return []string{"--kubeconfig", m.Kubeconfig,
		// As the chart runs it: leader election, the metrics endpoint
		// over HTTPS behind its authentication, health probes (on
		// loopback ports of the kernel's choosing), logs at error level.
		"--leader-elect=true", "--leader-election-namespace", managerNamespace,
		"--metrics-bind-address", metrics, "--metrics-secure=true", "--health-probe-bind-address", "127.0.0.1:0",
		"--zap-log-level", "error",
		"--kube-api-qps", strconv.FormatFloat(m.QPS, 'f', -1, 64), "--kube-api-burst", strconv.Itoa(m.Burst),
		"--subaccount-concurrency", strconv.Itoa(m.Concurrency.SubAccount),
		"--role-concurrency", strconv.Itoa(m.Concurrency.Role), "--shop-concurrency", strconv.Itoa(m.Concurrency.Shop),
		"--staff-concurrency", strconv.Itoa(m.Concurrency.Staff),
		"--status-batch-delay", m.BatchDelay.String(), "--sync-period", m.SyncPeriod.String(),
		"--profile-dir", m.ProfileDir, "--cpus", cpuList(m.CPUs)}
}

// cpuList is cpus as the manager's --cpus takes them: "1" or "2,3".
func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// managerProc is a running manager process.
type managerProc struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

// managerBinary is the bench's manager (hack/bench/manager), which 'make
// bench' builds next to the bench as bench-manager.
func managerBinary() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	path := filepath.Join(filepath.Dir(self), "bench-manager")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("the bench's manager: %w ('make bench' builds it: go build -o bin/bench-manager ./hack/bench/manager)", err)
	}
	return path, nil
}

func startManager(m managerOptions) (*managerProc, error) {
	binary, err := managerBinary()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, m.args()...)
	cmd.Stderr = os.Stderr
	if m.MemoryLimit != "" {
		cmd.Env = append(os.Environ(), "GOMEMLIMIT="+m.MemoryLimit)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &managerProc{cmd: cmd, done: make(chan error, 1)}
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		_ = cmd.Process.Kill()
		return nil, errors.Join(errors.New("the manager process exited before serving its figures"), cmd.Wait())
	}
	p.addr = lines.Text()
	go func() {
		for lines.Scan() {
		}
		p.done <- cmd.Wait()
	}()
	return p, nil
}

func (p *managerProc) stats() (probe.Stats, error) {
	var s probe.Stats
	resp, err := http.Get("http://" + p.addr + "/")
	if err != nil {
		return s, fmt.Errorf("reading the manager's figures: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// startPhase asks the manager to profile from now on under name (no-op
// without --profile).
func (p *managerProc) startPhase(name string) error {
	_, err := p.post("/phase/start?name=" + name)
	return err
}

// stopPhase ends the profiled phase, has the manager write its files,
// and measures the collector's share of the phase's CPU from its CPU
// profile.
func (p *managerProc) stopPhase() (sampledCPU, error) {
	body, err := p.post("/phase/stop")
	if err != nil {
		return sampledCPU{}, err
	}
	var phase probe.Phase
	if err := json.Unmarshal(body, &phase); err != nil {
		return sampledCPU{}, fmt.Errorf("the manager's phase figures: %w", err)
	}
	prof, err := profile.Parse(bytes.NewReader(phase.CPUProfile))
	if err != nil {
		return sampledCPU{}, fmt.Errorf("reading the manager's CPU profile: %w", err)
	}
	s := gcShare(prof)
	s.Process, s.RuntimeGC, s.RuntimeGCIdle = phase.Process, phase.RuntimeGC, phase.RuntimeGCIdle
	return s, nil
}

func (p *managerProc) post(path string) ([]byte, error) {
	resp, err := http.Post("http://"+p.addr+path, "", nil)
	if err != nil {
		return nil, fmt.Errorf("asking the manager for %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the manager's answer to %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the manager answered %s to %s: %s", resp.Status, path, body)
	}
	return body, nil
}

func (p *managerProc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return errors.New("the manager did not stop within 30s")
	}
}
