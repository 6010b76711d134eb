//go:build unix

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

// Package hack holds only this test: hack/envtest-assets.sh on every path a
// first run can take, in seconds, with stand-ins for go and setup-envtest.
// CI runs with a warm cache, so without it the cold paths are never run
// before a new user runs them.
package hack

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	k8sVersion  = "1.37.1"
	etcdVersion = "3.7.3"
)

var core = []string{"etcd", "kube-apiserver", "kubectl"}

// stubGo stands in for the go command: it records each call in $STUB_LOG and
// writes a small shell script where go build would write a binary. A build
// of $STUB_FAIL_BUILD writes half a file and fails; a build of
// $STUB_INTERRUPT_BUILD writes half a file and kills the whole process group
// (the script and everything it started), as Ctrl-C or a lost machine would.
const stubGo = `#!/bin/sh
set -eu
echo "go $*" >> "$STUB_LOG"
case "$1" in
env) echo "$STUB_GOMODCACHE" ;;
mod)
  if [ "$2" = download ]; then
    mod="$4"
    dir="$STUB_GOMODCACHE/cache/download/${mod%@*}/@v"
    mkdir -p "$dir"
    printf 'module k8s.io/kubernetes\n\nreplace k8s.io/api => ./staging/src/k8s.io/api\n' > "$dir/${mod#*@}.mod"
  fi ;;
build)
  out= pkg=
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
    -o) out="$2"; shift ;;
    -ldflags) shift ;;
    -*) ;;
    *) pkg="$1" ;;
    esac
    shift
  done
  case "$pkg" in
  go.etcd.io/etcd/server/v3) name=etcd ;;
  *) name="${pkg##*/}" ;;
  esac
  if [ "$name" = "${STUB_FAIL_BUILD:-}" ] || [ "$name" = "${STUB_INTERRUPT_BUILD:-}" ]; then
    printf '#!/bin/sh\necho half of %s\n' "$name" > "$out"
    chmod +x "$out"
    [ "$name" = "${STUB_FAIL_BUILD:-}" ] && exit 1
    kill -9 0
  fi
  echo "build $name" >> "$STUB_LOG"
  printf '#!/bin/sh\necho built %s\n# complete\n' "$name" > "$out"
  chmod +x "$out" ;;
install)
  echo "install $2" >> "$STUB_LOG"
  cp "$STUB_DIR/setup-envtest.stub" "$GOBIN/setup-envtest" ;;
esac
`

// stubSetupEnvtest stands in for setup-envtest; $STUB_NETWORK says what the
// network does: "up" (the index and the archive come), "offline" (a DNS
// failure at once, like this machine) or "hang" (nothing ever answers).
// STUB_ARCHIVE_KUBECTL=none makes an archive without kubectl.
const stubSetupEnvtest = `#!/bin/sh
set -eu
cmd="$1"
echo "setup-envtest $cmd" >> "$STUB_LOG"
shift
store=
while [ $# -gt 0 ]; do
  case "$1" in
  --bin-dir) store="$2"; shift ;;
  esac
  shift
done
case "${STUB_NETWORK:-offline}" in
offline)
  echo 'unable to perform request to get index: dial tcp: lookup raw.githubusercontent.com: no such host' >&2
  exit 2 ;;
hang) exec sleep 600 ;;
esac
if [ "$cmd" = list ]; then
  echo '(available) v1.37.0 linux/amd64'
  exit 0
fi
dir="$store/k8s/1.37.0-linux-amd64"
mkdir -p "$dir"
for b in etcd kube-apiserver ${STUB_ARCHIVE_KUBECTL:-kubectl}; do
  printf '#!/bin/sh\necho released %s\n# complete\n' "$b" > "$dir/$b"
  chmod 555 "$dir/$b"
done
chmod 555 "$dir"
printf '%s' "$dir"
`

// scriptEnv is one empty machine: its own cache, bin dir, temp dir and stubs.
type scriptEnv struct {
	t                               *testing.T
	script, dir, bin, log           string
	buildDir, releaseDir, assetsDir string
	env                             []string
}

