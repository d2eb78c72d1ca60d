"""T3: the HostedCluster's delete path, run whatever the pause (HCC delete() ~3769)."""

from __future__ import annotations

from typing import Any

from tests.sandbox.twin.api import AWSEPS, CLUSTER, DEPLOY, HC, HCP, NAMESPACE, NODEPOOL, Api, Obj
from tests.sandbox.twin.meta import COMPONENT_FINALIZER, HC_FINALIZER, hcp_namespace, remove_finalizer

CLEANUP = "hypershift.openshift.io/cleanup-cloud-resources"


def delete(api: Api, cloud: Any, hc: Obj) -> float | None:
    """One pass of the delete path; returns seconds to come back after while it is not done."""
    ns, name = hc["metadata"]["namespace"], hc["metadata"]["name"]
    hcp_ns, infra = hcp_namespace(hc), hc["spec"]["infraID"]
    if HC_FINALIZER not in (hc["metadata"].get("finalizers") or []):
        return None
    cluster = api.get(CLUSTER, hcp_ns, infra)
    if cluster is not None and cluster["spec"].get("paused"):  # unpause the CAPI Cluster
        api.patch(CLUSTER, hcp_ns, infra, {"spec": {"paused": False}})
    ann = (hc["metadata"].get("annotations") or {}).get(CLEANUP)
    hcp = api.get(HCP, hcp_ns, name)
    if hcp is not None and ann is not None:
        api.patch(HCP, hcp_ns, name, {"metadata": {"annotations": {CLEANUP: ann}}})
    waiting = False
    for np in api.list(NODEPOOL, ns):  # their controller terminates the machines (T14)
        if np["spec"].get("clusterName") == name:
            api.delete(NODEPOOL, ns, np["metadata"]["name"])
            waiting = True
    if api.delete(CLUSTER, hcp_ns, infra):
        waiting = True
    for eps in api.list(AWSEPS, hcp_ns):  # their controller removes endpoints and records (T13)
        api.delete(AWSEPS, hcp_ns, eps["metadata"]["name"])
        waiting = True
    if waiting:
        return 1.0
    if cloud is not None and hc["spec"].get("issuerURL"):
        # The service records go with the Routes and Services, through ExternalDNS.
        cloud.delete_oidc(hc["spec"]["issuerURL"], infra)
    for dep in ("cluster-api", "capi-provider"):  # its own delete path drops the component finalizers (T2)
        d = api.get(DEPLOY, hcp_ns, dep)
        if d is not None:
            remove_finalizer(api, DEPLOY, d, COMPONENT_FINALIZER)
    hcp = api.get(HCP, hcp_ns, name)
    if hcp is not None:
        remove_finalizer(api, HCP, hcp, HC_FINALIZER)
    if api.get(NAMESPACE, None, hcp_ns) is not None:
        api.delete(NAMESPACE, None, hcp_ns)
        return 1.0
    fresh = api.get(HC, ns, name)
    if fresh is not None:
        remove_finalizer(api, HC, fresh, HC_FINALIZER)
    return None
