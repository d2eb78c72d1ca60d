"""Which cluster each verb acts on (issue 14): every global flag, typed before the verb or after
it, reaches the cluster it names; typed twice with different values, or to a verb that uses no
cluster, it is a usage error, never ignored. The verbs' wiring is replaced by a recorder, so
nothing is contacted."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from kubectl_hcmigrate import commands, commands_teardown
from kubectl_hcmigrate.cli import app
from kubectl_hcmigrate.core.options import KubeTarget, OutputFormat

ENV = {"KUBECONFIG": "/nonexistent", "MGMT_KUBECONFIG": "", "MGMT2_KUBECONFIG": ""}
VERBS = {
    "backup": ["backup", "--hc", "example", "--bucket", "b"],
    "restore": ["restore", "--hc", "example", "--bucket", "b"],
    "teardown": ["teardown", "--hc", "example"],
    "migrate": ["migrate", "--hc", "example", "--bucket", "b"],
}
# The cluster a verb's --context and --kubeconfig name: restore writes to one, the others read
# the HC from the source.
ACTS_ON = {"backup": "source", "restore": "destination", "teardown": "source", "migrate": "source"}
FLAGS = [
    ("--kubeconfig", "/k/config", lambda t, o: t.kubeconfig == "/k/config"),
    ("--context", "chosen", lambda t, o: t.context == "chosen"),
    ("--request-timeout", "7s", lambda t, o: t.request_timeout == 7.0),
    ("-o", "json", lambda t, o: o is OutputFormat.json),
    ("-o", "yaml", lambda t, o: o is OutputFormat.yaml),
]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each verb's wiring records the clusters and output it was given instead of running."""
    seen: list[dict[str, Any]] = []

    def recorder(verb: str) -> Any:
        def record(*targets: Any, output: OutputFormat, **kw: Any) -> int:
            kube = [t for t in targets if isinstance(t, KubeTarget)]
            roles = ["destination"] if verb == "restore" else ["source", "destination"]
            seen.append({"verb": verb, "output": output, **dict(zip(roles, kube, strict=False))})
            return 0

        return record

    for verb in VERBS:
        monkeypatch.setattr(commands_teardown if verb == "teardown" else commands, verb, recorder(verb))
    return seen


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=ENV)


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize(("flag", "value", "check"), FLAGS, ids=[f"{f}={v}" for f, v, _ in FLAGS])
@pytest.mark.parametrize("verb", list(VERBS))
def test_each_global_flag_before_or_after_each_verb_reaches_its_cluster(
    calls: list[dict[str, Any]], verb: str, flag: str, value: str, check: Any, where: str
) -> None:
    args = [flag, value, *VERBS[verb]] if where == "before" else [*VERBS[verb], flag, value]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert check(call[ACTS_ON[verb]], call["output"]), call


@pytest.mark.parametrize("where", ["before", "after"])
def test_restore_context_is_the_cluster_it_writes_to(calls: list[dict[str, Any]], where: str) -> None:
    args = ["--context", "destination", *VERBS["restore"]]
    if where == "after":
        args = [*VERBS["restore"], "--context", "destination"]
    assert invoke(*args).exit_code == 0
    assert invoke(*VERBS["restore"], "--to-context", "destination").exit_code == 0  # still works
    assert invoke("--context", "destination", *VERBS["restore"], "--to-context", "destination").exit_code == 0
    assert [c["destination"].context for c in calls] == ["destination"] * 3


def test_two_cluster_verbs_name_both(calls: list[dict[str, Any]]) -> None:
    for verb in ("teardown", "migrate"):
        args = ["--kubeconfig", "/k", *VERBS[verb], "--context", "src", "--to-context", "dst"]
        assert invoke(*args).exit_code == 0
    for call in calls:
        assert (call["source"].context, call["destination"].context) == ("src", "dst")
        assert call["source"].kubeconfig == call["destination"].kubeconfig == "/k"


