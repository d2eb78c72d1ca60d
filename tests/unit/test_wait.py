"""The one polling loop (core/wait.poll_until): every wait of the verbs goes through it."""

from __future__ import annotations

import ast
from pathlib import Path

from kubectl_hcmigrate.core.wait import poll_until

PACKAGE = Path(__file__).resolve().parents[2] / "kubectl_hcmigrate"


def test_no_wait_outside_core_wait_sleeps_in_a_loop_of_its_own() -> None:
    """A loop of its own drifts: its own timeout rule, its own progress line, sleeping past the deadline."""
    sleepers = []
    for path in sorted(p for layer in ("core", "etcd", "verbs") for p in (PACKAGE / layer).rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "sleep" and rel != "core/wait.py":
                sleepers.append(f"{rel}:{node.lineno}")
    assert sleepers == []


def test_the_last_poll_is_at_the_deadline_and_no_sleep_runs_past_it() -> None:
    now, asked_at, slept = [0.0], [], []

    def done() -> bool:
        asked_at.append(now[0])
        return False

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    assert poll_until(done, 5, every=2, clock=lambda: now[0], sleep=sleep) is False
    assert asked_at == [0, 2, 4, 5]
    assert slept == [2, 2, 1]


def test_a_wait_that_is_done_at_once_never_sleeps() -> None:
    assert poll_until(lambda: True, 0, sleep=lambda s: (_ for _ in ()).throw(AssertionError("slept"))) is True
