"""Safe at any instant: a signal at every step boundary of backup, and at several moments inside
its long steps, leaves the source exactly as it was, the bucket without a complete-looking
partial backup or a running upload, and the etcd pod without a scratch file of ours. After a
SIGKILL, the next run puts everything right."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.e2e.faults import Cut, bucket_problems, run_and_cut, scratch_files, state_problems
from tests.e2e.helpers import bystander, hcm, source_state
from tests.sandbox.harness import Sandbox

BACKUP_STEPS = (
    "abort interrupted uploads", "remove leftover snapshot files", "record source state", "pause",
    "quiesce control plane", "read objects", "etcd snapshot", "resume source", "upload snapshot", "write bundle",
)  # fmt: skip
CUTS = [
    *(Cut(step) for step in BACKUP_STEPS),
    # Inside the long steps: the scale-down and its wait, `etcdctl snapshot save`, the put-back, the
    # stream (after the source is back), the bundle's uploads (held up by a store that stalls).
    Cut("quiesce control plane", 0.1),
    Cut("quiesce control plane", 0.6),
    Cut("etcd snapshot", 0.05),
    Cut("etcd snapshot", 0.4),
    Cut("resume source", 0.05),
    Cut("upload snapshot", 0.2),
    Cut("write bundle", 0.3, s3_stalled=True),
    Cut("pause", 0.02, signal.SIGTERM),
    Cut("upload snapshot", 0.2, signal.SIGTERM),
]


def _backup_args(tmp_path: Path, prefix: str) -> list[str]:
    return ["-o", "json", "backup", "--hc", "example", "-n", "clusters", "--prefix", prefix,
            "--dir", str(tmp_path / "bundle")]  # fmt: skip


@pytest.mark.parametrize("cut", CUTS, ids=lambda c: c.id)
def test_an_interrupted_backup_leaves_the_source_as_it_was(sandbox: Sandbox, tmp_path: Path, cut: Cut) -> None:
    before, others = source_state(sandbox), bystander(sandbox)
    prefix = f"cut-{cut.id.lower()}"
    run = run_and_cut(sandbox, _backup_args(tmp_path, prefix), cut)
    # A signal that lands after the last step finished is a finished backup; else it is 130.
    assert run.returncode == cut.expected_code(run), run.stderr
    if run.fired and run.returncode == 130:
        assert "interrupted" in run.stderr
    assert state_problems(before, source_state(sandbox)) == [], run.stderr
    assert bystander(sandbox) == others
    assert bucket_problems(sandbox, prefix) == []
    assert scratch_files(sandbox) == []


@pytest.mark.parametrize(
    "cut", [Cut("quiesce control plane", 0.1, signal.SIGKILL), Cut("etcd snapshot", 0.1, signal.SIGKILL),
            Cut("write bundle", 0.3, signal.SIGKILL, s3_stalled=True)], ids=lambda c: c.id)  # fmt: skip
def test_a_killed_backup_is_put_right_by_the_next_run(sandbox: Sandbox, tmp_path: Path, cut: Cut) -> None:
    before = source_state(sandbox)
    prefix = f"kill-{cut.id.lower()}"
    killed = run_and_cut(sandbox, _backup_args(tmp_path / "a", prefix), cut)
    assert killed.returncode == -signal.SIGKILL
    rerun = hcm(sandbox, *_backup_args(tmp_path / "b", prefix))
    assert rerun.returncode == 0, rerun.stderr
    # The record left by the killed run is the truth: the re-run puts back the original replicas.
    assert state_problems(before, source_state(sandbox)) == [], rerun.stderr
    assert bucket_problems(sandbox, prefix, killed=True) == []
    listed = hcm(sandbox, "-o", "json", "list", "--prefix", prefix)
    assert listed.returncode == 0, listed.stderr
    statuses = sorted(b["status"] for b in json.loads(listed.stdout)["items"])
    assert statuses.count("complete") == 1, statuses  # the re-run's; the killed one never looks complete
    assert scratch_files(sandbox) == []
