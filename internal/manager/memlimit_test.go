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
	"testing"
	"testing/fstest"
)

func TestSoftMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	v2 := func(s string) fstest.MapFS {
		return fstest.MapFS{"sys/fs/cgroup/memory.max": {Data: []byte(s)}}
	}
	v1 := func(s string) fstest.MapFS {
		return fstest.MapFS{"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte(s)}}
	}
	cases := []struct {
		name    string
		fsys    fstest.MapFS
		env     string
		ratio   float64
		want    int64
		wantErr bool
	}{
		{name: "cgroup v2 limit", fsys: v2("268435456\n"), ratio: 0.9, want: 241591910},
		{name: "cgroup v2 no limit", fsys: v2("max\n"), ratio: 0.9, want: 0},
		{name: "cgroup v1 limit", fsys: v1("536870912\n"), ratio: 0.5, want: 256 * mib},
		{name: "cgroup v1 no limit", fsys: v1("9223372036854771712\n"), ratio: 0.9, want: 0},
		{name: "v2 wins over v1", fsys: fstest.MapFS{
			"sys/fs/cgroup/memory.max":                   {Data: []byte("104857600")},
			"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("536870912")},
		}, ratio: 1, want: 100 * mib},
		{name: "no cgroup files", fsys: fstest.MapFS{}, ratio: 0.9, want: 0},
		{name: "GOMEMLIMIT set by the user wins", fsys: v2("268435456"), env: "200MiB", ratio: 0.9, want: 0},
		{name: "ratio 0 turns it off", fsys: v2("268435456"), ratio: 0, want: 0},
		{name: "ratio above 1 is ignored", fsys: v2("268435456"), ratio: 1.5, want: 0},
		{name: "garbage in the cgroup file", fsys: v2("lots"), ratio: 0.9, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := softMemoryLimit(tc.fsys, tc.env, tc.ratio)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("limit = %d, want %d", got, tc.want)
			}
		})
	}
}
