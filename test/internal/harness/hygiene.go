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
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

// secrets are every secret value the suite has seen: none may appear in
// the processes' output (Hygiene). Values say what each is.
var secrets = struct {
	sync.Mutex
	values map[string]string // value -> what it is
}{values: map[string]string{}}

// minSecretLength: shorter values (a test's "pw") would match by chance.
const minSecretLength = 6

// RememberSecret registers a secret value for the hygiene check.
func RememberSecret(what, value string) {
	if len(value) < minSecretLength {
		return
	}
	secrets.Lock()
	defer secrets.Unlock()
	if _, ok := secrets.values[value]; !ok {
		secrets.values[value] = what
	}
}

// RememberStoredPasswords registers the password of every Secret in the
// cluster (also those no test read) and returns how many there were.
func RememberStoredPasswords(t testing.TB) int {
	t.Helper()
	var list struct {
		Items []struct {
			Metadata struct{ Namespace, Name string }
			Data     map[string]string
		}
	}
	if err := json.Unmarshal([]byte(Kubectl(t, "get", "secrets", "-A", "-o", "json")), &list); err != nil {
		t.Fatalf("decoding the Secrets: %v", err)
	}
	n := 0
	for _, s := range list.Items {
		for _, key := range []string{"password", "appSecret", "accessToken"} {
			enc, ok := s.Data[key]
			if !ok {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				t.Fatalf("Secret %s/%s key %s is not base64: %v", s.Metadata.Namespace, s.Metadata.Name, key, err)
			}
			RememberSecret(fmt.Sprintf("the %s in Secret %s/%s", key, s.Metadata.Namespace, s.Metadata.Name), string(raw))
			if key == "password" {
				n++
			}
		}
	}
	return n
}

// HygieneReport is what Hygiene searched.
type HygieneReport struct {
	Files  int
	Bytes  int
	Values int
}

// Hygiene searches every file in LogDir (process output and the watches of
// Events and statuses) for every remembered secret value, as it is and in
// base64, and fails t for each file that holds one, naming what it is,
// never the value. Stop the processes first so that their whole output is
// there.
func Hygiene(t testing.TB) HygieneReport {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(E.LogDir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	secrets.Lock()
	needles := map[string]string{} // form -> description
	for v, what := range secrets.values {
		needles[v] = what
		needles[base64.StdEncoding.EncodeToString([]byte(v))] = "base64 of " + what
	}
	values := len(secrets.values)
	secrets.Unlock()
	// One pass per distinct length: every window of that length is looked
	// up in the set, so the cost does not grow with the number of values.
	byLen := map[int]map[string]string{}
	for n, what := range needles {
		if byLen[len(n)] == nil {
			byLen[len(n)] = map[string]string{}
		}
		byLen[len(n)][n] = what
	}
	rep := HygieneReport{Files: len(files), Values: values}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rep.Bytes += len(data)
		hits := map[string]int{}
		for n, set := range byLen {
			for i := 0; i+n <= len(data); i++ {
				if what, ok := set[string(data[i:i+n])]; ok && standsAlone(data, i, n) {
					hits[what]++
				}
			}
		}
		whats := make([]string, 0, len(hits))
		for w := range hits {
			whats = append(whats, w)
		}
		sort.Strings(whats)
		for _, w := range whats {
			// Never print the value itself.
			t.Errorf("%s contains %s (%d times)", filepath.Base(f), w, hits[w])
		}
	}
	return rep
}

// standsAlone reports whether data[i:i+n] can be the secret itself rather
// than a chance match: a value of digits only (an SMS code) is one only
// where it is not part of a longer number or a decimal fraction, as in a
// log's "duration=73.310388ms" or an account ID; any other value always is.
func standsAlone(data []byte, i, n int) bool {
	for _, c := range data[i : i+n] {
		if !isDigit(c) {
			return true
		}
	}
	if i+n < len(data) && isDigit(data[i+n]) {
		return false
	}
	if i > 0 && isDigit(data[i-1]) {
		return false
	}
	return !(i > 1 && data[i-1] == '.' && isDigit(data[i-2]))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
