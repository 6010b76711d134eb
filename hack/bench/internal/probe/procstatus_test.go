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

import "testing"

func TestProcStatusField(t *testing.T) {
	text := []byte("Name:\tbench\nVmHWM:\t  190464 kB\nVmRSS:\t  150000 kB\nRssAnon:\t  120000 kB\nRssFile:\t   30000 kB\nRssAnonX:\t 1 kB")
	for field, want := range map[string]uint64{"VmHWM": 190464 << 10, "VmRSS": 150000 << 10, "RssAnon": 120000 << 10,
		"RssFile": 30000 << 10, "RssShmem": 0, "Name": 0, "RssAnonX": 1 << 10} {
		if got := ProcStatusField(text, field); got != want {
			t.Errorf("%s: got %d, want %d", field, got, want)
		}
	}
}