func newScriptEnv(t *testing.T) *scriptEnv {
	t.Helper()
	script, err := filepath.Abs("envtest-assets.sh")
	if err != nil {
		t.Fatal(err)
	}
	// ENVTEST_ASSETS_SCRIPT runs these cases against another copy (e.g. an
	// older version, to see them fail).
	if s := os.Getenv("ENVTEST_ASSETS_SCRIPT"); s != "" {
		script = s
	}
	dir := t.TempDir()
	// setup-envtest leaves read-only directories; let TempDir remove them.
	t.Cleanup(func() { makeWritable(dir) })
	e := &scriptEnv{
		t:          t,
		script:     script,
		dir:        dir,
		bin:        filepath.Join(dir, "bin"),
		log:        filepath.Join(dir, "calls.log"),
		buildDir:   filepath.Join(dir, "cache/subaccount-operator/envtest/k8s-"+k8sVersion+"-etcd-"+etcdVersion),
		releaseDir: filepath.Join(dir, "cache/subaccount-operator/envtest/release-1.37"),
		assetsDir:  filepath.Join(dir, "bin/k8s/"+k8sVersion+"-etcd-"+etcdVersion),
	}
	stubs := filepath.Join(dir, "stubs")
	for _, d := range []string{stubs, filepath.Join(dir, "tmp"), filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The index host's address: a local listener, so the script's connection
	// probe passes and the stub setup-envtest decides what the network does.
	index, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = index.Close() })
	writeExecutable(t, filepath.Join(stubs, "go"), stubGo)
	writeExecutable(t, filepath.Join(stubs, "setup-envtest.stub"), stubSetupEnvtest)
	e.env = []string{
		// The stub go first; the rest for bash, coreutils and timeout.
		"PATH=" + stubs + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"TMPDIR=" + filepath.Join(dir, "tmp"),
		"K8S_VERSION=" + k8sVersion,
		"ETCD_VERSION=" + etcdVersion,
		"ENVTEST_INDEX_ADDR=" + index.Addr().String(),
		"STUB_DIR=" + stubs,
		"STUB_LOG=" + e.log,
		"STUB_GOMODCACHE=" + filepath.Join(dir, "gomodcache"),
	}
	return e
}

// run runs the script once with extra environment variables and returns its
// standard output, standard error and exit error.
func (e *scriptEnv) run(extra ...string) (string, string, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", e.script, e.bin)
	cmd.Env = append(slices.Clone(e.env), extra...)
	// Its own process group, so a stub can kill the script and its children
	// without killing the test, and a timeout kills all of them.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		e.t.Fatalf("the script did not finish within 2 minutes; stderr:\n%s", stderr.String())
	}
	return stdout.String(), stderr.String(), err
}

// calls returns the calls recorded so far with the given prefix ("build",
// "install", "setup-envtest"), without the prefix.
func (e *scriptEnv) calls(prefix string) []string {
	e.t.Helper()
	data, err := os.ReadFile(e.log)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), prefix+" "); ok {
			out = append(out, rest)
		}
	}
	return out
}

// seed puts finished binaries into the cache, as an earlier run would have.
func (e *scriptEnv) seed(dir string, names ...string) {
	e.t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	for _, n := range names {
		writeExecutable(e.t, filepath.Join(dir, n), "#!/bin/sh\necho cached "+n+"\n# complete\n")
	}
}

