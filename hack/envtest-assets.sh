#!/usr/bin/env bash
# Provides the envtest control plane (etcd, kube-apiserver, kubectl; and
# kube-controller-manager with WITH_CONTROLLER_MANAGER=1), links it into
# $BIN_DIR/k8s/<K8S_VERSION>-etcd-<ETCD_VERSION> and prints that directory.
#
# Where the binaries come from, first match wins:
#   1. the links already in place (nothing to do);
#   2. binaries built earlier into the per-user cache;
#   3. release binaries downloaded earlier by setup-envtest into the cache;
#   4. download: controller-runtime's setup-envtest fetches the release
#      binaries of the same Kubernetes minor version (seconds). Skipped with
#      ENVTEST_DOWNLOAD=0; given up after ENVTEST_PROBE_TIMEOUT seconds (30)
#      when its index cannot be reached, so an offline machine loses no time;
#   5. build from the Go module proxy (about 15 minutes on 2 cores): the route
#      for offline and air-gapped machines.
# kube-controller-manager is not in setup-envtest's archives: it is always
# built (only the reliability suite needs it); so is kubectl, should an
# archive lack it.
#
# Nothing half-written is ever taken for finished: a binary is built under a
# temporary name and renamed when complete, a download is unpacked into a
# temporary directory and renamed when it holds all three binaries.
#
# Usage: hack/envtest-assets.sh [BIN_DIR]   (prints the assets directory)
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.1}"
ETCD_VERSION="${ETCD_VERSION:-3.7.3}"
# Same minor version as controller-runtime (go.mod); the module proxy serves
# setup-envtest under its own tags.
SETUP_ENVTEST_VERSION="${SETUP_ENVTEST_VERSION:-v0.25.1}"
ENVTEST_PROBE_TIMEOUT="${ENVTEST_PROBE_TIMEOUT:-30}"
ENVTEST_DOWNLOAD_TIMEOUT="${ENVTEST_DOWNLOAD_TIMEOUT:-600}"
# Where setup-envtest's index lives (its default --index URL).
ENVTEST_INDEX_ADDR="${ENVTEST_INDEX_ADDR:-raw.githubusercontent.com:443}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${1:-$ROOT/bin}"
ASSETS_DIR="$BIN_DIR/k8s/${K8S_VERSION}-etcd-${ETCD_VERSION}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/subaccount-operator/envtest"
BUILD_DIR="$CACHE_ROOT/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"
K8S_MINOR="$(cut -d. -f2 <<<"$K8S_VERSION")"
RELEASE_DIR="$CACHE_ROOT/release-1.${K8S_MINOR}"
STAGING_VERSION="0.${K8S_VERSION#1.}"
CORE=(etcd kube-apiserver kubectl)
# What the download route needs from setup-envtest's archive. Its archives
# (controller-tools' envtest releases) hold kubectl too, but should one not,
# kubectl alone is built.
RELEASED=(etcd kube-apiserver)

# Run outside make too: build with the toolchain go.mod names (the Makefile
# exports the same one).
if [[ -z "${GOTOOLCHAIN:-}" ]]; then
  GOTOOLCHAIN="$(sed -n 's/^toolchain //p' "$ROOT/go.mod" 2>/dev/null || true)"
  export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
fi

log() { echo "envtest-assets: $*" >&2; }

