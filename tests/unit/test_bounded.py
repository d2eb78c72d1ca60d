"""The writes of one step a few at a time (core/bounded.py), and restore's creates made so: the
records land in the run's log, at most the bound is in flight, and on a failure or an interrupt
the writes in flight end before the step does, none starts after, and only what was done counts."""

from __future__ import annotations

import os
import signal
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from kubectl_hcmigrate.core import bundle
from kubectl_hcmigrate.core.bounded import IN_FLIGHT, run_bounded
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.pipeline import Plan, RunFailed, Step, changed, execute
from kubectl_hcmigrate.core.ports import KubeError
from kubectl_hcmigrate.core.report import Outcome, StepFailed
from kubectl_hcmigrate.verbs import restore_apply
from kubectl_hcmigrate.verbs.restore_found import Restore, RestoreOptions
from tests.fakes import LinesReporter, NullReporter
from tests.unit import hc_fixtures as fx


class Gauge:
    """How many calls are inside at once, at most."""

    def __init__(self) -> None:
        self.lock, self.now, self.most = threading.Lock(), 0, 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def test_records_land_in_the_steps_log_and_no_more_than_the_bound_run_at_once() -> None:
    gauge, done = Gauge(), []

    def work(i: int) -> int:
        with gauge:
            changed(f"create {i}")
            time.sleep(0.01)
        return i * 10

    plan = Plan("restore").add(Step("create", lambda: run_bounded(range(40), work, done=lambda i, r: done.append(r))))
    log = execute(plan, NullReporter())
    assert sorted(log.changes["create"]) == sorted(f"create {i}" for i in range(40))
    assert sorted(done) == [i * 10 for i in range(40)]
    assert 1 < gauge.most <= IN_FLIGHT


def test_a_failure_stops_what_has_not_started_and_the_writes_in_flight_end_first() -> None:
    started, ended = set(), set()

    def work(i: int) -> None:
        started.add(i)
        if i in (3, 5):
            raise KubeError(403, "Forbidden", f"no {i}")
        time.sleep(0.05)
        ended.add(i)

    with pytest.raises(KubeError, match="no 3"):  # the first by position, whichever failed first
        run_bounded(range(200), work, in_flight=8)
    assert started - {3, 5} == ended  # every write begun had ended when the failure was raised
    assert len(started) < 40  # and the queue stopped


def test_an_interrupt_lets_the_writes_in_flight_end_and_counts_exactly_those_done() -> None:
    started, done = set(), []

    def work(i: int) -> int:
        started.add(i)
        time.sleep(0.05)
        return i

    def ended(i: int, result: int) -> None:
        done.append(i)
        if len(done) == 3:
            raise KeyboardInterrupt  # as Ctrl-C lands on the waiting thread

    with pytest.raises(KeyboardInterrupt):
        run_bounded(range(100), work, done=ended, in_flight=4)
    time.sleep(0.2)  # nothing runs on after the step ended
    assert sorted(done) == sorted(started) and len(started) < 20


# -- restore's creates -----------------------------------------------------------------------


class CreatingKube:
    """Creates in memory, one name refused (403) and one there already."""

    context = "dest"

    def __init__(self, refuse: str = "", there: str = "") -> None:
        self.refuse, self.there, self.made, self.gauge = refuse, there, [], Gauge()

    def create(self, rule: Any, obj: dict[str, Any]) -> bool:
        name = obj["metadata"]["name"]
        with self.gauge:
            time.sleep(0.01)
        if name == self.refuse:
            raise KubeError(403, "Forbidden", "the destination cluster refused to create secrets in clusters")
        if name == self.there:
            return False
        self.made.append(name)
        return True

    def get(self, rule: Any, namespace: str, name: str) -> dict[str, Any] | None:
        return {"metadata": {"name": name, "annotations": {}}} if name == self.there else None


