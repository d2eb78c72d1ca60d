"""An in-memory apiserver and cloud for the twin's handler-level tests."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from tests.sandbox.twin.api import ApiError, Obj, Res

_rv = itertools.count(1)


def merge(into: Any, patch: Any) -> Any:
    if not isinstance(patch, dict) or not isinstance(into, dict):
        return copy.deepcopy(patch)
    out = dict(into)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


class FakeApi:
    def __init__(self) -> None:
        self.objs: dict[tuple[str, str, str], Obj] = {}
        self.bound: dict[str, str] = {}

    def put(self, res: Res, obj: Obj) -> Obj:
        obj = copy.deepcopy(obj)
        m = obj.setdefault("metadata", {})
        m.setdefault("namespace", "")
        m.setdefault("uid", f"uid-{next(_rv)}")
        m["resourceVersion"] = str(next(_rv))
        self.objs[(res.plural, m["namespace"], m["name"])] = obj
        return obj

    def get(self, res: Res, ns: str | None, name: str) -> Obj | None:
        o = self.objs.get((res.plural, ns or "", name))
        return copy.deepcopy(o) if o else None

    def list(self, res: Res, ns: str | None = None, selector: str | None = None) -> list[Obj]:
        out = []
        for (plural, ons, _), o in sorted(self.objs.items()):
            if plural != res.plural or (ns and ons != ns):
                continue
            if selector:
                k, _, v = selector.partition("=")
                if (o["metadata"].get("labels") or {}).get(k) != v:
                    continue
            out.append(copy.deepcopy(o))
        return out

    def create(self, res: Res, ns: str | None, body: Obj) -> Obj | None:
        if self.get(res, ns, body["metadata"]["name"]):
            return None
        body = copy.deepcopy(body)
        body["metadata"]["namespace"] = ns or ""
        return self.put(res, body)

    def patch(
        self, res: Res, ns: str | None, name: str, patch: Any, *, status: bool = False, kind: str = "merge"
    ) -> Obj:
        o = self.get(res, ns, name)
        if o is None:
            raise ApiError(404, "not found")
        rv = (patch.get("metadata") or {}).get("resourceVersion")
        if rv and rv != o["metadata"]["resourceVersion"]:
            raise ApiError(409, "conflict")
        o = merge(o, patch)
        stored = self.put(res, o)
        self._gc(res, stored)
        return stored

    def replace(self, res: Res, ns: str | None, body: Obj) -> Obj:
        return self.put(res, body)

    def delete(self, res: Res, ns: str | None, name: str) -> bool:
        o = self.get(res, ns, name)
        if o is None:
            return False
        if o["metadata"].get("finalizers"):
            o["metadata"].setdefault("deletionTimestamp", "2026-01-01T00:00:00Z")
            self.put(res, o)
        else:
            del self.objs[(res.plural, ns or "", name)]
        return True

    def _gc(self, res: Res, o: Obj) -> None:
        m = o["metadata"]
        if m.get("deletionTimestamp") and not m.get("finalizers"):
            del self.objs[(res.plural, m["namespace"], m["name"])]

    def bind(self, ns: str, pod: str, node: str) -> None:
        self.bound[pod] = node
        from tests.sandbox.twin.api import POD

        self.patch(POD, ns, pod, {"spec": {"nodeName": node}})


class FakeCloud:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.instances: dict[str, str] = {}  # machine -> state

    def __getattr__(self, name: str):
        def record(*args: Any) -> None:
            self.calls.append((name, *map(str, args)))

        return record

    def ensure_instance(self, infra: str, machine: str) -> str:
        self.instances.setdefault(machine, "running")
        return f"aws:///us-east-1a/{machine}"  # the instance id is the machine's name here

    def running(self, instance_id: str) -> bool:
        return self.instances.get(instance_id) == "running"

    def terminate(self, infra: str, machine: str) -> None:
        self.instances[machine] = "terminated"

    def ensure_endpoint(self, name: str) -> str:
        self.calls.append(("ensure_endpoint", name))
        return "vpce-1"
