"""handoff: hand the HC's hostnames from the source's ExternalDNS to the destination's (T16).

Between `backup --keep-paused` and `restore`: the Routes and LoadBalancer Services that carry the
HC's hostnames are recorded on the HC (with the backup's source state) and deleted on the source,
so its ExternalDNS drops the records; then the wait, until the records are gone. The source stays
paused and held; putting it back (a failed migrate, or this verb's own undo) creates them again.
Private clusters publish nothing through ExternalDNS: nothing to do. A re-run finds what an
interrupted run deleted in the record and carries on with the wait.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kubectl_hcmigrate.core import handoff as dns
from kubectl_hcmigrate.core.objects import hcp_namespace, name_of
from kubectl_hcmigrate.core.pipeline import Plan, Step, changed
from kubectl_hcmigrate.core.ports import KubePort, Reporter
from kubectl_hcmigrate.core.report import PreflightError, step_seconds, succeeded
from kubectl_hcmigrate.core.source_state import HC, SourceControl, SourceState, recorded
from kubectl_hcmigrate.core.wait import WaitTimedOut, poll_until

Obj = dict[str, Any]
POLL = 2.0


class RecordsStillThere(WaitTimedOut):
    """The records outlived --handoff-timeout: a timed-out wait like the restore's."""


@dataclass(frozen=True)
class HandoffOptions:
    name: str
    namespace: str
    timeout: int = 10 * 60


@dataclass
class Handoff:
    opts: HandoffOptions
    kube: KubePort
    records: dns.Records
    reporter: Reporter
    hc: Obj
    state: SourceState
    owner: str | None
    hosts: list[str] = field(default_factory=list)
    found: list[Obj] = field(default_factory=list)  # carriers still on the source

    @property
    def control(self) -> SourceControl:
        return SourceControl(self.kube, self.opts.namespace, self.opts.name, self.state)


def skip_reason(hc: Obj) -> str | None:
    """Why the handoff has nothing to do for this HC, if so."""
    if not dns.needs_handoff(hc):
        return f"endpoint access {dns.endpoint_access(hc)}: the hostnames are not published through ExternalDNS"
    if not dns.hostnames(hc):
        return "no service is published under a fixed hostname"
    return None


def preflight(opts: HandoffOptions, kube: KubePort, records: dns.Records, reporter: Reporter) -> Handoff | None:
    """The handoff to run, or None (said why) when the HC has nothing to hand over. Refuses a
    source that is not held for a migration: its control plane would answer on the hostnames again."""
    ns, name = opts.namespace, opts.name
    hc = kube.get(HC, ns, name)
    if hc is None:
        raise PreflightError(f"HostedCluster {ns}/{name} not found on context '{kube.context}'")
    if reason := skip_reason(hc):
        reporter.line(f"handoff: nothing to do ({reason})")
        return None
    state = recorded(hc)
    if state is None or state.held is None:
        raise PreflightError(
            f"HostedCluster {ns}/{name} is not held for a migration: run `backup --keep-paused` first "
            "(the handoff takes the hostnames away from a running control plane otherwise); nothing was changed"
        )
    routes_served = kube.crd("routes.route.openshift.io") is not None
    h = Handoff(opts, kube, records, reporter, hc, state, dns.owner_id(kube), dns.hostnames(hc))
    h.found = dns.carriers(kube, hc, routes_served=routes_served)
    return h


def build_plan(h: Handoff) -> Plan:
    plan = Plan("handoff")
    plan.add(Step("remove the source's service publishing", partial(_remove, h), changes=partial(_changes, h),
                  undo=partial(_recreate, h)))  # fmt: skip
    plan.add(Step("wait for the source's records to go", partial(wait_gone, h)))
    return plan


def _changes(h: Handoff) -> list[str]:
    return [f"record and delete {dns.describe(o)} (carries {', '.join(dns.carried(o))})" for o in h.found] + [
        f"wait up to {h.opts.timeout}s until {', '.join(h.hosts)} no longer resolve to the source ({h.records.describe()})"
    ]


