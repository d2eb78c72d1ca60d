"""The twin's only door to a management cluster: its kube-apiserver over HTTPS, as the real
operators reach it, so every write is judged by the CRDs' schemas and CEL rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import requests.adapters

Obj = dict[str, Any]
FIELD_MANAGER = "hypershift-twin"


@dataclass(frozen=True)
class Res:
    group: str
    version: str
    plural: str
    namespaced: bool = True

    def path(self, ns: str | None = None, name: str | None = None) -> str:
        base = "/api/v1" if not self.group else f"/apis/{self.group}/{self.version}"
        if self.namespaced and ns:
            base += f"/namespaces/{ns}"
        base += f"/{self.plural}"
        return base + (f"/{name}" if name else "")


HS, CAPI, CAPA = "hypershift.openshift.io", "cluster.x-k8s.io", "infrastructure.cluster.x-k8s.io"
HC = Res(HS, "v1beta1", "hostedclusters")
HCP = Res(HS, "v1beta1", "hostedcontrolplanes")
NODEPOOL = Res(HS, "v1beta1", "nodepools")
AWSEPS = Res(HS, "v1beta1", "awsendpointservices")
CLUSTER = Res(CAPI, "v1beta2", "clusters")
MD = Res(CAPI, "v1beta2", "machinedeployments")
MS = Res(CAPI, "v1beta2", "machinesets")
MACHINE = Res(CAPI, "v1beta2", "machines")
AWSMACHINE = Res(CAPA, "v1beta2", "awsmachines")
DEPLOY = Res("apps", "v1", "deployments")
STS = Res("apps", "v1", "statefulsets")
POD = Res("", "v1", "pods")
NAMESPACE = Res("", "v1", "namespaces", namespaced=False)
SERVICEACCOUNT = Res("", "v1", "serviceaccounts")
SERVICE = Res("", "v1", "services")
SECRET = Res("", "v1", "secrets")
ROUTE = Res("route.openshift.io", "v1", "routes")


class ApiError(RuntimeError):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text[:400]}")
        self.status = status


class Api:
    """get/list/create/patch/delete and watch on any resource, as JSON dicts."""

    def __init__(self, server: str, ca: Path, cert: Path, key: Path) -> None:
        self.server = server
        self.s = requests.Session()
        self.s.trust_env = False  # REQUESTS_CA_BUNDLE and proxies from the environment would override these
        self.s.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=32))  # a connection per thread
        self.s.verify = str(ca)
        self.s.cert = (str(cert), str(key))
        self.s.headers["User-Agent"] = FIELD_MANAGER

    def _do(self, method: str, path: str, body: Any = None, ctype: str = "application/json", **params: Any) -> Any:
        r = self.s.request(method, self.server + path, params=params or None,
                           data=None if body is None else json.dumps(body), headers={"Content-Type": ctype},
                           timeout=30)  # fmt: skip
        if r.status_code >= 300:
            raise ApiError(r.status_code, r.text)
        return r.json() if r.content else None

    def get(self, res: Res, ns: str | None, name: str) -> Obj | None:
        try:
            return self._do("GET", res.path(ns, name))
        except ApiError as e:
            if e.status == 404:
                return None
            raise

    def list(self, res: Res, ns: str | None = None, selector: str | None = None) -> list[Obj]:
        params = {"labelSelector": selector} if selector else {}
        try:
            return self._do("GET", res.path(ns), **params)["items"]
        except ApiError as e:
            if e.status == 404:  # the CRD is not installed
                return []
            raise

    def create(self, res: Res, ns: str | None, body: Obj) -> Obj | None:
        """The created object, or None if it already exists."""
        try:
            return self._do("POST", res.path(ns), body, fieldManager=FIELD_MANAGER)
        except ApiError as e:
            if e.status == 409:
                return None
            raise

    def patch(self, res: Res, ns: str | None, name: str, patch: Any, *, status: bool = False,
              kind: str = "merge") -> Obj:  # fmt: skip
        path = res.path(ns, name) + ("/status" if status else "")
        ctype = {"merge": "application/merge-patch+json", "json": "application/json-patch+json"}[kind]
        return self._do("PATCH", path, patch, ctype, fieldManager=FIELD_MANAGER)

    def replace(self, res: Res, ns: str | None, body: Obj) -> Obj:
        return self._do("PUT", res.path(ns, body["metadata"]["name"]), body, fieldManager=FIELD_MANAGER)

    def delete(self, res: Res, ns: str | None, name: str) -> bool:
        try:
            self._do("DELETE", res.path(ns, name), {"propagationPolicy": "Background"})
            return True
        except ApiError as e:
            if e.status == 404:
                return False
            raise

    def bind(self, ns: str, pod: str, node: str) -> None:
        body = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node}}  # fmt: skip
        self._do("POST", POD.path(ns, pod) + "/binding", body)

    def list_at(self, res: Res) -> tuple[list[Obj], int]:
        """Every object of `res` and the version the listing is at."""
        listing = self._do("GET", res.path())
        return listing["items"], int(listing["metadata"]["resourceVersion"])

    def events(self, res: Res, rv: int) -> Iterator[tuple[str, Obj]]:
        """(type, object) of every change of `res` after version `rv`; ends with the stream, or
        at an ERROR event (the version is too old: list again)."""
        params = {"watch": "1", "resourceVersion": str(rv), "timeoutSeconds": "300", "allowWatchBookmarks": "false"}
        with self.s.get(self.server + res.path(), params=params, stream=True, timeout=(10, 330)) as r:
            if r.status_code >= 300:
                raise ApiError(r.status_code, r.text)
            for line in r.iter_lines():
                if line:
                    ev = json.loads(line)
                    if ev.get("type") == "ERROR":
                        return
                    yield ev["type"], ev["object"]

    def watch(self, res: Res) -> Iterator[Obj]:
        """Every object of `res` from now on (a fresh list first); ends with the stream."""
        items, rv = self.list_at(res)
        yield from items
        for _, obj in self.events(res, rv):
            yield obj
