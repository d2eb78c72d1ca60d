"""How an HC publishes the services its workers reach (T15), read from its spec alone.

The workers know each service by the address they were given at install. Only a hostname set in
the spec survives a move: a LoadBalancer without one is known by the cloud load balancer's own
name, which the source's teardown deletes, and a Route without one takes the source management
cluster's ingress domain. NodePort names a management node. Either way the workers would keep
talking to the source, which is gone (seed 000: "If you do not include the --external-dns flags
... you cannot migrate the hosted cluster").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The services the workers reach (HostedCluster spec.services; OIDC and OVNSbDb are no-ops upstream).
WORKER_SERVICES = ("APIServer", "OAuthServer", "Konnectivity", "Ignition")
# servicePublishingStrategy.type -> the member that holds its hostname.
_HOSTNAME_OF = {"Route": "route", "LoadBalancer": "loadBalancer"}
PRIVATE, PUBLIC_AND_PRIVATE, PUBLIC = "Private", "PublicAndPrivate", "Public"


def _strategies(hc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    services = hc.get("spec", {}).get("services") or []
    return {s.get("service", ""): s.get("servicePublishingStrategy") or {} for s in services}


def hostname_of(strategy: Mapping[str, Any]) -> str | None:
    member = _HOSTNAME_OF.get(strategy.get("type", ""))
    return (strategy.get(member) or {}).get("hostname") if member else None


def unfixed(hc: Mapping[str, Any]) -> list[str]:
    """One phrase per worker-reached service without a fixed hostname: which, and the field unset."""
    found = _strategies(hc)
    problems = []
    if missing := [s for s in WORKER_SERVICES if s not in found]:
        problems.append(f"{', '.join(missing)} not in spec.services (published under an address HyperShift picks)")
    for service in (s for s in WORKER_SERVICES if s in found):
        strategy = found[service]
        kind = strategy.get("type", "")
        if kind in _HOSTNAME_OF and not hostname_of(strategy):
            problems.append(
                f"{service} is a {kind} without a hostname "
                f"(spec.services[{service}].servicePublishingStrategy.{_HOSTNAME_OF[kind]}.hostname)"
            )
        elif kind not in _HOSTNAME_OF:
            problems.append(f"{service} is published as {kind or 'nothing'}, an address of the source")
    return problems


def hostnames(hc: Mapping[str, Any]) -> list[str]:
    """The fixed hostnames the HC's worker-reached services are published under."""
    found = _strategies(hc)
    names = (hostname_of(found[s]) for s in WORKER_SERVICES if s in found)
    return sorted({n for n in names if n})


def endpoint_access(hc: Mapping[str, Any]) -> str:
    return ((hc.get("spec", {}).get("platform") or {}).get("aws") or {}).get("endpointAccess") or PUBLIC


def region(hc: Mapping[str, Any]) -> str | None:
    return ((hc.get("spec", {}).get("platform") or {}).get("aws") or {}).get("region")


def is_private(hc: Mapping[str, Any]) -> bool:
    """Private and PublicAndPrivate clusters need the operator's AWS private platform (PrivateLink)."""
    return endpoint_access(hc) in (PRIVATE, PUBLIC_AND_PRIVATE)


def relies_on_external_dns(hc: Mapping[str, Any]) -> bool:
    """Public and PublicAndPrivate clusters' hostnames are published by the management cluster's
    ExternalDNS (T16); a Private cluster's are served through PrivateLink's own zone."""
    return endpoint_access(hc) != PRIVATE and bool(hostnames(hc))
