"""`--resolver` on the verbs that read the HC's records (migrate, handoff, teardown) reaches their
CloudTarget; a malformed address, or one beside --hosted-zone-id, is a usage error. The verbs'
wiring is replaced by a recorder, so nothing is contacted."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from kubectl_hcmigrate import commands, commands_handoff, commands_teardown
from kubectl_hcmigrate.cli import app
from kubectl_hcmigrate.core.options import CloudTarget

ENV = {"KUBECONFIG": "/nonexistent", "MGMT_KUBECONFIG": "", "MGMT2_KUBECONFIG": ""}
VERBS = {
    "migrate": ["migrate", "--hc", "example", "--bucket", "b"],
    "handoff": ["handoff", "--hc", "example"],
    "teardown": ["teardown", "--hc", "example"],
}


@pytest.fixture
def clouds(monkeypatch: pytest.MonkeyPatch) -> list[CloudTarget]:
    """Each verb's wiring records the CloudTarget it was given instead of running."""
    seen: list[CloudTarget] = []

    def record(*args: Any, **kw: Any) -> int:
        found = [a for a in (*args, *kw.values()) if isinstance(a, CloudTarget)]
        found += [a.cloud for a in args if isinstance(getattr(a, "cloud", None), CloudTarget)]
        seen.extend(found)
        return 0

    monkeypatch.setattr(commands, "migrate", record)
    monkeypatch.setattr(commands_teardown, "teardown", record)
    monkeypatch.setattr(commands_handoff, "handoff", record)
    return seen


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=ENV)


@pytest.mark.parametrize("verb", VERBS)
def test_resolver_reaches_the_cloud_target(clouds: list[CloudTarget], verb: str) -> None:
    result = invoke(*VERBS[verb], "--resolver", "10.0.0.2:5353")
    assert result.exit_code == 0, result.output
    assert [(c.resolver, c.hosted_zone_id) for c in clouds] == [("10.0.0.2:5353", None)]


@pytest.mark.parametrize("verb", VERBS)
def test_without_resolver_the_system_one(clouds: list[CloudTarget], verb: str) -> None:
    assert invoke(*VERBS[verb]).exit_code == 0
    assert [c.resolver for c in clouds] == [None]


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize(
    ("extra", "says"),
    [(["--resolver", "10.0.0.2:0"], "ADDR"), (["--resolver", "10.0.0.2", "--hosted-zone-id", "Z1"], "not both")],
)
def test_resolver_usage_errors(clouds: list[CloudTarget], verb: str, extra: list[str], says: str) -> None:
    result = invoke(*VERBS[verb], *extra)
    assert result.exit_code == 2 and says in result.output, result.output
    assert clouds == []
