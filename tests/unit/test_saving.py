"""The snapshot's content is fixed once etcd sends its first bytes: backup goes on (and puts the
source back) while the rest of the save arrives, and a save that fails after that point fails the
backup instead of trying another member, whose snapshot would be of the source as it is now."""

from __future__ import annotations

import threading

import pytest

from kubectl_hcmigrate.core.report import StepFailed
from kubectl_hcmigrate.etcd.snapshotter import EtcdSnapshotter
from tests.fakes import NullReporter

SIZE = 1 << 20


class SlowSave:
    """etcd pods whose `etcdctl snapshot save` sends its first chunk, then waits to be let go."""

    def __init__(self, *, fails: bool = False) -> None:
        self.release, self.fails = threading.Event(), fails
        self.first_chunk = threading.Event()
        self.calls: list[tuple[str, str]] = []

    def run_in_pod(self, namespace: str, pod: str, container: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        self.calls.append((pod, " ".join(argv)))
        if argv[0] == "df":
            return (
                0,
                b"Filesystem 1024-blocks Used Available Capacity Mounted on\nx 9 0 99999999 0% /var/lib/data\n",
                b"",
            )
        if argv[0] == "etcdctl" and "endpoint" in argv:
            return 0, b'[{"Status": {"dbSize": 4096}}]', b""
        if argv[0] == "etcdctl" and "save" in argv:
            self.first_chunk.set()  # etcd opened its read transaction and sent the first bytes
            assert self.release.wait(10)
            return (1, b"", b"rpc error: connection lost") if self.fails else (0, b"", b"")
        if argv[0] == "stat" and argv[-2].endswith(".part"):  # while the save runs: .part only
            return (1, b"32768\n", b"stat: cannot stat") if self.first_chunk.is_set() else (1, b"", b"")
        if argv[0] == "stat":
            return 0, str(SIZE).encode(), b""
        return 0, b"", b""  # test -f, rm

    def saves(self) -> list[str]:
        return [pod for pod, cmd in self.calls if "snapshot save" in cmd]


def test_begin_returns_while_the_save_still_runs_and_finish_waits_for_it() -> None:
    kube = SlowSave()
    snap = EtcdSnapshotter(kube, "clusters-x", NullReporter())  # type: ignore[arg-type]
    saving = snap.begin(["etcd-0"], "20260101T000000Z")
    assert saving.running  # the source can be put back now
    kube.release.set()
    saved = snap.finish(saving)
    assert (saved.pod, saved.size) == ("etcd-0", SIZE)
    assert not any(cmd.startswith("rm") for _, cmd in kube.calls)  # the file stays for the upload


def test_a_save_that_fails_after_its_content_was_fixed_tries_no_other_member() -> None:
    kube = SlowSave(fails=True)
    snap = EtcdSnapshotter(kube, "clusters-x", NullReporter())  # type: ignore[arg-type]
    saving = snap.begin(["etcd-0", "etcd-1"], "20260101T000000Z")
    kube.release.set()
    with pytest.raises(StepFailed, match=r"etcdctl snapshot save failed in clusters-x/etcd-0 \(exit 1\): rpc error"):
        snap.finish(saving)
    assert kube.saves() == ["etcd-0"]
    assert [pod for pod, cmd in kube.calls if cmd.startswith("rm")] == ["etcd-0"]  # its scratch files