def _remove(h: Handoff) -> None:
    """Records each object on the HC before deleting it: a run killed in between leaves it listed."""
    have = {(o.get("kind"), name_of(o)) for o in h.state.removed}
    new = [dns.to_recreate(o) for o in h.found if (o.get("kind"), name_of(o)) not in have]
    if new:
        h.state.removed = [*h.state.removed, *new]
        h.control.record()
    for obj in h.found:
        changed(f"delete {dns.describe(obj)}")
        h.kube.delete(dns.rule_of(obj), hcp_namespace(h.hc), name_of(obj))
    if h.state.removed and not h.found:
        h.reporter.line(f"handoff: removed by an earlier run: {', '.join(map(dns.describe, h.state.removed))}")


def _recreate(h: Handoff) -> None:
    """The undo: the source publishes its hostnames again (the record of them stays with the hold)."""
    h.control.recreate_removed()


def wait_gone(h: Handoff) -> None:
    """Until no host's record is the source's any more (gone, or held by another owner)."""
    t0, last, left = time.monotonic(), "", list[str]()

    def gone() -> bool:
        nonlocal last, left
        left = dns.held_by(h.records.owners(h.hosts), h.owner)
        if left:
            # One line, redrawn on a terminal; a log hears of it when the hostnames left change.
            now = f"waiting for the source's records to go: {', '.join(left)}"
            waited = time.monotonic() - t0
            h.reporter.status(f"handoff: {now} ({waited:.0f}s of {h.opts.timeout}s)", new=now != last)
            last = now
        return not left

    if not poll_until(gone, h.opts.timeout, every=POLL):
        raise RecordsStillThere(
            f"the source's ExternalDNS still holds {', '.join(left)} after {h.opts.timeout}s "
            f"({h.records.describe()}): check the source's external-dns logs"
        )
    h.reporter.line(f"handoff: the source's records are gone ({time.monotonic() - t0:.0f}s)")


def result(h: Handoff, timings: dict[str, float]) -> dict[str, Any]:
    return succeeded(
        h.opts,
        hostnames=h.hosts,
        removed=[dns.describe(o) for o in h.state.removed],
        records=h.records.describe(),
        source_owner=h.owner,
        timings_seconds=step_seconds(timings),
    )


def destination_problem(records: dns.Records, hc: Obj, destination: KubePort) -> str | None:
    """The teardown guard's DNS half: every hostname is the destination's ExternalDNS's now."""
    if skip_reason(hc) is not None:
        return None
    owner, hosts = dns.owner_id(destination), dns.hostnames(hc)
    if owner is None:
        return f"the destination (context '{destination.context}') runs no ExternalDNS with a --txt-owner-id"
    if left := dns.not_owned_by(hosts, records.owners(hosts), owner):
        return (
            f"{', '.join(left)} not yet owned by the destination's ExternalDNS ({owner}; {records.describe()}): "
            "the source's records must go first (run handoff)"
        )
    return None


def wait_destination_owns(
    records: dns.Records, hc: Obj, destination: KubePort, timeout: float, reporter: Reporter
) -> None:
    """After the restore: until the destination's ExternalDNS holds every hostname, or a refusal."""
    problem: str | None = None

    def owned() -> bool:
        nonlocal problem
        if (problem := destination_problem(records, hc, destination)) is not None:
            reporter.progress("waiting for the destination's records", 0, None)
        return problem is None

    if not poll_until(owned, timeout, every=POLL):
        raise PreflightError(str(problem))


def restart_ovn(hc: Obj, context: str, hosted: KubePort | None, reporter: Reporter) -> list[str]:
    """T18: restarts the hosted cluster's OVN pods when it can be reached; else says how. The steps left."""
    command = dns.ovn_restart_command(hc, context) if hc else None
    if command is None:
        return []
    if hosted is None:
        return [command]  # the summary's last line says it (next_steps.py), once
    pods = hosted.pods(dns.OVN_NAMESPACE, dns.OVN_SELECTOR)
    for pod in pods:
        hosted.delete(dns.POD, dns.OVN_NAMESPACE, name_of(pod))
    reporter.line(f"restarted {len(pods)} OVN pods in the hosted cluster ({dns.OVN_NAMESPACE}, {dns.OVN_SELECTOR})")
    return []
