#!/usr/bin/env bash
# Builds the envtest control plane (etcd, kube-apiserver, kubectl) from the Go
# module proxy, because setup-envtest's downloads are not reachable offline.
#
# Binaries are built once per version into a per-user cache and linked into
# $BIN_DIR, so a fresh clone on a machine that built them before does not
# rebuild. Idempotent: does nothing when the binaries are already present.
#
# Usage: hack/envtest-assets.sh [BIN_DIR]   (prints the assets directory)
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.1}"
ETCD_VERSION="${ETCD_VERSION:-3.7.3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${1:-$ROOT/bin}"
ASSETS_DIR="$BIN_DIR/k8s/${K8S_VERSION}-etcd-${ETCD_VERSION}"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/subaccount-operator/envtest/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"
K8S_MINOR="$(cut -d. -f2 <<<"$K8S_VERSION")"
STAGING_VERSION="0.${K8S_VERSION#1.}"

log() { echo "envtest-assets: $*" >&2; }

have_all() {
  local dir="$1"
  [[ -x "$dir/kube-apiserver" && -x "$dir/kubectl" && -x "$dir/etcd" ]]
}

# build_k8s_commands builds the given k8s.io/kubernetes/cmd/<name> commands
# into $CACHE_DIR, in a throw-away module requiring k8s.io/kubernetes.
build_k8s_commands() {
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
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
    local modfile
    modfile="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/v${K8S_VERSION}.mod"
    # k8s.io/kubernetes replaces its staging modules with ./staging paths that
    # do not exist outside its repository; point each at the published module.
    grep -oE 'k8s.io/[a-z0-9-]+ => \./staging/' "$modfile" | awk '{print $1}' | sort -u |
      while read -r mod; do
        go mod edit -replace="${mod}=${mod}@v${STAGING_VERSION}"
      done
    go mod tidy >/dev/null
    local ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X ${pkg}.gitVersion=v${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${K8S_MINOR}"
    done
    for cmd in "$@"; do
      CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$CACHE_DIR/$cmd" "k8s.io/kubernetes/cmd/$cmd"
    done
  )
}

build_kubernetes() {
  log "building kube-apiserver and kubectl v${K8S_VERSION} (about 10 minutes on 2 cores)"
  build_k8s_commands kubectl kube-apiserver
}

# kube-controller-manager (garbage collector, namespace controller) is built
# only when WITH_CONTROLLER_MANAGER=1: the reliability suite needs it for
# foreground deletion and namespace deletion; envtest alone has neither.
build_controller_manager() {
  log "building kube-controller-manager v${K8S_VERSION} (several minutes on 2 cores)"
  build_k8s_commands kube-controller-manager
}

build_etcd() {
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
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
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$CACHE_DIR/etcd" go.etcd.io/etcd/server/v3
  )
}

if ! have_all "$ASSETS_DIR"; then
  mkdir -p "$CACHE_DIR" "$ASSETS_DIR"
  [[ -x "$CACHE_DIR/etcd" ]] || build_etcd
  [[ -x "$CACHE_DIR/kube-apiserver" && -x "$CACHE_DIR/kubectl" ]] || build_kubernetes
  for b in etcd kube-apiserver kubectl; do
    ln -sf "$CACHE_DIR/$b" "$ASSETS_DIR/$b"
  done
  log "assets ready in $ASSETS_DIR"
fi
if [[ "${WITH_CONTROLLER_MANAGER:-}" == 1 && ! -x "$ASSETS_DIR/kube-controller-manager" ]]; then
  mkdir -p "$CACHE_DIR" "$ASSETS_DIR"
  [[ -x "$CACHE_DIR/kube-controller-manager" ]] || build_controller_manager
  ln -sf "$CACHE_DIR/kube-controller-manager" "$ASSETS_DIR/kube-controller-manager"
  log "kube-controller-manager ready in $ASSETS_DIR"
fi
echo "$ASSETS_DIR"
