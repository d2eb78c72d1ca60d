"""Waiting for status conditions, with a progress line when something changes (and now and
then when nothing does), and a timeout that says exactly which condition is still missing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from kubectl_hcmigrate.core.kinds import KindRule
from kubectl_hcmigrate.core.ports import KubeError, Reporter
from kubectl_hcmigrate.core.redact import scrub
from kubectl_hcmigrate.core.report import HcmigrateError, Outcome
from kubectl_hcmigrate.core.units import format_duration

HEARTBEAT_SECONDS = 30.0
# A wait longer than this shows it is alive (issue 14: every wait longer than about two seconds).
ALIVE_AFTER = 2.0


class Getter(Protocol):
    def get(self, rule: KindRule, namespace: str, name: str) -> dict[str, Any] | None: ...


class WaitTimedOut(HcmigrateError):
    outcome = Outcome.TIMED_OUT


@dataclass(frozen=True)
class Wanted:
    """`condition` of one object must be True."""

    rule: KindRule
    namespace: str
    name: str
    condition: str

    def __str__(self) -> str:
        return f"{self.rule.kind} {self.namespace}/{self.name} {self.condition}"


def condition_state(obj: Mapping[str, Any] | None, condition: str) -> str:
    """`True`, or what stands in the way: `False (Reason: message)`, `not reported yet`, ..."""
    if obj is None:
        return "object not found"
    found = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == condition), None)
    if found is None:
        return "not reported yet"
    status = str(found.get("status", "Unknown"))
    why = ": ".join(str(found[k]) for k in ("reason", "message") if found.get(k))
    return f"{status} ({scrub(why)})" if why and status != "True" else status


def wait_for(
    kube: Getter,
    wanted: list[Wanted],
    timeout: float,
    reporter: Reporter,
    *,
    poll: float = 2.0,
    watch: Callable[[], None] = lambda: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Polls until every condition is True; returns the seconds waited or raises WaitTimedOut.
    `watch` is asked at each poll too, and raises to end the wait early on what no condition shows."""
    start = clock()
    deadline, said_at, waited = start + timeout, start, 0.0
    last: dict[Wanted, str] = {}
    states: dict[Wanted, str] = {}

    def all_true() -> bool:
        nonlocal last, said_at, states, waited
        states = {w: _read(kube, w) for w in wanted}
        now = clock()
        waited = now - start
        if all(s == "True" for s in states.values()):
            # A line of its own takes the live wait line's place: left there, the result printed
            # next would run on after its last drawn state.
            reporter.line(f"waited {format_duration(waited)}: " + ", ".join(f"{w.condition}=True" for w in wanted))
            return True
        # One line, redrawn in place with the time waited on a terminal; a log line on a change
        # and now and then when nothing changes.
        new = states != last or now - said_at >= HEARTBEAT_SECONDS
        left = format_duration(max(deadline - now, 0))
        missing = "; ".join(f"{w}={s}" for w, s in states.items() if s != "True")
        reporter.status(f"waiting {format_duration(waited)} ({left} left): {missing}", new=new)
        if new:
            last, said_at = states, now
        watch()
        return False

    if poll_until(all_true, timeout, every=poll, clock=clock, sleep=sleep):
        return waited
    missing = "; ".join(f"{w} is {s}" for w, s in states.items() if s != "True")
    raise WaitTimedOut(
        f"timed out after {format_duration(timeout)}: still missing {missing}. Everything is applied: "
        "run restore again to keep waiting, or check the HyperShift operator on the destination"
    )


def _read(kube: Getter, w: Wanted) -> str:
    try:
        return condition_state(kube.get(w.rule, w.namespace, w.name), w.condition)
    except (KubeError, HcmigrateError) as e:
        # One failed read must not end a half-hour wait; the next poll tries again.
        return f"unreadable ({scrub(str(e))})"


def poll_until(
    done: Callable[[], bool],
    timeout: float,
    *,
    every: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    reporter: Reporter | None = None,
    what: str = "",
) -> bool:
    """The one polling loop: asks `done` until it says yes (True) or `timeout` seconds pass (False);
    `done` is asked once more at the deadline, never slept past it. With a reporter, a wait longer
    than ALIVE_AFTER shows it is alive: `waiting for <what>: 12s` redrawn in place on a terminal
    (a log line now and then), and a line of its own when it ends."""
    start = clock()
    deadline, said_at = start + timeout, None
    while not done():
        now = clock()
        if now >= deadline:
            return False
        if reporter is not None and now - start >= ALIVE_AFTER:
            new = said_at is None or now - said_at >= HEARTBEAT_SECONDS
            reporter.status(f"waiting for {what}: {format_duration(now - start)}", new=new)
            said_at = now if new else said_at
        sleep(max(min(every, deadline - now), 0.0))
    if reporter is not None and said_at is not None:
        reporter.line(f"waited {format_duration(clock() - start)} for {what}")
    return True


@contextmanager
def alive(reporter: Reporter, what: str, *, every: float = 1.0, after: float = ALIVE_AFTER) -> Iterator[None]:
    """Around a call that blocks and says nothing until it ends (`etcdctl snapshot save` in a
    pod): past `after` seconds, `<what>: 12s` redrawn in place on a terminal (a log line at
    first and every HEARTBEAT_SECONDS), from a thread while the caller waits on the call. The
    caller's next line takes the live line's place."""
    stop, start = threading.Event(), time.monotonic()

    def tick() -> None:
        said_at = None
        if stop.wait(after):
            return
        while True:
            now = time.monotonic()
            new = said_at is None or now - said_at >= HEARTBEAT_SECONDS
            reporter.status(f"{what}: {format_duration(now - start)}", new=new)
            said_at = now if new else said_at
            if stop.wait(every):
                return

    ticker = threading.Thread(target=tick, name="alive", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()  # drawn nothing more once the caller writes again
