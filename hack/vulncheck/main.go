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

// Command vulncheck runs govulncheck offline and fails on any known
// vulnerability the code reaches that hack/vulncheck-accepted.txt does not
// accept with a reason ('make vulncheck', run by .ci/run).
//
// The vulnerability database is -db (GOVULNDB) when given. Otherwise it is
// built once into the per-user cache from golang.org/x/vulndb at a pinned
// version, which the Go module proxy serves: its data/osv directory holds the
// OSV records and its cmd/indexdb writes the database govulncheck reads
// (vuln.go.dev itself is not reachable from every machine that can reach the
// module proxy).
//
// Usage: go run ./hack/vulncheck [-db URL] [-govulncheck PATH] [-accepted FILE] [packages]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

func main() {
	db := flag.String("db", os.Getenv("GOVULNDB"), "vulnerability database URL (file://, https://); empty: build one from golang.org/x/vulndb@-vulndb-version into the per-user cache")
	vulndbVersion := flag.String("vulndb-version", "", "version of golang.org/x/vulndb to build the database from")
	govulncheck := flag.String("govulncheck", "bin/govulncheck", "the govulncheck command")
	acceptedFile := flag.String("accepted", "hack/vulncheck-accepted.txt", "findings accepted, one per line: ID and the reason")
	flag.Parse()
	patterns := flag.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	if err := run(context.Background(), *db, *vulndbVersion, *govulncheck, *acceptedFile, patterns, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, db, vulndbVersion, govulncheck, acceptedFile string, patterns []string, out io.Writer) error {
	data, err := os.ReadFile(acceptedFile)
	if err != nil {
		return fmt.Errorf("reading the accepted findings: %w", err)
	}
	accepted, err := parseAccepted(string(data))
	if err != nil {
		return fmt.Errorf("%s: %w", acceptedFile, err)
	}
	source, date := db, ""
	if db == "" {
		if vulndbVersion == "" {
			return errors.New("neither -db (GOVULNDB) nor -vulndb-version given")
		}
		dir, err := ensureDatabase(ctx, vulndbVersion)
		if err != nil {
			return err
		}
		db = "file://" + dir
		source = "golang.org/x/vulndb@" + vulndbVersion + ", built into " + dir
		// indexdb dates the database by its records' "modified" fields, which
		// x/vulndb's data/osv leaves at zero; the commit's time is the date.
		if date, err = pseudoVersionDate(vulndbVersion); err != nil {
			return err
		}
	}

	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, govulncheck, append([]string{"-db", db, "-format", "json"}, patterns...)...)
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running %s: %w", govulncheck, err)
	}
	rep, err := parseReport(&stdout)
	if err != nil {
		return fmt.Errorf("reading govulncheck's output: %w", err)
	}
	if date == "" {
		date = rep.dbModified
	}
	fmt.Fprintf(out, "vulncheck: %s %s, %s, database %s, dated %s\n",
		rep.scanner, rep.scannerVersion, rep.goVersion, source, date)
	return judge(rep, accepted, acceptedFile, out)
}

// pseudoVersionDate returns the commit date of a pseudo-version such as
// v0.0.0-20261105234957-e22db6528018.
func pseudoVersionDate(version string) (string, error) {
	m := pseudoVersionRE.FindStringSubmatch(version)
	if m == nil {
		return "", fmt.Errorf("%s is not a pseudo-version (v0.0.0-yyyymmddhhmmss-commit)", version)
	}
	t, err := time.Parse("20060102150405", m[1])
	if err != nil {
		return "", fmt.Errorf("the time in pseudo-version %s: %w", version, err)
	}
	return t.Format("2006-01-02 15:04 UTC"), nil
}

var pseudoVersionRE = regexp.MustCompile(`-(\d{14})-[0-9a-f]{12}$`)

// cacheDir is where the database is built: ${XDG_CACHE_HOME:-$HOME/.cache},
// the same per-user cache as the envtest control plane.
func cacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(home, ".cache"), nil
}

// ensureDatabase returns the directory of the database built from
// golang.org/x/vulndb@version, building it the first time. It is written
// under a temporary name and renamed when complete, so an interrupted build
// is never taken for a database.
func ensureDatabase(ctx context.Context, version string) (string, error) {
	cache, err := cacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "subaccount-operator", "vulndb", version)
	if _, err := os.Stat(filepath.Join(dir, "index", "db.json")); err == nil {
		return dir, nil
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "vulncheck: building the vulnerability database from golang.org/x/vulndb@%s into %s\n", version, dir)
	module := "golang.org/x/vulndb@" + version
	var download bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module)
	cmd.Stdout, cmd.Stderr = &download, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("downloading %s: %w", module, err)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(download.Bytes(), &mod); err != nil {
		return "", fmt.Errorf("reading go mod download's output for %s: %w", module, err)
	}
	if mod.Error != "" || mod.Dir == "" {
		return "", fmt.Errorf("downloading %s: %s", module, mod.Error)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("creating the cache directory: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return "", fmt.Errorf("creating a temporary directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	built := filepath.Join(tmp, "db")
	cmd = exec.CommandContext(ctx, "go", "run", "golang.org/x/vulndb/cmd/indexdb@"+version,
		"-vulns", filepath.Join(mod.Dir, "data", "osv"), "-out", built)
	// go run of a module at a version must not see this repository's go.mod.
	cmd.Dir = tmp
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the database with %s's cmd/indexdb: %w", module, err)
	}
	if err := os.Rename(built, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("moving the database into place: %w", err)
	}
	fmt.Fprintf(os.Stderr, "vulncheck: database built in %s\n", time.Since(start).Round(time.Second))
	return dir, nil
}

