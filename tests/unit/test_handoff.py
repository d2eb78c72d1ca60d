"""The DNS handoff (T16), the teardown guard's DNS half and the OVN hint (T18), on in-memory
clusters and records."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubectl_hcmigrate.core import handoff as dns
from kubectl_hcmigrate.core.marks import SOURCE_STATE
from kubectl_hcmigrate.core.pipeline import RunFailed, run_verb
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.core.source_state import Hold, SourceControl, SourceState, recorded
from kubectl_hcmigrate.verbs import handoff
from tests.fakes import LinesReporter

NS, NAME, HCP_NS = "clusters", "example", "clusters-example"
HOSTS = {"APIServer": "api-example.hcp.example.com", "OAuthServer": "oauth-example.hcp.example.com"}


def hc(access: str = "Public", held: bool = True) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster",
        "metadata": {"name": NAME, "namespace": NS, "uid": "u1", "annotations": {}},
        "spec": {"pausedUntil": "true", "platform": {"aws": {"endpointAccess": access}}, "services": [
            {"service": "APIServer", "servicePublishingStrategy": {"type": "LoadBalancer",
                                                                    "loadBalancer": {"hostname": HOSTS["APIServer"]}}},
            {"service": "OAuthServer", "servicePublishingStrategy": {"type": "Route",
                                                                      "route": {"hostname": HOSTS["OAuthServer"]}}},
        ]},
    }  # fmt: skip
    if held:
        state = SourceState(None, {}, {}, Hold("b1", "2026-01-01T00:00:00Z", "dst"))
        obj["metadata"]["annotations"][SOURCE_STATE] = state.to_json()
    return obj


def route(name: str, host: str, internal: bool = False) -> dict[str, Any]:
    labels = {dns.INTERNAL_ROUTE: "true"} if internal else {}
    return {"apiVersion": "route.openshift.io/v1", "kind": "Route",
            "metadata": {"name": name, "namespace": HCP_NS, "uid": f"u-{name}", "resourceVersion": "7", "labels": labels},
            "spec": {"host": host, "to": {"kind": "Service", "name": name}}}  # fmt: skip


def lb(name: str, host: str | None) -> dict[str, Any]:
    ann = {dns.HOSTNAME_ANNOTATION: host} if host else {}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": HCP_NS, "uid": f"u-{name}", "annotations": ann},
            "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.9", "clusterIPs": ["10.96.0.9"],
                     "ports": [{"port": 6443, "nodePort": 31000}]}}  # fmt: skip


class Kube:
    """One management cluster's HC, Routes, Services and external-dns Deployment, in memory."""

    def __init__(self, hc_obj: dict[str, Any], objs: list[dict[str, Any]], owner: str | None = "src-owner") -> None:
        self.context, self.role = "source", "source"
        self.hc, self.objs, self.deleted = hc_obj, {(o["kind"], o["metadata"]["name"]): o for o in objs}, []
        args = [f"{dns.OWNER_ARG}{owner}"] if owner else []
        self.deploys = [{"metadata": {"name": "external-dns"},
                         "spec": {"template": {"spec": {"containers": [{"name": "e", "args": args}]}}}}]  # fmt: skip

    def get(self, rule: Any, ns: str, name: str) -> dict[str, Any] | None:
        if rule.kind == "HostedCluster":
            return copy.deepcopy(self.hc)
        return self.objs.get((rule.kind, name))

    def list_objects(self, rule: Any, ns: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(o) for (kind, _), o in self.objs.items() if kind == rule.kind]

    def merge_patch(self, rule: Any, ns: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        self.hc["metadata"]["annotations"].update(patch["metadata"]["annotations"])
        return self.hc

    def delete(self, rule: Any, ns: str | None, name: str, **kw: Any) -> bool:
        self.deleted.append(f"{rule.kind}/{name}")
        return self.objs.pop((rule.kind, name), None) is not None

    def create(self, rule: Any, obj: dict[str, Any]) -> bool:
        key = (rule.kind, obj["metadata"]["name"])
        if key in self.objs:
            return False
        self.objs[key] = obj
        return True

    def crd(self, name: str) -> dict[str, Any] | None:
        return {"metadata": {"name": name}}

    def workloads(self, kind: str, ns: str) -> list[dict[str, Any]]:
        return self.deploys if ns == dns.OPERATOR_NAMESPACE else []


class Records:
    shows_owners = True

    def __init__(self, owners: dict[str, str | None], gone_after: int = 0) -> None:
        self.now, self.reads, self.gone_after = owners, 0, gone_after

    def owners(self, hosts: list[str]) -> dict[str, str | None]:
        self.reads += 1
        if self.reads > self.gone_after:
            return {}
        return {h: o for h, o in self.now.items() if h in hosts}

    def describe(self) -> str:
        return "zone Z"


def carriers() -> list[dict[str, Any]]:
    return [
        route("oauth", HOSTS["OAuthServer"]), route("oauth-internal", HOSTS["OAuthServer"], internal=True),
        lb("kube-apiserver", HOSTS["APIServer"]), lb("other", None),
    ]  # fmt: skip


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handoff, "POLL", 0.0)


def test_only_what_carries_a_public_hostname_is_handed_over() -> None:
    kube = Kube(hc(), carriers())
    found = dns.carriers(kube, kube.hc)  # type: ignore[arg-type]
    assert sorted(dns.describe(o) for o in found) == [
        f"Route {HCP_NS}/oauth",
        f"Service {HCP_NS}/kube-apiserver",
    ]  # the private Route and a Service without the annotation stay
    again = dns.to_recreate(lb("kube-apiserver", HOSTS["APIServer"]))
    assert "uid" not in again["metadata"] and "clusterIP" not in again["spec"]
    assert again["spec"]["ports"] == [{"port": 6443}]


