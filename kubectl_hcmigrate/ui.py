"""Reporters: the core calls these and never prints. Progress and step lines go to stderr,
results to stdout. A terminal gets one live line redrawn in place (a bar, a count, a wait with
its elapsed time), cut to the terminal's width so a narrow pane never wraps it into stale lines;
anything else gets plain lines, each with a timestamp, as a log wants them."""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import datetime, timezone
from typing import TextIO

from kubectl_hcmigrate.core.ports import Reporter
from kubectl_hcmigrate.core.units import human_bytes

__all__ = ["Reporter", "TextReporter", "human_bytes"]

CLEAR = "\r\033[K"
# A live line is redrawn at most this often on a terminal; a log gets a progress line this often.
TTY_EVERY, LOG_EVERY = 0.1, 5.0
# Objects are counted (`n/N`) in batches of at least this many.
COUNT_FROM = 20


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ ")


class TextReporter:
    """Plain timestamped lines; on a terminal, one live line redrawn in place."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None, columns: int | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._columns = columns
        self._start: dict[str, float] = {}
        self._last = 0.0
        self._live = False  # a live line is on screen, not yet ended

    def columns(self) -> int:
        """The width, now (a pane can be resized mid-run), of the terminal drawn on: stderr's own,
        not stdout's nor $COLUMNS (which shutil.get_terminal_size asks first, and a parent's
        environment can carry stale)."""
        if self._columns:
            return self._columns
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            return shutil.get_terminal_size((80, 24)).columns

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _say(self, text: str) -> None:
        """A whole line: on a terminal it replaces the live line; in a log it gets a timestamp."""
        if self.tty:
            self._write((CLEAR if self._live else "") + text + "\n")
            self._live = False
        else:
            self._write(_stamp() + text + "\n")

    def _draw(self, text: str) -> None:
        """The live line, cut to fit: a line longer than the terminal wraps, and `\\r` then
        redraws only its last row, leaving the rest behind."""
        self._write(CLEAR + text[: self.columns() - 1])
        self._live = True

    def end(self) -> None:
        """Leaves the live line as it last was and moves below it (Ctrl-C, a failure)."""
        if self._live:
            self._write("\n")
            self._live = False

    def step(self, name: str) -> None:
        self._say(f"==> {name}")

    def line(self, text: str) -> None:
        self._say(text)

    def status(self, text: str, *, new: bool) -> None:
        """A state that goes on (a wait): redrawn in place on a terminal; in a log, said when `new`."""
        if self.tty:
            self._draw(text)
        elif new:
            self._say(text)

    def progress(self, label: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        start = self._start.setdefault(label, now)
        if done == 0:
            return
        # A terminal redraws ~10 times a second; logs get a line every 5 seconds.
        if now - self._last < (TTY_EVERY if self.tty else LOG_EVERY):
            return
        self._last = now
        rate = done / max(now - start, 1e-6)
        if not total:
            text = f"{label}: {human_bytes(done)}  {human_bytes(rate)}/s"
            self._draw(text) if self.tty else self._say(text)
            return
        eta = (total - done) / rate if rate > 0 else 0
        figures = f"{human_bytes(done)} / {human_bytes(total)} ({100 * done // total}%)"
        tail = f"  {human_bytes(rate)}/s  ETA {_clock(eta)}"
        if not self.tty:
            self._say(f"{label}: {figures}{tail}")
            return
        # The bar takes what the words leave of the width, 10 to 24 cells; no room: no bar.
        room = self.columns() - 1 - len(f"{label} [] {figures}{tail}")
        width = min(24, room)
        fill = width * done // total if width >= 10 else 0
        bar = f" [{'#' * fill}{'.' * (width - fill)}]" if width >= 10 else ":"
        self._draw(f"{label}{bar} {figures}{tail}")

    def count(self, label: str, done: int, total: int) -> None:
        """Objects done of a known number (`create objects: 120/2500`): live on a terminal,
        every few seconds and at the end in a log."""
        now = time.monotonic()
        if total < COUNT_FROM or (done < total and now - self._last < (TTY_EVERY if self.tty else LOG_EVERY)):
            return  # a short batch is done before a count could be read
        self._last = now
        self.status(f"{label}: {done}/{total}", new=True)
        if done >= total:
            self.end()

    def progress_done(self, label: str, done: int, seconds: float) -> None:
        rate = done / max(seconds, 1e-6)
        self._say(f"{label}: {human_bytes(done)} in {seconds:.1f}s ({human_bytes(rate)}/s)")
        self._start.pop(label, None)
