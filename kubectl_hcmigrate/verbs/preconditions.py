"""What must hold for a move to work at all, read only from the HC's spec and the destination, so
it is checked before anything else (the source's etcd, the bucket): the services the workers reach
published under fixed hostnames (T15), a destination whose HyperShift operator and ExternalDNS can
take the HC (T19), and destination CRDs that can hold it. Shared by backup, restore and migrate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_hcmigrate.core import crd_compat, operator_install, publishing
from kubectl_hcmigrate.core.kinds import HYPERSHIFT, RULES
from kubectl_hcmigrate.core.objects import name_of, namespace_of
from kubectl_hcmigrate.core.ports import KubePort, Reporter
from kubectl_hcmigrate.core.report import PreflightError

OK, WARNING, REFUSED = "ok", "warning", "refused"
HS_RULES = sorted({r.kind: r for r in RULES if r.group == HYPERSHIFT}.values(), key=lambda r: r.kind)


@dataclass(frozen=True)
class Verdict:
    check: str
    verdict: str  # OK, WARNING or REFUSED
    detail: str

    def line(self) -> str:
        return f"precondition {self.check}: {self.verdict}: {self.detail}"


def fixed_hostnames(hc: Mapping[str, Any], *, migration: bool) -> Verdict:
    """T15: a migration is refused; a plain DR backup or restore only warns (the source stays)."""
    problems, where = publishing.unfixed(hc), f"HostedCluster {namespace_of(hc)}/{name_of(hc)}"
    if not problems:
        return Verdict("fixed hostnames", OK, ", ".join(publishing.hostnames(hc)))
    if migration:
        detail = (
            f"{where} cannot be migrated, its workers would keep the source's address: {'; '.join(problems)}. "
            "Each must be a Route or LoadBalancer with a hostname, which HyperShift takes only when the HC is "
            "created (hypershift create cluster --external-dns-domain); nothing was changed"
        )
        return Verdict("fixed hostnames", REFUSED, detail)
    return Verdict("fixed hostnames", WARNING, f"{where} could not be migrated from this backup: {'; '.join(problems)}")


def destination_install(hc: Mapping[str, Any], destination: KubePort) -> list[Verdict]:
    """T19: the destination's HyperShift operator and ExternalDNS, found by what their Deployments run."""
    deployments = destination.workloads("deployments", "")  # every namespace: found by what they run
    ops, dns = operator_install.operators(deployments), operator_install.external_dns(deployments)
    op_problem = operator_install.operator_problem(hc, ops, destination.context)
    dns_problem = operator_install.external_dns_problem(hc, dns, destination.context)
    op = next((o for o in ops if o.running), None)
    op_ok = f"{op.where}, private platform {op.private_platform}{f' in {op.region}' if op.region else ''}" if op else ""
    names = publishing.hostnames(hc)
    if publishing.relies_on_external_dns(hc):
        dns_ok = f"{', '.join(e.where for e in dns)} covers {', '.join(names)}"
    else:
        dns_ok = f"not needed ({publishing.endpoint_access(hc)}, hostnames: {', '.join(names) or 'none'})"
    return [
        Verdict("destination operator", REFUSED if op_problem else OK, op_problem or op_ok),
        Verdict("destination ExternalDNS", REFUSED if dns_problem else OK, dns_problem or dns_ok),
    ]


def destination_crds(
    destination: KubePort, *, source: KubePort | None = None, objects: Sequence[Mapping[str, Any]] = ()
) -> Verdict:
    """The destination's HyperShift CRDs serve what the source (or the bundle's objects) use, and are
    not older: no version served there is missing, no field set would be pruned."""
    problems: list[str] = []
    for rule in HS_RULES:
        theirs = destination.crd(rule.qualified)
        if theirs is None:
            problems.append(f"{rule.qualified} is not installed")
            continue
        ours = source.crd(rule.qualified) if source is not None else None
        if ours is not None and (lacks := crd_compat.older_than(theirs, ours)):
            problems.append(f"{rule.qualified} is older than the source's (lacks {crd_compat.shorten(lacks)})")
        for obj in (o for o in objects if o.get("kind") == rule.kind):
            version = obj.get("apiVersion", "").rpartition("/")[2]
            if version not in crd_compat.served(theirs):
                problems.append(
                    f"{rule.qualified} does not serve {version}, the version {rule.kind} {name_of(obj)} was taken at"
                )
            elif unknown := crd_compat.unknown_fields(obj, theirs, version):
                problems.append(
                    f"{rule.qualified} is older than the bundle: it would drop {crd_compat.shorten(unknown)} "
                    f"of {rule.kind} {name_of(obj)}"
                )
    if problems:
        detail = (
            f"the HyperShift CRDs on context '{destination.context}' cannot hold this HC: {'; '.join(problems)}. "
            "Upgrade HyperShift there first; nothing was changed"
        )
        return Verdict("destination CRDs", REFUSED, detail)
    served = sorted({v for r in HS_RULES for v in crd_compat.served(destination.crd(r.qualified) or {})})
    return Verdict("destination CRDs", OK, f"serve {', '.join(served)}, not older than the source's")


def settle(verdicts: list[Verdict], reporter: Reporter, *, show: bool) -> list[str]:
    """Says each verdict of a dry run, raises the first refusal, and returns the warnings for the
    result (whose summary says them, once)."""
    warnings = [v.detail for v in verdicts if v.verdict == WARNING]
    for v in verdicts if show else []:
        reporter.line(v.line())
    refused = next((v for v in verdicts if v.verdict == REFUSED), None)
    if refused is not None:
        raise PreflightError(refused.detail)
    return warnings
