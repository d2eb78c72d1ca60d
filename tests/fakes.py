"""In-memory stand-ins for the ports, shared by the unit tests."""

from __future__ import annotations


class NullReporter:
    """A Reporter that says nothing."""

    def step(self, name: str) -> None:
        pass

    def line(self, text: str) -> None:
        pass

    def progress(self, label: str, done: int, total: int | None) -> None:
        pass

    def progress_done(self, label: str, done: int, seconds: float) -> None:
        pass
