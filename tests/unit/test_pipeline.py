"""The runner: steps in order, undo in reverse on failure, and the outcome that says whether
the source was put back."""

from __future__ import annotations

import os
import signal
from functools import partial
from typing import Any

import pytest

from kubectl_hcmigrate.core.pipeline import Plan, RunFailed, Step, changed, execute, list_changes, run_verb, warn
from kubectl_hcmigrate.core.report import EXIT_CODES, Outcome, PreflightError, StepFailed
from tests.fakes import NullReporter


def _plan(log: list[str], fail_at: str | None = None, undo_fails: str | None = None,
          exc: BaseException | None = None) -> Plan:  # fmt: skip
    def run(name: str, writes: bool):
        def f() -> None:
            if name == fail_at:
                raise exc or StepFailed(f"{name} broke")
            if writes:
                changed(f"{name} something")
            log.append(f"run {name}")

        return f

    def undo(name: str):
        def f() -> None:
            if name == undo_fails:
                raise RuntimeError("api down")
            log.append(f"undo {name}")

        return f

    plan = Plan("t")
    plan.add(Step("check", run("check", False)))
    plan.add(Step("pause", run("pause", True), undo=undo("pause"), changes=lambda: ["pause hc"]))
    plan.add(Step("scale", run("scale", True), undo=undo("scale"), changes=lambda: ["scale a", "scale b"]))
    plan.add(Step("upload", run("upload", False)))
    return plan


def test_runs_every_step_in_order() -> None:
    log: list[str] = []
    run = execute(_plan(log), NullReporter())
    assert log == ["run check", "run pause", "run scale", "run upload"]
    assert list(run.timings) == ["check", "pause", "scale", "upload"]
    assert run.all_changes() == ["pause: pause something", "scale: scale something"]


def test_failure_undoes_begun_steps_in_reverse_and_says_the_source_is_back() -> None:
    log: list[str] = []
    with pytest.raises(RunFailed) as failed:
        execute(_plan(log, fail_at="upload"), NullReporter())
    assert log == ["run check", "run pause", "run scale", "undo scale", "undo pause"]
    assert failed.value.outcome is Outcome.FAILED_SOURCE_RESTORED
    assert EXIT_CODES[failed.value.outcome] == 4
    assert failed.value.message == "upload broke"


def test_a_step_cut_short_is_undone_too() -> None:
    """Ctrl-C in the middle of a scale-down: the replicas already at 0 must come back."""
    log: list[str] = []
    with pytest.raises(RunFailed) as failed:
        execute(_plan(log, fail_at="scale", exc=KeyboardInterrupt()), NullReporter())
    assert log == ["run check", "run pause", "undo scale", "undo pause"]
    assert failed.value.outcome is Outcome.INTERRUPTED


def test_a_failing_undo_is_reported_without_hiding_the_cause() -> None:
    log: list[str] = []
    with pytest.raises(RunFailed) as failed:
        execute(_plan(log, fail_at="upload", undo_fails="scale"), NullReporter())
    assert log[-1] == "undo pause"  # the other undos still ran
    assert failed.value.outcome is Outcome.FAILED_NEEDS_ATTENTION
    assert failed.value.message == "upload broke"
    assert failed.value.undo_errors == ["undo scale: scale failed: RuntimeError: api down"]


def test_the_record_stays_when_another_undo_failed() -> None:
    log: list[str] = []
    plan = _plan(log, fail_at="upload", undo_fails="scale")
    plan.steps.insert(1, Step("record", lambda: None, undo=lambda: log.append("forget"), undo_last_if_clean=True))
    with pytest.raises(RunFailed):
        execute(plan, NullReporter())
    assert "forget" not in log
    log.clear()
    plan = _plan(log, fail_at="upload")
    plan.steps.insert(1, Step("record", lambda: None, undo=lambda: log.append("forget"), undo_last_if_clean=True))
    with pytest.raises(RunFailed):
        execute(plan, NullReporter())
    assert log[-1] == "forget"


def test_a_refusal_before_any_change_stays_a_refusal() -> None:
    with pytest.raises(RunFailed) as failed:
        execute(_plan([], fail_at="check", exc=PreflightError("bucket gone")), NullReporter())
    assert failed.value.outcome is Outcome.REFUSED


def test_an_error_after_preflight_is_a_failure_even_before_any_change() -> None:
    with pytest.raises(RunFailed) as failed:
        execute(_plan([], fail_at="check", exc=StepFailed("the destination stopped answering")), NullReporter())
    assert failed.value.outcome is Outcome.FAILED_NEEDS_ATTENTION
    assert EXIT_CODES[failed.value.outcome] == 1


