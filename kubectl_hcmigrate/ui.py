"""Reporters: the core calls these and never prints. Progress and step lines go to stderr,
results to stdout. A terminal gets a redrawn progress bar; anything else plain lines."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from kubectl_hcmigrate.core.ports import Reporter
from kubectl_hcmigrate.core.units import human_bytes

__all__ = ["Reporter", "TextReporter", "human_bytes"]


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class TextReporter:
    """Plain lines; on a terminal, one progress line redrawn in place."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._start: dict[str, float] = {}
        self._last = 0.0

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def step(self, name: str) -> None:
        self._write(f"==> {name}\n")

    def line(self, text: str) -> None:
        self._write(f"{text}\n")

    def progress(self, label: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        start = self._start.setdefault(label, now)
        if done == 0:
            return
        # A terminal redraws ~10 times a second; logs get a line every 5 seconds.
        if now - self._last < (0.1 if self.tty else 5.0):
            return
        self._last = now
        elapsed = max(now - start, 1e-6)
        rate = done / elapsed
        text = f"{label}: {human_bytes(done)}"
        if total:
            eta = (total - done) / rate if rate > 0 else 0
            text += f" / {human_bytes(total)} ({100 * done // total}%)"
            if self.tty:
                width = 24
                fill = width * done // total
                text = f"{label} [{'#' * fill}{'.' * (width - fill)}] " + text[len(label) + 2 :]
            text += f"  {human_bytes(rate)}/s  ETA {_clock(eta)}"
        else:
            text += f"  {human_bytes(rate)}/s"
        self._write(f"\r\033[K{text}" if self.tty else f"{text}\n")

    def progress_done(self, label: str, done: int, seconds: float) -> None:
        rate = done / max(seconds, 1e-6)
        end = "\r\033[K" if self.tty else ""
        self._write(f"{end}{label}: {human_bytes(done)} in {seconds:.1f}s ({human_bytes(rate)}/s)\n")
        self._start.pop(label, None)
