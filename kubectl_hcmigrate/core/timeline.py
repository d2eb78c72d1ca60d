"""When each step of a run started and ended: wall-clock times for the result (what a user lines up
with the cluster's events) and the monotonic clock for durations between steps (the downtime)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from kubectl_hcmigrate.core.pipeline import Plan


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Timeline:
    def __init__(self) -> None:
        self.entries: list[dict[str, str]] = []
        self._clock: dict[str, tuple[float, float]] = {}

    def track(self, plan: Plan) -> Plan:
        """Every step of `plan` puts its start and end here, whether it ends well or not."""
        for step in plan.steps:
            step.run = self._timed(step.name, step.run)
        return plan

    def _timed(self, name: str, run: Callable[[], Any]) -> Callable[[], Any]:
        def timed() -> Any:
            t0, started = time.monotonic(), _now()
            try:
                return run()
            finally:
                self._clock[name] = (t0, time.monotonic())
                self.entries.append({"step": name, "started": started, "finished": _now()})

        return timed

    def between(self, first: str, last: str) -> float | None:
        """Seconds from the start of step `first` to the end of step `last`; None unless both ran."""
        a, b = self._clock.get(first), self._clock.get(last)
        return round(b[1] - a[0], 2) if a and b else None
