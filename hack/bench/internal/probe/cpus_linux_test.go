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

package probe

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCPUMaskRoundTrips(t *testing.T) {
	for _, cpus := range [][]int{{0}, {1}, {0, 1}, {3, 64, 1023}} {
		m := maskOf(cpus)
		if got := m.cpus(); !slices.Equal(got, cpus) {
			t.Errorf("maskOf(%v).cpus() = %v", cpus, got)
		}
	}
}

// --split-cpus pins every thread of a process: the test process pins
// itself to its first CPU, reads the set back, and is given all back.
func TestPinProcessPinsEveryThread(t *testing.T) {
	all, err := AllowedCPUs()
	if err != nil || len(all) == 0 {
		t.Fatalf("AllowedCPUs: %v, %v", all, err)
	}
	t.Cleanup(func() {
		if err := PinProcess("self", all); err != nil {
			t.Fatal(err)
		}
	})
	if err := PinProcess("self", all[:1]); err != nil {
		t.Fatal(err)
	}
	if got, err := AllowedCPUs(); err != nil || !slices.Equal(got, all[:1]) {
		t.Fatalf("after pinning to %v: %v, %v", all[:1], got, err)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		status, err := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
		if err != nil {
			continue // ended meanwhile
		}
		want := "Cpus_allowed_list:\t" + strconv.Itoa(all[0]) + "\n"
		if !strings.Contains(string(status), want) {
			t.Errorf("thread %s is not pinned to CPU %d", task.Name(), all[0])
		}
	}
}

// The manager's sampler reads its status ten times a second: it must read
// the process's own figures, and allocate nothing doing so.
func TestProcStatusReaderReadsWithoutAllocating(t *testing.T) {
	r, err := OpenProcStatus()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.f.Close() }()
	s := r.Sample()
	if s.RSS == 0 || s.HWM < s.RSS || s.Anon == 0 || s.Anon+s.File > s.RSS+s.RSS/10 {
		t.Fatalf("implausible sample %+v", s)
	}
	if allocs := testing.AllocsPerRun(100, func() { r.Sample() }); allocs != 0 {
		t.Errorf("a sample allocated %.1f times", allocs)
	}
}
