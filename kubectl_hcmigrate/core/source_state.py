"""What backup changes on the source, recorded on the HostedCluster itself before the first
change, so that any later run (even after the process was killed) can put it back exactly."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kubectl_hcmigrate.core.bounded import run_bounded
from kubectl_hcmigrate.core.handoff import describe, rule_of
from kubectl_hcmigrate.core.kinds import rule_for
from kubectl_hcmigrate.core.marks import SOURCE_STATE, dump_record, load_record
from kubectl_hcmigrate.core.objects import hcp_namespace_of, name_of
from kubectl_hcmigrate.core.pipeline import changed
from kubectl_hcmigrate.core.ports import KubePort
from kubectl_hcmigrate.core.report import PreflightError, StepFailed

# The four control-plane deployments that write to etcd; the runbook scales exactly these.
QUIESCED_DEPLOYMENTS = (
    "kube-apiserver", "openshift-apiserver", "openshift-oauth-apiserver", "control-plane-operator",
)  # fmt: skip
PAUSED = "true"

HC = rule_for("HostedCluster", "hc")
NODEPOOL = rule_for("NodePool", "hc")


@dataclass(frozen=True)
class Hold:
    """The migration hand-off: `backup --keep-paused` leaves the source paused and quiesced on
    purpose, for `backup_id` to be restored on `destination` (a context, when known)."""

    backup_id: str
    since: str
    destination: str | None = None

    def describe(self) -> str:
        to = f" to context '{self.destination}'" if self.destination else ""
        return f"held for a migration{to} by backup {self.backup_id} since {self.since}"


@dataclass
class SourceState:
    hc_paused_until: str | None
    nodepools: dict[str, str | None] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)
    # Set once the run that recorded this state handed the source over to a migration: then
    # nothing puts it back (a later plain backup keeps it held); teardown ends it.
    held: Hold | None = None
    # The Routes and LoadBalancer Services the DNS handoff deleted (T16), as they were: put back
    # with the rest, so that the source's ExternalDNS publishes the hostnames again.
    removed: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        fields = asdict(self)
        for optional in ("held", "removed"):  # older versions of the record have neither
            if not fields[optional]:
                del fields[optional]
        return dump_record(fields)

    @classmethod
    def from_json(cls, text: str) -> SourceState:
        d = load_record(text, f"source state ({SOURCE_STATE})")
        try:
            # Checked whole before any use: a value the apiserver refuses would fail the put-back.
            paused, pools, replicas = d["hc_paused_until"], d["nodepools"], d["replicas"]
            if not (_paused(paused) and isinstance(pools, dict) and isinstance(replicas, dict)):
                raise ValueError("hc_paused_until, nodepools or replicas has the wrong type")
            if bad := [k for k, v in pools.items() if not _paused(v)] + [
                k for k, v in replicas.items() if not _count(v)
            ]:
                raise ValueError(f"wrong value for {', '.join(map(str, bad))}")
            held = Hold(**d["held"]) if d.get("held") else None  # version 1 has no hand-off
            removed = d.get("removed") or []
            if not (isinstance(removed, list) and all(isinstance(o, dict) and "metadata" in o for o in removed)):
                raise ValueError("removed is not a list of objects")
            return cls(paused, dict(pools), dict(replicas), held, list(removed))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise PreflightError(
                f"the source state record ({SOURCE_STATE}) on the HostedCluster is malformed ({type(e).__name__}: {e}): "
                "put the HC's pausedUntil and the control plane's replicas back by hand, then remove it"
            ) from None

    @classmethod
    def observe(cls, hc: dict[str, Any], pools: list[dict[str, Any]], deployments: list[dict[str, Any]]) -> SourceState:
        return cls(
            hc["spec"].get("pausedUntil"),
            {name_of(np): np["spec"].get("pausedUntil") for np in pools},
            {name_of(d): int(d["spec"].get("replicas", 1)) for d in deployments if name_of(d) in QUIESCED_DEPLOYMENTS},
        )


def _paused(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def recorded(hc: dict[str, Any]) -> SourceState | None:
    raw = (hc["metadata"].get("annotations") or {}).get(SOURCE_STATE)
    return SourceState.from_json(raw) if raw else None


class SourceControl:
    """Pause, quiesce and put back one HC's reconciliation on the source. Each write is recorded
    as it begins (pipeline.changed), and the record goes only once the source reads back as it says."""

    def __init__(self, kube: KubePort, namespace: str, name: str, state: SourceState) -> None:
        self.kube, self.ns, self.name, self.state = kube, namespace, name, state
        self.hcp_ns = hcp_namespace_of(namespace, name)

    def hold(self, hold: Hold) -> None:
        """Marks the recorded state as handed over to a migration (the record stays)."""
        self.state.held = hold
        changed(f"mark HostedCluster {self.ns}/{self.name} {hold.describe()}")
        self.record()

    def record(self) -> None:
        changed(f"annotate HostedCluster {self.ns}/{self.name} with {SOURCE_STATE}")
        self.kube.merge_patch(
            HC, self.ns, self.name, {"metadata": {"annotations": {SOURCE_STATE: self.state.to_json()}}}
        )

    def forget(self) -> None:
        """Removes the record, but only from a source that is back as it says: else the next run
        would take what it sees (paused, scaled down) for the original."""
        if problems := self.differences():
            raise StepFailed(
                f"the source is not back as recorded ({'; '.join(problems)}): the record "
                f"{SOURCE_STATE} stays on HostedCluster {self.ns}/{self.name}; run backup again to put it back"
            )
        self.kube.merge_patch(HC, self.ns, self.name, {"metadata": {"annotations": {SOURCE_STATE: None}}})

    def differences(self) -> list[str]:
        """What on the source differs from the record (HC, NodePools, control-plane replicas)."""
        out = []
        hc = self.kube.get(HC, self.ns, self.name)
        if hc is None:
            return [f"HostedCluster {self.ns}/{self.name} is gone"]
        if (hc.get("spec") or {}).get("pausedUntil") != self.state.hc_paused_until:
            out.append(f"HostedCluster pausedUntil is {hc['spec'].get('pausedUntil')!r}")
        pools = {name_of(np): np for np in self.kube.list_objects(NODEPOOL, self.ns)}
        for np, value in self.state.nodepools.items():
            if np in pools and (pools[np].get("spec") or {}).get("pausedUntil") != value:
                out.append(f"NodePool {np} pausedUntil is {pools[np]['spec'].get('pausedUntil')!r}")
        replicas = {name_of(d): d["spec"].get("replicas", 1) for d in self.kube.workloads("deployments", self.hcp_ns)}
        for d, n in self.state.replicas.items():
            if d in replicas and replicas[d] != n:
                out.append(f"Deployment {d} has {replicas[d]} replicas, not {n}")
        for obj in self.state.removed:
            if self.kube.get(rule_of(obj), self.hcp_ns, name_of(obj)) is None:
                out.append(f"{describe(obj)} is missing")
        return out

    def pause(self) -> None:
        changed(f"pause HostedCluster {self.ns}/{self.name}")
        self.kube.merge_patch(HC, self.ns, self.name, {"spec": {"pausedUntil": PAUSED}})

        def pause_pool(np: str) -> None:
            changed(f"pause NodePool {self.ns}/{np}")
            self.kube.merge_patch(NODEPOOL, self.ns, np, {"spec": {"pausedUntil": PAUSED}})

        run_bounded(list(self.state.nodepools), pause_pool, name="pause")  # a hundred pools: a few at a time

    def unpause(self) -> None:
        # NodePools first: an unpaused HC with paused pools is the safer half-way state.
        def unpause_pool(item: tuple[str, str | None]) -> None:
            self.kube.merge_patch(NODEPOOL, self.ns, item[0], {"spec": {"pausedUntil": item[1]}})

        run_bounded(list(self.state.nodepools.items()), unpause_pool, name="unpause")
        self.kube.merge_patch(HC, self.ns, self.name, {"spec": {"pausedUntil": self.state.hc_paused_until}})

    def quiesce(self) -> None:
        for d in self.state.replicas:
            changed(f"scale Deployment {self.hcp_ns}/{d} to 0")
            self.kube.scale("deployments", self.hcp_ns, d, 0)

    def keep_quiesced(self) -> list[str]:
        """Scales to 0 again what went back up since `quiesce`, and names it: a control-plane
        operator's reconcile already under way when it was scaled down (or paused) still puts the
        apiservers back to their replicas (T12), and nothing would stop them again."""
        up = [
            name_of(d) for d in self.kube.workloads("deployments", self.hcp_ns)
            if name_of(d) in self.state.replicas and d["spec"].get("replicas", 1) > 0
        ]  # fmt: skip
        for d in up:
            self.kube.scale("deployments", self.hcp_ns, d, 0)
        return up

    def recreate_removed(self) -> None:
        """Creates again what the DNS handoff deleted; one that is there already stays as it is."""
        for obj in self.state.removed:
            self.kube.create(rule_of(obj), obj)

    def unquiesce(self) -> None:
        for d, n in self.state.replicas.items():
            self.kube.scale("deployments", self.hcp_ns, d, n)

    def put_back(self) -> None:
        changed(f"put back HostedCluster {self.ns}/{self.name} as recorded")
        self.recreate_removed()
        self.unquiesce()
        self.unpause()
        self.forget()

    def pause_changes(self) -> list[str]:
        return [f"set spec.pausedUntil={PAUSED!r} on HostedCluster {self.ns}/{self.name}"] + [
            f"set spec.pausedUntil={PAUSED!r} on NodePool {self.ns}/{np}" for np in self.state.nodepools
        ]

    def quiesce_changes(self) -> list[str]:
        return [f"scale Deployment {self.hcp_ns}/{d} from {n} to 0" for d, n in self.state.replicas.items()]
