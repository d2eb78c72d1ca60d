"""A verb is a Plan: named steps run in order; on failure the steps that began are undone in
reverse. The outcome says whether every undo worked (restic's plan-then-execute, velero's
PartiallyFailed vs Failed).

What a run changed is recorded while it runs (`changed()`, from the code that writes) and the
outcome is computed from those records only: asking the cluster again after a failure would ask
the very apiserver that just failed, and an empty answer would read as "nothing changed".
"""

from __future__ import annotations

import contextlib
import contextvars
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from kubectl_hcmigrate.core.ports import Reporter
from kubectl_hcmigrate.core.report import HcmigrateError, Outcome, PreflightError


@dataclass
class Step:
    name: str
    run: Callable[[], Any]
    # What the step will change, one line each, for --dry-run. Empty: it only reads.
    changes: Callable[[], list[str]] = lambda: []
    # Runs when the step began, finished or not: an undo must be safe over a half-done step.
    undo: Callable[[], None] | None = None
    # This undo removes the record of what to put back: it runs only if every other undo worked.
    undo_last_if_clean: bool = False


@dataclass
class Plan:
    verb: str
    steps: list[Step] = field(default_factory=list)

    def add(self, step: Step) -> Plan:
        self.steps.append(step)
        return self


@dataclass
class RunLog:
    """What a run did, as it happened: per step, the changes made (or begun), and the warnings."""

    changes: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    undone: list[str] = field(default_factory=list)

    def all_changes(self) -> list[str]:
        return [f"{step}: {c}" for step, cs in self.changes.items() for c in cs]


_current: contextvars.ContextVar[tuple[RunLog, str] | None] = contextvars.ContextVar("hcmigrate_step", default=None)


def changed(what: str) -> None:
    """Called by the code that writes, just before the write: a write that timed out may still
    have been applied, so it counts as begun."""
    now = _current.get()
    if now is not None:
        log, step = now
        log.changes.setdefault(step, []).append(what)


def unchanged(what: str) -> None:
    """Takes back a `changed(what)` whose write turned out to change nothing (the object was there)."""
    now = _current.get()
    if now is not None:
        log, step = now
        with contextlib.suppress(ValueError):
            log.changes.get(step, []).remove(what)


def warn(text: str) -> None:
    """A warning for the result (SUCCEEDED_WITH_WARNINGS), said once: in the summary, or beside
    the error if the run fails (not as it happens as well)."""
    now = _current.get()
    if now is not None:
        now[0].warnings.append(text)


class RunFailed(Exception):
    """Carries the outcome, the cause's one-line message, any undo failures and the run's log."""

    def __init__(self, outcome: Outcome, message: str, undo_errors: list[str], log: RunLog | None = None) -> None:
        super().__init__(message)
        self.outcome, self.message, self.undo_errors = outcome, message, undo_errors
        self.log = log or RunLog()


def list_changes(plan: Plan) -> list[str]:
    """A dry run's changes, said once: in its result (counted per kind in text), not as it runs."""
    return [f"{s.name}: {c}" for s in plan.steps for c in s.changes()]


def execute(plan: Plan, reporter: Reporter) -> RunLog:
    """Runs every step; on failure undoes what began and raises RunFailed with the outcome.

    A signal can land anywhere, between two steps as well as inside one: the whole loop is
    guarded, and a step counts as begun before its first line is printed."""
    log = RunLog()
    begun: list[Step] = []
    try:
        for step in plan.steps:
            begun.append(step)
            reporter.step(step.name)
            t0 = time.monotonic()
            token = _current.set((log, step.name))
            try:
                step.run()
            finally:
                _current.reset(token)
            log.timings[step.name] = time.monotonic() - t0
    except BaseException as exc:
        # The run ends right after the undo, with the first cause.
        with interrupts_held(reporter, "interrupt received: finishing putting the source back first"):
            undo_errors = rollback(begun, reporter, log)
        where = begun[-1].name if begun else plan.verb
        raise RunFailed(outcome_of(exc, begun, log, undo_errors), _message(exc, where), undo_errors, log) from exc
    return log


# What a verb's preflight found (verbs/backup_found.Backup, verbs/restore.Restore, ...): its steps act on it.
Found = TypeVar("Found")
FoundIn = TypeVar("FoundIn", contravariant=True)


class Verb(Protocol[FoundIn]):
    """A verb module after its preflight: the plan it builds and the result it reports."""

    def build_plan(self, found: FoundIn) -> Plan: ...
    def result(self, found: FoundIn, timings: dict[str, float]) -> dict[str, Any]: ...


