"""Small pure helpers the controllers share: finalizers, conditions, names."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tests.sandbox.twin.api import Api, Obj, Res

HC_FINALIZER = "hypershift.openshift.io/finalizer"
COMPONENT_FINALIZER = "hypershift.openshift.io/component-finalizer"
CAPI_PAUSED = "cluster.x-k8s.io/paused"


def hcp_namespace(hc: Obj) -> str:
    return f"{hc['metadata']['namespace']}-{hc['metadata']['name']}"


def deleting(obj: Obj) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def add_finalizer(api: Api, res: Res, obj: Obj, finalizer: str) -> bool:
    """Adds it (optimistically, on the version read) unless there; True if it wrote."""
    fins = obj["metadata"].get("finalizers") or []
    if finalizer in fins:
        return False
    m = obj["metadata"]
    api.patch(res, m.get("namespace"), m["name"],
              {"metadata": {"finalizers": [*fins, finalizer], "resourceVersion": m["resourceVersion"]}})  # fmt: skip
    return True


def remove_finalizer(api: Api, res: Res, obj: Obj, finalizer: str) -> None:
    fins = obj["metadata"].get("finalizers") or []
    if finalizer in fins:
        m = obj["metadata"]
        api.patch(res, m.get("namespace"), m["name"],
                  {"metadata": {"finalizers": [f for f in fins if f != finalizer],
                                "resourceVersion": m["resourceVersion"]}})  # fmt: skip


def condition(obj: Obj | None, type_: str) -> dict[str, Any] | None:
    conds = ((obj or {}).get("status") or {}).get("conditions") or []
    return next((c for c in conds if c.get("type") == type_), None)


def is_true(obj: Obj | None, type_: str) -> bool:
    c = condition(obj, type_)
    return bool(c and c.get("status") == "True")


def set_condition(api: Api, res: Res, obj: Obj, type_: str, status: str, reason: str, message: str = "") -> bool:
    """Writes the condition through the status subresource if it changed; True if it wrote."""
    conds = list(((obj.get("status") or {}).get("conditions")) or [])
    old = next((c for c in conds if c.get("type") == type_), None)
    if old and (old.get("status"), old.get("reason"), old.get("message")) == (status, reason, message):
        return False
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    new = {"type": type_, "status": status, "reason": reason, "message": message,
           "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == status else now}  # fmt: skip
    if obj["metadata"].get("generation") is not None:
        new["observedGeneration"] = obj["metadata"]["generation"]
    conds = [c for c in conds if c.get("type") != type_] + [new]
    m = obj["metadata"]
    api.patch(res, m.get("namespace"), m["name"], {"status": {"conditions": conds}}, status=True)
    return True


def deployment_available(dep: Obj | None) -> bool:
    if not dep:
        return False
    conds = (dep.get("status") or {}).get("conditions") or []
    avail = any(c["type"] == "Available" and c["status"] == "True" for c in conds)
    want = dep["spec"].get("replicas", 1)
    return avail and want > 0 and (dep.get("status") or {}).get("availableReplicas", 0) >= want
