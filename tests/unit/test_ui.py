"""Progress as people see it: a redrawn bar on a terminal, plain lines in a log."""

from __future__ import annotations

import io

from kubectl_hcmigrate.ui import TextReporter, human_bytes


def test_terminal_gets_a_bar_with_bytes_rate_and_eta(monkeypatch) -> None:
    clock = iter([100.0, 102.0])
    monkeypatch.setattr("kubectl_hcmigrate.ui.time.monotonic", lambda: next(clock))
    out = io.StringIO()
    r = TextReporter(out, tty=True)
    r.progress("upload", 0, 100 << 20)
    r.progress("upload", 50 << 20, 100 << 20)
    text = out.getvalue()
    assert text.startswith("\r\033[K") and "[############............]" in text
    assert "50.0 MiB / 100.0 MiB (50%)" in text and "25.0 MiB/s" in text and "ETA 0:00:02" in text


def test_logs_get_plain_lines_without_control_codes(monkeypatch) -> None:
    clock = iter([0.0, 10.0])
    monkeypatch.setattr("kubectl_hcmigrate.ui.time.monotonic", lambda: next(clock))
    out = io.StringIO()
    r = TextReporter(out, tty=False)
    r.progress("upload", 0, 1000)
    r.progress("upload", 500, 1000)
    r.progress_done("upload", 1000, 20.0)
    lines = out.getvalue().splitlines()
    assert lines == ["upload: 500 B / 1000 B (50%)  50 B/s  ETA 0:00:10", "upload: 1000 B in 20.0s (50 B/s)"]


def test_sizes_read_in_binary_units() -> None:
    assert human_bytes(3 * 1024**3) == "3.0 GiB"