def run_verb(verb: Verb[Found], found: Found, reporter: Reporter, *, dry_run: bool = False) -> dict[str, Any]:
    """A verb module after its preflight (`found`): its plan's changes for a dry run, else its result."""
    plan = verb.build_plan(found)
    if dry_run:
        return {"outcome": Outcome.SUCCEEDED.value, "dry_run": True, "changes": list_changes(plan)}
    try:
        log = execute(plan, reporter)
    except RunFailed as e:  # the preflight's warnings too, said beside the error
        e.log.warnings[:0] = [w for w in getattr(found, "warnings", []) if w not in e.log.warnings]
        raise
    result = verb.result(found, log.timings)
    warnings = [*result.get("warnings", []), *(w for w in log.warnings if w not in result.get("warnings", []))]
    if warnings:
        result["warnings"] = warnings
        if result.get("outcome") == Outcome.SUCCEEDED.value:
            result["outcome"] = Outcome.SUCCEEDED_WITH_WARNINGS.value
    return result


def outcome_of(exc: BaseException, begun: list[Step], log: RunLog, undo_errors: list[str]) -> Outcome:
    """Says only what is true: "put back" needs every change undone, "refused" nothing changed."""
    if undo_errors:
        return Outcome.FAILED_NEEDS_ATTENTION
    changed_by = {name for name, cs in log.changes.items() if cs}
    undoable = {s.name for s in begun if s.undo is not None}
    if isinstance(exc, KeyboardInterrupt):
        return Outcome.INTERRUPTED
    if isinstance(exc, HcmigrateError) and exc.outcome is Outcome.TIMED_OUT:
        return Outcome.TIMED_OUT  # everything was applied; only the wait for readiness ran out
    if not changed_by:
        # A refusal raised by a step before it wrote (a guard) is still a refusal; anything else
        # after preflight is a failure of the step.
        return Outcome.REFUSED if isinstance(exc, PreflightError) else _failed(exc)
    if changed_by <= undoable:
        return Outcome.FAILED_SOURCE_RESTORED
    # Changes that have no undo (objects created, objects deleted) stay: the user must look.
    return Outcome.FAILED_NEEDS_ATTENTION


def _failed(exc: BaseException) -> Outcome:
    if isinstance(exc, HcmigrateError) and exc.outcome not in (Outcome.REFUSED, Outcome.FAILED_SOURCE_RESTORED):
        return exc.outcome  # a timed-out wait, say
    return Outcome.FAILED_NEEDS_ATTENTION


def rollback(begun: list[Step], reporter: Reporter, log: RunLog | None = None) -> list[str]:
    """Undoes the steps that began, in reverse; a failing undo never hides the original cause.
    An undo that removes the record of what to put back runs only when all others worked."""
    errors: list[str] = []
    for step in reversed(begun):
        if step.undo is None or (step.undo_last_if_clean and errors):
            continue
        reporter.step(f"undo {step.name}")
        try:
            step.undo()
            if log is not None:
                log.undone.append(step.name)
        except Exception as exc:
            errors.append(f"undo {step.name}: {_message(exc, step.name)}")
    return errors


# What a run says of a Ctrl-C or SIGTERM that lands once its last step has ended.
LATE_INTERRUPT = "interrupt received after the last step had ended: nothing is left to stop"


@contextmanager
def interrupts_held(reporter: Reporter, said: str = LATE_INTERRUPT, *, to_exit: bool = False) -> Iterator[None]:
    """Ctrl-C and SIGTERM are held for the block, saying `said` at the first; the block ends as
    it would have. While the source is put back, a second one would leave it half put back; after
    the last step (the lease's release, the result's output) there is nothing left to stop, and
    an interrupt there turned a finished run into "interrupted" with no word of what it changed.
    With `to_exit` they stay held after the block, for a process that ends with it."""
    said_it = False

    def hold(signum: int, frame: object) -> None:
        nonlocal said_it
        if not said_it:
            reporter.line(said)
            said_it = True

    with interrupts_to(hold, restore=not to_exit):
        yield


@contextmanager
def interrupts_to(handler: Callable[[int, object], None], *, restore: bool = True) -> Iterator[None]:
    """Ctrl-C and SIGTERM go to `handler` meanwhile (and after, unless `restore`); off the main
    thread they are not ours to take."""
    try:
        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        for s, h in previous.items() if restore else ():
            signal.signal(s, h)


def _message(exc: BaseException, step: str) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return f"interrupted during {step}"
    if isinstance(exc, HcmigrateError):
        return str(exc)
    return f"{step} failed: {type(exc).__name__}: {exc}"
