"""backup of many HCs: one result per HC in order, the worst outcome wins, and an HC that
fails (or whose run dies without answering) never stops the others."""

from __future__ import annotations

import io
import json
from typing import Any, TextIO

from kubectl_hcmigrate import fleet
from kubectl_hcmigrate.core.report import Outcome

M = [fleet.Member("clusters", n) for n in ("a", "b", "c")]


def fake_run(outcomes: dict[str, Any]) -> Any:
    def run_one(member: fleet.Member, args: fleet.Args, err: TextIO, runs: fleet.Runs) -> dict[str, Any]:
        got = outcomes[member.name]
        if isinstance(got, tuple):  # (exit code, stdout, last error): a run that said nothing usable
            return fleet._result_of(member, *got)
        return {"hostedcluster": member.label, "outcome": got.value, "exit_code": 0}

    return run_one


def test_every_hc_gets_its_own_result_and_the_worst_outcome_wins() -> None:
    run = fake_run({"a": Outcome.SUCCEEDED, "b": Outcome.REFUSED, "c": Outcome.SUCCEEDED_WITH_WARNINGS})
    summary = fleet.back_up(M, fleet.Args([], []), 2, io.StringIO(), run_one=run)
    assert [r["hostedcluster"] for r in summary["results"]] == ["clusters/a", "clusters/b", "clusters/c"]
    assert summary["outcome"] == "REFUSED" and fleet.exit_code(summary) == 3


def test_a_run_that_died_is_one_the_user_must_look_at() -> None:
    run = fake_run({"a": Outcome.SUCCEEDED, "b": (-9, "", ""), "c": (130, "", "error: interrupted\n")})
    summary = fleet.back_up(M, fleet.Args([], []), 1, io.StringIO(), run_one=run)
    by = {r["hostedcluster"]: r for r in summary["results"]}
    assert by["clusters/b"]["outcome"] == "FAILED_NEEDS_ATTENTION" and "exit code -9" in by["clusters/b"]["error"]
    assert by["clusters/c"]["outcome"] == "INTERRUPTED"
    assert summary["outcome"] == "FAILED_NEEDS_ATTENTION"


def test_a_run_stopped_as_it_started_is_said_to_have_changed_nothing() -> None:
    # backup --all, SIGTERM 0.41 s after its start: two runs died of it before their own handling began.
    run = fake_run({"a": (-15, "", ""), "b": (-2, "", ""), "c": (-15, "", "error: half a line")})
    by = {r["hostedcluster"]: r for r in fleet.back_up(M, fleet.Args([], []), 1, io.StringIO(), run_one=run)["results"]}
    assert by["clusters/a"] == {"hostedcluster": "clusters/a", "outcome": "INTERRUPTED", "exit_code": -15,
                                "error": "stopped by SIGTERM as it started, before it changed anything"}  # fmt: skip
    assert by["clusters/b"]["error"] == "stopped by Ctrl-C as it started, before it changed anything"
    assert by["clusters/c"]["outcome"] == "INTERRUPTED"


def test_a_run_s_json_answer_is_its_result() -> None:
    out = json.dumps({"outcome": "FAILED_SOURCE_RESTORED", "error": "no Ready etcd pod in clusters-b"})
    r = fleet._result_of(M[1], 4, out, "")
    assert r == {"hostedcluster": "clusters/b", "outcome": "FAILED_SOURCE_RESTORED",
                 "error": "no Ready etcd pod in clusters-b", "exit_code": 4}  # fmt: skip


def test_the_members_are_sorted_and_unique() -> None:
    hcs = [{"metadata": {"namespace": ns, "name": n}} for ns, n in (("z", "a"), ("a", "b"), ("z", "a"))]
    assert fleet.members_of(hcs) == [fleet.Member("a", "b"), fleet.Member("z", "a")]
