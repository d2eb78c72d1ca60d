"""The Kubernetes adapter: the only module that imports `kubernetes`.

Objects are plain dicts. Every call goes through one REST helper, so core, apps and custom
resources are read and written the same way; versions come from discovery, not constants.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kubectl_hcmigrate.core.options import KubeTarget
from kubectl_hcmigrate.core.report import PreflightError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

    from kubectl_hcmigrate.core.kinds import KindRule

Obj = dict[str, Any]
FIELD_MANAGER = "hcmigrate"


class KubeError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason = status, reason


class Kube:
    """One management cluster, picked from kubeconfig like kubectl picks it."""

    def __init__(self, target: KubeTarget, role: str = "source") -> None:
        from kubernetes import config
        from kubernetes.config.config_exception import ConfigException

        self.target, self.role = target, role
        try:
            contexts, current = config.list_kube_config_contexts(config_file=target.kubeconfig)
            names = {c["name"] for c in contexts}
            self.context = target.context or (current or {}).get("name", "")
            if self.context not in names:
                flag = "--to-context" if role == "destination" else "--context"
                raise PreflightError(
                    f"kubeconfig has no context '{self.context}' for the {role} cluster: "
                    f"pass {flag} with one of: {', '.join(sorted(names)) or '(none)'}"
                )
            self.api: ApiClient = config.new_client_from_config(config_file=target.kubeconfig, context=self.context)
        except ConfigException as e:
            raise PreflightError(f"cannot load kubeconfig for the {role} cluster: {e}") from None
        self._groups: dict[str, Obj] = {}

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

        try:
            resp = self.api.call_api(
                path, method, query_params=query or [], body=body,
                header_params={"Content-Type": content_type, "Accept": "application/json"},
                auth_settings=["BearerToken"], _preload_content=False, _request_timeout=60,
            )  # fmt: skip
        except ApiException as e:
            raise _kube_error(e) from None
        except HTTPError as e:
            host = self.api.configuration.host
            raise PreflightError(
                f"cannot reach the {self.role} cluster at {host} (context '{self.context}'): {type(e).__name__}"
            ) from None
        data = resp[0].data if isinstance(resp, tuple) else resp.data
        return json.loads(data) if data else {}

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

    def list(self, rule: KindRule, namespace: str) -> list[Obj]:
        items = self.request("GET", self.path(rule, namespace)).get("items", [])
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

    def replace(self, rule: KindRule, obj: Obj) -> None:
        """A whole-object update; metadata.resourceVersion makes it fail if the object changed since read."""
        version, body = self._versioned(rule, obj)
        meta = obj["metadata"]
        self.request("PUT", self.path(rule, meta.get("namespace"), meta["name"], version), body,
                     query=[("fieldManager", FIELD_MANAGER)])  # fmt: skip

    def delete(self, rule: KindRule, namespace: str | None, name: str) -> bool:
        """False when it was already gone."""
        return self.request_or_none("DELETE", self.path(rule, namespace, name)) is not None

    def remove_finalizers(self, rule: KindRule, namespace: str, name: str) -> bool:
        """Drops every finalizer (a merge patch to null); False when the object is gone."""
        patch = {"metadata": {"finalizers": None}}
        path = self.path(rule, namespace, name)
        return self.request_or_none("PATCH", path, patch, content_type="application/merge-patch+json") is not None

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

    def namespace_contents(self, namespace: str) -> tuple[list[Obj], list[str]]:
        """Every object in a namespace, of every listable namespaced type the server serves
        (`kubectl api-resources --namespaced --verbs=list`), and the types it could not list."""
        groups = [("", "v1")] + [
            (g["name"], g["preferredVersion"]["version"]) for g in self.request("GET", "/apis").get("groups", [])
        ]
        objs: list[Obj] = []
        failed: list[str] = []
        for group, version in groups:
            base = f"/apis/{group}/{version}" if group else "/api/v1"
            api_version = f"{group}/{version}" if group else version
            try:
                resources = self.request("GET", base).get("resources", [])
            except KubeError:
                failed.append(api_version)
                continue
            for r in resources:
                # "pods/log" and the like are subresources, not types.
                if not r.get("namespaced") or "/" in r["name"] or "list" not in r.get("verbs", []):
                    continue
                try:
                    items = self.request("GET", f"{base}/namespaces/{namespace}/{r['name']}").get("items", [])
                except KubeError:
                    failed.append(f"{r['name']}.{group}" if group else r["name"])
                    continue
                for item in items:
                    item.setdefault("apiVersion", api_version)
                    item.setdefault("kind", r["kind"])
                objs += items
        return objs, failed

    def workloads(self, kind_plural: str, namespace: str) -> list[Obj]:
        return self.request("GET", f"/apis/apps/v1/namespaces/{namespace}/{kind_plural}").get("items", [])

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

    def crd(self, name: str) -> Obj | None:
        """A CustomResourceDefinition, to read the rules its schema sets; None if not installed."""
        return self.request_or_none("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")


def _kube_error(e: Any) -> KubeError:
    reason, message = "", str(e.reason)
    try:
        status = json.loads(e.body)
        reason, message = status.get("reason", ""), status.get("message", message)
    except (TypeError, ValueError):
        pass
    return KubeError(int(e.status or 0), reason, message)
