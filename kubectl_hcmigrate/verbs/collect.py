"""What a backup of one HC holds, read off its management cluster: backup writes it to the
bundle, and migrate reads it again to tell whether the source changed since a backup."""

from __future__ import annotations

from typing import Any

from kubectl_hcmigrate.core import objects
from kubectl_hcmigrate.core.kinds import rule_for, rules_in_scope
from kubectl_hcmigrate.core.ports import KubePort
from kubectl_hcmigrate.core.source_state import HC, NODEPOOL

SECRET, CONFIGMAP = rule_for("Secret", "hc"), rule_for("ConfigMap", "hc")


def hc_namespace_objects(kube: KubePort, hc: dict[str, Any]) -> list[dict[str, Any]]:
    """The HC, its NodePools, and the Secrets and ConfigMaps they use, in the shared namespace."""
    ns = objects.namespace_of(hc)
    all_pools = kube.list_objects(NODEPOOL, ns)
    pools = objects.nodepools_of(hc, all_pools)
    secrets, configmaps = objects.select_hc_namespace_objects(
        hc, all_pools, kube.list_objects(SECRET, ns), kube.list_objects(CONFIGMAP, ns), kube.list_objects(HC, ns)
    )
    return [*secrets, *configmaps, hc, *pools]


def collect_objects(kube: KubePort, hc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """This HC's objects only, by namespace: never another HC's."""
    ns, hcp_ns = objects.namespace_of(hc), objects.hcp_namespace(hc)
    hcp_objs: list[dict[str, Any]] = []
    for rule in rules_in_scope("hcp"):
        items = kube.list_objects(rule, hcp_ns)
        hcp_objs += [o for o in items if not (rule.skip_item and rule.skip_item(o))]
    return {ns: hc_namespace_objects(kube, hc), hcp_ns: hcp_objs}
