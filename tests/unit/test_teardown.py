"""teardown's pure parts: the guard, what keeps a shared namespace, which objects are this
HC's, and the bounded fight with a controller that keeps putting an object back."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubectl_hcmigrate.core import finalizers
from kubectl_hcmigrate.core.kinds import KindRule, rule_for
from kubectl_hcmigrate.core.marks import BACKUP_ID, NODEPOOLS_LEFT_OUT, SOURCE_UID
from kubectl_hcmigrate.core.pipeline import RunFailed, execute, list_changes
from kubectl_hcmigrate.core.ports import KubeError
from kubectl_hcmigrate.core.report import Outcome, StepFailed
from kubectl_hcmigrate.core.teardown_rules import guard_problem, keep_pools, leftovers, pools_kept
from kubectl_hcmigrate.verbs import teardown
from kubectl_hcmigrate.verbs.teardown import Teardown, TeardownOptions
from tests.fakes import NullReporter

Obj = dict[str, Any]
WHERE = "clusters/example on the destination"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(teardown, "POLL", 0.0)


UID = "1111-source"


def dst_hc(*, marks: dict[str, str] | None = None, available: str | None = "True", uid: str = "2222-dest") -> Obj:
    marks = {BACKUP_ID: "20260101T000000Z", SOURCE_UID: UID} if marks is None else marks
    conditions = [] if available is None else [{"type": "Available", "status": available, "reason": "R"}]
    return {"metadata": {"name": "example", "uid": uid, "annotations": marks}, "status": {"conditions": conditions}}


def test_guard_passes_for_the_hc_restored_from_this_source_and_available() -> None:
    assert guard_problem(dst_hc(), UID, where=WHERE, uid_required=True) is None


@pytest.mark.parametrize(
    ("hc", "source_uid", "uid_required", "message"),
    [
        (None, UID, True, "not found: restore it there first"),
        (dst_hc(marks={}), UID, True, "it was not restored by hcmigrate"),
        (dst_hc(marks={SOURCE_UID: UID}), UID, True, "it was not restored by hcmigrate"),
        (dst_hc(marks={BACKUP_ID: "x", SOURCE_UID: "9999-other"}), UID, True, "comes from another backup"),
        (dst_hc(uid=UID), UID, True, "is the source's own"),
        (dst_hc(available="False"), UID, True, "is not Available (False (R))"),
        (dst_hc(available=None), UID, True, "is not Available (not reported yet)"),
        # The source HC is gone and its namespace has no record: nothing proves the identity.
        (dst_hc(), None, True, "has no hcmigrate record"),
    ],
    ids=[
        "missing",
        "no-marks",
        "no-backup-id",
        "other-backup",
        "same-cluster",
        "not-available",
        "no-condition",
        "identity-unknown",
    ],
)
def test_guard_refuses(hc: Obj | None, source_uid: str | None, uid_required: bool, message: str) -> None:
    problem = guard_problem(hc, source_uid, where=WHERE, uid_required=uid_required)
    assert problem is not None and message in problem


def test_guard_with_nothing_left_on_the_source_still_wants_the_destination_available() -> None:
    # Source HC and control-plane namespace both gone: only the destination can still be checked.
    assert guard_problem(dst_hc(), None, where=WHERE, uid_required=False) is None
    assert "not Available" in (guard_problem(dst_hc(available="False"), None, where=WHERE, uid_required=False) or "")
    assert "not restored" in (guard_problem(dst_hc(marks={}), None, where=WHERE, uid_required=False) or "")


def test_guard_refuses_while_the_destination_lacks_a_nodepool_of_the_hc() -> None:
    # A restore cut short after the HC: the HC comes up Available without the NodePool that follows it.
    own = {("HostedCluster", "example"), ("NodePool", "pool-a"), ("NodePool", "pool-b"), ("Secret", "pool-a")}
    kept, problem = pools_kept(own, dst_hc(), lambda name: name == "pool-a", WHERE)
    assert problem == f"HostedCluster {WHERE} has no NodePool pool-b: its restore did not finish; run restore again"
    assert kept == set() and pools_kept(own, dst_hc(), lambda name: True, WHERE) == (set(), None)


def test_nodepools_its_restore_left_out_stay_on_the_source_with_their_config() -> None:
    # T14: restored without --with-nodes, the destination has no NodePool by choice; the source keeps it.
    own = {("HostedCluster", "example"), ("NodePool", "pool-a"), ("NodePool", "pool-b"), ("ConfigMap", "extra")}
    hc = dst_hc()
    hc["metadata"]["annotations"][NODEPOOLS_LEFT_OUT] = "pool-a,pool-b"
    kept, problem = pools_kept(own, hc, lambda name: name == "pool-a", WHERE)
    assert (kept, problem) == ({"pool-b"}, None)
    pools = [{"kind": "NodePool", "metadata": {"name": "pool-b"}, "spec": {"config": [{"name": "extra"}]}}]
    assert keep_pools(own, pools, kept) == {("HostedCluster", "example"), ("NodePool", "pool-a")}


def obj(kind: str, name: str, **meta: Any) -> Obj:
    return {"kind": kind, "metadata": {"name": name, **meta}}


def test_leftovers_ignore_what_every_namespace_holds_and_what_is_this_hcs() -> None:
    contents = [
        obj("ConfigMap", "kube-root-ca.crt"),
        obj("ConfigMap", "openshift-service-ca.crt"),
        obj("ServiceAccount", "default"),
        obj("RoleBinding", "system:image-pullers"),
        obj("Event", "example.17f"),
        {"kind": "Secret", "type": "kubernetes.io/service-account-token", "metadata": {"name": "default-token-ab3cd"}},
        obj("Secret", "example-pull-secret"),
        obj("ConfigMap", "user-ca-bundle"),
        # Generated by HyperShift and owned by the HC: the garbage collector takes it.
        obj("Secret", "example-admin-kubeconfig", ownerReferences=[{"uid": UID, "kind": "HostedCluster"}]),
    ]
    own = {("Secret", "example-pull-secret"), ("ConfigMap", "user-ca-bundle")}
    assert leftovers(contents, own, UID) == []


def test_leftovers_name_everything_else() -> None:
    contents = [
        obj("HostedCluster", "bystander"),
        obj("NodePool", "bystander-pool"),
        obj("Secret", "unrelated-secret"),
        obj("ConfigMap", "someone-elses"),
        obj("ServiceAccount", "robot"),
        obj("Deployment", "app"),
        obj("Secret", "owned-by-another", ownerReferences=[{"uid": "other"}]),
    ]
    assert leftovers(contents, {("Secret", "example-pull-secret")}, UID) == [
        "ConfigMap someone-elses", "Deployment app", "HostedCluster bystander", "NodePool bystander-pool",
        "Secret owned-by-another", "Secret unrelated-secret", "ServiceAccount robot",
    ]  # fmt: skip


NODEPOOL, HC, MACHINE = rule_for("NodePool", "hc"), rule_for("HostedCluster", "hc"), rule_for("Machine", "hcp")


class FakeKube:
    """Objects in memory, deleted as the apiserver does: at once without finalizers, else marked.

    `comes_back[name]` times, a controller creates a deleted object again, finalizer and all.
    """

    def __init__(self, objs: list[tuple[KindRule, str, Obj]], comes_back: dict[str, int] | None = None) -> None:
        self.store = {(r.plural, ns, o["metadata"]["name"]): copy.deepcopy(o) for r, ns, o in objs}
        self.originals = copy.deepcopy(self.store)
        self.comes_back = dict(comes_back or {})
        self.writes: list[str] = []

    def get(self, rule: KindRule, ns: str, name: str) -> Obj | None:
        return copy.deepcopy(self.store.get((rule.plural, ns, name)))

    def list_objects(self, rule: KindRule, ns: str) -> list[Obj]:
        return [copy.deepcopy(o) for (p, n, _), o in self.store.items() if p == rule.plural and n == ns]

    def remove_finalizers(self, rule: KindRule, ns: str, name: str) -> Obj | None:
        self.writes.append(f"strip {name}")
        o = self.store.get((rule.plural, ns, name))
        if o is None:
            return None
        o["metadata"].pop("finalizers", None)
        o["metadata"]["resourceVersion"] = str(int(o["metadata"].get("resourceVersion", "1")) + 1)
        stripped = copy.deepcopy(o)  # what the strip wrote
        if o["metadata"].get("deletionTimestamp"):
            self._gone(rule, ns, name)
        return stripped

    def merge_patch(self, rule: KindRule, ns: str, name: str, patch: Obj) -> Obj:
        self.writes.append(f"patch {name}")
        o = self.store[(rule.plural, ns, name)]
        o["spec"].update(patch.get("spec", {}))
        return copy.deepcopy(o)

    def delete(self, rule: KindRule, ns: str, name: str, *, resource_version: str | None = None) -> bool:
        o = self.store.get((rule.plural, ns, name))
        if o is not None and resource_version is not None and resource_version != o["metadata"].get("resourceVersion"):
            raise KubeError(409, "Conflict", "the object has been modified")
        self.writes.append(f"delete {name}")
        if o is None:
            return False
        if o["metadata"].get("finalizers"):
            o["metadata"]["deletionTimestamp"] = "now"
        else:
            self._gone(rule, ns, name)
        return True

    def _gone(self, rule: KindRule, ns: str, name: str) -> None:
        del self.store[(rule.plural, ns, name)]
        if self.comes_back.get(name, 0) > 0:
            self.comes_back[name] -= 1
            self.store[(rule.plural, ns, name)] = copy.deepcopy(self.originals[(rule.plural, ns, name)])

    def namespace(self, name: str) -> Obj | None:
        return None  # both namespaces already gone: only the objects are left

    def workloads(self, plural: str, ns: str) -> list[Obj]:
        return []

    def pods(self, ns: str) -> list[Obj]:
        return []


def nodepool(name: str, cluster: str) -> Obj:
    return {"kind": "NodePool", "metadata": {"name": name, "finalizers": ["hypershift.openshift.io/finalizer"]},
            "spec": {"clusterName": cluster}}  # fmt: skip


def machine(name: str) -> Obj:
    return {"kind": "Machine", "metadata": {"name": name, "finalizers": ["machine.cluster.x-k8s.io"]}, "spec": {}}


def state(kube: FakeKube) -> Teardown:
    opts = TeardownOptions("example", "clusters", timeout=5)
    return Teardown(
        opts,
        kube,
        NullReporter(),
        "destination",
        None,
        UID,
        UID,
        {("NodePool", "example-a"), ("HostedCluster", "example")},
    )  # type: ignore[arg-type]


def test_only_this_hcs_nodepools_and_the_whole_control_plane_namespace_are_removed() -> None:
    kube = FakeKube([
        (NODEPOOL, "clusters", nodepool("example-a", "example")),
        (NODEPOOL, "clusters", nodepool("bystander-pool", "bystander")),
        (MACHINE, "clusters-example", machine("m-1")),
        (MACHINE, "clusters-bystander", machine("b-1")),
        (HC, "clusters", {"kind": "HostedCluster", "metadata": {"name": "bystander"}, "spec": {}}),
    ])  # fmt: skip
    t = state(kube)
    plan = teardown.build_plan(t)
    changes = list_changes(plan)
    assert kube.writes == []
    assert changes == [
        "pause: pause NodePool clusters/example-a",
        "remove NodePools: delete NodePool clusters/example-a after removing its finalizers "
        "hypershift.openshift.io/finalizer",
        "remove Machines: delete Machine clusters-example/m-1 after removing its finalizers machine.cluster.x-k8s.io",
    ]
    execute(plan, NullReporter())
    assert sorted(k[2] for k in kube.store) == ["b-1", "bystander", "bystander-pool"]
    assert t.removed == ["NodePool clusters/example-a", "Machine clusters-example/m-1"]
    # A second run has nothing to do.
    assert list_changes(teardown.build_plan(t)) == []


def test_an_object_that_comes_back_is_removed_again_a_bounded_number_of_times() -> None:
    kube = FakeKube([(MACHINE, "clusters-example", machine("m-1"))], comes_back={"m-1": teardown.MAX_REMOVALS - 1})
    execute(teardown.build_plan(state(kube)), NullReporter())
    assert kube.store == {}
    assert kube.writes.count("delete m-1") == teardown.MAX_REMOVALS


def test_an_object_that_keeps_coming_back_fails_with_what_to_do() -> None:
    kube = FakeKube([(MACHINE, "clusters-example", machine("m-1"))], comes_back={"m-1": 1000})
    with pytest.raises(RunFailed) as err:
        execute(teardown.build_plan(state(kube)), NullReporter())
    assert isinstance(err.value.__cause__, StepFailed)
    assert err.value.outcome is Outcome.FAILED_NEEDS_ATTENTION
    assert "Machine clusters-example/m-1 keeps coming back" in err.value.message
    assert "run teardown again" in err.value.message
    assert kube.writes.count("delete m-1") == teardown.MAX_REMOVALS + 1


class RacingKube(FakeKube):
    """HyperShift's T1: right after each strip, the operator puts its finalizer back (a new version)."""

    def __init__(self, objs: list[tuple[KindRule, str, Obj]], races: int) -> None:
        super().__init__(objs)
        self.races, self.delete_paths = races, 0

    def _race(self, rule: KindRule, ns: str, name: str) -> None:
        o = self.store.get((rule.plural, ns, name))
        if o is not None and self.races > 0:
            self.races -= 1
            o["metadata"]["finalizers"] = ["hypershift.openshift.io/finalizer"]
            o["metadata"]["resourceVersion"] = str(int(o["metadata"].get("resourceVersion", "1")) + 1)

    def remove_finalizers(self, rule: KindRule, ns: str, name: str) -> Obj | None:
        stripped = super().remove_finalizers(rule, ns, name)
        self._race(rule, ns, name)  # then the operator's reconcile
        return stripped

    def delete(self, rule: KindRule, ns: str, name: str, *, resource_version: str | None = None) -> bool:
        o = self.store.get((rule.plural, ns, name))
        ok = o is None or resource_version is None or resource_version == o["metadata"].get("resourceVersion")
        if ok and o is not None and o["metadata"].get("finalizers"):
            self.delete_paths += 1  # deleted with a finalizer on: the operator's delete path would run (T3)
        return super().delete(rule, ns, name, resource_version=resource_version)


