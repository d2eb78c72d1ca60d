"""An apiserver that stops answering in the middle of a run (SIGSTOP, as a hung machine or a
partition would): the run ends within its request timeouts, with the exit code that tells the
truth about what changed, and a line that names the cluster that stopped answering."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.faults import frozen, run_and_do, state_problems
from tests.e2e.helpers import HC_NS, HCP_NS, hcm, source_state
from tests.sandbox.harness import Sandbox

TIMEOUT = ["--request-timeout", "2s"]


def test_a_destination_that_stops_answering_mid_restore_is_exit_1_and_named(sandbox: Sandbox, tmp_path: Path) -> None:
    made = hcm(sandbox, "-o", "json", "backup", "--hc", "example", "--prefix", "stalled", "--dir", str(tmp_path / "b"))
    assert made.returncode == 0, made.stderr
    args = [*TIMEOUT, "-o", "json", "restore", "--hc", "example", "--prefix", "stalled", "--to-context",
            "destination", "--no-wait"]  # fmt: skip
    try:
        with frozen(sandbox, "destination") as freeze:
            run = run_and_do(sandbox, args, f"create HostedControlPlane in {HCP_NS}", 0.0, freeze, timeout=120)
        assert run.fired
        # Secrets and ConfigMaps were created before the freeze: not "refused" (3), not "put back" (4).
        assert run.returncode == 1, run.stderr
        assert "destination cluster at https://" in run.stderr and "did not answer within 2s" in run.stderr
        result = json.loads(run.stdout)
        assert result["outcome"] == "FAILED_NEEDS_ATTENTION"
        assert any(c.startswith("create Secret") for c in result["changed"])
    finally:
        sandbox.destination.kubectl().run("delete", "namespace", HC_NS, HCP_NS, "--ignore-not-found", "--timeout=180s")


def test_a_source_that_stops_answering_mid_backup_keeps_its_record_until_a_rerun_puts_it_back(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = source_state(sandbox)
    args = [
        *TIMEOUT,
        "-o",
        "json",
        "backup",
        "--hc",
        "example",
        "--prefix",
        "stalled-src",
        "--dir",
        str(tmp_path / "a"),
    ]
    with frozen(sandbox, "source") as freeze:
        # While the source is quiesced, before the snapshot (the bundle is written after it is back).
        run = run_and_do(sandbox, args, "read objects", 0.0, freeze, timeout=120)
    assert run.fired
    # The undo needs the frozen source too: it cannot put it back, and says so.
    assert run.returncode == 1, run.stderr
    assert "source cluster at https://" in run.stderr and "did not answer within 2s" in run.stderr
    result = json.loads(run.stdout)
    assert result["outcome"] == "FAILED_NEEDS_ATTENTION" and result["undo_errors"]
    after = source_state(sandbox)
    assert "hcmigrate.openshift.io/source-state" in (after["hc_annotations"] or {}), "the record must stay"
    rerun = hcm(
        sandbox, "-o", "json", "backup", "--hc", "example", "--prefix", "stalled-src", "--dir", str(tmp_path / "b")
    )
    assert rerun.returncode == 0, rerun.stderr
    assert state_problems(before, source_state(sandbox)) == []


def test_an_unreachable_cluster_in_preflight_is_a_refusal(sandbox: Sandbox, tmp_path: Path) -> None:
    before = source_state(sandbox)
    with frozen(sandbox, "source") as freeze:
        freeze(None)
        run = hcm(sandbox, *TIMEOUT, "backup", "--hc", "example", "--prefix", "stalled-pre", "--dir", str(tmp_path / "c"),
                  timeout=120)  # fmt: skip
    assert run.returncode == 3, run.stderr
    assert "source cluster at https://" in run.stderr
    assert state_problems(before, source_state(sandbox)) == []
