"""The Kubernetes adapter: the only module that imports `kubernetes`.

Objects are plain dicts. Every call goes through one REST helper, so core, apps and custom
resources are read and written the same way; versions come from discovery, not constants.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from kubectl_hcmigrate.adapters import kube_inventory
from kubectl_hcmigrate.adapters.kube_errors import ClusterUnreachable, unreachable
from kubectl_hcmigrate.adapters.kube_errors import kube_error as _kube_error
from kubectl_hcmigrate.adapters.kube_rbac import forbidden
from kubectl_hcmigrate.core.options import KubeTarget
from kubectl_hcmigrate.core.ports import ExecStream, KubeError, Obj
from kubectl_hcmigrate.core.report import PreflightError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

    from kubectl_hcmigrate.core.kinds import KindRule

__all__ = ["ClusterUnreachable", "Kube", "KubeError"]

FIELD_MANAGER = "hcmigrate"
# A read is idempotent: tried READ_ATTEMPTS times in all over a dropped connection, a timeout, a
# 429 or a 5xx, with a growing pause. A write is tried again (as many times) only after a 429,
# which the apiserver sends before it does anything (its limit on requests in flight, or priority
# and fairness): a timed-out write, or a 5xx, may have been applied.
READ_ATTEMPTS = 3
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
WRITE_RETRY_STATUSES = frozenset({429})
_log = logging.getLogger("hcmigrate.kube")  # -v: each request, for a bug report (verbose.py redacts)


class Kube:
    """One management cluster, picked from kubeconfig like kubectl picks it."""

    def __init__(self, target: KubeTarget, role: str = "source", *, sleep: Any = time.sleep) -> None:
        from kubectl_hcmigrate.adapters.kubeconfig import load_client

        self.target, self.role = target, role
        self.api: ApiClient
        self.context, self.api = load_client(target, role)
        self.server: str = self.api.configuration.host  # said with the context: which cluster this is
        self._groups: dict[str, Obj] = {}
        self._crds: dict[str, Obj | None] = {}
        self._sleep = sleep

    # -- REST --------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        query: list[tuple[str, str]] | None = None,
    ) -> Obj:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        reads = method == "GET"
        retried = RETRY_STATUSES if reads else WRITE_RETRY_STATUSES
        for attempt in range(1, READ_ATTEMPTS + 1):
            _log.debug("%s %s %s (context %s, try %d)", self.role, method, path.split("?")[0], self.context, attempt)
            try:
                resp = self.api.call_api(
                    path, method, query_params=query or [], body=body,
                    header_params={"Content-Type": content_type, "Accept": "application/json"},
                    auth_settings=["BearerToken"], _preload_content=False,
                    # (connect, read): the client silently drops a float; a tuple of two it passes on.
                    _request_timeout=(self.target.request_timeout, self.target.request_timeout),
                )  # fmt: skip
            except ApiException as e:
                # The client turns an interrupt during a request into ApiException(status=0). An answer (a
                # 404) while an earlier interrupt is being handled, as undos are, has it as context too.
                if not e.status and isinstance(e.__context__, (KeyboardInterrupt, SystemExit)):
                    raise e.__context__ from None
                error = _kube_error(e)
                if error.status == 403:
                    error = forbidden(self.role, method, path, error)
                if error.status not in retried or attempt == READ_ATTEMPTS:
                    raise error from None
            except (HTTPError, OSError) as e:
                if not reads or attempt == READ_ATTEMPTS:
                    raise unreachable(self, method, path, e) from None
            else:
                data = resp[0].data if isinstance(resp, tuple) else resp.data
                return json.loads(data) if data else {}
            self._sleep(0.5 * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # the loop returns or raises

    def request_or_none(self, method: str, path: str, body: Any = None, **kw: Any) -> Obj | None:
        """`request`, with None for an object that is not there (404)."""
        try:
            return self.request(method, path, body, **kw)
        except KubeError as e:
            if e.status == 404:
                return None
            raise

    def _group(self, group: str) -> Obj:
        if group not in self._groups:
            info = self.request_or_none("GET", f"/apis/{group}")
            if info is None:
                raise PreflightError(
                    f"the {self.role} cluster does not serve {group}: install the HyperShift CRDs there first"
                )
            self._groups[group] = info
        return self._groups[group]

    def version_of(self, group: str) -> str:
        """The version the server prefers for a group (core is v1)."""
        return self._group(group)["preferredVersion"]["version"] if group else "v1"

    def version_for(self, rule: KindRule, obj: Obj) -> str:
        """The object's own version when the server serves it (its fields are that version's
        schema), else the preferred one."""
        group, _, version = obj.get("apiVersion", "").rpartition("/")
        if rule.group and group == rule.group and version in {v["version"] for v in self._group(group)["versions"]}:
            return version
        return self.version_of(rule.group)

    def path(self, rule: KindRule, namespace: str | None, name: str | None = None, version: str | None = None) -> str:
        version = version or self.version_of(rule.group)
        base = f"/apis/{rule.group}/{version}" if rule.group else "/api/v1"
        if namespace is not None:
            base += f"/namespaces/{namespace}"
        base += f"/{rule.plural}"
        return f"{base}/{name}" if name else base

    # -- objects -------------------------------------------------------------------

    def get(self, rule: KindRule, namespace: str, name: str) -> Obj | None:
        return self.request_or_none("GET", self.path(rule, namespace, name))

    def list_objects(self, rule: KindRule, namespace: str | None, selector: str | None = None) -> list[Obj]:
        """Every object of a kind in `namespace` (None: all), matching a label selector if given."""
        query = f"?{urlencode({'labelSelector': selector})}" if selector else ""
        items = self.request("GET", self.path(rule, namespace) + query).get("items", [])
        version = rule.api_version if not rule.group else f"{rule.group}/{self.version_of(rule.group)}"
        for item in items:  # list items come without apiVersion/kind
            item.setdefault("apiVersion", version)
            item.setdefault("kind", rule.kind)
        return items

    def merge_patch(self, rule: KindRule, namespace: str, name: str, patch: Obj) -> Obj:
        return self.request(
            "PATCH", self.path(rule, namespace, name), patch,
            content_type="application/merge-patch+json",
        )  # fmt: skip

    def _versioned(self, rule: KindRule, obj: Obj) -> tuple[str, Obj]:
        version = self.version_for(rule, obj)
        return version, {**obj, "apiVersion": f"{rule.group}/{version}" if rule.group else "v1"}

    def create(self, rule: KindRule, obj: Obj) -> bool:
        """Creates the object; False when one of that name is already there, which is left as it is.

        Never an update: what a controller or a person changed on the destination since stays."""
        version, body = self._versioned(rule, obj)
        try:
            self.request("POST", self.path(rule, obj["metadata"].get("namespace"), version=version), body,
                         query=[("fieldManager", FIELD_MANAGER)])  # fmt: skip
        except KubeError as e:
            if e.status == 409 and e.reason == "AlreadyExists":
                return False
            raise
        return True

    def replace(self, rule: KindRule, obj: Obj) -> Obj:
        """A whole-object update; metadata.resourceVersion makes it fail if the object changed since read."""
        version, body = self._versioned(rule, obj)
        meta = obj["metadata"]
        return self.request("PUT", self.path(rule, meta.get("namespace"), meta["name"], version), body,
                     query=[("fieldManager", FIELD_MANAGER)])  # fmt: skip

    def delete(self, rule: KindRule, namespace: str | None, name: str, *, resource_version: str | None = None) -> bool:
        """False when it was already gone. With `resource_version`, the apiserver deletes only that
        version of the object (409 Conflict otherwise): nobody changed it since it was read."""
        body = {"preconditions": {"resourceVersion": resource_version}} if resource_version else None
        return self.request_or_none("DELETE", self.path(rule, namespace, name), body) is not None

    def remove_finalizers(self, rule: KindRule, namespace: str, name: str) -> Obj | None:
        """Drops every finalizer (a merge patch to null): the object as it is now, None when gone."""
        patch = {"metadata": {"finalizers": None}}
        path = self.path(rule, namespace, name)
        return self.request_or_none("PATCH", path, patch, content_type="application/merge-patch+json")

    # -- namespaces, workloads -----------------------------------------------------------

    def namespace(self, name: str) -> Obj | None:
        return self.request_or_none("GET", f"/api/v1/namespaces/{name}")

    def create_namespace(self, name: str) -> None:
        try:
            self.request(
                "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            )
        except KubeError as e:
            if e.status != 409:
                raise

    def delete_namespace(self, name: str) -> bool:
        return self.request_or_none("DELETE", f"/api/v1/namespaces/{name}") is not None

    def annotate_namespace(self, name: str, annotations: dict[str, str | None]) -> None:
        self.request(
            "PATCH", f"/api/v1/namespaces/{name}", {"metadata": {"annotations": annotations}},
            content_type="application/merge-patch+json",
        )  # fmt: skip

    def namespace_listings(self, namespace: str, failed: list[str] | None = None) -> Iterator[list[Obj]]:
        """A namespace's objects one type at a time, of every type the server lists (those it could not: `failed`)."""
        return kube_inventory.listings(self, namespace, [] if failed is None else failed)

    def workloads(self, kind_plural: str, namespace: str) -> list[Obj]:
        where = f"namespaces/{namespace}/" if namespace else ""  # "": every namespace
        return self.request("GET", f"/apis/apps/v1/{where}{kind_plural}").get("items", [])

    def scale(self, kind_plural: str, namespace: str, name: str, replicas: int) -> None:
        self.request(
            "PATCH", f"/apis/apps/v1/namespaces/{namespace}/{kind_plural}/{name}/scale",
            {"spec": {"replicas": replicas}}, content_type="application/merge-patch+json",
        )  # fmt: skip

    def patch_workload(self, kind_plural: str, namespace: str, name: str, patch: Obj) -> None:
        self.request(
            "PATCH", f"/apis/apps/v1/namespaces/{namespace}/{kind_plural}/{name}", patch,
            content_type="application/merge-patch+json",
        )  # fmt: skip

    def pods(self, namespace: str, selector: str = "") -> list[Obj]:
        query = [("labelSelector", selector)] if selector else []
        return self.request("GET", f"/api/v1/namespaces/{namespace}/pods", query=query).get("items", [])

    def pod_log(self, namespace: str, pod: str, container: str, *, previous: bool = False, tail: int = 20) -> str:
        from kubectl_hcmigrate.adapters.kube_logs import pod_log

        return pod_log(self, namespace, pod, container, previous=previous, tail=tail)

    def run_in_pod(self, namespace: str, pod: str, container: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        """(exit code, stdout, stderr) of a small command run through exec."""
        from kubectl_hcmigrate.adapters.kube_exec import run_exec

        return run_exec(self.api, namespace, pod, container, argv, handshake_timeout=self.target.request_timeout)

    def stream_from_pod(self, namespace: str, pod: str, container: str, argv: list[str]) -> ExecStream:
        """A command's stdout through exec, read as it comes."""
        from kubectl_hcmigrate.adapters.kube_exec import open_exec

        return open_exec(self.api, namespace, pod, container, argv, handshake_timeout=self.target.request_timeout)

    def _lease_path(self, namespace: str, name: str = "") -> str:  # the run's lease (core/lease.py)
        return f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases" + (f"/{name}" if name else "")

    def get_lease(self, namespace: str, name: str) -> Obj | None:
        return self.request_or_none("GET", self._lease_path(namespace, name))

    def create_lease(self, namespace: str, lease: Obj) -> bool:
        try:
            self.request("POST", self._lease_path(namespace), lease, query=[("fieldManager", FIELD_MANAGER)])
            return True
        except KubeError as e:
            if e.status != 409:
                raise
            return False

    def replace_lease(self, namespace: str, lease: Obj) -> Obj:
        return self.request("PUT", self._lease_path(namespace, lease["metadata"]["name"]), lease)

    def delete_lease(self, namespace: str, name: str, resource_version: str | None) -> bool:
        body = {"preconditions": {"resourceVersion": resource_version}} if resource_version else None
        return self.request_or_none("DELETE", self._lease_path(namespace, name), body) is not None

    def crd(self, name: str) -> Obj | None:
        """A CustomResourceDefinition, to read the rules its schema sets; None if not installed. Read once a
        run, as discovery is: restore's preflight asked 17 times for its 10 CRDs, up to 364 kB each."""
        if name not in self._crds:
            path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
            self._crds[name] = self.request_or_none("GET", path)
        return self._crds[name]