@pytest.mark.parametrize("races", [1, 3, 10])
def test_strip_then_delete_never_loses_the_race_with_the_operator(races: int) -> None:
    hc_rule = rule_for("HostedCluster", "hc")
    hc = {"metadata": {"name": "example", "resourceVersion": "7", "finalizers": ["hypershift.openshift.io/finalizer"]},
          "spec": {}}  # fmt: skip
    kube = RacingKube([(hc_rule, "clusters", hc)], races)
    t = Teardown(TeardownOptions("example", "clusters"), kube, None, "destination", hc, "uid", "uid", set())  # type: ignore[arg-type]
    teardown._strip_and_delete(t, hc_rule, "clusters", hc)
    assert kube.delete_paths == 0 and kube.get(hc_rule, "clusters", "example") is None


def test_an_operator_that_wins_every_race_stops_teardown_after_strip_attempts_saying_why() -> None:
    hc_rule = rule_for("HostedCluster", "hc")
    hc = {"metadata": {"name": "example", "resourceVersion": "7", "finalizers": ["hypershift.openshift.io/finalizer"]},
          "spec": {}}  # fmt: skip
    kube = RacingKube([(hc_rule, "clusters", hc)], races=1000)
    t = Teardown(TeardownOptions("example", "clusters"), kube, None, "destination", hc, "uid", "uid", set())  # type: ignore[arg-type]
    with pytest.raises(StepFailed, match=r"got its finalizers back 20 times .* a controller still reconciles it"):
        teardown._strip_and_delete(t, hc_rule, "clusters", hc)
    assert 1000 - kube.races == finalizers.STRIP_ATTEMPTS == 20
    assert kube.delete_paths == 0 and kube.get(hc_rule, "clusters", "example") is not None


def test_an_object_read_without_finalizers_is_deleted_only_as_read() -> None:
    # Listed with no finalizer (rv 7: stripped by an earlier pass, or a status write won the last
    # race); the operator puts its finalizer back (rv 8) before the delete. A delete of whatever is
    # there now would start its delete path (T3): only the version read may go, else read again.
    hc_rule = rule_for("HostedCluster", "hc")
    seen = {"metadata": {"name": "example", "resourceVersion": "7"}, "spec": {}}
    now = {"metadata": {"name": "example", "resourceVersion": "8", "finalizers": ["hypershift.openshift.io/finalizer"]},
           "spec": {}}  # fmt: skip
    kube = RacingKube([(hc_rule, "clusters", now)], races=0)
    t = Teardown(TeardownOptions("example", "clusters"), kube, None, "destination", now, "uid", "uid", set())  # type: ignore[arg-type]
    teardown._strip_and_delete(t, hc_rule, "clusters", seen)
    assert kube.delete_paths == 0 and kube.get(hc_rule, "clusters", "example") is None