// report is what govulncheck's JSON stream says.
type report struct {
	scanner, scannerVersion, goVersion, dbModified string
	// summaries of the OSV records govulncheck looked at, by ID.
	summaries map[string]string
	// called holds the findings whose vulnerable function the code calls (what
	// govulncheck's text output reports), one per ID, in the order first seen;
	// the others only import a vulnerable package or require a vulnerable
	// module.
	called      []finding
	uncalledIDs []string
}

type finding struct {
	id, fixed string
	frame     frame // the vulnerable function
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

// message is one object of govulncheck's JSON stream (golang.org/x/vuln's
// internal/govulncheck.Message; only the fields used here).
type message struct {
	Config *struct {
		ScannerName    string     `json:"scanner_name"`
		ScannerVersion string     `json:"scanner_version"`
		DBLastModified *time.Time `json:"db_last_modified"`
		GoVersion      string     `json:"go_version"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

func parseReport(r io.Reader) (*report, error) {
	rep := &report{summaries: map[string]string{}, dbModified: "unknown"}
	seen := map[string]bool{}
	var uncalled []string
	dec := json.NewDecoder(r)
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch {
		case m.Config != nil:
			rep.scanner, rep.scannerVersion, rep.goVersion = m.Config.ScannerName, m.Config.ScannerVersion, m.Config.GoVersion
			if m.Config.DBLastModified != nil && !m.Config.DBLastModified.IsZero() {
				rep.dbModified = m.Config.DBLastModified.UTC().Format(time.DateOnly)
			}
		case m.OSV != nil:
			rep.summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil:
			f := m.Finding
			if len(f.Trace) == 0 {
				return nil, fmt.Errorf("finding %s without a trace", f.OSV)
			}
			if f.Trace[0].Function == "" {
				uncalled = append(uncalled, f.OSV)
				continue
			}
			if !seen[f.OSV] {
				seen[f.OSV] = true
				rep.called = append(rep.called, finding{id: f.OSV, fixed: f.FixedVersion, frame: f.Trace[0]})
			}
		}
	}
	if rep.scanner == "" {
		return nil, errors.New("no config message: not govulncheck's JSON output")
	}
	for _, id := range uncalled {
		if !seen[id] && !slices.Contains(rep.uncalledIDs, id) {
			rep.uncalledIDs = append(rep.uncalledIDs, id)
		}
	}
	return rep, nil
}

// parseAccepted reads "ID reason" lines; blank lines and # comments are
// skipped. A finding is accepted only with a reason.
func parseAccepted(text string) (map[string]string, error) {
	accepted := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		reason = strings.TrimSpace(reason)
		if !strings.HasPrefix(id, "GO-") {
			return nil, fmt.Errorf("line %d: %q is not a Go vulnerability ID (GO-YYYY-NNNN)", n, id)
		}
		if reason == "" {
			return nil, fmt.Errorf("line %d: %s is accepted without a reason", n, id)
		}
		if _, dup := accepted[id]; dup {
			return nil, fmt.Errorf("line %d: %s is listed twice", n, id)
		}
		accepted[id] = reason
	}
	return accepted, sc.Err()
}

// judge prints each finding the code reaches and whether it is accepted, and
// fails when one is not.
func judge(rep *report, accepted map[string]string, acceptedFile string, out io.Writer) error {
	var refused []string
	for _, f := range rep.called {
		fn := f.frame.Function
		if f.frame.Receiver != "" {
			fn = f.frame.Receiver + "." + fn
		}
		fixed := "no fixed version"
		if f.fixed != "" {
			fixed = "fixed in " + f.fixed
		}
		where := f.frame.Module
		if f.frame.Version != "" {
			where += "@" + f.frame.Version
		}
		line := fmt.Sprintf("%s: %s %s.%s (%s): %s", f.id, where, f.frame.Package, fn, fixed, rep.summaries[f.id])
		if reason, ok := accepted[f.id]; ok {
			fmt.Fprintf(out, "vulncheck: accepted  %s\n    reason: %s\n", line, reason)
			continue
		}
		fmt.Fprintf(out, "vulncheck: FOUND     %s\n", line)
		refused = append(refused, f.id)
	}
	for _, id := range slices.Sorted(maps.Keys(accepted)) {
		if !slices.ContainsFunc(rep.called, func(f finding) bool { return f.id == id }) {
			fmt.Fprintf(out, "vulncheck: %s accepts %s, which is no longer found: remove it\n", acceptedFile, id)
		}
	}
	if len(rep.uncalledIDs) > 0 {
		fmt.Fprintf(out, "vulncheck: %d more in imported packages or required modules, none of their vulnerable functions called (not counted): %s\n",
			len(rep.uncalledIDs), strings.Join(rep.uncalledIDs, " "))
	}
	if len(refused) > 0 {
		return fmt.Errorf("%d known vulnerabilities reachable from the code and not accepted in %s: %s",
			len(refused), acceptedFile, strings.Join(refused, " "))
	}
	if len(rep.called) == 0 {
		fmt.Fprintln(out, "vulncheck: OK, no known vulnerability reachable from the code")
	} else {
		fmt.Fprintf(out, "vulncheck: OK, %d reachable, all accepted\n", len(rep.called))
	}
	return nil
}