def test_interrupt_unwinds_too() -> None:
    log: list[str] = []
    with pytest.raises(RunFailed) as failed:
        execute(_plan(log, fail_at="upload", exc=KeyboardInterrupt()), NullReporter())
    assert "undo pause" in log
    assert failed.value.outcome is Outcome.INTERRUPTED
    assert failed.value.message == "interrupted during upload"


def test_a_second_interrupt_during_the_undo_waits_for_it() -> None:
    log: list[str] = []

    def undo_interrupted() -> None:
        os.kill(os.getpid(), signal.SIGINT)  # held, not raised here
        log.append("undo scale finished")

    plan = _plan(log, fail_at="upload", exc=KeyboardInterrupt())
    plan.steps[2].undo = undo_interrupted
    with pytest.raises(RunFailed):
        execute(plan, NullReporter())
    assert log[-2:] == ["undo scale finished", "undo pause"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_dry_run_lists_changes_and_runs_nothing() -> None:
    log: list[str] = []
    assert list_changes(_plan(log)) == ["pause: pause hc", "scale: scale a", "scale: scale b"]
    assert log == []


@pytest.mark.parametrize(
    "exc", [RuntimeError("api gone"), PreflightError("cannot reach the cluster")], ids=["error", "refusal"]
)
def test_a_failure_after_changes_without_undo_needs_attention(exc: Exception) -> None:
    """Not "put back" (nothing was undone), and not "refused" (something was changed)."""

    def fail() -> None:
        raise exc

    plan = Plan("restore")
    plan.add(Step("apply", lambda: changed("create HostedCluster"), changes=lambda: ["create HostedCluster"]))
    plan.add(Step("wait", fail))
    with pytest.raises(RunFailed) as failed:
        execute(plan, NullReporter())
    assert failed.value.outcome is Outcome.FAILED_NEEDS_ATTENTION
    assert failed.value.log.all_changes() == ["apply: create HostedCluster"]


def test_the_outcome_never_asks_the_cluster_again() -> None:
    """A teardown step deleted a NodePool, then the apiserver blipped: listing its changes again
    would say nothing is left to do (or fail). The outcome comes from what was recorded."""
    asked: list[str] = []

    def changes_now() -> list[str]:
        asked.append("changes")
        raise PreflightError("cannot reach the source cluster")

    def fail() -> None:
        raise PreflightError("cannot reach the source cluster")

    plan = Plan("teardown")
    plan.add(Step("remove NodePools", lambda: changed("delete NodePool clusters/np1"), changes=changes_now))
    plan.add(Step("remove Machines", fail, changes=changes_now))
    with pytest.raises(RunFailed) as failed:
        execute(plan, NullReporter())
    assert asked == []
    assert failed.value.outcome is Outcome.FAILED_NEEDS_ATTENTION
    assert failed.value.message == "cannot reach the source cluster"


class _Verb:
    def build_plan(self, found: Any) -> Plan:
        return Plan("v").add(Step("snap", lambda: warn("taken while the control plane still ran")))

    def result(self, found: Any, timings: dict[str, float]) -> dict[str, Any]:
        return {"outcome": "SUCCEEDED"}


def test_warnings_reach_the_result() -> None:
    result = run_verb(_Verb(), None, NullReporter())
    assert result == {"outcome": "SUCCEEDED_WITH_WARNINGS", "warnings": ["taken while the control plane still ran"]}


def test_a_timed_out_wait_after_changes_is_exit_5_and_a_take_back_is_no_change() -> None:
    from kubectl_hcmigrate.core.pipeline import unchanged
    from kubectl_hcmigrate.core.wait import WaitTimedOut

    def apply() -> None:
        changed("create Secret a")
        changed("create Secret b")
        unchanged("create Secret b")  # it was there already

    def wait() -> None:
        raise WaitTimedOut("timed out after 1s")

    plan = Plan("restore").add(Step("apply", apply)).add(Step("wait", wait))
    with pytest.raises(RunFailed) as failed:
        execute(plan, NullReporter())
    assert failed.value.outcome is Outcome.TIMED_OUT and EXIT_CODES[Outcome.TIMED_OUT] == 5
    assert failed.value.log.all_changes() == ["apply: create Secret a"]


def test_a_change_step_counts_its_changes_on_the_reporter() -> None:
    from kubectl_hcmigrate.core.changes import Change, change_step

    class Counting(NullReporter):
        def __init__(self) -> None:
            self.counts: list[tuple[str, int, int]] = []

        def count(self, label: str, done: int, total: int) -> None:
            self.counts.append((label, done, total))

    reporter, done = Counting(), []
    step = change_step("remove Machines", lambda: [Change(f"delete {i}", partial(done.append, i)) for i in range(3)],
                       reporter=reporter)  # fmt: skip
    step.run()
    assert done == [0, 1, 2] and reporter.counts == [("remove Machines", n, 3) for n in range(3)]
