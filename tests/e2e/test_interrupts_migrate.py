"""Safe at any instant, migrate: a signal in any of its three stages ends the run with 130 (a
SIGKILL with nothing), and the source is either exactly as it was before the first run (the
destination does not run the HC: the backup's undo or the restore's failure path put it back) or,
once the destination has the HC, held for the migration and the message says to run migrate again.
No upload is left running, no backup without its manifest, no scratch file in the etcd pod; the
next run carries on to the end. The chain moves `example`: the next test gets a new sandbox."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from kubectl_hcmigrate.core.marks import SOURCE_UID
from tests.e2e.faults import (
    Cut,
    Run,
    assert_held_if_there,
    bucket_problems,
    found,
    hc_condition,
    run_and_cut,
    scratch_files,
)
from tests.e2e.helpers import HC_KIND, HC_NAME, HC_NS, HCP_NS, bystander, hcm, source_state
from tests.sandbox.harness import Sandbox

pytestmark = pytest.mark.e2e

PREFIX = "cut-migrate"
# In the order migrate runs them; a run that was put back starts again with a new backup.
CHAIN = [
    Cut("pause"),
    Cut("upload snapshot", 0.3, signal.SIGTERM),  # the snapshot streaming to the bucket
    Cut("stage 2/3"),  # the restore's preflight: the backup holds the source
    Cut(f"create Secret in {HCP_NS}", sig=signal.SIGTERM),
    Cut(f"create HostedCluster in {HC_NS}", 0.05),
    Cut("wait for the restored control plane", 1.0),
    Cut("stage 3/3", sig=signal.SIGTERM),  # the teardown's preflight
    Cut("remove NodePools"),
    Cut("remove HostedClusters", 0.05, signal.SIGKILL),
]


def migrate_args(tmp: Path) -> list[str]:
    return ["migrate", "-o", "json", "--hc", HC_NAME, "-n", HC_NS, "--prefix", PREFIX, "--context", "source",
            "--to-context", "destination", "--dir", str(tmp), "--timeout", "2m", "--with-nodes"]  # fmt: skip


def on_destination(sb: Sandbox) -> bool:
    """The destination has the HC restored from the source: from here on, the source stays held."""
    hc = found(sb, "destination", HC_KIND, HC_NAME, "-n", HC_NS)
    return hc is not None and SOURCE_UID in (hc["metadata"].get("annotations") or {})


def check_cut(sb: Sandbox, cut: Cut, run: Run, before: dict[str, Any]) -> None:
    assert run.returncode == cut.expected_code(run), run.stderr
    moved = on_destination(sb)
    if run.returncode == 130:
        out = json.loads(run.stdout)
        assert out["outcome"] == "INTERRUPTED", out
        assert ("run migrate again" in out["error"]) == moved, out["error"]
    assert bucket_problems(sb, PREFIX, killed=cut.sig == signal.SIGKILL) == []
    if not moved:
        assert source_state(sb) == before, run.stderr
        assert scratch_files(sb) == []
        return
    assert_held_if_there(sb)


def test_an_interrupted_migrate_puts_back_or_holds_the_source_and_a_rerun_completes(
    sandbox: Sandbox, destroys_source: None, tmp_path: Path
) -> None:
    sandbox.destination.kubectl().run("delete", "namespace", HC_NS, HCP_NS, "--ignore-not-found")
    before, others = source_state(sandbox), bystander(sandbox)
    for i, cut in enumerate(CHAIN):
        run = run_and_cut(sandbox, migrate_args(tmp_path / f"b{i}"), cut)
        print(run.show(cut))
        check_cut(sandbox, cut, run, before)
    rerun = hcm(sandbox, *migrate_args(tmp_path / "last"))
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["resumed"] is True
    assert found(sandbox, "source", HC_KIND, HC_NAME, "-n", HC_NS) is None
    assert found(sandbox, "source", "namespace", HCP_NS) is None
    assert hc_condition(sandbox, "destination") == "True" and bystander(sandbox) == others
    assert bucket_problems(sandbox, PREFIX) == []
