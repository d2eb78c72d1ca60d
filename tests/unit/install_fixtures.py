"""A management cluster's HyperShift install (tests/sandbox/install.py, as upstream renders it) and
an HC spec that publishes its services under fixed hostnames, for the unit tests of the checks."""

from __future__ import annotations

import copy
from typing import Any

from tests.sandbox.install import REGION, operator
from tests.sandbox.seed import SERVICE_DOMAIN

Obj = dict[str, Any]


def installed(region: str = REGION, domain: str = SERVICE_DOMAIN, *, running: bool = True) -> list[Obj]:
    """The install's Deployments as the apiserver lists them: with the status the controller writes."""
    deployments = [o for o in operator("owner-1", region, domain) if o["kind"] == "Deployment"]
    for d in deployments:
        d["metadata"]["namespace"] = "hypershift"
        d["status"] = {"availableReplicas": d["spec"]["replicas"] if running else 0}
    return deployments


def services(**types: str) -> list[Obj]:
    """spec.services with a hostname each, as `hypershift create cluster --external-dns-domain` sets
    them; `types` overrides a service's type (then without a hostname)."""
    out = []
    for svc in ("APIServer", "OAuthServer", "Konnectivity", "Ignition"):
        kind = types.get(svc)
        if kind:
            out.append({"service": svc, "servicePublishingStrategy": {"type": kind}})
            continue
        kind = "LoadBalancer" if svc == "APIServer" else "Route"
        member = "loadBalancer" if kind == "LoadBalancer" else "route"
        host = f"{svc.lower()}-example.{SERVICE_DOMAIN}"
        out.append({"service": svc, "servicePublishingStrategy": {"type": kind, member: {"hostname": host}}})
    return out


def published(hc: Obj, access: str = "Public", **types: str) -> Obj:
    out = copy.deepcopy(hc)
    out["spec"]["services"] = services(**types)
    aws = out["spec"].setdefault("platform", {"type": "AWS"}).setdefault("aws", {})
    aws.update(region=REGION, endpointAccess=access)
    return out