# Temporary directories and files, removed however the script ends. One EXIT
# trap for the whole script: a RETURN trap set in a function stays set and
# fires again, under set -u, when a later function returns.
cleanup=()
remove_temporaries() {
  if ((${#cleanup[@]})); then
    # setup-envtest leaves its directories read-only.
    chmod -R u+w "${cleanup[@]}" 2>/dev/null || true
    rm -rf "${cleanup[@]}"
  fi
}
trap remove_temporaries EXIT

# all_in DIR NAME...: every NAME is an executable in DIR.
all_in() {
  local dir="$1" b
  shift
  for b in "$@"; do
    [[ -x "$dir/$b" ]] || return 1
  done
}

# link_from DIR NAME...: link each NAME in ASSETS_DIR to DIR/NAME.
link_from() {
  local dir="$1" b
  shift
  mkdir -p "$ASSETS_DIR"
  for b in "$@"; do
    ln -sfn "$dir/$b" "$ASSETS_DIR/$b"
  done
}

# with_timeout SECONDS CMD...: CMD, killed after SECONDS where timeout(1)
# exists (macOS has none by default; there the command runs unbounded).
with_timeout() {
  local seconds="$1"
  shift
  if command -v timeout >/dev/null 2>&1; then
    timeout --kill-after=5 "$seconds" "$@"
  else
    "$@"
  fi
}

# install_setup_envtest installs setup-envtest into BIN_DIR from the module
# proxy the first time, and sets SETUP_ENVTEST to its path.
install_setup_envtest() {
  local gobin
  SETUP_ENVTEST="$BIN_DIR/setup-envtest-$SETUP_ENVTEST_VERSION"
  [[ -x "$SETUP_ENVTEST" ]] && return 0
  log "installing setup-envtest $SETUP_ENVTEST_VERSION into $BIN_DIR"
  mkdir -p "$BIN_DIR"
  gobin="$(mktemp -d "$BIN_DIR/.setup-envtest.XXXXXX")"
  cleanup+=("$gobin")
  GOBIN="$gobin" go install "sigs.k8s.io/controller-runtime/tools/setup-envtest@$SETUP_ENVTEST_VERSION" >&2 || return 1
  mv -f "$gobin/setup-envtest" "$SETUP_ENVTEST"
  ln -sfn "$(basename "$SETUP_ENVTEST")" "$BIN_DIR/setup-envtest"
}

# index_reachable: a TCP connection to setup-envtest's index host opens
# within the probe timeout. Checked before setup-envtest is installed, because
# the install compiles it (a minute or more with a cold build cache), which an
# offline machine would spend for nothing. Behind an HTTP(S) proxy a direct
# connection says nothing: setup-envtest's own probe decides there.
index_reachable() {
  local host="${ENVTEST_INDEX_ADDR%:*}" port="${ENVTEST_INDEX_ADDR##*:}"
  if [[ -n "${HTTPS_PROXY:-}${https_proxy:-}${ALL_PROXY:-}${all_proxy:-}" ]]; then
    return 0
  fi
  with_timeout "$ENVTEST_PROBE_TIMEOUT" bash -c ': <"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null
}

# download_release fetches the release etcd, kube-apiserver (and kubectl) of
# Kubernetes 1.<minor>.x with setup-envtest into RELEASE_DIR. Fails, quickly
# where the index is unreachable, when it cannot.
download_release() {
  local store path selector="1.${K8S_MINOR}.x" err
  if [[ "${ENVTEST_DOWNLOAD:-1}" == 0 ]]; then
    log "ENVTEST_DOWNLOAD=0: not trying setup-envtest"
    return 1
  fi
  if ! index_reachable; then
    log "no connection to $ENVTEST_INDEX_ADDR (setup-envtest's index; waited up to ${ENVTEST_PROBE_TIMEOUT}s): offline"
    return 1
  fi
  install_setup_envtest || { log "could not install setup-envtest"; return 1; }
  mkdir -p "$CACHE_ROOT"
  store="$(mktemp -d "$CACHE_ROOT/.setup-envtest.XXXXXX")"
  cleanup+=("$store")
  # The index is a small file: when it does not come within the probe
  # timeout, the archive will not either (offline, proxy, firewall).
  if ! err="$(with_timeout "$ENVTEST_PROBE_TIMEOUT" "$SETUP_ENVTEST" list --bin-dir "$store" "$selector" 2>&1 >/dev/null)"; then
    log "setup-envtest cannot reach its index within ${ENVTEST_PROBE_TIMEOUT}s: ${err:-timed out}"
    return 1
  fi
  log "downloading the Kubernetes $selector release binaries with setup-envtest"
  if ! path="$(with_timeout "$ENVTEST_DOWNLOAD_TIMEOUT" "$SETUP_ENVTEST" use -p path --bin-dir "$store" "$selector")"; then
    log "setup-envtest could not download the $selector release binaries (within ${ENVTEST_DOWNLOAD_TIMEOUT}s)"
    return 1
  fi
  if ! all_in "$path" "${RELEASED[@]}"; then
    log "setup-envtest's archive in $path lacks one of: ${RELEASED[*]}"
    return 1
  fi
  chmod u+w "$path"
  rm -rf "$RELEASE_DIR"
  mv "$path" "$RELEASE_DIR"
  log "release binaries $(basename "$path") in $RELEASE_DIR"
}

# remove_stale_partials deletes what builds killed outright (SIGKILL, power
# loss) left behind: partial files whose build process is gone.
remove_stale_partials() {
  local f pid
  for f in "$BUILD_DIR"/.*.partial.*; do
    [[ -e "$f" ]] || continue
    pid="${f##*.}"
    kill -0 "$pid" 2>/dev/null || rm -f "$f"
  done
}

# build_into_cache PACKAGE NAME LDFLAGS: go build PACKAGE into BUILD_DIR/NAME,
# through a temporary name in the same directory (a rename is atomic).
build_into_cache() {
  local pkg="$1" name="$2" ldflags="$3" partial="$BUILD_DIR/.$2.partial.$$"
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$partial" "$pkg"
  mv -f "$partial" "$BUILD_DIR/$name"
}

# build_k8s_commands builds the given k8s.io/kubernetes/cmd/<name> commands
# into BUILD_DIR, in a throw-away module requiring k8s.io/kubernetes.
build_k8s_commands() {
  local work cmd
  work="$(mktemp -d)"
  cleanup+=("$work")
  for cmd in "$@"; do cleanup+=("$BUILD_DIR/.$cmd.partial.$$"); done
  (
    cd "$work"
    go mod init envtest-k8s >/dev/null 2>&1
    {
      printf '//go:build tools\n\npackage tools\n\nimport (\n'
      for cmd in "$@"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$cmd"; done
      printf ')\n'
    } > tools.go
    go mod edit -require="k8s.io/kubernetes@v${K8S_VERSION}"
    go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" >/dev/null
    modfile="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v${K8S_VERSION}.mod"
    # k8s.io/kubernetes replaces its staging modules with ./staging paths that
    # do not exist outside its repository; point each at the published module.
    grep -oE 'k8s.io/[a-z0-9-]+ => \./staging/' "$modfile" | awk '{print $1}' | sort -u |
      while read -r mod; do
        go mod edit -replace="${mod}=${mod}@v${STAGING_VERSION}"
      done
    go mod tidy >/dev/null
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X ${pkg}.gitVersion=v${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${K8S_MINOR}"
    done
    for cmd in "$@"; do
      build_into_cache "k8s.io/kubernetes/cmd/$cmd" "$cmd" "$ldflags"
    done
  )
}

build_etcd() {
  local work
  work="$(mktemp -d)"
  cleanup+=("$work" "$BUILD_DIR/.etcd.partial.$$")
  log "building etcd v${ETCD_VERSION}"
  (
    cd "$work"
    go mod init envtest-etcd >/dev/null 2>&1
    cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
    go mod edit -require="go.etcd.io/etcd/server/v3@v${ETCD_VERSION}"
    go mod tidy >/dev/null
    build_into_cache go.etcd.io/etcd/server/v3 etcd "-s -w"
  )
}

# build_missing NAME...: build those of NAME not yet in BUILD_DIR.
build_missing() {
  local b missing=() k8s=()
  for b in "$@"; do
    all_in "$BUILD_DIR" "$b" || missing+=("$b")
  done
  ((${#missing[@]})) || return 0
  mkdir -p "$BUILD_DIR"
  remove_stale_partials
  for b in "${missing[@]}"; do
    if [[ "$b" == etcd ]]; then build_etcd; else k8s+=("$b"); fi
  done
  if ((${#k8s[@]})); then
    log "building ${k8s[*]} v${K8S_VERSION} from the module proxy (about 10 minutes on 2 cores)"
    build_k8s_commands "${k8s[@]}"
  fi
}

if ! all_in "$ASSETS_DIR" "${CORE[@]}"; then
  if all_in "$BUILD_DIR" "${CORE[@]}"; then
    link_from "$BUILD_DIR" "${CORE[@]}"
  elif all_in "$RELEASE_DIR" "${RELEASED[@]}" || download_release; then
    if all_in "$RELEASE_DIR" kubectl; then
      link_from "$RELEASE_DIR" "${CORE[@]}"
    else
      log "no kubectl in setup-envtest's archive: building it"
      build_missing kubectl
      link_from "$RELEASE_DIR" "${RELEASED[@]}"
      link_from "$BUILD_DIR" kubectl
    fi
  else
    log "no release binaries: building what the cache lacks from the Go module proxy"
    build_missing "${CORE[@]}"
    link_from "$BUILD_DIR" "${CORE[@]}"
  fi
  log "assets ready in $ASSETS_DIR"
fi
# kube-controller-manager (garbage collector, namespace controller) only when
# WITH_CONTROLLER_MANAGER=1: the reliability suite needs it for foreground
# deletion and namespace deletion; envtest alone has neither.
if [[ "${WITH_CONTROLLER_MANAGER:-}" == 1 ]] && ! all_in "$ASSETS_DIR" kube-controller-manager; then
  build_missing kube-controller-manager
  link_from "$BUILD_DIR" kube-controller-manager
  log "kube-controller-manager ready in $ASSETS_DIR"
fi
echo "$ASSETS_DIR"
