// Package docs_test checks that the project's documentation stands alone: a
// user has the repository and nothing else, so no document may send the
// reader to a file outside it (the sources the project was built from, a
// developer's machine).
package docs_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// repoRoot is the repository's root, from this package's directory.
const repoRoot = "../.."

// checkedTrees are the documents a user reads: the README, docs/, the chart
// (its README, values and templates) and config/ (kustomize, samples).
var checkedTrees = []string{"README.md", "docs", "charts", "config"}

// outsideMentions are references in any text (links, code spans, prose) to
// files no user has: the shared sources the project started from, and
// absolute paths on a developer's machine. (A placeholder such as
// GOVULNDB=file:///path/to/mirror is the reader's own path and allowed.)
var outsideMentions = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`(^|[^A-Za-z0-9_-])shared/(docs|seeds)\b`), "the shared sources (shared/docs, shared/seeds)"},
	{regexp.MustCompile(`\.\./shared\b`), "a directory beside the repository (../shared)"},
	{regexp.MustCompile(`(^|[\s("'\x60=:])/(work|home|root|Users)/`), "an absolute path on a local machine"},
}

// mdLink matches a Markdown link or image target, and an HTML href or src.
// codeSpan is an inline code span (one backtick each side).
var codeSpan = regexp.MustCompile("`[^`]*`")

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)|(?:href|src)="([^"]+)"`)

// problems lists what in content (the file at rel, slash-separated, relative
// to root) points outside the repository.
func problems(root, rel, content string) []string {
	var out []string
	for i, line := range strings.Split(content, "\n") {
		at := fmt.Sprintf("%s:%d", rel, i+1)
		for _, m := range outsideMentions {
			if m.re.MatchString(line) {
				out = append(out, fmt.Sprintf("%s: names %s: %s", at, m.what, strings.TrimSpace(line)))
			}
		}
		if !strings.HasSuffix(rel, ".md") {
			continue
		}
		// Markdown makes no link inside a code span: a regular expression
		// such as `[a-z]([-a-z]{0,61})` in docs/api.md is not one.
		for _, sub := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, "``"), -1) {
			target := sub[1] + sub[2]
			if p := linkProblem(root, rel, target); p != "" {
				out = append(out, fmt.Sprintf("%s: link %q %s", at, target, p))
			}
		}
	}
	return out
}

// linkProblem says what is wrong with a link target in the document at rel,
// or "" when it is a web URL, an anchor, or a file inside the repository
// that exists.
func linkProblem(root, rel, target string) string {
	if strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
		return ""
	}
	if i := strings.Index(target, "://"); i > 0 {
		if strings.HasPrefix(target, "file:") {
			return "is a local file URL"
		}
		return ""
	}
	if strings.HasPrefix(target, "/") || filepath.IsAbs(target) {
		return "is an absolute path"
	}
	path, _, _ := strings.Cut(target, "#")
	joined := filepath.Join(filepath.Dir(filepath.FromSlash(rel)), filepath.FromSlash(path))
	if joined == ".." || strings.HasPrefix(joined, ".."+string(filepath.Separator)) {
		return "leaves the repository"
	}
	if _, err := os.Stat(filepath.Join(root, joined)); err != nil {
		return "names a file that does not exist in the repository"
	}
	return ""
}

func TestDocsStandAlone(t *testing.T) {
	g := NewWithT(t)
	var found []string
	checked := 0
	for _, tree := range checkedTrees {
		err := filepath.WalkDir(filepath.Join(repoRoot, tree), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			content, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("reading %s: %w", path, err)
			}
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return fmt.Errorf("locating %s: %w", path, err)
			}
			checked++
			found = append(found, problems(repoRoot, filepath.ToSlash(rel), string(content))...)
			return nil
		})
		g.Expect(err).NotTo(HaveOccurred())
	}
	// The walk must have seen the documents, or an empty result proves nothing.
	g.Expect(checked).To(BeNumerically(">", 20))
	g.Expect(found).To(BeEmpty(), "documents must not point outside the repository; copy the facts in and say where they come from")
}

// TestProblemsFindsOutsideReferences keeps the checker honest: each kind of
// reference it must refuse, and the kinds it must let through.
func TestProblemsFindsOutsideReferences(t *testing.T) {
	root := t.TempDir()
	g := NewWithT(t)
	g.Expect(os.MkdirAll(filepath.Join(root, "docs", "gitops"), 0o755)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(root, "docs", "api.md"), nil, 0o644)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(root, "README.md"), nil, 0o644)).To(Succeed())

	for _, tc := range []struct {
		rel, content string
		bad          bool
	}{
		{"docs/x.md", "see `/work/shared/docs/platforms.md`, section 2", true},
		{"docs/x.md", "see shared/docs/platforms.md", true},
		{"docs/x.md", "the pages in ../shared/seeds/", true},
		{"docs/x.md", "[platforms](../../shared/docs/platforms.md)", true},
		{"docs/x.md", "[outside](../../other/README.md)", true},
		{"docs/x.md", "[abs](/etc/passwd)", true},
		{"docs/x.md", "[gone](missing.md)", true},
		{"docs/x.md", `<a href="file:///home/me/notes.md">notes</a>`, true},
		{"charts/c/values.yaml", "# see /home/me/values.yaml", true},
		{"docs/x.md", "[api](api.md#shop), [readme](../README.md), [web](https://example.com/a)", false},
		{"docs/gitops/x.md", "[api](../api.md)", false},
		{"docs/x.md", "Pattern: `^([A-Za-z0-9]([-A-Za-z0-9_.]\\{0,61\\}[A-Za-z0-9])?)?$`", false},
		{"docs/x.md", "`code` then [gone](missing.md)", true},
		{"docs/x.md", "a shared string; `kubectl` reads ~/.kube/config; run /tmp/bench", false},
	} {
		got := problems(root, tc.rel, tc.content)
		if tc.bad {
			g.Expect(got).NotTo(BeEmpty(), "%s: %s", tc.rel, tc.content)
		} else {
			g.Expect(got).To(BeEmpty(), "%s: %s", tc.rel, tc.content)
		}
	}
}
