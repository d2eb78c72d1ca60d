"""The HostedCluster controller of the HyperShift operator (HCC), rows T1-T9."""

from __future__ import annotations

import copy
from typing import Any

from tests.sandbox.twin import hc_delete
from tests.sandbox.twin.api import CLUSTER, DEPLOY, HC, HCP, Api, Obj
from tests.sandbox.twin.meta import (
    COMPONENT_FINALIZER,
    HC_FINALIZER,
    add_finalizer,
    deleting,
    deployment_available,
    hcp_namespace,
    set_condition,
)  # fmt: skip
from tests.sandbox.twin.pause import is_paused

COMPONENT_DEPLOYMENTS = ("cluster-api", "capi-provider")
RESTORED_FROM_BACKUP = "hypershift.openshift.io/restored-from-backup"
# What the HC controller copies onto the HCP (HCC reconcileHostedControlPlane).
HCP_FIELDS = ("dns", "etcd", "infraID", "issuerURL", "platform", "pullSecret", "services", "sshKey",
              "networking", "secretEncryption", "controllerAvailabilityPolicy")  # fmt: skip


def deployment(name: str, ns: str, replicas: int, node: str = "kwok-node", **meta: Any) -> Obj:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns, **meta},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"nodeName": node,
                                       "containers": [{"name": name, "image": f"quay.io/openshift/{name}:twin"}]}}},
    }  # fmt: skip


def reconcile(api: Api, cloud: Any, ns: str, name: str) -> float | None:
    hc = api.get(HC, ns, name)
    if hc is None:
        return None
    if deleting(hc):  # T3: before the pause check
        return hc_delete.delete(api, cloud, hc)
    hcp_ns = hcp_namespace(hc)
    keep_finalizers(api, hc)
    paused = hc["spec"].get("pausedUntil")
    if is_paused(paused):  # T4
        hcp = api.get(HCP, hcp_ns, name)
        if hcp is not None and hcp["spec"].get("pausedUntil") != paused:
            api.patch(HCP, hcp_ns, name, {"spec": {"pausedUntil": paused}})
        cluster = api.get(CLUSTER, hcp_ns, hc["spec"]["infraID"])
        if cluster is not None and not cluster["spec"].get("paused"):
            api.patch(CLUSTER, hcp_ns, cluster["metadata"]["name"], {"spec": {"paused": True}})
        return None
    reconcile_capi_cluster(api, hc, hcp_ns)  # T7
    reconcile_hcp(api, hc, hcp_ns)  # T5 (T6 judged by the CRD: an error stops here)
    for dep in COMPONENT_DEPLOYMENTS:  # T2: the CAPI managers, with their finalizer
        api.create(DEPLOY, hcp_ns, deployment(dep, hcp_ns, 1, finalizers=[COMPONENT_FINALIZER]))
    api.create(DEPLOY, hcp_ns, deployment("control-plane-operator", hcp_ns, 1))
    if cloud is not None:
        publish(cloud, hc)
    reconcile_conditions(api, hc, hcp_ns)  # T8, T9
    return None


def keep_finalizers(api: Api, hc: Obj) -> int:
    """What every reconcile of a live HC puts back before the pause check (T1, T2); the writes."""
    wrote = int(add_finalizer(api, HC, hc, HC_FINALIZER))
    for dep in COMPONENT_DEPLOYMENTS:
        d = api.get(DEPLOY, hcp_namespace(hc), dep)
        if d is not None and not deleting(d):
            wrote += add_finalizer(api, DEPLOY, d, COMPONENT_FINALIZER)
    return wrote


def reconcile_capi_cluster(api: Api, hc: Obj, hcp_ns: str) -> None:  # T7
    infra, name = hc["spec"]["infraID"], hc["metadata"]["name"]
    cluster = api.get(CLUSTER, hcp_ns, infra)
    if cluster is None:
        api.create(CLUSTER, hcp_ns, {
            "apiVersion": "cluster.x-k8s.io/v1beta2", "kind": "Cluster", "metadata": {"name": infra, "namespace": hcp_ns},
            "spec": {
                "controlPlaneRef": {"apiGroup": "hypershift.openshift.io", "kind": "HostedControlPlane", "name": name},
                "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "AWSCluster", "name": name},
            },
        })  # fmt: skip
    elif cluster["spec"].get("paused"):
        api.patch(CLUSTER, hcp_ns, infra, {"spec": {"paused": False}})


def hcp_spec(hc: Obj, into: dict[str, Any] | None = None) -> dict[str, Any]:  # T5
    spec = copy.deepcopy(into or {})
    for k in HCP_FIELDS:
        if k in hc["spec"]:
            spec[k] = copy.deepcopy(hc["spec"][k])  # spec.etcd.managed: a deep copy (HCC ~2784)
        else:
            spec.pop(k, None)
    spec["releaseImage"] = hc["spec"]["release"]["image"]
    if hc["spec"].get("pausedUntil"):  # HCC ~2800
        spec["pausedUntil"] = hc["spec"]["pausedUntil"]
    else:
        spec.pop("pausedUntil", None)
    return spec


def reconcile_hcp(api: Api, hc: Obj, hcp_ns: str) -> None:  # T5
    name = hc["metadata"]["name"]
    hcp = api.get(HCP, hcp_ns, name)
    if hcp is None:
        api.create(HCP, hcp_ns, {"apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedControlPlane",
                                 "metadata": {"name": name, "namespace": hcp_ns, "finalizers": [HC_FINALIZER]},
                                 "spec": hcp_spec(hc)})  # fmt: skip
        return
    want = hcp_spec(hc, hcp["spec"])
    if want != hcp["spec"]:
        api.replace(HCP, hcp_ns, {**hcp, "spec": want})  # the CRD's CEL rules judge this update (T6)


def reconcile_conditions(api: Api, hc: Obj, hcp_ns: str) -> None:
    if RESTORED_FROM_BACKUP in (hc["metadata"].get("annotations") or {}):  # T8
        set_condition(api, HC, hc, "HostedClusterRestoredFromBackup", "True", "AsExpected",
                      "The hosted cluster was restored from a backup")  # fmt: skip
        hc = api.get(HC, hc["metadata"]["namespace"], hc["metadata"]["name"]) or hc
    kas = api.get(DEPLOY, hcp_ns, "kube-apiserver")  # T9: Available follows the kube-apiserver
    if deployment_available(kas):
        set_condition(api, HC, hc, "Available", "True", "AsExpected", "The hosted control plane is available")
    else:
        set_condition(api, HC, hc, "Available", "False", "WaitingForAvailable",
                      "Waiting for hosted control plane to be healthy")  # fmt: skip


def service_hostnames(hc: Obj) -> list[str]:
    out = []
    for s in hc["spec"].get("services") or []:
        strat = s.get("servicePublishingStrategy") or {}
        host = (strat.get("route") or {}).get("hostname") or (strat.get("loadBalancer") or {}).get("hostname")
        if host:
            out.append(host)
    return out


def publish(cloud: Any, hc: Obj) -> None:
    """What the operator puts in the cloud for a running HC: the OIDC documents, and the IAM OIDC
    provider that `hypershift create iam` makes with it. The service records are ExternalDNS's,
    from the Routes and Services the control-plane operator makes (externaldns.py)."""
    if hc["spec"].get("issuerURL"):
        cloud.ensure_oidc(hc["spec"]["issuerURL"], hc["spec"]["infraID"])
        cloud.ensure_oidc_provider(hc["spec"]["issuerURL"])
