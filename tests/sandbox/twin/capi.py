"""What CAPI and CAPA do with machine objects in the twin: an instance per Machine, and
finalizers dropped on deletion once their instances are terminated. They honour pause."""

from __future__ import annotations

from typing import Any

from tests.sandbox.twin.api import AWSMACHINE, CLUSTER, MACHINE, MD, MS, Api, Obj, Res
from tests.sandbox.twin.meta import CAPI_PAUSED, deleting

CAPI_V = "cluster.x-k8s.io/v1beta2"
FINALIZERS = {
    "clusters": "cluster.cluster.x-k8s.io", "machinedeployments": "cluster.x-k8s.io/machinedeployment",
    "machinesets": "cluster.x-k8s.io/machineset", "machines": "machine.cluster.x-k8s.io",
    "awsmachines": "awsmachine.infrastructure.cluster.x-k8s.io", "awsclusters": "awscluster.infrastructure.cluster.x-k8s.io",
}  # fmt: skip


def create_machines(api: Api, ns: str, infra: str, np: str, replicas: int, suffix: str) -> None:
    sel = {"cluster.x-k8s.io/cluster-name": infra, "hypershift.openshift.io/nodePool": np}
    tmpl = {"clusterName": infra, "bootstrap": {"dataSecretName": f"user-data-{np}-{suffix}"},
            "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "AWSMachineTemplate",
                                  "name": f"{np}-{suffix}"}}  # fmt: skip
    spec = {"clusterName": infra, "replicas": replicas, "selector": {"matchLabels": sel},
            "template": {"metadata": {"labels": sel}, "spec": tmpl}}  # fmt: skip
    api.create(MD, ns, {"apiVersion": CAPI_V, "kind": "MachineDeployment",
                        "metadata": {"name": np, "namespace": ns}, "spec": spec})  # fmt: skip
    ms = f"{np}-{suffix}"
    api.create(MS, ns, {"apiVersion": CAPI_V, "kind": "MachineSet",
                        "metadata": {"name": ms, "namespace": ns, "labels": sel}, "spec": spec})  # fmt: skip
    for j in range(replicas):
        ref = {**tmpl["infrastructureRef"], "kind": "AWSMachine", "name": f"{ms}-{j}"}
        api.create(MACHINE, ns, {"apiVersion": CAPI_V, "kind": "Machine",
                                 "metadata": {"name": f"{ms}-{j}", "namespace": ns, "labels": sel,
                                              "finalizers": [FINALIZERS["machines"]]},
                                 "spec": {**tmpl, "infrastructureRef": ref}})  # fmt: skip


def _paused(api: Api, ns: str, obj: Obj) -> bool:
    if CAPI_PAUSED in (obj["metadata"].get("annotations") or {}):
        return True
    cluster = api.get(CLUSTER, ns, obj["spec"].get("clusterName", ""))
    return bool(cluster and cluster["spec"].get("paused"))


def _drop(api: Api, res: Res, obj: Obj) -> None:
    fin = FINALIZERS.get(res.plural)
    fins = obj["metadata"].get("finalizers") or []
    if fin in fins:
        m = obj["metadata"]
        api.patch(res, m["namespace"], m["name"], {"metadata": {"finalizers": [f for f in fins if f != fin],
                                                               "resourceVersion": m["resourceVersion"]}})  # fmt: skip


def reconcile_machine(api: Api, cloud: Any, ns: str, name: str) -> float | None:
    m = api.get(MACHINE, ns, name)
    if m is None or _paused(api, ns, m):
        return None
    infra = m["spec"]["clusterName"]
    if deleting(m):  # CAPI drains, CAPA terminates the instance, then the finalizers go
        if cloud is not None:
            cloud.terminate(infra, name)
        aws = api.get(AWSMACHINE, ns, name)
        if aws is not None:
            _drop(api, AWSMACHINE, aws)
            api.delete(AWSMACHINE, ns, name)
        _drop(api, MACHINE, m)
        return None
    if cloud is not None:
        _adopt(api, cloud, ns, m)
    return None


def _adopt(api: Api, cloud: Any, ns: str, m: Obj) -> None:
    """CAPA finds a Machine's instance by its AWSMachine's spec.instanceID once set, else by its tags,
    launching one if there is none, and records it there as spec.providerID and spec.instanceID;
    CAPI copies the providerID onto the Machine (awsmachine_controller.go findInstance and
    reconcileNormal; machine_controller_phases.go reconcileInfrastructure). So a restored AWSMachine
    keeps its instance, and one whose instance is gone gets no other: CAPA reports it not found."""
    name = m["metadata"]["name"]
    aws = api.get(AWSMACHINE, ns, m["spec"]["infrastructureRef"]["name"])
    spec = (aws or {}).get("spec", {})
    if spec.get("instanceID"):
        if not cloud.running(spec["instanceID"]):
            return
        provider_id = spec.get("providerID")
    else:
        provider_id = cloud.ensure_instance(m["spec"]["clusterName"], name)
        if aws is not None:
            iid = provider_id.rsplit("/", 1)[-1]
            api.patch(AWSMACHINE, ns, aws["metadata"]["name"], {"spec": {"providerID": provider_id, "instanceID": iid}})
    if aws is not None and provider_id and m["spec"].get("providerID") != provider_id:
        api.patch(MACHINE, ns, name, {"spec": {"providerID": provider_id}})


def reconcile_owner(api: Api, res: Res, ns: str, name: str) -> float | None:
    """A deleted MachineDeployment/MachineSet/Cluster lets go once what it owns is gone."""
    obj = api.get(res, ns, name)
    if obj is None or not deleting(obj):
        return None
    if res in (MD, MS):
        sel = obj["spec"].get("selector", {}).get("matchLabels", {}).get("hypershift.openshift.io/nodePool")
        below = MS if res == MD else MACHINE
        owned = api.list(below, ns, f"hypershift.openshift.io/nodePool={sel}") if sel else []
        for o in owned:
            api.delete(below, ns, o["metadata"]["name"])
        if owned:
            return 1.0
    elif res == CLUSTER and api.list(MACHINE, ns):
        for o in api.list(MACHINE, ns):
            api.delete(MACHINE, ns, o["metadata"]["name"])
        return 1.0
    _drop(api, res, obj)
    return None
