"""What backup records before changing the source, and how it reads it back."""

from __future__ import annotations

from typing import Any

from kubectl_hcmigrate.core.bounded import IN_FLIGHT
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


def test_the_hand_off_round_trips_and_an_older_record_without_it_is_still_read() -> None:
    from kubectl_hcmigrate.core.source_state import Hold

    hold = Hold("20260501T100000Z-aaaa1111", "2026-05-01T10:00:09Z", "destination")
    state = SourceState("true", {"np1": None}, {"kube-apiserver": 2}, held=hold)
    assert recorded(_hc({STATE_ANNOTATION: state.to_json()})) == state
    assert '"v":2' in state.to_json()
    assert hold.describe() == (
        "held for a migration to context 'destination' by backup 20260501T100000Z-aaaa1111 since 2026-05-01T10:00:09Z"
    )
    v1 = '{"v":1,"hc_paused_until":null,"nodepools":{"np1":null},"replicas":{"kube-apiserver":2}}'
    unversioned = '{"hc_paused_until":null,"nodepools":{},"replicas":{}}'
    assert recorded(_hc({STATE_ANNOTATION: v1})) == SourceState(None, {"np1": None}, {"kube-apiserver": 2})
    assert recorded(_hc({STATE_ANNOTATION: unversioned})).held is None  # type: ignore[union-attr]


def test_a_record_newer_than_the_tool_is_refused() -> None:
    import pytest

    from kubectl_hcmigrate.core.report import PreflightError

    with pytest.raises(PreflightError, match="newer than this tool reads"):
        recorded(_hc({STATE_ANNOTATION: '{"v":99,"hc_paused_until":null,"nodepools":{},"replicas":{}}'}))


def test_teardown_s_record_round_trips_and_its_unversioned_list_is_still_read() -> None:
    """Teardown recorded a bare JSON list on the HCP namespace before records had a version."""
    from kubectl_hcmigrate.core.marks import TEARDOWN_CONFIG, config_names, config_record

    def ns(raw: str) -> dict[str, Any]:
        return {"metadata": {"name": "clusters-cesar", "annotations": {TEARDOWN_CONFIG: raw}}}

    record = config_record(["Secret/cesar-pull-secret", "ConfigMap/corp-proxy-ca"])
    assert '"v":2' in record
    assert config_names(ns(record)) == ["ConfigMap/corp-proxy-ca", "Secret/cesar-pull-secret"]
    assert config_names(ns('["Secret/cesar-pull-secret"]')) == ["Secret/cesar-pull-secret"]
    assert config_names(None) == []


def test_a_hundred_nodepools_are_paused_and_put_back_a_few_at_a_time_the_hc_around_them() -> None:
    import threading
    import time

    from kubectl_hcmigrate.core.pipeline import Plan, Step, execute
    from kubectl_hcmigrate.core.source_state import SourceControl
    from tests.fakes import NullReporter

    class Patching:
        context = "mgmt-1"

        def __init__(self) -> None:
            self.patches: list[tuple[str, str, object]] = []
            self.lock, self.now, self.most = threading.Lock(), 0, 0

        def merge_patch(self, rule: object, ns: str, name: str, patch: dict) -> dict:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            time.sleep(0.005)
            with self.lock:
                self.now -= 1
                self.patches.append((getattr(rule, "kind", ""), name, patch["spec"]["pausedUntil"]))
            return {}

    pools = {f"np{i}": (None if i % 2 else "2030-01-01T00:00:00Z") for i in range(100)}
    kube = Patching()
    ctl = SourceControl(kube, "clusters", "example", SourceState(None, pools, {}))  # type: ignore[arg-type]
    log = execute(Plan("backup").add(Step("pause", ctl.pause)), NullReporter())
    assert kube.patches[0] == ("HostedCluster", "example", "true") and len(kube.patches) == 101
    assert len(log.changes["pause"]) == 101 and 1 < kube.most <= IN_FLIGHT
    kube.patches.clear()
    ctl.unpause()
    assert {(n, v) for _, n, v in kube.patches[:-1]} == set(pools.items())
    assert kube.patches[-1] == ("HostedCluster", "example", None)  # last: the safer half-way state


def test_what_went_back_up_while_quiescing_is_scaled_down_again() -> None:
    """A control-plane operator's reconcile under way when it was scaled down puts the
    kube-apiserver back (T12): the wait for the control plane to stop scales it down again."""
    from kubectl_hcmigrate.core.source_state import SourceControl

    class Scaling:
        def __init__(self) -> None:
            self.replicas = {"control-plane-operator": 1, "kube-apiserver": 2, "etcd-operator": 1}
            self.scaled: list[tuple[str, int]] = []

        def workloads(self, kind: str, ns: str) -> list[dict]:
            return [{"metadata": {"name": n}, "spec": {"replicas": r}} for n, r in self.replicas.items()]

        def scale(self, kind: str, ns: str, name: str, n: int) -> None:
            self.replicas[name] = n
            self.scaled.append((name, n))

    kube = Scaling()
    state = SourceState(None, {}, {"control-plane-operator": 1, "kube-apiserver": 2})
    ctl = SourceControl(kube, "clusters", "example", state)  # type: ignore[arg-type]
    ctl.quiesce()
    assert ctl.keep_quiesced() == []  # nothing came back: no write
    kube.replicas["kube-apiserver"] = 2  # the operator's last reconcile
    assert ctl.keep_quiesced() == ["kube-apiserver"]
    assert kube.replicas == {"control-plane-operator": 0, "kube-apiserver": 0, "etcd-operator": 1}
    assert kube.scaled[-1] == ("kube-apiserver", 0) and len(kube.scaled) == 3  # what it never scaled stays
