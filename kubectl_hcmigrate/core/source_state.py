"""What backup changes on the source, recorded on the HostedCluster itself before the first
change, so that any later run (even after the process was killed) can put it back exactly."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from kubectl_hcmigrate.core.kinds import rule_for
from kubectl_hcmigrate.adapters.kube import Kube
from kubectl_hcmigrate.core.objects import name_of

STATE_ANNOTATION = "hcmigrate.openshift.io/source-state"
# The four control-plane deployments that write to etcd; the runbook scales exactly these.
QUIESCED_DEPLOYMENTS = (
    "kube-apiserver", "openshift-apiserver", "openshift-oauth-apiserver", "control-plane-operator",
)  # fmt: skip
PAUSED = "true"

HC = rule_for("HostedCluster", "hc")
NODEPOOL = rule_for("NodePool", "hc")


@dataclass
class SourceState:
    hc_paused_until: str | None
    nodepools: dict[str, str | None] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> SourceState:
        d = json.loads(text)
        return cls(d["hc_paused_until"], dict(d["nodepools"]), {k: int(v) for k, v in d["replicas"].items()})

    @classmethod
    def observe(cls, hc: dict[str, Any], pools: list[dict[str, Any]], deployments: list[dict[str, Any]]) -> SourceState:
        return cls(
            hc["spec"].get("pausedUntil"),
            {name_of(np): np["spec"].get("pausedUntil") for np in pools},
            {name_of(d): int(d["spec"].get("replicas", 1)) for d in deployments if name_of(d) in QUIESCED_DEPLOYMENTS},
        )


def recorded(hc: dict[str, Any]) -> SourceState | None:
    raw = (hc["metadata"].get("annotations") or {}).get(STATE_ANNOTATION)
    return SourceState.from_json(raw) if raw else None


class SourceControl:
    """Pause, quiesce and put back one HC's reconciliation on the source."""

    def __init__(self, kube: Kube, namespace: str, name: str, state: SourceState) -> None:
        self.kube, self.ns, self.name, self.state = kube, namespace, name, state
        self.hcp_ns = f"{namespace}-{name}"

    def record(self) -> None:
        self.kube.merge_patch(
            HC, self.ns, self.name, {"metadata": {"annotations": {STATE_ANNOTATION: self.state.to_json()}}}
        )

    def forget(self) -> None:
        self.kube.merge_patch(HC, self.ns, self.name, {"metadata": {"annotations": {STATE_ANNOTATION: None}}})

    def pause(self) -> None:
        self.kube.merge_patch(HC, self.ns, self.name, {"spec": {"pausedUntil": PAUSED}})
        for np in self.state.nodepools:
            self.kube.merge_patch(NODEPOOL, self.ns, np, {"spec": {"pausedUntil": PAUSED}})

    def unpause(self) -> None:
        # NodePools first: an unpaused HC with paused pools is the safer half-way state.
        for np, value in self.state.nodepools.items():
            self.kube.merge_patch(NODEPOOL, self.ns, np, {"spec": {"pausedUntil": value}})
        self.kube.merge_patch(HC, self.ns, self.name, {"spec": {"pausedUntil": self.state.hc_paused_until}})

    def quiesce(self) -> None:
        for d in self.state.replicas:
            self.kube.scale("deployments", self.hcp_ns, d, 0)

    def unquiesce(self) -> None:
        for d, n in self.state.replicas.items():
            self.kube.scale("deployments", self.hcp_ns, d, n)

    def put_back(self) -> None:
        self.unquiesce()
        self.unpause()
        self.forget()

    def pause_changes(self) -> list[str]:
        return [f"set spec.pausedUntil={PAUSED!r} on HostedCluster {self.ns}/{self.name}"] + [
            f"set spec.pausedUntil={PAUSED!r} on NodePool {self.ns}/{np}" for np in self.state.nodepools
        ]

    def quiesce_changes(self) -> list[str]:
        return [f"scale Deployment {self.hcp_ns}/{d} from {n} to 0" for d, n in self.state.replicas.items()]
