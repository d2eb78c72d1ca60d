#!/usr/bin/env bash
# Builds the sandbox's cluster binaries (and MinIO, the second S3 server) from their public Go
# modules into a cache outside the repo, keyed by version, so only the first run pays.
# Prints the cluster binaries' directory; with the argument `minio`, MinIO's binary only.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.34.4}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
KWOK_VERSION=${KWOK_VERSION:-0.7.0}
CACHE=${HCMIGRATE_SANDBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hcmigrate-sandbox}
BIN="$CACHE/bin-k8s$K8S_VERSION-etcd$ETCD_VERSION-kwok$KWOK_VERSION"
# A test-only server, run unmodified as a process of its own (never linked into or shipped with
# the tool). Its own directory, so that a new MinIO leaves the cluster binaries' key alone.
MINIO_VERSION=${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
MINIO="$CACHE/minio-$MINIO_VERSION/minio"

command -v go >/dev/null || { echo "make: go is not installed; the sandbox builds its cluster binaries with it" >&2; exit 1; }

build_minio() {
  mkdir -p "${MINIO%/minio}"
  GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="${MINIO%/minio}" \
    go install -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION" \
    || { echo "make: could not build MinIO $MINIO_VERSION from the Go module proxy" >&2; exit 1; }
}
[ -x "$MINIO" ] || build_minio >&2
if [ "${1:-}" = minio ]; then echo "$MINIO"; exit 0; fi

want=(kube-apiserver kube-controller-manager kubectl etcd etcdctl etcdutl kwok)
missing=0
for b in "${want[@]}"; do [ -x "$BIN/$b" ] || missing=1; done
if [ "$missing" = 0 ]; then echo "$BIN"; exit 0; fi

mkdir -p "$BIN"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

fetch_gomod() { # module@version -> path of its go.mod in the module cache
  go mod download -json "$1" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p'
}

build_kube() {
  local dir="$work/kube" gomod
  mkdir -p "$dir"
  gomod=$(fetch_gomod "k8s.io/kubernetes@v$K8S_VERSION") || { echo "make: cannot reach the Go module proxy for k8s.io/kubernetes" >&2; exit 1; }
  {
    echo "module hcmigrate.local/kubebins"
    echo "go 1.24"
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    # Staging modules are v0.0.0 in kubernetes' go.mod; point each at its release.
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 v0.'"${K8S_VERSION#1.}"'#p' "$gomod"
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  local minor=${K8S_VERSION#1.}; minor=${minor%%.*}
  local pkg=k8s.io/component-base/version
  local ld="-s -w -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  (cd "$dir" && go mod tidy >/dev/null 2>&1 || go mod tidy && \
    go build -trimpath -ldflags "$ld" -o "$BIN/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl)
}

build_etcd() {
  local dir="$work/etcd"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<MOD
module hcmigrate.local/etcdbins
go 1.24
require (
	go.etcd.io/etcd/server/v3 v$ETCD_VERSION
	go.etcd.io/etcd/etcdctl/v3 v$ETCD_VERSION
	go.etcd.io/etcd/etcdutl/v3 v$ETCD_VERSION
)
MOD
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
GO
  (cd "$dir" && go mod tidy && \
    go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3 && \
    go build -trimpath -ldflags "-s -w" -o "$BIN/etcdctl" go.etcd.io/etcd/etcdctl/v3 && \
    go build -trimpath -ldflags "-s -w" -o "$BIN/etcdutl" go.etcd.io/etcd/etcdutl/v3)
}

[ -x "$BIN/etcd" ] && [ -x "$BIN/etcdctl" ] && [ -x "$BIN/etcdutl" ] || build_etcd >&2
[ -x "$BIN/kwok" ] || GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" >&2
[ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] && [ -x "$BIN/kubectl" ] || build_kube >&2
echo "$BIN"
