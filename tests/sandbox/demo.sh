#!/usr/bin/env bash
# make demo: the main job on the local sandbox. Migrates clusters/example from `source` to
# `destination` with the three commands of the README, playing the HyperShift operator on the
# destination (it sets the conditions a real one would), then takes the sandbox down.
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

say "restore on destination (the demo plays the HyperShift operator and reports the cluster up)"
(
  # What the operator on the destination would do once etcd is restored and the API answers.
  for _ in $(seq 1 120); do
    if k --context destination get hostedcontrolplane example -n clusters-example >/dev/null 2>&1 &&
       k --context destination get hostedcluster example -n clusters >/dev/null 2>&1; then
      sleep 2
      k --context destination patch hostedcontrolplane example -n clusters-example --subresource=status --type=merge \
        -p '{"status":{"conditions":[{"type":"EtcdSnapshotRestored","status":"True","reason":"Restored","message":"demo","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' >/dev/null
      k --context destination patch hostedcluster example -n clusters --subresource=status --type=merge \
        -p '{"status":{"conditions":[{"type":"Available","status":"True","reason":"AsExpected","message":"demo","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' >/dev/null
      exit 0
    fi
    sleep 1
  done
) &
hcm restore --hc example -n clusters --bucket "$HCMIGRATE_BUCKET" --to-context destination --timeout 5m
wait

say "teardown on source"
hcm teardown --hc example -n clusters --context source --to-context destination

say "where everything is now"
k --context destination get hostedclusters,nodepools -n clusters
k --context source get hostedclusters,nodepools -n clusters
k --context source get namespace clusters-example 2>&1 || true
