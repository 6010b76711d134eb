package harness

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recordingTB records Errorf calls instead of failing.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Helper() {}

// Hygiene finds a remembered value as it is and in base64, in any file of
// the log directory, names what it is and never prints it; clean files
// pass.
func TestHygieneFindsSecretsAndNeverPrintsThem(t *testing.T) {
	dir := t.TempDir()
	old := E.LogDir
	E.LogDir = dir
	t.Cleanup(func() { E.LogDir = old })
	const password, token = "Pw-9f8e7d6c5b4a", "token-0123456789"
	RememberSecret("the test password", password)
	RememberSecret("the test token", token)
	RememberSecret("too short to search", "abc")
	RememberSecret("the test SMS code", "310388")
	files := map[string]string{
		// Digits only match standing alone: not inside a longer number
		// or a decimal fraction.
		"clean.log":   "nothing to see here abc duration=73.310388ms id=93103889 next=3103881\n",
		"shopsim.log": "texted code=310388 to 138****8099\n",
		"manager.log": `{"msg":"set password ` + password + `"}` + "\n" + password,
		"watch.log":   `{"note":"` + base64.StdEncoding.EncodeToString([]byte(token)) + `"}`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recordingTB{TB: t}
	rep := Hygiene(rec)
	if rep.Files != 4 {
		t.Errorf("searched %d files, want 4", rep.Files)
	}
	want := []string{
		"manager.log contains the test password (2 times)",
		"shopsim.log contains the test SMS code (1 times)",
		"watch.log contains base64 of the test token (1 times)",
	}
	if strings.Join(rec.errors, "\n") != strings.Join(want, "\n") {
		t.Errorf("hits:\n%s\nwant:\n%s", strings.Join(rec.errors, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range rec.errors {
		if strings.Contains(e, password) || strings.Contains(e, token) {
			t.Errorf("a report prints the value: %s", e)
		}
	}
}
