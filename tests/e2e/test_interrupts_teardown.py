"""Safe at any instant, teardown: a signal at its step boundaries and inside its waits ends the
run with 130 (a SIGKILL with nothing), the source HC, while it is still there, stays paused and
held for the migration, the destination's HC and NodePool are untouched, and the next run carries
on to the end. The bystander and the backup in the bucket are never touched.

Teardown has no undo: what it removed stays removed (the destination runs the HC); the source is
held, not put back. The chain tears `example` down: the next test gets a new sandbox."""

from __future__ import annotations

import json
import signal
from typing import Any

import pytest

from tests.e2e.faults import Cut, Run, assert_held_if_there, bucket_problems, found, run_and_cut
from tests.e2e.helpers import HC_KIND, HC_NAME, HC_NS, HCP_NS, NP_KIND, bystander, hcm, keys
from tests.sandbox.harness import Sandbox

pytestmark = pytest.mark.e2e

PREFIX = "cut-teardown"
TEARDOWN = ["-o", "json", "teardown", "--hc", HC_NAME, "-n", HC_NS, "--context", "source", "--to-context",
            "destination"]  # fmt: skip
# In the order teardown runs them: each run is cut at a step no earlier run reached.
CHAIN = [
    Cut("record source identity"),
    Cut("pause", sig=signal.SIGTERM),
    Cut("scale down control plane", 0.3),  # in the wait for the pods to go
    Cut("remove NodePools"),
    Cut("remove Machines", 0.05, signal.SIGTERM),
    Cut("remove Clusters"),
    Cut("remove HostedControlPlanes"),
    Cut("remove HostedClusters", 0.05, signal.SIGKILL),
    Cut("remove its Secrets and ConfigMaps"),
    Cut("remove component finalizers", sig=signal.SIGTERM),
    Cut("delete HCP namespace", 0.3),  # in the wait for the namespace to go
    Cut("clean up HC namespace"),
]


def destination_copy(sb: Sandbox) -> dict[str, Any]:
    """What the migration made on the destination, less what HyperShift writes there on its own."""
    hc = found(sb, "destination", HC_KIND, HC_NAME, "-n", HC_NS) or {}
    pools = (found(sb, "destination", NP_KIND, "-n", HC_NS) or {}).get("items", [])
    return {"hc": [hc.get("spec"), hc.get("metadata", {}).get("annotations")],
            "pools": {p["metadata"]["name"]: p["spec"] for p in pools}}  # fmt: skip


def check_cut(sb: Sandbox, cut: Cut, run: Run, destination: dict[str, Any]) -> None:
    assert run.returncode == cut.expected_code(run), run.stderr
    if run.returncode == 130:
        assert json.loads(run.stdout)["outcome"] == "INTERRUPTED" and "interrupted during" in run.stderr
    assert destination_copy(sb) == destination
    assert_held_if_there(sb)


def test_an_interrupted_teardown_keeps_the_source_held_and_a_rerun_completes(
    sandbox: Sandbox, destroys_source: None, tmp_path: Any
) -> None:
    backup = hcm(sandbox, "-o", "json", "backup", "--hc", HC_NAME, "--keep-paused", "--prefix", PREFIX,
                 "--dir", str(tmp_path / "bundle"))  # fmt: skip
    assert backup.returncode == 0, backup.stderr
    restore = hcm(sandbox, "restore", "--hc", HC_NAME, "--prefix", PREFIX, "--to-context", "destination",
                  "--with-nodes")  # fmt: skip
    assert restore.returncode == 0, restore.stderr
    others, destination, backup_keys = bystander(sandbox), destination_copy(sandbox), keys(sandbox, PREFIX)
    for cut in CHAIN:
        run = run_and_cut(sandbox, TEARDOWN, cut)
        print(run.show(cut))
        check_cut(sandbox, cut, run, destination)
    rerun = hcm(sandbox, *TEARDOWN)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["outcome"] == "SUCCEEDED"
    assert found(sandbox, "source", HC_KIND, HC_NAME, "-n", HC_NS) is None
    assert found(sandbox, "source", "namespace", HCP_NS) is None
    assert destination_copy(sandbox) == destination and bystander(sandbox) == others
    assert keys(sandbox, PREFIX) == backup_keys and bucket_problems(sandbox, PREFIX) == []
