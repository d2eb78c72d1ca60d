"""The control-plane operator (CPO) of each hosted cluster: rows T10-T13. It runs only while
its Deployment, control-plane-operator in the HCP namespace, has replicas."""

from __future__ import annotations

import copy
import logging
from datetime import datetime, timezone
from typing import Any

import yaml

from tests.sandbox.config import FIXTURES
from tests.sandbox.twin import etcd_init, releases
from tests.sandbox.twin.api import AWSEPS, DEPLOY, HCP, POD, SERVICEACCOUNT, STS, Api, Obj
from tests.sandbox.twin.hostedcluster import deployment
from tests.sandbox.twin.meta import add_finalizer, deleting, is_true, remove_finalizer, set_condition
from tests.sandbox.twin.pause import is_paused
from tests.sandbox.twin.publishing import reconcile_publishing

log = logging.getLogger("twin.cpo")
APISERVERS = ("kube-apiserver", "openshift-apiserver", "openshift-oauth-apiserver")
CPO_FINALIZER = "hypershift.openshift.io/control-plane-operator-finalizer"
RESTORED = "EtcdSnapshotRestored"


def restore_url(hcp: Obj) -> str | None:
    urls = hcp["spec"].get("etcd", {}).get("managed", {}).get("storage", {}).get("restoreSnapshotURL") or []
    return urls[0] if urls else None


def replicas(hcp: Obj) -> int:
    return 3 if hcp["spec"].get("controllerAvailabilityPolicy") == "HighlyAvailable" else 1


def cpo_running(api: Api, ns: str) -> bool:
    d = api.get(DEPLOY, ns, "control-plane-operator")
    return bool(d and not deleting(d) and d["spec"].get("replicas", 1) > 0)


def reconcile(api: Api, cloud: Any, members: etcd_init.Members | None, ns: str, name: str) -> float | None:
    hcp = api.get(HCP, ns, name)
    if hcp is None or not cpo_running(api, ns):
        return None
    for eps in api.list(AWSEPS, ns):  # T13
        reconcile_endpoint_service(api, cloud, ns, eps, hcp)
    if deleting(hcp) or is_paused(hcp["spec"].get("pausedUntil")):
        return None
    again = reconcile_etcd(api, members, ns, hcp)  # T10, T11
    reconcile_publishing(api, ns, hcp)  # T21
    etcd_up = restore_url(hcp) is None or is_true(api.get(HCP, ns, name), RESTORED)
    for dep in APISERVERS:  # T12: back to the desired replicas
        d = api.get(DEPLOY, ns, dep)
        if d is None:
            if dep != "kube-apiserver" or etcd_up:  # no kube-apiserver runs before its etcd
                api.create(DEPLOY, ns, deployment(dep, ns, replicas(hcp)))
        elif d["spec"].get("replicas") != replicas(hcp) and not deleting(d):
            api.patch(DEPLOY, ns, dep, {"spec": {"replicas": replicas(hcp)}})
    return again


def etcd_statefulset(ns: str, n: int, url: str | None) -> Obj:
    sts = yaml.safe_load((FIXTURES / "etcd-statefulset.yaml").read_text().replace("hcp-namespace", ns))
    for k in ("resourceVersion", "uid", "creationTimestamp", "ownerReferences"):
        sts["metadata"].pop(k, None)
    sts.pop("status", None)
    sts["spec"]["replicas"] = n
    if url:  # CPO/v2/etcd/statefulset.go ~132
        init = {"name": "etcd-init", "image": "etcd", "command": ["/usr/bin/etcd-init.sh"],
                "env": [{"name": "RESTORE_URL_ETCD", "value": url}],
                "volumeMounts": [{"name": "data", "mountPath": "/var/lib"}]}  # fmt: skip
        sts["spec"]["template"]["spec"].setdefault("initContainers", []).insert(0, init)
    return sts