def restore_of(kube: CreatingKube, n: int) -> tuple[Restore, list[bundle.BundleObject]]:
    secrets = [fx.secret(f"s-{i:03d}") for i in range(n)]
    files, _ = bundle.render_bundle({fx.NS: secrets}, fx.manifest())
    objs = bundle.load_objects(bundle.read_bundle(files))
    opts = RestoreOptions("cesar", fx.NS, BucketTarget(bucket="b"))
    found: Any = SimpleNamespace(manifest=fx.manifest())
    return Restore(opts, kube, None, LinesReporter(), found, objs, "k", False, None, 1), objs  # type: ignore[arg-type]


def test_restore_creates_a_phase_a_few_at_a_time_and_lists_them_in_the_bundles_order() -> None:
    kube = CreatingKube(there="s-007")
    r, objs = restore_of(kube, 60)
    log = execute(Plan("restore").add(Step("create Secret", lambda: restore_apply.create(r, objs))), NullReporter())
    assert 1 < kube.gauge.most <= IN_FLIGHT
    assert r.created == [o.label for o in objs if not o.label.endswith("s-007")]
    assert r.kept == [f"Secret {fx.NS}/s-007"]
    assert sorted(log.changes["create Secret"]) == sorted(f"create {c}" for c in r.created)  # kept: no change


def test_a_forbidden_create_fails_the_step_with_its_line_and_lists_only_what_was_made() -> None:
    kube = CreatingKube(refuse="s-010")
    r, objs = restore_of(kube, 200)
    with pytest.raises(RunFailed) as failed:
        execute(Plan("restore").add(Step("create Secret", lambda: restore_apply.create(r, objs))), NullReporter())
    assert failed.value.outcome is Outcome.FAILED_NEEDS_ATTENTION
    assert failed.value.message == (
        f"create Secret {fx.NS}/s-010 on context 'dest' failed: "
        "the destination cluster refused to create secrets in clusters"
    )
    assert isinstance(failed.value.__cause__, StepFailed)
    made = {f"Secret {fx.NS}/{n}" for n in kube.made}
    assert set(r.created) == made and len(made) < 100
    # What the run says it changed: every create begun, the refused one included, nothing else.
    said = {c.removeprefix("create Secret: create ") for c in failed.value.log.all_changes()}
    assert said == made | {f"Secret {fx.NS}/s-010"}


def test_the_dry_run_reads_a_few_at_a_time_and_says_each_object_in_the_bundles_order() -> None:
    kube = CreatingKube(there="s-002")
    r, objs = restore_of(kube, 5)
    assert restore_apply.describe_all(r, objs) == [
        f"keep Secret {fx.NS}/s-002 (already there)" if i == 2 else f"create Secret {fx.NS}/s-{i:03d}" for i in range(5)
    ]
    assert kube.made == []


def test_a_signal_at_any_instant_of_the_wait_is_an_interrupt_never_a_broken_lock() -> None:
    """SIGINT sent by the k-th write, for k in 0..149, each time a little later into the calling
    thread's wait: each run ends in KeyboardInterrupt with exactly the writes that ended counted.
    Raised inside the executor's own locking, as before the handler deferred it, some became
    RuntimeError('release unlocked lock') (an interrupted restore's exit 1 in a full run)."""
    outcomes: list[str] = []
    for k in range(150):
        started: set[int] = set()
        done: list[int] = []

        def work(i: int, k: int = k, started: set[int] = started) -> int:
            started.add(i)
            if i == k:
                time.sleep(0.00003 * k)  # a different instant of the calling thread's work each time
                os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.0005)
            return i

        try:
            run_bounded(range(400), work, done=lambda i, r, done=done: done.append(i), in_flight=8)
            outcomes.append("finished")
        except KeyboardInterrupt:
            outcomes.append("interrupted")
        except RuntimeError as e:
            outcomes.append(f"RuntimeError: {e}")
        assert sorted(done) == sorted(started), outcomes[-1]
    assert set(outcomes) == {"interrupted"}, sorted(set(outcomes))


def test_a_signal_the_steps_handler_holds_lets_every_write_end() -> None:
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        done: list[int] = []

        def work(i: int) -> int:
            if i == 20:
                os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.001)
            return i

        run_bounded(range(100), work, done=lambda i, r: done.append(i), in_flight=8)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert held == [signal.SIGINT] and sorted(done) == list(range(100))
