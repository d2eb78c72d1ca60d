"""Flag handling that needs no cluster: names are checked before anything is contacted, and `-o`
is taken after the verb as kubectl takes it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kubectl_hcmigrate.cli import app

VERBS = [
    ["backup", "--bucket", "b"],
    ["restore", "--bucket", "b"],
    ["teardown"],
    ["migrate", "--bucket", "b"],
    ["verify", "--bucket", "b"],
]


@pytest.mark.parametrize("verb", VERBS, ids=lambda v: v[0])
@pytest.mark.parametrize("flag,value", [("--hc", "a/b"), ("--hc", "Example"), ("-n", "x" * 64), ("-n", "-clusters")])
def test_a_name_no_kubernetes_object_can_have_is_a_usage_error(verb: list[str], flag: str, value: str) -> None:
    args = [*verb, "--hc", "example", flag, value]
    result = CliRunner().invoke(app, args, env={"KUBECONFIG": "/nonexistent", "MGMT_KUBECONFIG": ""})
    assert result.exit_code == 2, result.output
    assert "is not a Kubernetes name" in result.output and repr(value) in result.output


def test_list_checks_its_optional_filters_too() -> None:
    result = CliRunner().invoke(app, ["list", "--bucket", "b", "-n", "Clusters"])
    assert result.exit_code == 2 and "is not a Kubernetes name" in result.output


@pytest.mark.parametrize("verb", ["backup", "restore", "teardown", "migrate", "list", "verify"])
def test_every_verb_takes_output_after_it(verb: str) -> None:
    result = CliRunner().invoke(app, [verb, "--help"])
    assert result.exit_code == 0 and "-o, --output" in result.output
