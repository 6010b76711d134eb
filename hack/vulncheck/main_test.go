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
	"os"
	"slices"
	"strings"
	"testing"
)

// stream is govulncheck's JSON output in the shape of a real run: one
// vulnerability called twice (two traces), one only imported, one only
// required.
const stream = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","scanner_version":"v1.9.0","db":"file:///db","db_last_modified":"2026-11-05T23:49:57Z","go_version":"go1.27.3","scan_level":"symbol","scan_mode":"source"}}
{"progress":{"message":"Scanning your code and 412 packages across 61 dependent modules for known vulnerabilities..."}}
{"osv":{"schema_version":"1.3.1","id":"GO-2026-0001","summary":"Excessive memory use in net/http","affected":[]}}
{"osv":{"schema_version":"1.3.1","id":"GO-2026-0002","summary":"Panic in x/net/html","affected":[]}}
{"osv":{"schema_version":"1.3.1","id":"GO-2026-0003","summary":"Something in a required module","affected":[]}}
{"finding":{"osv":"GO-2026-0003","fixed_version":"v1.2.0","trace":[{"module":"example.com/m","version":"v1.1.0"}]}}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v0.60.0","trace":[{"module":"golang.org/x/net","version":"v0.58.0","package":"golang.org/x/net/html"}]}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"ReadRequest"},{"module":"example.com/op","package":"example.com/op/cmd","function":"main"}]}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"Serve","receiver":"*Server"},{"module":"example.com/op","package":"example.com/op/cmd","function":"run"}]}}
`

func TestParseReport(t *testing.T) {
	rep, err := parseReport(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if rep.scannerVersion != "v1.9.0" || rep.goVersion != "go1.27.3" || rep.dbModified != "2026-11-05" {
		t.Errorf("config: %+v", rep)
	}
	if len(rep.called) != 1 || rep.called[0].id != "GO-2026-0001" || rep.called[0].frame.Function != "ReadRequest" || rep.called[0].fixed != "v1.26.9" {
		t.Errorf("called: %+v, want GO-2026-0001 once, from its first trace", rep.called)
	}
	if !slices.Equal(rep.uncalledIDs, []string{"GO-2026-0003", "GO-2026-0002"}) {
		t.Errorf("uncalled: %v", rep.uncalledIDs)
	}
}

func TestParseReportRejectsOtherInput(t *testing.T) {
	for name, in := range map[string]string{
		"text output":           "No vulnerabilities found.\n",
		"no config":             `{"progress":{"message":"x"}}`,
		"finding with no trace": `{"config":{"scanner_name":"govulncheck"}}` + "\n" + `{"finding":{"osv":"GO-2026-0001"}}`,
	} {
		if _, err := parseReport(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseAccepted(t *testing.T) {
	got, err := parseAccepted("# comment\n\nGO-2026-0001   not reachable with our TLS config\n")
	if err != nil {
		t.Fatal(err)
	}
	if got["GO-2026-0001"] != "not reachable with our TLS config" || len(got) != 1 {
		t.Errorf("got %v", got)
	}
	for name, in := range map[string]string{
		"no reason": "GO-2026-0001\n",
		"not an ID": "CVE-2026-1 reason\n",
		"twice":     "GO-2026-0001 a\nGO-2026-0001 b\n",
	} {
		if _, err := parseAccepted(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestJudge(t *testing.T) {
	rep, err := parseReport(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		accepted map[string]string
		wantErr  bool
		want     []string // lines the output must contain
	}{
		{
			name:    "a reachable finding not accepted fails",
			wantErr: true,
			want:    []string{"FOUND     GO-2026-0001: stdlib@v1.26.8 net/http.ReadRequest (fixed in v1.26.9): Excessive memory use in net/http"},
		},
		{
			name:     "accepted with its reason passes",
			accepted: map[string]string{"GO-2026-0001": "only reached by the test server"},
			want:     []string{"accepted  GO-2026-0001", "reason: only reached by the test server", "OK, 1 reachable, all accepted"},
		},
		{
			name:     "an entry no longer found is reported",
			accepted: map[string]string{"GO-2026-0001": "r", "GO-2025-9999": "fixed long ago"},
			want:     []string{"accepts GO-2025-9999, which is no longer found: remove it"},
		},
		{
			name:     "accepting an uncalled finding does not accept a called one",
			accepted: map[string]string{"GO-2026-0002": "imported only"},
			wantErr:  true,
			want:     []string{"FOUND     GO-2026-0001", "accepts GO-2026-0002, which is no longer found"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := judge(rep, tc.accepted, "accepted.txt", &out)
			if (err != nil) != tc.wantErr {
				t.Errorf("error %v, want error: %v", err, tc.wantErr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestPseudoVersionDate(t *testing.T) {
	got, err := pseudoVersionDate("v0.0.0-20261105234957-e22db6528018")
	if err != nil || got != "2026-11-05 23:49 UTC" {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := pseudoVersionDate("v1.2.3"); err == nil {
		t.Error("v1.2.3 taken for a pseudo-version")
	}
}

func TestParseReportZeroDate(t *testing.T) {
	in := `{"config":{"scanner_name":"govulncheck","db_last_modified":"0001-01-01T00:00:00Z"}}`
	rep, err := parseReport(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if rep.dbModified != "unknown" {
		t.Errorf("a zero date read as %q", rep.dbModified)
	}
}

// TestAcceptedFileParses: the committed list is well-formed.
func TestAcceptedFileParses(t *testing.T) {
	data, err := os.ReadFile("../vulncheck-accepted.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseAccepted(string(data)); err != nil {
		t.Error(err)
	}
}
