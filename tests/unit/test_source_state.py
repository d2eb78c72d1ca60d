"""What backup records before changing the source, and how it reads it back."""

from __future__ import annotations

from kubectl_hcmigrate.core.marks import SOURCE_STATE as STATE_ANNOTATION
from kubectl_hcmigrate.core.source_state import SourceState, recorded


def _hc(annotations: dict[str, str] | None = None, paused: str | None = None) -> dict:
    spec = {"pausedUntil": paused} if paused else {}
    return {"metadata": {"name": "example", "annotations": annotations or {}}, "spec": spec}


def test_observe_takes_only_the_control_plane_writers() -> None:
    deps = [
        {"metadata": {"name": n}, "spec": {"replicas": r}}
        for n, r in (("kube-apiserver", 3), ("openshift-apiserver", 2), ("ignition-server", 1))
    ]
    pools = [{"metadata": {"name": "np1"}, "spec": {"pausedUntil": "2026-01-01T00:00:00Z"}},
             {"metadata": {"name": "np2"}, "spec": {}}]  # fmt: skip
    state = SourceState.observe(_hc(paused=None), pools, deps)
    assert state.hc_paused_until is None
    assert state.nodepools == {"np1": "2026-01-01T00:00:00Z", "np2": None}
    assert state.replicas == {"kube-apiserver": 3, "openshift-apiserver": 2}


def test_the_record_round_trips_through_the_annotation() -> None:
    state = SourceState("true", {"np1": None}, {"kube-apiserver": 2})
    assert recorded(_hc({STATE_ANNOTATION: state.to_json()})) == state
    assert recorded(_hc()) is None
