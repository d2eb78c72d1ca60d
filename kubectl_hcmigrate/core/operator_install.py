"""What a management cluster's HyperShift install is set up for (T19), read from its Deployments.

The operator and its ExternalDNS are found by what they run, as `hypershift install` renders them
(cmd/install/assets/hypershift_operator.go), never by a name or namespace, which an install may
change: the operator's container runs `hypershift-operator run`, with `--private-platform=` and,
for AWS private platform, the region in its `AWS_REGION`; ExternalDNS runs `external-dns` with
`--domain-filter=` and its own `--txt-owner-id=`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_hcmigrate.core import publishing

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Operator:
    where: str  # namespace/name of its Deployment
    private_platform: str  # AWS, or None as upstream writes it
    region: str | None  # AWS_REGION of an AWS private platform install
    running: bool  # a replica is available


@dataclass(frozen=True)
class ExternalDns:
    where: str
    domains: tuple[str, ...] = field(default_factory=tuple)
    owner_id: str | None = None


def _containers(d: Obj) -> list[Obj]:
    return list(d.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [])


def _where(d: Obj) -> str:
    return f"{d['metadata'].get('namespace', '')}/{d['metadata']['name']}"


def _runs(container: Obj, program: str) -> bool:
    argv = [*(container.get("command") or []), *(container.get("args") or [])]
    return any(a.rsplit("/", 1)[-1] == program for a in argv[:1])


def _flag(args: Iterable[str], name: str) -> list[str]:
    """The values of `--name=v` or `--name v`, every time it is given, commas split (as kingpin's lists)."""
    args, values = list(args), []
    for i, a in enumerate(args):
        if a.startswith(f"{name}="):
            values.append(a.split("=", 1)[1])
        elif a == name and i + 1 < len(args):
            values.append(args[i + 1])
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _env(container: Obj, name: str) -> str | None:
    return next((e.get("value") for e in container.get("env") or [] if e.get("name") == name), None)


def _running(d: Obj) -> bool:
    return int(d.get("status", {}).get("availableReplicas") or 0) > 0


def operators(deployments: Iterable[Obj]) -> list[Operator]:
    found = []
    for d in deployments:
        for c in _containers(d):
            argv = [*(c.get("command") or []), *(c.get("args") or [])]
            if _runs(c, "hypershift-operator") and argv[1:2] == ["run"]:  # not its `init` container
                platform = (_flag(argv, "--private-platform") or ["None"])[0]
                region = _env(c, "AWS_REGION") if platform == "AWS" else None
                found.append(Operator(_where(d), platform, region, _running(d)))
    return found


def external_dns(deployments: Iterable[Obj]) -> list[ExternalDns]:
    found = []
    for d in deployments:
        for c in _containers(d):
            if _runs(c, "external-dns"):
                argv = [*(c.get("command") or []), *(c.get("args") or [])]
                owner = next(iter(_flag(argv, "--txt-owner-id")), None)
                found.append(ExternalDns(_where(d), tuple(_flag(argv, "--domain-filter")), owner))
    return found


def covers(domain: str, hostname: str) -> bool:
    """ExternalDNS's domain filter: the domain itself and every name under it."""
    domain, hostname = domain.lower().strip(".").lstrip("*."), hostname.lower().strip(".")
    return hostname == domain or hostname.endswith(f".{domain}")


def operator_problem(hc: Obj, found: list[Operator], context: str) -> str | None:
    """Why the operators found cannot take the HC (None: one can)."""
    where = f"context '{context}'"
    if not found:
        return (
            f"{where} runs no HyperShift operator (no Deployment runs `hypershift-operator run`): "
            "install HyperShift there first"
        )
    running = [o for o in found if o.running]
    if not running:
        return f"the HyperShift operator on {where} ({found[0].where}) has no available replica: start it first"
    op, want = running[0], publishing.region(hc)
    if op.private_platform == "AWS" and want and op.region and op.region != want:
        return (
            f"the HyperShift operator on {where} ({op.where}) was installed for AWS region {op.region}, "
            f"the HC runs in {want}: a move stays within one region; use a management cluster set up for {want}"
        )
    if publishing.is_private(hc) and (op.private_platform != "AWS" or (want and op.region != want)):
        return (
            f"the HC's endpoint access is {publishing.endpoint_access(hc)}, and the HyperShift operator on {where} "
            f"({op.where}) was not installed for it: reinstall it with --private-platform=AWS "
            f"--aws-private-region={want} (now: --private-platform={op.private_platform}"
            f"{f', region {op.region}' if op.region else ''})"
        )
    return None


def external_dns_problem(hc: Obj, found: list[ExternalDns], context: str) -> str | None:
    """Why the destination's ExternalDNS cannot publish the HC's hostnames (None: it can, or none is needed)."""
    if not publishing.relies_on_external_dns(hc):
        return None
    names = publishing.hostnames(hc)
    domains = sorted({d for e in found for d in e.domains})
    if not found:
        return (
            f"context '{context}' runs no ExternalDNS, and the HC's hostnames ({', '.join(names)}) are published "
            "by it: install HyperShift there with --external-dns-provider and --external-dns-domain-filter"
        )
    # An ExternalDNS without a filter takes every domain.
    outside = [n for n in names if not any(not e.domains or any(covers(d, n) for d in e.domains) for e in found)]
    if outside:
        return (
            f"the ExternalDNS on context '{context}' ({', '.join(e.where for e in found)}) filters domains "
            f"{', '.join(domains) or '(none)'}, which do not cover {', '.join(outside)}: reinstall it with "
            "--external-dns-domain-filter covering them"
        )
    return None