// checkLinks fails unless bin/k8s/... links each name to a complete binary
// in the given cache directory, and links nothing else.
func (e *scriptEnv) checkLinks(want map[string]string) {
	e.t.Helper()
	entries, err := os.ReadDir(e.assetsDir)
	if err != nil {
		e.t.Fatalf("assets directory: %v", err)
	}
	var got []string
	for _, entry := range entries {
		got = append(got, entry.Name())
	}
	var names []string
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(got, names) {
		e.t.Errorf("bin/k8s holds %v, want %v", got, names)
	}
	for name, dir := range want {
		link := filepath.Join(e.assetsDir, name)
		target, err := os.Readlink(link)
		if err != nil {
			e.t.Errorf("%s: %v", name, err)
			continue
		}
		if target != filepath.Join(dir, name) {
			e.t.Errorf("%s links to %s, want %s", name, target, filepath.Join(dir, name))
		}
		data, err := os.ReadFile(link)
		if err != nil {
			e.t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.HasSuffix(string(data), "# complete\n") {
			e.t.Errorf("%s links to a half-written binary: %q", name, data)
		}
	}
}

func TestEnvtestAssetsScript(t *testing.T) {
	withCM := "WITH_CONTROLLER_MANAGER=1"
	tests := []struct {
		name  string
		built []string // already in the build cache
		// release: setup-envtest's binaries already in the cache.
		release bool
		env     []string
		// links: name -> "build" or "release", the cache directory it must
		// point into.
		links     map[string]string
		wantBuilt []string
		// download: setup-envtest is installed and asked for the archive.
		download bool
		// unreachable: no connection to the index host opens.
		unreachable bool
	}{
		{
			name:      "offline, nothing cached",
			links:     map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build"},
			wantBuilt: []string{"etcd", "kube-apiserver", "kubectl"},
		},
		{
			name:      "offline, etcd cached",
			built:     []string{"etcd"},
			links:     map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build"},
			wantBuilt: []string{"kube-apiserver", "kubectl"},
		},
		{
			name:      "offline, kube-apiserver and kubectl cached",
			built:     []string{"kube-apiserver", "kubectl"},
			links:     map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build"},
			wantBuilt: []string{"etcd"},
		},
		{
			name:      "offline, kubectl cached (a build stopped between the two)",
			built:     []string{"kubectl"},
			links:     map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build"},
			wantBuilt: []string{"etcd", "kube-apiserver"},
		},
		{
			name:  "everything cached: no network, no build",
			built: []string{"etcd", "kube-apiserver", "kubectl"},
			env:   []string{"STUB_NETWORK=up"},
			links: map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build"},
		},
		{
			name:      "offline, controller manager, nothing cached",
			env:       []string{withCM},
			links:     map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build", "kube-controller-manager": "build"},
			wantBuilt: []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl"},
		},
		{
			name:      "offline, controller manager, the rest cached",
			built:     []string{"etcd", "kube-apiserver", "kubectl"},
			env:       []string{withCM},
			links:     map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build", "kube-controller-manager": "build"},
			wantBuilt: []string{"kube-controller-manager"},
		},
		{
			name:  "controller manager, everything cached",
			built: []string{"etcd", "kube-apiserver", "kubectl", "kube-controller-manager"},
			env:   []string{withCM},
			links: map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build", "kube-controller-manager": "build"},
		},
		{
			name:     "online, nothing cached: setup-envtest's release binaries",
			env:      []string{"STUB_NETWORK=up"},
			links:    map[string]string{"etcd": "release", "kube-apiserver": "release", "kubectl": "release"},
			download: true,
		},
		{
			name:     "online, etcd built earlier: the download is quicker than the rest of the build",
			built:    []string{"etcd"},
			env:      []string{"STUB_NETWORK=up"},
			links:    map[string]string{"etcd": "release", "kube-apiserver": "release", "kubectl": "release"},
			download: true,
		},
		{
			name:      "online, controller manager: release binaries, the controller manager built",
			env:       []string{"STUB_NETWORK=up", withCM},
			links:     map[string]string{"etcd": "release", "kube-apiserver": "release", "kubectl": "release", "kube-controller-manager": "build"},
			wantBuilt: []string{"kube-controller-manager"},
			download:  true,
		},
		{
			name:      "online, an archive without kubectl: kubectl alone built",
			env:       []string{"STUB_NETWORK=up", "STUB_ARCHIVE_KUBECTL=none"},
			links:     map[string]string{"etcd": "release", "kube-apiserver": "release", "kubectl": "build"},
			wantBuilt: []string{"kubectl"},
			download:  true,
		},
		{
			name:    "offline, release binaries downloaded earlier",
			release: true,
			links:   map[string]string{"etcd": "release", "kube-apiserver": "release", "kubectl": "release"},
		},
		{
			name:      "online, ENVTEST_DOWNLOAD=0: the build route",
			env:       []string{"STUB_NETWORK=up", "ENVTEST_DOWNLOAD=0"},
			links:     map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build"},
			wantBuilt: []string{"etcd", "kube-apiserver", "kubectl"},
		},
		{
			name:        "no connection to the index host: setup-envtest not even installed",
			env:         []string{"STUB_NETWORK=up"},
			unreachable: true,
			links:       map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build"},
			wantBuilt:   []string{"etcd", "kube-apiserver", "kubectl"},
		},
		{
			name:      "the index never answers: given up after the probe timeout, then built",
			env:       []string{"STUB_NETWORK=hang", "ENVTEST_PROBE_TIMEOUT=1"},
			links:     map[string]string{"etcd": "build", "kube-apiserver": "build", "kubectl": "build"},
			wantBuilt: []string{"etcd", "kube-apiserver", "kubectl"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newScriptEnv(t)
			e.seed(e.buildDir, tc.built...)
			if tc.release {
				e.seed(e.releaseDir, core...)
			}
			dirs := map[string]string{"build": e.buildDir, "release": e.releaseDir}
			want := map[string]string{}
			for name, route := range tc.links {
				want[name] = dirs[route]
			}

			env := tc.env
			if tc.unreachable {
				env = append(slices.Clone(env), "ENVTEST_INDEX_ADDR="+closedAddress(t))
			}

			stdout, stderr, err := e.run(env...)
			if err != nil {
				t.Fatalf("exit: %v; stderr:\n%s", err, stderr)
			}
			if stdout != e.assetsDir+"\n" {
				t.Errorf("printed %q, want the assets directory %q", stdout, e.assetsDir)
			}
			e.checkLinks(want)
			built := e.calls("build")
			slices.Sort(built)
			if !slices.Equal(built, tc.wantBuilt) {
				t.Errorf("built %v, want %v; stderr:\n%s", built, tc.wantBuilt, stderr)
			}
			downloaded := slices.Contains(e.calls("setup-envtest"), "use")
			if downloaded != tc.download {
				t.Errorf("setup-envtest downloaded: %v, want %v", downloaded, tc.download)
			}
			if installs := e.calls("install"); tc.unreachable && len(installs) > 0 {
				t.Errorf("installed %v with the index host unreachable", installs)
			}

			// A second run finds everything in place: no call at all.
			calls := len(e.calls("go")) + len(e.calls("setup-envtest"))
			stdout, stderr, err = e.run(env...)
			if err != nil {
				t.Fatalf("second run: %v; stderr:\n%s", err, stderr)
			}
			if stdout != e.assetsDir+"\n" {
				t.Errorf("second run printed %q", stdout)
			}
			if n := len(e.calls("go")) + len(e.calls("setup-envtest")); n != calls {
				t.Errorf("second run made %d calls to go or setup-envtest, want none", n-calls)
			}
			e.checkLinks(want)
		})
	}
}

// TestEnvtestAssetsScriptAfterABrokenBuild: a build that fails or is killed
// half-way leaves nothing the next run takes for a finished binary.
func TestEnvtestAssetsScriptAfterABrokenBuild(t *testing.T) {
	for _, tc := range []struct{ name, env string }{
		{"build fails", "STUB_FAIL_BUILD=kube-apiserver"},
		{"build killed", "STUB_INTERRUPT_BUILD=kube-apiserver"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newScriptEnv(t)
			_, stderr, err := e.run(tc.env)
			if err == nil {
				t.Fatalf("the first run succeeded; stderr:\n%s", stderr)
			}
			if _, err := os.Stat(filepath.Join(e.buildDir, "kube-apiserver")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after the broken build the cache holds kube-apiserver (%v)", err)
			}

			stdout, stderr, err := e.run()
			if err != nil {
				t.Fatalf("second run: %v; stderr:\n%s", err, stderr)
			}
			if stdout != e.assetsDir+"\n" {
				t.Errorf("printed %q", stdout)
			}
			e.checkLinks(map[string]string{"etcd": e.buildDir, "kube-apiserver": e.buildDir, "kubectl": e.buildDir})
			if !slices.Contains(e.calls("build"), "kube-apiserver") {
				t.Error("the second run did not build kube-apiserver again")
			}
			leftovers, err := filepath.Glob(filepath.Join(e.buildDir, ".*"))
			if err != nil {
				t.Fatal(err)
			}
			if len(leftovers) > 0 {
				t.Errorf("temporary files left in the cache: %v", leftovers)
			}
		})
	}
}

// closedAddress returns a local address nothing listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func writeExecutable(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func makeWritable(dir string) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o755)
		}
		return nil
	})
}
