"""The DNS handoff of a Public or PublicAndPrivate HC (HYPERSHIFT.md T16, T21): which objects on
the source publish the HC's hostnames, how to put them back, and how the tool sees the records.

ExternalDNS of each management cluster owns the records it wrote (its owner TXT record, with its
`--txt-owner-id`) and never takes over another owner's. So the source's Routes and LoadBalancer
Services that carry the hostnames are deleted (the source's ExternalDNS then drops its records)
before the destination creates the HC, whose ExternalDNS then registers them as its own."""

from __future__ import annotations

import copy
from typing import Any, Protocol

from kubectl_hcmigrate.core.kinds import KindRule
from kubectl_hcmigrate.core.objects import clean, hcp_namespace, name_of
from kubectl_hcmigrate.core.ports import KubePort

Obj = dict[str, Any]
HOSTNAME_ANNOTATION = "external-dns.alpha.kubernetes.io/hostname"
INTERNAL_ROUTE = "hypershift.openshift.io/internal-route"
OWNER_ARG = "--txt-owner-id="
OPERATOR_NAMESPACE = "hypershift"

ROUTE = KindRule(
    "route.openshift.io", "v1", "Route", "routes", "hcp", "route", restore_phase=0,
    why="the control-plane operator publishes a service as a Route; ExternalDNS registers its host",
)  # fmt: skip
SERVICE = KindRule(
    "", "v1", "Service", "services", "hcp", "service", restore_phase=0,
    why="a LoadBalancer Service is registered through ExternalDNS's hostname annotation",
)  # fmt: skip
POD = KindRule("", "v1", "Pod", "pods", "hcp", "pod", restore_phase=0, why="T18: the OVN pods restart")
# What the apiserver assigns a Service; a recreated one gets its own.
_SERVICE_ASSIGNED = ("clusterIP", "clusterIPs", "healthCheckNodePort")


class Records(Protocol):
    """The DNS records of some hostnames, as the tool can see them."""

    # True when the owner of each record can be seen (a hosted zone's TXT records), not only the name.
    shows_owners: bool

    def owners(self, hosts: list[str]) -> dict[str, str | None]:
        """host -> the ExternalDNS owner id of its record (None: a record whose owner cannot be
        seen); a host without a record is left out."""
        ...

    def describe(self) -> str: ...


def endpoint_access(hc: Obj) -> str:
    return str(((hc.get("spec") or {}).get("platform") or {}).get("aws", {}).get("endpointAccess") or "Public")


def needs_handoff(hc: Obj) -> bool:
    """Private clusters publish nothing through the public ExternalDNS (T16)."""
    return endpoint_access(hc) in ("Public", "PublicAndPrivate")


def hostnames(hc: Obj) -> list[str]:
    """The fixed hostnames of the HC's services (T15), in spec order."""
    out = []
    for svc in (hc.get("spec") or {}).get("services") or []:
        strategy = svc.get("servicePublishingStrategy") or {}
        for key in ("route", "loadBalancer"):
            host = (strategy.get(key) or {}).get("hostname")
            if host and host not in out:
                out.append(host)
    return out


def carried(obj: Obj) -> list[str]:
    """The hostnames an object asks ExternalDNS for (a private Route asks for none)."""
    meta = obj.get("metadata") or {}
    if obj.get("kind") == "Route":
        host = (obj.get("spec") or {}).get("host")
        return [host] if host and INTERNAL_ROUTE not in (meta.get("labels") or {}) else []
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return []
    raw = (meta.get("annotations") or {}).get(HOSTNAME_ANNOTATION) or ""
    return [h.strip() for h in raw.split(",") if h.strip()]


def carriers(kube: KubePort, hc: Obj, *, routes_served: bool = True) -> list[Obj]:
    """The Routes and LoadBalancer Services in the HCP namespace that carry the HC's hostnames."""
    hosts, ns = set(hostnames(hc)), hcp_namespace(hc)
    found = kube.list_objects(ROUTE, ns) if routes_served else []
    found += kube.list_objects(SERVICE, ns)
    return [o for o in found if set(carried(o)) & hosts]


def rule_of(obj: Obj) -> KindRule:
    return ROUTE if obj.get("kind") == "Route" else SERVICE


def to_recreate(obj: Obj) -> Obj:
    """The object as it can be created again: what the apiserver assigned is left out."""
    out = clean(obj)
    spec = out.get("spec") or {}
    for key in _SERVICE_ASSIGNED if obj.get("kind") == "Service" else ():
        spec.pop(key, None)
    for port in spec.get("ports") or [] if obj.get("kind") == "Service" else []:
        port.pop("nodePort", None)
    return copy.deepcopy(out)


def describe(obj: Obj) -> str:
    return f"{obj.get('kind')} {obj.get('metadata', {}).get('namespace')}/{name_of(obj)}"


def owner_id(kube: KubePort) -> str | None:
    """The `--txt-owner-id` of the ExternalDNS Deployment that HyperShift's install adds, if any."""
    for d in kube.workloads("deployments", OPERATOR_NAMESPACE):
        for c in ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []:
            for arg in c.get("args") or []:
                if str(arg).startswith(OWNER_ARG):
                    return str(arg)[len(OWNER_ARG) :]
    return None


def held_by(owners: dict[str, str | None], owner: str | None) -> list[str]:
    """The hosts whose record is still `owner`'s (or whose owner cannot be told apart from it)."""
    return sorted(h for h, o in owners.items() if o is None or owner is None or o == owner)


def not_owned_by(hosts: list[str], owners: dict[str, str | None], owner: str | None) -> list[str]:
    """The hosts whose record is not (yet) `owner`'s: missing, or another's."""
    return sorted(h for h in hosts if owner is None or owners.get(h) != owner)


OVN_NAMESPACE, OVN_SELECTOR = "openshift-ovn-kubernetes", "app=ovnkube-node"


def ovn_restart_command(hc: Obj, destination_context: str) -> str | None:
    """T18: after the move of a Public or PublicAndPrivate HC, its OVN pods restart to reconnect
    to the control plane at its new home. The exact commands; None when not needed."""
    if not needs_handoff(hc):
        return None
    ns, name = hc["metadata"]["namespace"], hc["metadata"]["name"]
    return (
        f"kubectl --context {destination_context} get secret -n {ns} {name}-admin-kubeconfig "
        f"-o jsonpath='{{.data.kubeconfig}}' | base64 -d > {name}.kubeconfig && "
        f"kubectl --kubeconfig {name}.kubeconfig delete pods -n {OVN_NAMESPACE} -l {OVN_SELECTOR}"
    )
