"""A verb is a Plan: named steps run in order; on failure the done steps are undone in
reverse. The outcome says whether every undo worked (restic's plan-then-execute, velero's
PartiallyFailed vs Failed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubectl_hcmigrate.core.report import HcmigrateError, Outcome
from kubectl_hcmigrate.ui import Reporter


@dataclass
class Step:
    name: str
    run: Callable[[], Any]
    # What the step will change, one line each, for --dry-run. Empty: it only reads.
    changes: Callable[[], list[str]] = lambda: []
    undo: Callable[[], None] | None = None


@dataclass
class Plan:
    verb: str
    steps: list[Step] = field(default_factory=list)

    def add(self, step: Step) -> Plan:
        self.steps.append(step)
        return self


class RunFailed(Exception):
    """Carries the outcome, the cause's one-line message and any undo failures."""

    def __init__(self, outcome: Outcome, message: str, undo_errors: list[str]) -> None:
        super().__init__(message)
        self.outcome, self.message, self.undo_errors = outcome, message, undo_errors


def list_changes(plan: Plan, reporter: Reporter) -> list[str]:
    changes = [f"{s.name}: {c}" for s in plan.steps for c in s.changes()]
    for line in changes:
        reporter.line(f"would {line}")
    return changes


def execute(plan: Plan, reporter: Reporter) -> dict[str, float]:
    """Runs every step; returns how long each took, by name."""
    timings: dict[str, float] = {}
    done: list[Step] = []
    for step in plan.steps:
        reporter.step(step.name)
        t0 = time.monotonic()
        try:
            step.run()
            timings[step.name] = time.monotonic() - t0
        except BaseException as exc:
            undo_errors = rollback(done, reporter)
            outcome = _outcome(exc, done, undo_errors)
            raise RunFailed(outcome, _message(exc, step.name), undo_errors) from exc
        done.append(step)
    return timings


def run_verb(verb: Any, found: Any, reporter: Reporter, *, dry_run: bool = False) -> dict[str, Any]:
    """A verb module after its preflight (`found`): its plan's changes for a dry run, else its result."""
    plan = verb.build_plan(found)
    if dry_run:
        return {"outcome": Outcome.SUCCEEDED.value, "dry_run": True, "changes": list_changes(plan, reporter)}
    return verb.result(found, execute(plan, reporter))


def _outcome(exc: BaseException, done: list[Step], undo_errors: list[str]) -> Outcome:
    """Says only what is true: "put back" needs something undone, "refused" nothing changed."""
    if undo_errors:
        return Outcome.FAILED_NEEDS_ATTENTION
    if isinstance(exc, KeyboardInterrupt):
        return Outcome.INTERRUPTED
    if any(s.undo for s in done):
        return Outcome.FAILED_SOURCE_RESTORED
    changed = any(s.changes() for s in done)
    if isinstance(exc, HcmigrateError) and not (changed and exc.outcome is Outcome.REFUSED):
        return exc.outcome
    # Changes that have no undo (objects applied, objects deleted) stay: the user must look.
    return Outcome.FAILED_NEEDS_ATTENTION


def rollback(done: list[Step], reporter: Reporter) -> list[str]:
    """Undoes the done steps in reverse; a failing undo never hides the original cause."""
    errors = []
    for step in reversed(done):
        if step.undo is None:
            continue
        reporter.step(f"undo {step.name}")
        try:
            step.undo()
        except Exception as exc:
            errors.append(f"undo {step.name}: {_message(exc, step.name)}")
    return errors


def _message(exc: BaseException, step: str) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return f"interrupted during {step}"
    if isinstance(exc, HcmigrateError):
        return str(exc)
    return f"{step} failed: {type(exc).__name__}: {exc}"
