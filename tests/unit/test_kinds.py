from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import yaml

from kubectl_hcmigrate.core import kinds
from tests.unit.hc_fixtures import HYPERSHIFT

NODE_KINDS = {
    "AWSCluster",
    "AWSMachineTemplate",
    "AWSMachine",
    "MachineDeployment",
    "MachineSet",
    "Machine",
    "NodePool",
}


def kind_names(rules: list[kinds.KindRule]) -> list[str]:
    return [f"{r.kind}/{r.scope}" for r in rules]


def test_restore_order_with_nodes() -> None:
    assert kind_names(kinds.restore_order(with_nodes=True)) == [
        "Secret/hc",
        "ConfigMap/hc",
        "Secret/hcp",
        "HostedControlPlane/hcp",
        "Cluster/hcp",
        "AWSCluster/hcp",
        "AWSMachineTemplate/hcp",
        "AWSMachine/hcp",
        "MachineDeployment/hcp",
        "MachineSet/hcp",
        "Machine/hcp",
        "HostedCluster/hc",
        "NodePool/hc",
    ]


def test_restore_order_without_nodes_skips_exactly_the_node_kinds() -> None:
    assert {r.kind for r in kinds.RULES if r.nodes_only} == NODE_KINDS
    assert kind_names(kinds.restore_order(with_nodes=False)) == [
        "Secret/hc",
        "ConfigMap/hc",
        "Secret/hcp",
        "HostedControlPlane/hcp",
        "Cluster/hcp",
        "HostedCluster/hc",
    ]


def test_teardown_order() -> None:
    assert [r.kind for r in kinds.teardown_order()] == [
        "NodePool",
        "Machine",
        "MachineSet",
        "MachineDeployment",
        "Cluster",
        "AWSMachine",
        "AWSMachineTemplate",
        "AWSCluster",
        "HostedControlPlane",
        "HostedCluster",
    ]
    # The namespace deletion removes them; they hold no finalizers of ours.
    assert {r.kind for r in kinds.RULES if r.teardown_order is None} == {"Secret", "ConfigMap"}


def test_rows_are_unique_and_explained() -> None:
    keys = [(r.group, r.kind, r.scope) for r in kinds.RULES]
    assert len(keys) == len(set(keys))
    assert len({r.restore_phase for r in kinds.RULES}) == len(kinds.RULES) - 1  # hc Secret+CM
    orders = [r.teardown_order for r in kinds.RULES if r.teardown_order is not None]
    assert len(orders) == len(set(orders))
    for rule in kinds.RULES:
        assert len(rule.why) > 20, rule.kind
        assert rule.file_prefix == rule.kind.lower()


def test_pause_is_stripped_from_hc_nodepools_and_hcp_only() -> None:
    stripping = {r.kind for r in kinds.RULES if "spec.pausedUntil" in r.strip}
    assert stripping == {"HostedCluster", "NodePool", "HostedControlPlane"}


def test_lookup() -> None:
    rule = kinds.rule_for("Secret", "hcp")
    assert (rule.restore_phase, rule.api_version, rule.qualified) == (20, "v1", "secrets")
    machine = kinds.rule_for_object({"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Machine"}, "hcp")
    assert machine.qualified == "machines.cluster.x-k8s.io"
    assert machine.api_version == "cluster.x-k8s.io/v1beta2"
    # OpenShift's own Machine API has the same kind names: never confuse them.
    with pytest.raises(KeyError, match=r"Machine\.machine\.openshift\.io"):
        kinds.rule_for("Machine", "hcp", "machine.openshift.io")
    with pytest.raises(KeyError):
        kinds.rule_for("HostedCluster", "hcp")
    assert [r.kind for r in kinds.rules_in_scope("hc")] == [
        "Secret",
        "ConfigMap",
        "HostedCluster",
        "NodePool",
    ]


@cache
def crds() -> dict[tuple[str, str], dict[str, Any]]:
    # The CRDs are large: libyaml's safe loader parses them ten times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out = {}
    for path in (HYPERSHIFT / "crds").glob("*.yaml"):
        crd = yaml.load(path.read_text(), Loader=loader)
        out[(crd["spec"]["group"], crd["spec"]["names"]["kind"])] = crd
    return out


@pytest.mark.parametrize("rule", [r for r in kinds.RULES if r.group], ids=lambda r: r.kind)
def test_rule_matches_upstream_crd(rule: kinds.KindRule) -> None:
    crd = crds()[(rule.group, rule.kind)]
    assert crd["spec"]["names"]["plural"] == rule.plural
    assert crd["spec"]["scope"] == "Namespaced"
    storage = [v for v in crd["spec"]["versions"] if v["storage"]]
    assert [v["name"] for v in storage] == [rule.version]
    assert storage[0]["served"] is True


def test_what_every_namespace_holds_keeps_none_and_anything_else_does() -> None:
    from kubectl_hcmigrate.core.teardown_rules import leftovers

    def obj(kind: str, name: str, **extra: Any) -> dict[str, Any]:
        return {"kind": kind, "metadata": {"name": name}, **extra}

    defaults = [
        obj("Event", "cesar.17a"),
        obj("ConfigMap", "kube-root-ca.crt"),
        obj("ServiceAccount", "default"),
        obj("RoleBinding", "system:image-pullers"),
        obj("Secret", "builder-token-abcde", type="kubernetes.io/service-account-token"),
    ]
    assert all(kinds.is_namespace_default(o) for o in defaults)
    someone = [obj("ConfigMap", "their-config"), obj("ServiceAccount", "robot"), obj("Deployment", "app")]
    assert leftovers([*defaults, *someone], own=set(), owner_uid=None) == [
        "ConfigMap their-config",
        "Deployment app",
        "ServiceAccount robot",
    ]
