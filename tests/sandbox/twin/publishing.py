"""How the control-plane operator publishes the services the workers reach (T21): a Route per
service published as `Route`, a LoadBalancer Service with ExternalDNS's hostname annotation per
service published as `LoadBalancer` with a hostname, in the HCP namespace. ExternalDNS (the
twin's externaldns.py) turns their hostnames into records."""

from __future__ import annotations

from tests.sandbox.twin.api import ROUTE, SERVICE, Api, Obj
from tests.sandbox.twin.externaldns import HOSTNAME

# The objects upstream names per service (support/netutil, CPO/kas/service.go).
NAMES = {"APIServer": "kube-apiserver", "OAuthServer": "oauth", "Konnectivity": "konnectivity-server",
         "Ignition": "ignition-server"}  # fmt: skip
PORTS = {"APIServer": 6443, "OAuthServer": 6443, "Konnectivity": 8091, "Ignition": 443}
HCP_LABEL = "hypershift.openshift.io/hosted-control-plane"


def route(ns: str, name: str, host: str) -> Obj:
    return {"apiVersion": "route.openshift.io/v1", "kind": "Route",
            "metadata": {"name": name, "namespace": ns, "labels": {HCP_LABEL: ns}},
            "spec": {"host": host, "tls": {"termination": "passthrough", "insecureEdgeTerminationPolicy": "None"},
                     "to": {"kind": "Service", "name": name}, "wildcardPolicy": "None"}}  # fmt: skip


def load_balancer(ns: str, name: str, host: str, port: int) -> Obj:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": {HCP_LABEL: ns}, "annotations": {HOSTNAME: host}},
            "spec": {"type": "LoadBalancer", "selector": {"app": name},
                     "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}}  # fmt: skip


def reconcile_publishing(api: Api, ns: str, hcp: Obj) -> None:
    """Create-only, as the operator's create-or-update would leave an object that already matches."""
    for svc in hcp["spec"].get("services") or []:
        strategy, name = svc.get("servicePublishingStrategy") or {}, NAMES.get(svc.get("service", ""))
        if name is None:
            continue
        if strategy.get("type") == "Route" and (host := (strategy.get("route") or {}).get("hostname")):
            api.create(ROUTE, ns, route(ns, name, host))
        elif strategy.get("type") == "LoadBalancer" and (host := (strategy.get("loadBalancer") or {}).get("hostname")):
            api.create(SERVICE, ns, load_balancer(ns, f"{name}-public" if name != "kube-apiserver" else name,
                                                  host, PORTS[svc["service"]]))  # fmt: skip
