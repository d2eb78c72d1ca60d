"""deploy/rbac/ grants exactly what core/permissions.py says each side needs; preflight's refusal
and a mid-run Forbidden name the verb, resource and namespace."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubectl_hcmigrate.adapters.kube_rbac import forbidden, request_check
from kubectl_hcmigrate.core import permissions
from kubectl_hcmigrate.core.ports import KubeError
from kubectl_hcmigrate.core.report import PreflightError

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac"


def granted(rules: list[dict]) -> set[tuple[str, str, str]]:
    return {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


@pytest.mark.parametrize("side", ["source", "destination"])
def test_the_role_grants_exactly_the_table(side: str) -> None:
    docs = list(yaml.safe_load_all((RBAC / f"{side}.yaml").read_text()))
    [role] = [d for d in docs if d["kind"] == "ClusterRole"]
    assert role["metadata"]["name"] == permissions.ROLE_NAMES[side]
    rules = permissions.role_rules(side)
    assert [(r["apiGroups"], r["resources"], r["verbs"]) for r in role["rules"]] == [
        ([r.group], list(r.resources), list(r.verbs)) for r in rules
    ]
    # Everything the table needs is granted (a wildcard rule's verb for every resource) ...
    have = granted(role["rules"])
    wildcard = {v for g, r, v in have if r == "*"}
    for n in permissions.ROLES[side]:
        for r in n.resources:
            assert all((n.group, r, v) in have or v in wildcard for v in n.verbs), (n, r)
    # ... and no permission twice, so that dropping any one rule takes something away.
    assert sum(len(r.resources) * len(r.verbs) for r in rules) == len(have)
    [binding] = [d for d in docs if d["kind"] == "ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "hcmigrate", "namespace": "hcmigrate"}]
    # Every rule says which steps need it.
    text = (RBAC / f"{side}.yaml").read_text()
    assert text.count("  - apiGroups:") == text.count("\n  # ") == len(rules)


def test_each_verb_is_within_its_sides_role() -> None:
    def keys(needs: tuple[permissions.Need, ...]) -> set[tuple[str, str, str]]:
        return {(n.group, r, v) for n in needs for r in n.resources for v in n.verbs}

    source, destination = keys(permissions.ROLES["source"]), keys(permissions.ROLES["destination"])
    assert keys(permissions.BACKUP) <= source and keys(permissions.TEARDOWN) <= source
    assert keys(permissions.RESTORE) <= destination and keys(permissions.TEARDOWN_DESTINATION) <= destination


@pytest.mark.parametrize(
    ("method", "path", "check"),
    [
        ("GET", "/apis/hypershift.openshift.io/v1beta1/namespaces/clusters/hostedclusters/example",
         ("get", "hypershift.openshift.io", "hostedclusters", "clusters")),
        ("GET", "/api/v1/namespaces/clusters-example/pods", ("list", "", "pods", "clusters-example")),
        ("PATCH", "/apis/apps/v1/namespaces/clusters-example/deployments/kas/scale",
         ("patch", "apps", "deployments/scale", "clusters-example")),
        ("POST", "/api/v1/namespaces", ("create", "", "namespaces", None)),
        ("DELETE", "/api/v1/namespaces/clusters-example", ("delete", "", "namespaces", None)),
        ("GET", "/apis/hypershift.openshift.io", ("get", "", "/apis/hypershift.openshift.io", None)),
        ("GET", "/api/v1/namespaces/clusters-example/pods/etcd-0/log?tailLines=20",
         ("get", "", "pods/log", "clusters-example")),
    ],
)  # fmt: skip
def test_request_check(method: str, path: str, check: permissions.Check) -> None:
    assert request_check(method, path) == check


def test_forbidden_names_what_and_where() -> None:
    error = forbidden("source", "PATCH", "/apis/hypershift.openshift.io/v1beta1/namespaces/clusters/hostedclusters/x",
                      KubeError(403, "Forbidden", 'User "system:serviceaccount:a:b" cannot patch ...'))  # fmt: skip
    assert error.status == 403
    assert str(error) == (
        "the source cluster refused to patch hostedclusters.hypershift.openshift.io in namespace clusters "
        "(Forbidden): the ClusterRole hcmigrate-source in deploy/rbac/ grants it"
    )


def test_require_lists_what_is_refused() -> None:
    def allowed(checks: list[permissions.Check]) -> list[bool]:
        return [c != permissions.EVERYTHING and c[:3] != ("create", "", "pods/exec") for c in checks]

    with pytest.raises(PreflightError) as err:
        permissions.require(allowed, permissions.BACKUP, "clusters", "example", "source")
    assert str(err.value) == (
        "the source cluster does not allow this user to create pods/exec in namespace clusters-example: "
        "the ClusterRole hcmigrate-source in deploy/rbac/ grants what this command needs; nothing was changed"
    )
    asked: list[permissions.Check] = []

    def admin(checks: list[permissions.Check]) -> list[bool]:
        asked.extend(checks)
        return [True] * len(checks)

    permissions.require(admin, permissions.RESTORE, "clusters", "example", "destination")
    assert asked == [permissions.EVERYTHING]  # one review for a cluster-admin
