#!/usr/bin/env bash
# make demo: the main job on the local sandbox. Migrates clusters/example from `source` to
# `destination` with the three commands of the README, against the sandbox's HyperShift twin
# (a controller per management cluster behaving as HyperShift does), then takes the sandbox down.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
trap '$PY -m tests.sandbox down >/dev/null' EXIT

say() { printf '\n\033[1m## %s\033[0m\n' "$*"; }

say "bring up the sandbox"
$PY -m tests.sandbox up
state=$($PY -c 'from tests.sandbox.config import SandboxConfig; print(SandboxConfig.from_env().state)')
# shellcheck disable=SC1091
. "$state/env"
k() { "$HCMIGRATE_SANDBOX_BIN/kubectl" "$@"; }
hcm() { $PY -m kubectl_hcmigrate "$@"; }

say "the seeded hosted cluster on source"
k --context source get hostedclusters,nodepools -n clusters
k --context source get pods -n clusters-example

say "backup (keep it paused: this is a migration)"
hcm backup --hc example -n clusters --bucket "$HCMIGRATE_BUCKET" --keep-paused --dir "$state/demo-bundle"

say "restore on destination (the sandbox's HyperShift twin restores etcd and reports the cluster up)"
hcm restore --hc example -n clusters --bucket "$HCMIGRATE_BUCKET" --to-context destination --timeout 5m
k --context destination -n clusters-example exec etcd-0 -c etcd -- etcdctl --cacert /etc/etcd/tls/etcd-ca/ca.crt \
  --cert /etc/etcd/tls/client/etcd-client.crt --key /etc/etcd/tls/client/etcd-client.key \
  --endpoints https://localhost:2379 get --prefix /registry/hcmigrate-sandbox --keys-only

say "teardown on source"
hcm teardown --hc example -n clusters --context source --to-context destination

say "where everything is now"
k --context destination get hostedclusters,nodepools -n clusters
k --context source get hostedclusters,nodepools -n clusters
if k --context source get namespace clusters-example >/dev/null 2>&1; then
  echo "namespace clusters-example is still on source"
else
  echo "namespace clusters-example: gone from source (the control plane runs on destination only)"
fi
