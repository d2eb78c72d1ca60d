"""The NodePool controller (NPC), row T14."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.sandbox.twin import capi
from tests.sandbox.twin.api import HC, MACHINE, MD, MS, NODEPOOL, Api, Obj
from tests.sandbox.twin.meta import CAPI_PAUSED, HC_FINALIZER, add_finalizer, deleting, remove_finalizer
from tests.sandbox.twin.pause import is_paused

NP_LABEL = "hypershift.openshift.io/nodePool"


def _h(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:5]


def machine_objects(api: Api, hcp_ns: str, np: str) -> dict[str, list[Obj]]:
    sel = f"{NP_LABEL}={np}"
    mds = [d for d in api.list(MD, hcp_ns) if d["metadata"]["name"] == np
           or (d["spec"].get("selector", {}).get("matchLabels") or {}).get(NP_LABEL) == np]  # fmt: skip
    return {"md": mds, "ms": api.list(MS, hcp_ns, sel), "machine": api.list(MACHINE, hcp_ns, sel)}


def reconcile(api: Api, cloud: Any, ns: str, name: str) -> float | None:
    np = api.get(NODEPOOL, ns, name)
    if np is None:
        return None
    hc = api.get(HC, ns, np["spec"]["clusterName"])
    hcp_ns = f"{ns}-{np['spec']['clusterName']}"
    if deleting(np):  # T14: deletion before the pause check
        objs = machine_objects(api, hcp_ns, name)
        if any(objs.values()):
            for res, key in ((MD, "md"), (MS, "ms")):
                for o in objs[key]:
                    api.delete(res, hcp_ns, o["metadata"]["name"])
            for m in objs["machine"]:  # CAPI then terminates their instances
                api.delete(MACHINE, hcp_ns, m["metadata"]["name"])
            return 1.0
        remove_finalizer(api, NODEPOOL, np, HC_FINALIZER)
        return None
    add_finalizer(api, NODEPOOL, np, HC_FINALIZER)  # T14
    objs = machine_objects(api, hcp_ns, name)
    paused = is_paused(np["spec"].get("pausedUntil"))
    for res, key in ((MD, "md"), (MS, "ms")):  # T14: a paused NodePool pauses its machine objects
        for o in objs[key]:
            has = CAPI_PAUSED in (o["metadata"].get("annotations") or {})
            if paused != has:
                api.patch(res, hcp_ns, o["metadata"]["name"],
                          {"metadata": {"annotations": {CAPI_PAUSED: "" if paused else None}}})  # fmt: skip
    if paused or hc is None or deleting(hc):
        return None
    if not objs["md"]:  # T14: no machine objects: a new MachineDeployment, new machines, new instances
        capi.create_machines(api, hcp_ns, hc["spec"]["infraID"], name, int(np["spec"].get("replicas") or 2),
                             _h(name, np["metadata"]["uid"]))  # fmt: skip
    return None
