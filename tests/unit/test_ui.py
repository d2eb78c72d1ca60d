"""Progress as people see it: a live line redrawn in place on a terminal, cut to its width, ended
cleanly on a failure; plain timestamped lines in a log."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from kubectl_hcmigrate.core.kinds import KindRule, rule_for
from kubectl_hcmigrate.core.wait import Wanted, wait_for
from kubectl_hcmigrate.ui import CLEAR, TextReporter, human_bytes

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ "


def ticking(monkeypatch: pytest.MonkeyPatch, *times: float) -> None:
    clock = iter(times)
    monkeypatch.setattr("kubectl_hcmigrate.ui.time.monotonic", lambda: next(clock))


def test_terminal_gets_a_bar_with_bytes_rate_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    ticking(monkeypatch, 100.0, 102.0)
    out = io.StringIO()
    r = TextReporter(out, tty=True, columns=200)
    r.progress("upload", 0, 100 << 20)
    r.progress("upload", 50 << 20, 100 << 20)
    text = out.getvalue()
    assert text.startswith(CLEAR) and "[############............]" in text
    assert "50.0 MiB / 100.0 MiB (50%)" in text and "25.0 MiB/s" in text and "ETA 0:00:02" in text


@pytest.mark.parametrize("columns", [40, 70, 200])
def test_the_live_line_fits_the_terminal(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    """A line wider than the pane wraps, and the next redraw leaves its first rows behind."""
    ticking(monkeypatch, 0.0, 3.0, 6.0)
    out = io.StringIO()
    r = TextReporter(out, tty=True, columns=columns)
    r.progress("etcd snapshot", 0, 600 << 20)
    r.progress("etcd snapshot", 200 << 20, 600 << 20)
    r.status("waiting 1m12s (28m48s left): HostedCluster clusters/example Available=False (Waiting: etcd)", new=True)
    for drawn in out.getvalue().split(CLEAR)[1:]:
        assert len(drawn) < columns, drawn
    assert "[" in out.getvalue() if columns >= 70 else True  # a bar when there is room for one


def test_a_line_after_the_live_line_replaces_it_and_end_leaves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    r = TextReporter(out, tty=True, columns=80)
    r.status("waiting 2s (29m58s left): x", new=True)
    r.line("==> undo pause")
    assert out.getvalue() == f"{CLEAR}waiting 2s (29m58s left): x{CLEAR}==> undo pause\n"
    r.status("waiting 4s", new=False)
    r.end()  # Ctrl-C: the state stays on screen, and what follows starts on a line of its own
    assert out.getvalue().endswith(f"{CLEAR}waiting 4s\n")
    r.end()
    assert out.getvalue().endswith(f"{CLEAR}waiting 4s\n")


def test_logs_get_plain_timestamped_lines_without_control_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    ticking(monkeypatch, 0.0, 10.0)
    out = io.StringIO()
    r = TextReporter(out, tty=False)
    r.progress("upload", 0, 1000)
    r.progress("upload", 500, 1000)
    r.progress_done("upload", 1000, 20.0)
    r.status("waiting 2s", new=False)  # a log hears of a wait when it changes
    lines = out.getvalue().splitlines()
    assert [re.sub(f"^{STAMP}", "", line) for line in lines] == [
        "upload: 500 B / 1000 B (50%)  50 B/s  ETA 0:00:10",
        "upload: 1000 B in 20.0s (50 B/s)",
    ]
    assert all(re.match(STAMP, line) for line in lines) and "\033" not in out.getvalue()


def test_counts_show_n_of_n_for_long_batches_only(monkeypatch: pytest.MonkeyPatch) -> None:
    ticking(monkeypatch, *(float(i) for i in range(10)))
    out = io.StringIO()
    r = TextReporter(out, tty=True, columns=80)
    r.count("objects", 0, 3)
    assert out.getvalue() == ""
    r.count("objects", 0, 2500)
    r.count("objects", 2500, 2500)
    assert out.getvalue() == f"{CLEAR}objects: 0/2500{CLEAR}objects: 2500/2500\n"


def test_sizes_read_in_binary_units() -> None:
    assert human_bytes(3 * 1024**3) == "3.0 GiB"


def test_a_wait_that_ends_leaves_a_line_of_its_own_not_its_last_live_state() -> None:
    """Else the result printed next runs on after the wait's last drawn state, on the same row."""
    out, now, states = io.StringIO(), [0.0], iter(["False", "False", "True"])

    class Kube:
        def get(self, rule: KindRule, namespace: str, name: str) -> dict[str, Any]:
            return {"status": {"conditions": [{"type": "Available", "status": next(states)}]}}

    def sleep(seconds: float) -> None:
        now[0] += seconds

    wanted = [Wanted(rule_for("HostedCluster", "hc"), "clusters", "example", "Available")]
    r = TextReporter(out, tty=True, columns=70)
    assert wait_for(Kube(), wanted, 60, r, clock=lambda: now[0], sleep=sleep) == 4
    drawn = out.getvalue().split(CLEAR)[1:]
    assert drawn[:2] == [
        "waiting 0s (1m left): HostedCluster clusters/example Available=False",
        "waiting 2s (58s left): HostedCluster clusters/example Available=False",
    ]
    assert drawn[2:] == ["waited 4s: Available=True\n"]
