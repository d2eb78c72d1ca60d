"""Every rule of deploy/rbac/ is needed: with any one of them dropped from the role, the
preflight of the verb that needs it refuses, naming the permission and the role (the access
check runs in process: it is the first thing every verb does, and asks only reviews)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kubectl_hcmigrate.adapters.kube import Kube
from kubectl_hcmigrate.adapters.kube_rbac import allowed
from kubectl_hcmigrate.core import permissions
from kubectl_hcmigrate.core.options import KubeTarget
from kubectl_hcmigrate.core.report import PreflightError
from tests.e2e.helpers import HC_NAME, HC_NS
from tests.e2e.rbac import RBAC, service_account_kubeconfig
from tests.sandbox.harness import Sandbox

NEEDS = permissions.ROLES  # each side: what every command run there checks (backup, teardown, handoff; restore, oidc)


def _refusal(kube: Kube, side: str) -> str | None:
    try:
        permissions.require(lambda c: allowed(kube, c), NEEDS[side], HC_NS, HC_NAME, side)
    except PreflightError as e:
        return str(e)
    return None


@pytest.mark.parametrize("side", ["source", "destination"])
def test_each_rule_is_needed(sandbox: Sandbox, tmp_path: Path, side: str) -> None:
    kubeconfig = service_account_kubeconfig(sandbox, tmp_path / "kubeconfig")
    kube = Kube(KubeTarget(kubeconfig=str(kubeconfig), context=f"{side}-sa"), side)
    k = sandbox.clusters[side].kubectl()
    role = next(d for d in yaml.safe_load_all((RBAC / f"{side}.yaml").read_text()) if d["kind"] == "ClusterRole")
    assert _refusal(kube, side) is None  # the whole role: allowed
    try:
        for i, rule in enumerate(role["rules"]):
            k.apply([{**role, "rules": role["rules"][:i] + role["rules"][i + 1 :]}], server_side=False)
            refused = _until(lambda: _refusal(kube, side), lambda r: r is not None)
            assert refused is not None, f"without {rule} the preflight still passes"
            # The wildcard rule's refusal names the lists it covered, one by one.
            named = [f" {r}" for r in rule["resources"] if r != "*"] or [f"{rule['verbs'][0]} "]
            assert any(n in refused for n in named), refused
            assert permissions.ROLE_NAMES[side] in refused
            k.apply([role], server_side=False)  # whole again before the next rule goes
            assert _until(lambda: _refusal(kube, side), lambda r: r is None) is None
    finally:
        k.apply([role], server_side=False)


def _until(probe: Callable[[], str | None], done: Callable[[str | None], bool]) -> str | None:
    """RBAC's cache catches up with a changed role in well under a second."""
    deadline = time.monotonic() + 15
    while not done(found := probe()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found
