"""Snapshot scratch files in etcd pods (issue 11, finding 4): a name only hcmigrate uses, every
path of a run removes its own (etcdctl's `.part` included), and a run removes what killed runs
left, without touching anything else or a live run's file."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest

from kubectl_hcmigrate.core.layout import BackupLayout
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.report import StepFailed
from kubectl_hcmigrate.core.source_state import SourceState
from kubectl_hcmigrate.etcd import scratch
from kubectl_hcmigrate.etcd.snapshotter import EtcdSnapshotter
from kubectl_hcmigrate.verbs import backup
from tests.fakes import NullReporter

NS = "clusters-example"
ETCD_FILES = {"member", "snapshot.db", "hcmigrate-notes.db", ".hcmigrate-snapshot-x.dbx"}


def snapshot_blob(pages: int = 4) -> bytes:
    body = bytes(i % 251 for i in range(pages * 512))
    return body + hashlib.sha256(body).digest()


class PodFiles:
    """Etcd pods whose exec understands the few commands the snapshotter runs, on a dict."""

    def __init__(self, pods: list[str], *, save: str = "ok") -> None:
        self.files: dict[str, dict[str, set[str]]] = {
            p: {"/var/lib/data": set(ETCD_FILES), "/tmp": set()} for p in pods
        }
        self.save, self.calls, self.unreachable = save, [], set()  # type: ignore[var-annotated]

    def names(self, pod: str) -> set[str]:
        return {f"{d}/{n}" for d, names in self.files[pod].items() for n in names}

    def put(self, pod: str, path: str) -> None:
        d, name = path.rsplit("/", 1)
        self.files[pod][d].add(name)

    def run_in_pod(self, namespace: str, pod: str, container: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        self.calls.append(argv)
        if pod in self.unreachable:
            raise StepFailed(f"cannot exec in {pod}")
        cmd = argv[0]
        if cmd == "ls":
            d = argv[-1]
            return (
                (0, "\n".join([".", "..", *sorted(self.files[pod][d])]).encode(), b"")
                if d in self.files[pod]
                else (2, b"", b"")
            )
        if cmd == "rm":
            for path in argv[2:]:
                if path != "--":
                    d, name = path.rsplit("/", 1)
                    self.files[pod].get(d, set()).discard(name)
            return 0, b"", b""
        if cmd == "test":
            return 0, b"", b""
        if cmd == "df":
            out = "Filesystem 1024-blocks Used Available Capacity Mounted on\n"
            out += "".join(f"x 100000000 0 100000000 0% {d}\n" for d in ("/var/lib/data", "/tmp"))
            return 0, out.encode(), b""
        if cmd == "stat":
            return 0, str(len(snapshot_blob())).encode(), b""
        if cmd == "etcdctl" and "endpoint" in argv:
            return 0, b'[{"Status": {"dbSize": 4096}}]', b""
        if cmd == "etcdctl" and "save" in argv:
            path = argv[-1]
            self.put(pod, path + scratch.PART)
            if self.save == "interrupt":
                raise KeyboardInterrupt
            if self.save == "fail":
                return 1, b"", b"context deadline exceeded"
            self.files[pod][path.rsplit("/", 1)[0]].discard(path.rsplit("/", 1)[1] + scratch.PART)
            self.put(pod, path)
            return 0, b"", b""
        raise AssertionError(argv)

    def stream_from_pod(self, namespace: str, pod: str, container: str, argv: list[str]) -> Any:
        assert argv[0] == "cat"
        return Stream(snapshot_blob())


class Stream(io.BytesIO):
    def check(self) -> None:
        pass


class Bucket:
    name = "b"

    def upload_stream(self, key: str, reader: Any, *, finish: Any = None, **_: Any) -> None:
        while reader.read(1 << 16):
            pass
        if finish:
            finish()


def test_the_scratch_name_is_ours_alone() -> None:
    name = scratch.scratch_name("20260101T000000Z")
    assert name == ".hcmigrate-snapshot-20260101T000000Z.db"
    assert scratch.is_ours(name) and scratch.is_ours(name + ".part")
    for other in ETCD_FILES | {"hcmigrate-20260101T000000Z.db", ".hcmigrate-snapshot-a.db.part.x", "db"}:
        assert not scratch.is_ours(other), other
    assert scratch.is_ours(scratch.scratch_name("a/b c"))  # whatever the run id holds


@pytest.mark.parametrize("save", ["ok", "fail", "interrupt"])
def test_every_path_of_a_run_removes_its_own_files(save: str) -> None:
    kube = PodFiles(["etcd-0"], save=save)
    snap = EtcdSnapshotter(kube, NS, NullReporter())  # type: ignore[arg-type]
    raised: type[BaseException] | None = {"ok": None, "fail": StepFailed, "interrupt": KeyboardInterrupt}[save]
    if raised is None:
        res = snap.snapshot_to_bucket(["etcd-0"], Bucket(), "k", 5 << 20, "20260101T000000Z")  # type: ignore[arg-type]
        assert res.size == len(snapshot_blob())
    else:
        with pytest.raises(raised):
            snap.snapshot_to_bucket(["etcd-0"], Bucket(), "k", 5 << 20, "20260101T000000Z")  # type: ignore[arg-type]
    saved = next(a[-1] for a in kube.calls if a[0] == "etcdctl" and "save" in a)
    assert saved == "/var/lib/data/.hcmigrate-snapshot-20260101T000000Z.db"
    assert kube.names("etcd-0") == {f"/var/lib/data/{n}" for n in ETCD_FILES}


def test_leftovers_of_earlier_runs_go_and_nothing_else() -> None:
    kube = PodFiles(["etcd-0", "etcd-1", "etcd-2"])
    left = {
        "etcd-0": ["/var/lib/data/.hcmigrate-snapshot-20250101T000000Z.db", "/tmp/.hcmigrate-snapshot-1.db.part"],
        "etcd-2": ["/var/lib/data/.hcmigrate-snapshot-2.db.part"],
    }
    live = "/var/lib/data/.hcmigrate-snapshot-live.db"
    for pod, paths in left.items():
        for path in paths:
            kube.put(pod, path)
    kube.put("etcd-1", live)
    kube.put("etcd-1", live + ".part")
    removed = scratch.remove_leftovers(kube, NS, ["etcd-0", "etcd-1", "etcd-2"], keep={live})  # type: ignore[arg-type]
    assert sorted(removed) == sorted(f"{pod}:{p}" for pod, paths in left.items() for p in paths)
    assert kube.names("etcd-0") == kube.names("etcd-2") == {f"/var/lib/data/{n}" for n in ETCD_FILES}
    assert {live, live + ".part"} <= kube.names("etcd-1")
    # A live run's file may be named by its name alone, too.
    assert scratch.remove_leftovers(kube, NS, ["etcd-1"], keep={live.rsplit("/", 1)[1]}) == []  # type: ignore[arg-type]
    assert scratch.remove_leftovers(kube, NS, ["etcd-1"]) == [f"etcd-1:{live}", f"etcd-1:{live}.part"]  # type: ignore[arg-type]


def test_a_pod_that_cannot_exec_does_not_hide_the_others() -> None:
    kube = PodFiles(["etcd-0", "etcd-1"])
    kube.put("etcd-1", "/tmp/.hcmigrate-snapshot-old.db")
    kube.unreachable.add("etcd-0")
    with pytest.raises(StepFailed, match="etcd-0"):
        scratch.remove_leftovers(kube, NS, ["etcd-0", "etcd-1"])  # type: ignore[arg-type]


def test_backup_removes_leftovers_before_its_first_change(tmp_path: Path) -> None:
    kube = PodFiles(["etcd-0"])
    kube.put("etcd-0", "/var/lib/data/.hcmigrate-snapshot-old.db")
    opts = backup.BackupOptions("example", "clusters", BucketTarget(bucket="b"))
    b = backup.Backup(
        opts, kube, Bucket(), NullReporter(), {"metadata": {"name": "example", "namespace": "clusters"}},  # type: ignore[arg-type]
        SourceState(None), ["etcd-0"], "20260101T000000Z", BackupLayout("", "clusters", "example", "20260101T000000Z"),
        tmp_path,
    )  # fmt: skip
    names = [s.name for s in backup.build_plan(b).steps]
    assert names.index("remove leftover snapshot files") < names.index("record source state")
    next(s for s in backup.build_plan(b).steps if s.name == "remove leftover snapshot files").run()
    assert kube.names("etcd-0") == {f"/var/lib/data/{n}" for n in ETCD_FILES}
