"""The runner: steps in order, undo in reverse on failure, and the outcome that says whether
the source was put back."""

from __future__ import annotations

import pytest

from kubectl_hcmigrate.core.pipeline import Plan, RunFailed, Step, execute, list_changes
from kubectl_hcmigrate.core.report import EXIT_CODES, Outcome, PreflightError, StepFailed
from kubectl_hcmigrate.ui import NullReporter


def _plan(log: list[str], fail_at: str | None = None, undo_fails: str | None = None,
          exc: BaseException | None = None) -> Plan:  # fmt: skip
    def run(name: str):
        def f() -> None:
            if name == fail_at:
                raise exc or StepFailed(f"{name} broke")
            log.append(f"run {name}")

        return f

    def undo(name: str):
        def f() -> None:
            if name == undo_fails:
                raise RuntimeError("api down")
            log.append(f"undo {name}")

        return f

    plan = Plan("t")
    plan.add(Step("check", run("check")))
    plan.add(Step("pause", run("pause"), undo=undo("pause"), changes=lambda: ["pause hc"]))
    plan.add(Step("scale", run("scale"), undo=undo("scale"), changes=lambda: ["scale a", "scale b"]))
    plan.add(Step("upload", run("upload")))
    return plan


def test_runs_every_step_in_order() -> None:
    log: list[str] = []
    timings = execute(_plan(log), NullReporter())
    assert log == ["run check", "run pause", "run scale", "run upload"]
    assert list(timings) == ["check", "pause", "scale", "upload"]


def test_failure_undoes_done_steps_in_reverse_and_says_the_source_is_back() -> None:
    log: list[str] = []
    with pytest.raises(RunFailed) as failed:
        execute(_plan(log, fail_at="upload"), NullReporter())
    assert log == ["run check", "run pause", "run scale", "undo scale", "undo pause"]
    assert failed.value.outcome is Outcome.FAILED_SOURCE_RESTORED
    assert EXIT_CODES[failed.value.outcome] == 4
    assert failed.value.message == "upload broke"


def test_a_failing_undo_is_reported_without_hiding_the_cause() -> None:
    log: list[str] = []
    with pytest.raises(RunFailed) as failed:
        execute(_plan(log, fail_at="upload", undo_fails="scale"), NullReporter())
    assert log[-1] == "undo pause"  # the other undos still ran
    assert failed.value.outcome is Outcome.FAILED_NEEDS_ATTENTION
    assert failed.value.message == "upload broke"
    assert failed.value.undo_errors == ["undo scale: scale failed: RuntimeError: api down"]


def test_failure_before_any_change_keeps_the_errors_own_outcome() -> None:
    with pytest.raises(RunFailed) as failed:
        execute(_plan([], fail_at="check", exc=PreflightError("bucket gone")), NullReporter())
    assert failed.value.outcome is Outcome.REFUSED


def test_interrupt_unwinds_too() -> None:
    log: list[str] = []
    with pytest.raises(RunFailed) as failed:
        execute(_plan(log, fail_at="upload", exc=KeyboardInterrupt()), NullReporter())
    assert "undo pause" in log
    assert failed.value.outcome is Outcome.INTERRUPTED
    assert failed.value.message == "interrupted during upload"


def test_dry_run_lists_changes_and_runs_nothing() -> None:
    log: list[str] = []
    assert list_changes(_plan(log), NullReporter()) == ["pause: pause hc", "scale: scale a", "scale: scale b"]
    assert log == []


@pytest.mark.parametrize(
    "exc", [RuntimeError("api gone"), PreflightError("cannot reach the cluster")], ids=["error", "refusal"]
)
def test_a_failure_after_changes_without_undo_needs_attention(exc: Exception) -> None:
    """Not "put back" (nothing was undone), and not "refused" (something was changed)."""

    def fail() -> None:
        raise exc

    plan = Plan("restore")
    plan.add(Step("apply", lambda: None, changes=lambda: ["create HostedCluster"]))
    plan.add(Step("wait", fail))
    with pytest.raises(RunFailed) as failed:
        execute(plan, NullReporter())
    assert failed.value.outcome is Outcome.FAILED_NEEDS_ATTENTION