def reconcile_etcd(api: Api, members: etcd_init.Members | None, ns: str, hcp: Obj) -> float | None:
    url, n = restore_url(hcp), replicas(hcp)
    restored = is_true(hcp, RESTORED)
    sts = api.get(STS, ns, "etcd")
    if sts is None:
        api.create(SERVICEACCOUNT, ns, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "etcd"}})
        api.create(STS, ns, etcd_statefulset(ns, n, None if restored else url))
        return 1.0
    if members is None:
        return None
    fixed = releases.restores_ha_as_one_cluster(hcp["spec"].get("releaseImage", ""))
    has_init = any(c["name"] == "etcd-init" for c in sts["spec"]["template"]["spec"].get("initContainers") or [])
    pending = False
    live = {h["metadata"]["uid"] for h in api.list(HCP)}
    uid = hcp["metadata"]["uid"]
    for pod in api.list(POD, ns, "app=etcd"):
        pname = pod["metadata"]["name"]
        i = int(pname.rsplit("-", 1)[1])
        if pod["spec"].get("nodeName") or deleting(pod) or i >= len(members.ips):
            continue
        if etcd_init.owner(members, i) not in (None, uid) and etcd_init.owner(members, i) in live:
            pending = True  # the member slot serves another hosted cluster: the pod stays Pending
            continue
        etcd_init.claim(members, i, uid)
        ok = True
        if url and has_init and not restored:  # T10: the init container
            ok, out = etcd_init.run(members, i, url, n, fixed)
            members.init_log(i).parent.mkdir(parents=True, exist_ok=True)
            members.init_log(i).write_text(cri_log(out))
            log.info("etcd-init %s/%s: %s", ns, pname, "restored" if ok else out.strip()[-300:])
        if ok:
            etcd_init.start(members, i, n)
        else:
            crash_loop(api, ns, pname, members.ips[i], out)
        api.bind(ns, pname, f"kwok-etcd-{i}")
        pending = True
    if url and has_init and not restored:  # T11: once every member restored and Ready
        pods = api.list(POD, ns, "app=etcd")
        ready = (sts.get("status") or {}).get("readyReplicas", 0) >= n and len(pods) >= n
        if ready and all(etcd_init.has_data(members, int(p["metadata"]["name"].rsplit("-", 1)[1])) for p in pods):
            set_condition(api, HCP, hcp, RESTORED, "True", "AsExpected", "")
            return None
        return 1.0
    return 1.0 if pending else None


def cri_log(out: str) -> str:
    """The container runtime's log format, which kwok serves to `kubectl logs`."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    return "".join(f"{now} stdout F {line}\n" for line in out.splitlines())


def crash_loop(api: Api, ns: str, pod: str, ip: str, out: str) -> None:
    """The kubelet's view of an init container that keeps failing (kwok models no container)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    last = (out.strip().splitlines() or [""])[-1][:1024]
    waiting = {"reason": "CrashLoopBackOff",
               "message": f"back-off 5m0s restarting failed container=etcd-init pod={pod}_{ns}"}  # fmt: skip
    terminated = {"exitCode": 1, "reason": "Error", "message": last, "startedAt": now, "finishedAt": now}
    status = {
        "phase": "Pending", "podIP": ip, "hostIP": "127.0.0.1", "startTime": now,
        "conditions": [{"type": t, "status": s, "lastTransitionTime": now}
                       for t, s in (("PodScheduled", "True"), ("Initialized", "False"),
                                    ("ContainersReady", "False"), ("Ready", "False"))],
        "initContainerStatuses": [{"name": "etcd-init", "ready": False, "restartCount": 5, "image": "etcd",
                                   "imageID": "", "state": {"waiting": waiting},
                                   "lastState": {"terminated": terminated}}],
        "containerStatuses": [{"name": "etcd", "ready": False, "restartCount": 0, "image": "etcd", "imageID": "",
                               "state": {"waiting": {"reason": "PodInitializing"}}}],
    }  # fmt: skip
    api.patch(POD, ns, pod, {"status": status}, status=True)


def reconcile_endpoint_service(api: Api, cloud: Any, ns: str, eps: Obj, hcp: Obj) -> None:  # T13
    name = eps["metadata"]["name"]
    records = [f"api.{hcp['metadata']['name']}.hypershift.local"]
    if deleting(eps):  # the delete path: the VPC endpoint and the hypershift.local records go
        if CPO_FINALIZER in (eps["metadata"].get("finalizers") or []):
            if cloud is not None:
                cloud.delete_endpoint(name)
                cloud.delete_records("hypershift.local", records)
            remove_finalizer(api, AWSEPS, eps, CPO_FINALIZER)
        return
    if is_paused(hcp["spec"].get("pausedUntil")):
        return
    keep_endpoint_finalizer(api, eps, hcp)
    if cloud is not None:
        ep = cloud.ensure_endpoint(name)
        cloud.ensure_records("hypershift.local", {r: f"{ep}.vpce.amazonaws.com" for r in records})


def keep_endpoint_finalizer(api: Api, eps: Obj, hcp: Obj) -> bool:
    """T13: a running CPO puts its finalizer on each live AWSEndpointService of an unpaused HCP;
    True if it wrote."""
    if deleting(eps) or is_paused(hcp["spec"].get("pausedUntil")):
        return False
    return add_finalizer(api, AWSEPS, copy.deepcopy(eps), CPO_FINALIZER)
