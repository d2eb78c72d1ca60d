"""Every wait longer than about two seconds shows it is alive: a call that blocks silently
(`etcdctl snapshot save`) and a polled wait (a namespace going) redraw the time waited in place
on a terminal, say it on a timestamped line in a log, and end with a line of their own."""

from __future__ import annotations

import io
import re
import threading
from functools import partial

import pytest

from kubectl_hcmigrate.core.wait import alive, poll_until
from kubectl_hcmigrate.etcd.snapshotter import EtcdSnapshotter
from kubectl_hcmigrate.ui import CLEAR, TextReporter

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "


def test_a_silent_call_redraws_its_elapsed_time_on_a_terminal() -> None:
    out = io.StringIO()
    r = TextReporter(out, tty=True, columns=70)
    seen = threading.Event()
    with alive(r, "etcdctl snapshot save in clusters-example/etcd-0", every=0.01, after=0.0):
        seen.wait(0.2)  # the call blocks; the ticker draws meanwhile
    r.line("etcdctl snapshot save in clusters-example/etcd-0: 1.2 MiB in 0.2s")
    text = out.getvalue()
    drawn = [d for d in text.split(CLEAR) if d]
    assert len(drawn) >= 3 and all(d.startswith("etcdctl snapshot save in clusters-example/etcd-0: ") for d in drawn)
    assert re.fullmatch(r"etcdctl snapshot save in clusters-example/etcd-0: \d+s", drawn[0])
    assert text.endswith(f"{CLEAR}etcdctl snapshot save in clusters-example/etcd-0: 1.2 MiB in 0.2s\n")


def test_a_silent_call_says_so_once_in_a_log_and_nothing_when_short() -> None:
    out = io.StringIO()
    r = TextReporter(out, tty=False)
    with alive(r, "etcdctl snapshot save", every=0.01, after=0.0):
        threading.Event().wait(0.1)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and re.fullmatch(f"{STAMP}etcdctl snapshot save: 0s", lines[0]), lines
    quick = io.StringIO()
    with alive(TextReporter(quick, tty=True), "etcdctl snapshot save"):  # done before 2 s
        pass
    assert quick.getvalue() == ""


def test_a_polled_wait_shows_it_is_alive_past_two_seconds_and_ends_on_its_own_line() -> None:
    out, clock = io.StringIO(), iter([0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    answers = iter([False, False, False, False, True])
    r = TextReporter(out, tty=True, columns=70)
    assert poll_until(lambda: next(answers), 60, clock=lambda: next(clock), sleep=lambda _: None, reporter=r, what="ns")
    assert out.getvalue() == (f"{CLEAR}waiting for ns: 2s{CLEAR}waiting for ns: 3s{CLEAR}waited 4s for ns\n")


def test_the_snapshot_save_is_watched_while_it_runs_and_says_its_size_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """The snapshotter wraps the save exec (and only it) in the ticker."""
    out = io.StringIO()

    class Kube:
        def run_in_pod(self, ns: str, pod: str, container: str, argv: list[str]) -> tuple[int, bytes, bytes]:
            if argv[-3:-1] == ["snapshot", "save"]:
                threading.Event().wait(0.15)
            if argv[:2] == ["stat", "-c"]:
                return 0, b"1258291\n", b""
            if "status" in argv:
                return 0, b'[{"Status": {"dbSize": 1000}}]', b""
            if argv[0] == "df":
                return 0, b"Filesystem 1K-blocks Used Available Use% Mounted\n/dev/x 1 1 99999999 1% /\n", b""
            return 0, b"", b""

    monkeypatch.setattr("kubectl_hcmigrate.etcd.snapshotter.alive", partial(alive, after=0.0, every=0.01))
    snap = EtcdSnapshotter(Kube(), "clusters-example", TextReporter(out, tty=True, columns=120))  # type: ignore[arg-type]
    saved = snap.save(["etcd-0"], "tag")
    text = out.getvalue()
    assert saved.size == 1258291
    assert f"{CLEAR}etcdctl snapshot save in clusters-example/etcd-0: 0s" in text
    assert re.search(r"\x1b\[Ketcdctl snapshot save in clusters-example/etcd-0: 1\.2 MiB in 0\.\ds\n$", text), text
