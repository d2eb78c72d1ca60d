"""backup's plan for each state of the source (as it was, left by a crashed run, held for a
migration), and which unfinished uploads its first step may abort."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from kubectl_hcmigrate.core.layout import BackupLayout
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.core.source_state import Hold, SourceState
from kubectl_hcmigrate.verbs import backup
from kubectl_hcmigrate.verbs.leftovers import abort_ended_uploads
from tests.fakes import LinesReporter

OURS, ENDED, LEGACY = "20260501T100000Z-aaaa1111", "20260501T095900Z-bbbb2222", "20260501T095800Z"


class Uploads:
    """A bucket with unfinished multipart uploads; abort takes every one under a prefix."""

    def __init__(self, keys: list[str]) -> None:
        self.keys, self.aborted = list(keys), []

    def full_key(self, key: str) -> str:
        return f"p/{key}"

    def list_incomplete_uploads(self, prefix: str = "") -> list[tuple[str, str]]:
        return [(k, f"id-{k}") for k in self.keys if k.startswith(prefix)]

    def abort_incomplete_uploads(self, prefix: str) -> list[str]:
        gone = [k for k in self.keys if k.startswith(prefix)]
        self.keys = [k for k in self.keys if k not in gone]
        self.aborted += gone
        return gone


def found(state: SourceState, *, keep_paused: bool = False, bucket: Any = None) -> backup.Backup:
    opts = backup.BackupOptions("example", "clusters", BucketTarget("bkt"), keep_paused=keep_paused, run_id="aaaa1111")
    hc = {"metadata": {"name": "example", "namespace": "clusters"}, "spec": {}}
    return backup.Backup(
        opts, None, bucket or Uploads([]), LinesReporter(), hc, state, ["etcd-0"], OURS,  # type: ignore[arg-type]
        BackupLayout("", "clusters", "example", OURS), Path("b"),
    )  # fmt: skip


def steps(b: backup.Backup) -> dict[str, bool]:
    """Step name -> has an undo."""
    return {s.name: s.undo is not None for s in backup.build_plan(b).steps}


def test_a_plain_backup_records_pauses_and_puts_back() -> None:
    got = steps(found(SourceState(None, {"np1": None}, {"kube-apiserver": 2})))
    # The source is back once the snapshot file and the objects are in hand: the stream and the
    # uploads run while the hosted cluster does.
    assert list(got) == ["abort interrupted uploads", "remove leftover snapshot files", "record source state",
                         "pause", "quiesce control plane", "read objects", "etcd snapshot", "resume source",
                         "upload snapshot", "write bundle"]  # fmt: skip
    assert got["pause"] and got["quiesce control plane"] and got["etcd snapshot"] and got["upload snapshot"]


def test_an_online_backup_changes_nothing_on_the_source() -> None:
    b = found(SourceState(None, {"np1": None}, {"kube-apiserver": 2}))
    b.opts = dataclasses.replace(b.opts, online=True)
    assert list(steps(b)) == ["abort interrupted uploads", "remove leftover snapshot files", "read objects",
                              "etcd snapshot", "upload snapshot", "write bundle"]  # fmt: skip
    res = backup.result(b, {})
    assert res["online"] is True and res["api_down_seconds"] == 0.0 and res["source"] == "untouched (--online)"


def test_online_with_keep_paused_is_refused_before_anything() -> None:
    opts = backup.BackupOptions("example", "clusters", BucketTarget("bkt"), keep_paused=True, online=True)
    with pytest.raises(PreflightError, match="--online cannot be combined with --keep-paused"):
        backup.check_options(opts)


def test_keep_paused_ends_with_the_hand_off_not_a_resume() -> None:
    got = steps(found(SourceState(None, {}, {"kube-apiserver": 2}), keep_paused=True))
    assert list(got)[-1] == "hold for migration" and "resume source" not in got


def test_a_plain_backup_of_a_held_source_keeps_it_held() -> None:
    held = SourceState(None, {}, {"kube-apiserver": 2}, held=Hold("20260430T100000Z-cccc3333", "2026-04-30T10:01:00Z"))
    b = found(held)
    got = steps(b)
    # Nothing may put it back (the destination may run the HC) or replace the hand-off record.
    assert "resume source" not in got and "record source state" not in got and "hold for migration" not in got
    assert not got["pause"] and not got["quiesce control plane"]
    assert backup.result(b, {})["source"].startswith("kept paused: held for a migration by backup 20260430T100000Z")


def test_only_uploads_of_runs_that_ended_are_aborted() -> None:
    keys = [f"clusters/example/{i}/etcd-snapshot.db" for i in (OURS, ENDED, LEGACY)]
    bucket = Uploads([*keys, "clusters/example-other/x"])
    b = found(SourceState(None), bucket=bucket)
    abort_ended_uploads(b.bucket, "clusters/example/", b.backup_id, b.reporter)
    assert bucket.aborted == [f"clusters/example/{ENDED}/etcd-snapshot.db"]
    lines = b.reporter.lines  # type: ignore[attr-defined]
    assert any("left by ended run bbbb2222" in x for x in lines)
    assert any(LEGACY in x and "nothing says its run ended" in x for x in lines)


def test_the_result_tells_a_new_hand_off_from_a_kept_one() -> None:
    b = found(SourceState(None, {}, {"kube-apiserver": 2}), keep_paused=True)
    b.state.held = Hold(OURS, "2026-05-01T10:01:00Z")  # what its last step records
    assert backup.result(b, {})["source"] == "paused (--keep-paused)"
