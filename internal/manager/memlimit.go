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

package manager

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// The memory limit of the container, as the kernel's cgroup files give it:
// cgroup v2 first, then v1. Paths are relative to the root of fsys.
var cgroupMemoryLimitFiles = []string{
	"sys/fs/cgroup/memory.max",                   // v2: a number of bytes, or "max"
	"sys/fs/cgroup/memory/memory.limit_in_bytes", // v1: a number; "no limit" is a huge one
}

// noLimitAbove: cgroup v1 says "no limit" with a value near the largest
// page-aligned int64; anything above 2^60 bytes is taken as no limit.
const noLimitAbove = 1 << 60

// cgroupMemoryLimit reads the container's memory limit in bytes from fsys
// (the host's / in production). ok is false when there is none or no
// cgroup file can be read.
func cgroupMemoryLimit(fsys fs.FS) (limit int64, ok bool, err error) {
	for _, name := range cgroupMemoryLimitFiles {
		data, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("reading %s: %w", name, err)
		}
		text := strings.TrimSpace(string(data))
		if text == "max" {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("reading %s: %q is not a number of bytes", name, text)
		}
		if n <= 0 || n > noLimitAbove {
			return 0, false, nil
		}
		return n, true, nil
	}
	return 0, false, nil
}

// softMemoryLimit is the Go runtime's soft memory limit the manager sets:
// ratio of the container's limit, so that the garbage collector works
// harder as the heap nears the limit instead of the kernel killing the
// process. It is zero (leave the runtime alone) when GOMEMLIMIT is set,
// ratio is outside (0, 1], or the container has no limit.
func softMemoryLimit(fsys fs.FS, goMemLimitEnv string, ratio float64) (int64, error) {
	if goMemLimitEnv != "" || ratio <= 0 || ratio > 1 {
		return 0, nil
	}
	limit, ok, err := cgroupMemoryLimit(fsys)
	if err != nil || !ok {
		return 0, err
	}
	return int64(math.Floor(float64(limit) * ratio)), nil
}
