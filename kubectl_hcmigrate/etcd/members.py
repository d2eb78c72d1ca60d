"""After a restore: do the etcd members form one cluster? (T10)

A release without upstream PR #9048 restores every HA member as its own one-member cluster, and
HyperShift still reports etcd Available and the snapshot restored: each one-member cluster is
Ready. Like upstream's own check (PR #9356), this asks every member with `etcdctl member list`:
one cluster means every member names the same cluster and the same full member list, and each
answers as a different member of it. Split members restored the same way can share a cluster id,
so the id alone proves nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubectl_hcmigrate.core.report import StepFailed
from kubectl_hcmigrate.etcd.pods import CONTAINER, ETCD_PODS, said
from kubectl_hcmigrate.etcd.snapshotter import EtcdSnapshotter

if TYPE_CHECKING:
    from kubectl_hcmigrate.core.ports import KubePort, Reporter


class EtcdNotOneCluster(StepFailed):
    """The restored etcd members are not one cluster, or could not be shown to be."""


@dataclass(frozen=True)
class MemberView:
    """What one member says of its cluster."""

    cluster_id: int
    member_id: int
    members: frozenset[tuple[int, str]]  # (ID, name) of every member it lists


def parse_member_list(out: bytes) -> MemberView:
    """`etcdctl member list -w json`; ValueError if it is not that."""
    try:
        doc = json.loads(out)
        header = doc["header"]
        members = frozenset((int(m["ID"]), str(m.get("name", ""))) for m in doc.get("members") or [])
        return MemberView(int(header["cluster_id"]), int(header["member_id"]), members)
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"not etcdctl's member list ({type(e).__name__})") from None


def split_problem(views: dict[str, MemberView], replicas: int) -> str | None:
    """What shows that the members of `views` (pod -> view) are not one cluster of `replicas`, or None."""
    if len(views) < replicas:
        return f"only {len(views)} of {replicas} etcd pods answered ({', '.join(sorted(views)) or 'none'})"
    first = next(iter(views.values()))
    one = (
        all(v.cluster_id == first.cluster_id and v.members == first.members for v in views.values())
        and len(first.members) == replicas
        and len({v.member_id for v in views.values()}) == len(views)
    )
    if one:
        return None
    seen = [f"{pod} lists {len(v.members)} member(s) of cluster {v.cluster_id:x}" for pod, v in sorted(views.items())]
    return f"the members are not one cluster of {replicas}: {'; '.join(seen)}"


def check_one_cluster(kube: KubePort, hcp_ns: str, replicas: int, reporter: Reporter) -> str:
    """Asks every etcd pod for its member list; raises EtcdNotOneCluster unless they form one cluster.
    Returns what it found, for the result."""
    etcd = EtcdSnapshotter(kube, hcp_ns, reporter)
    views: dict[str, MemberView] = {}
    pods = sorted((p["metadata"]["name"] for p in kube.pods(hcp_ns, ETCD_PODS)), key=lambda n: (len(n), n))
    for pod in pods:
        code, out, err = kube.run_in_pod(hcp_ns, pod, CONTAINER, [*etcd.etcdctl(etcd.detect_ca(pod)), "member", "list",
                                                                  "-w", "json"])  # fmt: skip
        if code != 0:
            raise EtcdNotOneCluster(f"etcdctl member list failed in {hcp_ns}/{pod} (exit {code}): {said(err)}")
        try:
            views[pod] = parse_member_list(out)
        except ValueError as e:
            raise EtcdNotOneCluster(f"etcdctl member list in {hcp_ns}/{pod} gave {e}") from None
    if problem := split_problem(views, replicas):
        raise EtcdNotOneCluster(problem)
    return f"{len(views)} etcd members form one cluster ({', '.join(views)})"