@pytest.mark.parametrize(
    "args",
    [
        ["--context", "a", "restore", "--hc", "example", "--bucket", "b", "--to-context", "b"],
        ["restore", "--hc", "example", "--bucket", "b", "--context", "a", "--to-context", "b"],
        ["--context", "a", "backup", "--hc", "example", "--bucket", "b", "--context", "b"],
        ["--kubeconfig", "/a", "teardown", "--hc", "example", "--kubeconfig", "/b"],
        ["-o", "json", "migrate", "--hc", "example", "--bucket", "b", "-o", "text"],
        ["restore", "--hc", "example", "--bucket", "b", "--kubeconfig", "/a", "--to-kubeconfig", "/b"],
    ],
    ids=["restore-before", "restore-after", "backup", "kubeconfig", "output", "restore-kubeconfig"],
)
def test_a_flag_typed_twice_with_different_values_is_refused_in_one_line(
    calls: list[dict[str, Any]], args: list[str]
) -> None:
    result = invoke(*args)
    assert result.exit_code == 2 and calls == []
    (error,) = [line for line in result.output.splitlines() if "disagree" in line]
    assert "give one of them" in error


@pytest.mark.parametrize("flag", [["--context", "x"], ["--kubeconfig", "/k"]])
@pytest.mark.parametrize("verb", [["list", "--bucket", "b"], ["verify", "--hc", "example", "--bucket", "b"]])
def test_a_verb_that_reads_only_the_bucket_refuses_cluster_flags(verb: list[str], flag: list[str]) -> None:
    result = invoke(*flag, *verb)
    assert result.exit_code == 2 and "reads only the bucket and uses no cluster" in result.output


def test_the_environment_never_clashes_with_a_typed_flag(calls: list[dict[str, Any]]) -> None:
    env = {**ENV, "MGMT_KUBECONFIG": "/env/mgmt", "MGMT2_KUBECONFIG": "/env/mgmt2"}
    runner = CliRunner()
    assert runner.invoke(app, VERBS["restore"], env=env).exit_code == 0
    assert runner.invoke(app, [*VERBS["restore"], "--kubeconfig", "/typed"], env=env).exit_code == 0
    assert runner.invoke(app, VERBS["backup"], env=env).exit_code == 0
    restore_env, restore_typed, backup_env = (c.get("destination") or c["source"] for c in calls)
    assert (restore_env.kubeconfig, restore_typed.kubeconfig, backup_env.kubeconfig) == (
        "/env/mgmt2", "/typed", "/env/mgmt",
    )  # fmt: skip


def test_h_is_help_and_version_speaks_json_and_yaml() -> None:
    assert "Usage:" in invoke("-h").output and "Usage:" in invoke("backup", "-h").output
    assert '"kind": "Version"' in invoke("version", "-o", "json").output
    assert "kind: Version" in invoke("-o", "yaml", "version").output


@pytest.mark.parametrize(
    ("args", "seconds"),
    [
        (["--request-timeout", "5s", "backup", "--hc", "example", "--bucket", "b"], 5.0),
        (["backup", "--hc", "example", "--bucket", "b", "--request-timeout", "1m"], 60.0),
        (["backup", "--hc", "example", "--bucket", "b"], None),  # S3 keeps its own 2m
        (["--request-timeout", "5s", "list", "--bucket", "b"], 5.0),
        (["--request-timeout", "5s", "verify", "--hc", "example", "--bucket", "b"], 5.0),
    ],
)
def test_a_typed_request_timeout_bounds_s3_requests_too(
    monkeypatch: pytest.MonkeyPatch, args: list[str], seconds: float | None
) -> None:
    seen: list[Any] = []
    for verb in ("backup", "list_backups", "verify"):
        monkeypatch.setattr(
            commands, verb, lambda *a, **k: seen.append(next(x for x in a if hasattr(x, "bucket"))) or 0
        )
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert seen[0].bucket.request_timeout == seconds
