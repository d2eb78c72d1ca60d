"""Snapshot scratch files never pile up in the etcd pod's volume (issue 11, finding 4): not after
a SIGKILL mid-stream and the re-run, not after a SIGINT while `etcdctl snapshot save` writes."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

from tests.e2e.helpers import (
    hcm,
    hcm_popen,
    put_back,
    scratch_files,
    source_state,
    stop_mid_save,
    stop_mid_stream,
)
from tests.sandbox.harness import Sandbox


def _backup_args(prefix: str, folder: Path) -> list[str]:
    return ["backup", "--hc", "example", "--prefix", prefix, "--part-size-mib", "5", "--dir", str(folder)]


def test_no_scratch_file_after_a_killed_backup_and_its_rerun(sandbox: Sandbox, tmp_path: Path) -> None:
    before, prefix = source_state(sandbox), f"scratch-kill-{uuid.uuid4().hex[:8]}"
    assert scratch_files(sandbox) == []
    proc = hcm_popen(sandbox, *_backup_args(prefix, tmp_path / "b1"))
    try:
        cat = stop_mid_stream(sandbox, proc)
        assert cat is not None, "the snapshot stream was never caught mid-file"
        proc.kill()  # SIGKILL: nothing of the tool runs after this
        proc.communicate(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.kill(cat, signal.SIGKILL)
        assert scratch_files(sandbox) != []  # what a killed run leaves: the next run's to remove
        rerun = hcm(sandbox, *_backup_args(prefix, tmp_path / "b2"))
        assert rerun.returncode == 0, rerun.stderr
        assert "left by an interrupted run" in rerun.stderr
        assert scratch_files(sandbox) == []
    finally:
        if source_state(sandbox) != before:
            put_back(sandbox, before)


def test_no_scratch_file_after_an_interrupt_during_snapshot_save(sandbox: Sandbox, tmp_path: Path) -> None:
    before, prefix = source_state(sandbox), f"scratch-int-{uuid.uuid4().hex[:8]}"
    proc = hcm_popen(sandbox, *_backup_args(prefix, tmp_path / "b"))
    etcdctl = stop_mid_save(sandbox, proc, bytes_in=False)
    assert etcdctl is not None, "etcdctl snapshot save was never caught with its .part file"
    assert any(name.endswith(".part") for name in scratch_files(sandbox))
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)  # the tool reacts while etcdctl is still frozen half-way
    with contextlib.suppress(ProcessLookupError):
        os.kill(etcdctl, signal.SIGCONT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    time.sleep(1)  # an etcdctl that outlived its exec would have renamed its file by now
    assert scratch_files(sandbox) == []
    assert source_state(sandbox) == before
