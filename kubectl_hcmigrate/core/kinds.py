"""The per-kind table: what is backed up, how it is cleaned, and in which order it is
restored and torn down. Per-kind behaviour lives here, never in `if kind == ...` branches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

# "hc": the HostedCluster's namespace (`clusters`); "hcp": its control-plane namespace
# (`<ns>-<name>`).
Scope = Literal["hc", "hcp"]

HYPERSHIFT = "hypershift.openshift.io"
CAPI = "cluster.x-k8s.io"
CAPA = "infrastructure.cluster.x-k8s.io"
CORE = ""


@dataclass(frozen=True)
class KindRule:
    group: str
    # Preferred version; the kube adapter asks discovery which one the server serves.
    version: str
    kind: str
    plural: str
    scope: Scope
    file_prefix: str
    # Restore applies phases in ascending order.
    restore_phase: int
    why: str
    # Restore applies these only when migrating nodes (`--with-nodes`).
    nodes_only: bool = False
    # Teardown position (ascending); None: removed by the namespace deletion.
    teardown_order: int | None = None
    # Dotted field paths dropped by `objects.clean` on top of the generic list.
    strip: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """`plural.group`, as kubectl wants it (OpenShift has machine.openshift.io too)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


PAUSED = ("spec.pausedUntil",)

# Restore phases sit 10 apart so that a kind can be slotted in without renumbering.
RULES: tuple[KindRule, ...] = (
    KindRule(
        CORE, "v1", "Secret", "secrets", "hc", "secret", restore_phase=10,
        why="pull secret, SSH key and etcd encryption key must exist before the HC that "
        "references them; the namespace deletion removes them in teardown",
    ),
    KindRule(
        CORE, "v1", "ConfigMap", "configmaps", "hc", "configmap", restore_phase=10,
        why="trust bundles and configuration the HC references must exist before it",
    ),
    KindRule(
        CORE, "v1", "Secret", "secrets", "hcp", "secret", restore_phase=20,
        why="control-plane PKI and kubeconfigs: the restored control plane keeps the "
        "certificates the workers trust",
    ),
    KindRule(
        HYPERSHIFT, "v1beta1", "HostedControlPlane", "hostedcontrolplanes", "hcp",
        "hostedcontrolplane", restore_phase=30, teardown_order=9, strip=PAUSED,
        why="restored before the HC so the HC controller adopts it instead of creating one; "
        "HyperShift copies the HC's pause onto it, so it is unpaused like the HC",
    ),
    KindRule(
        CAPI, "v1beta2", "Cluster", "clusters", "hcp", "cluster", restore_phase=40,
        teardown_order=5,
        why="the CAPI Cluster (named after the infraID) anchors every machine object",
    ),
    KindRule(
        CAPA, "v1beta2", "AWSCluster", "awsclusters", "hcp", "awscluster", restore_phase=50,
        nodes_only=True, teardown_order=8,
        why="the CAPI Cluster's infrastructure; only needed to keep the existing nodes",
    ),
    KindRule(
        CAPA, "v1beta2", "AWSMachineTemplate", "awsmachinetemplates", "hcp",
        "awsmachinetemplate", restore_phase=60, nodes_only=True, teardown_order=7,
        why="named <nodepool>-<hash> and referenced by the MachineDeployments",
    ),
    KindRule(
        CAPA, "v1beta2", "AWSMachine", "awsmachines", "hcp", "awsmachine", restore_phase=70,
        nodes_only=True, teardown_order=6,
        why="ties each Machine to its running EC2 instance so it is adopted, not replaced",
    ),
    KindRule(
        CAPI, "v1beta2", "MachineDeployment", "machinedeployments", "hcp", "machinedeployment",
        restore_phase=80, nodes_only=True, teardown_order=4,
        why="one per NodePool; exists before its MachineSets so that they are not orphaned",
    ),
    KindRule(
        CAPI, "v1beta2", "MachineSet", "machinesets", "hcp", "machineset", restore_phase=90,
        nodes_only=True, teardown_order=3,
        why="exists before its Machines so that it adopts them instead of adding replacements",
    ),
    KindRule(
        CAPI, "v1beta2", "Machine", "machines", "hcp", "machine", restore_phase=100,
        nodes_only=True, teardown_order=2,
        why="the existing nodes; early in teardown so no controller deletes their instances",
    ),
    KindRule(
        HYPERSHIFT, "v1beta1", "HostedCluster", "hostedclusters", "hc", "hostedcluster",
        restore_phase=110, teardown_order=10, strip=PAUSED,
        why="applied once its control-plane objects exist; unpaused so the destination "
        "reconciles it; last in teardown, after everything it owns lost its finalizers",
    ),
    KindRule(
        HYPERSHIFT, "v1beta1", "NodePool", "nodepools", "hc", "nodepool", restore_phase=120,
        teardown_order=1, strip=PAUSED,
        why="needs its HC; first in teardown so that its controller deletes no machine",
    ),
)  # fmt: skip


def group_of(api_version: str) -> str:
    """`cluster.x-k8s.io/v1beta2` -> `cluster.x-k8s.io`; `v1` -> `` (core)."""
    return api_version.rpartition("/")[0]


def rule_for(kind: str, scope: Scope, group: str | None = None) -> KindRule:
    """The row for a kind in a scope; `group` disambiguates same-named kinds."""
    for rule in RULES:
        if rule.kind == kind and rule.scope == scope and group in (None, rule.group):
            return rule
    where = f"{kind}.{group}" if group else kind
    raise KeyError(f"no rule for {where} in the {scope} namespace")


def rule_for_object(obj: Mapping[str, Any], scope: Scope) -> KindRule:
    return rule_for(obj["kind"], scope, group_of(obj.get("apiVersion", "")))


def rules_in_scope(scope: Scope) -> list[KindRule]:
    """What a backup lists in one namespace, in restore order."""
    return [r for r in restore_order(with_nodes=True) if r.scope == scope]


def restore_order(with_nodes: bool) -> list[KindRule]:
    rules = [r for r in RULES if with_nodes or not r.nodes_only]
    return sorted(rules, key=lambda r: r.restore_phase)


def restore_phases(with_nodes: bool) -> list[list[KindRule]]:
    """Rows grouped by phase: every kind of a phase can be applied before the next starts."""
    phases: dict[int, list[KindRule]] = {}
    for rule in restore_order(with_nodes):
        phases.setdefault(rule.restore_phase, []).append(rule)
    return list(phases.values())


def teardown_order() -> list[KindRule]:
    rules = [r for r in RULES if r.teardown_order is not None]
    return sorted(rules, key=lambda r: r.teardown_order or 0)