def test_the_handoff_records_deletes_and_waits_until_the_source_records_go() -> None:
    kube, rep = Kube(hc(), carriers()), LinesReporter()
    records = Records({HOSTS["APIServer"]: "src-owner", HOSTS["OAuthServer"]: "src-owner"}, gone_after=2)
    h = handoff.preflight(handoff.HandoffOptions(NAME, NS, timeout=30), kube, records, rep)  # type: ignore[arg-type]
    assert h is not None
    out = run_verb(handoff, h, rep)
    assert kube.deleted == ["Route/oauth", "Service/kube-apiserver"] and records.reads == 3
    state = recorded(kube.hc)
    assert state is not None and state.held is not None  # still held, with what was removed
    assert sorted(o["metadata"]["name"] for o in state.removed) == ["kube-apiserver", "oauth"]
    assert out["removed"] == [f"Route {HCP_NS}/oauth", f"Service {HCP_NS}/kube-apiserver"]
    assert any("waiting for the source's records to go" in line for line in rep.lines)


def test_a_rerun_after_a_kill_finds_the_deleted_objects_in_the_record_and_a_put_back_recreates_them() -> None:
    kube = Kube(hc(), carriers())
    h = handoff.preflight(handoff.HandoffOptions(NAME, NS), kube, Records({}), LinesReporter())  # type: ignore[arg-type]
    assert h is not None
    run_verb(handoff, h, LinesReporter())
    rep = LinesReporter()
    again = handoff.preflight(handoff.HandoffOptions(NAME, NS), kube, Records({}), rep)  # type: ignore[arg-type]
    assert again is not None and again.found == []
    run_verb(handoff, again, rep)
    assert any("removed by an earlier run" in line for line in rep.lines)
    state = recorded(kube.hc)
    assert state is not None and len(state.removed) == 2  # not recorded twice
    SourceControl(kube, NS, NAME, state).recreate_removed()  # type: ignore[arg-type]
    assert {("Route", "oauth"), ("Service", "kube-apiserver")} <= set(kube.objs)


def test_a_handoff_that_times_out_puts_the_routes_back() -> None:
    kube = Kube(hc(), carriers())
    records = Records({HOSTS["APIServer"]: "src-owner"}, gone_after=10**6)
    h = handoff.preflight(handoff.HandoffOptions(NAME, NS, timeout=0), kube, records, LinesReporter())  # type: ignore[arg-type]
    assert h is not None
    with pytest.raises(RunFailed) as e:
        run_verb(handoff, h, LinesReporter())
    assert "still holds api-example.hcp.example.com after 0s" in e.value.message
    assert ("Route", "oauth") in kube.objs and ("Service", "kube-apiserver") in kube.objs


def test_private_clusters_skip_and_an_unheld_source_is_refused() -> None:
    rep = LinesReporter()
    assert (
        handoff.preflight(handoff.HandoffOptions(NAME, NS), Kube(hc("Private"), carriers()), Records({}), rep) is None
    )  # type: ignore[arg-type]
    assert "endpoint access Private" in rep.lines[0]
    with pytest.raises(PreflightError, match="not held for a migration"):
        handoff.preflight(handoff.HandoffOptions(NAME, NS), Kube(hc(held=False), carriers()), Records({}), rep)  # type: ignore[arg-type]


def test_the_teardown_guard_wants_every_hostname_owned_by_the_destination() -> None:
    dest = Kube(hc(), [], owner="dst-owner")
    both = {HOSTS["APIServer"]: "dst-owner", HOSTS["OAuthServer"]: "dst-owner"}
    assert handoff.destination_problem(Records(both, 9), hc(), dest) is None  # type: ignore[arg-type]
    src_still = {**both, HOSTS["OAuthServer"]: "src-owner"}
    problem = handoff.destination_problem(Records(src_still, 9), hc(), dest)  # type: ignore[arg-type]
    assert problem is not None and problem.startswith("oauth-example.hcp.example.com not yet owned by the destination")
    assert handoff.destination_problem(Records({}, 9), hc("Private"), dest) is None  # type: ignore[arg-type]


def test_the_ovn_restart_is_printed_for_public_clusters_only() -> None:
    rep = LinesReporter()
    left = handoff.restart_ovn(hc(), "mgmt-2", None, rep)
    assert left == [
        "kubectl --context mgmt-2 get secret -n clusters example-admin-kubeconfig -o jsonpath='{.data.kubeconfig}' "
        "| base64 -d > example.kubeconfig && kubectl --kubeconfig example.kubeconfig delete pods "
        "-n openshift-ovn-kubernetes -l app=ovnkube-node"
    ]
    assert rep.lines == []  # the summary's last line says it, once
    assert handoff.restart_ovn(hc("Private"), "mgmt-2", None, rep) == []


def test_the_record_of_removed_objects_round_trips_and_is_checked() -> None:
    state = SourceState(None, {}, {}, removed=[route("oauth", "h")])
    assert SourceState.from_json(state.to_json()).removed == state.removed
    bad = json.loads(state.to_json()) | {"removed": "oops"}
    with pytest.raises(PreflightError, match="malformed"):
        SourceState.from_json(json.dumps(bad))
