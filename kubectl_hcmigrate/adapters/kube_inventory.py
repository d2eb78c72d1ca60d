"""What a namespace holds, of every type: what teardown must know before it deletes a namespace
that other things may share (`kubectl api-resources --namespaced --verbs=list`, then a list each)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kubectl_hcmigrate.core.ports import KubeError, Obj

if TYPE_CHECKING:
    from kubectl_hcmigrate.adapters.kube import Kube


def listings(kube: Kube, namespace: str, failed: list[str]) -> Iterator[list[Obj]]:
    """A namespace's objects one type at a time, of every listable namespaced type the server
    serves (`kubectl api-resources --namespaced --verbs=list`), the core types first; each type
    it could not list goes into `failed`. About 70 requests in all on the sandbox: whoever needs only
    to know whether something is there stops at the first type that has it."""
    groups = [("", "v1")] + [
        (g["name"], g["preferredVersion"]["version"]) for g in kube.request("GET", "/apis").get("groups", [])
    ]
    for group, version in groups:
        base = f"/apis/{group}/{version}" if group else "/api/v1"
        api_version = f"{group}/{version}" if group else version
        try:
            resources = kube.request("GET", base).get("resources", [])
        except KubeError:
            failed.append(api_version)
            continue
        for r in resources:
            # "pods/log" and the like are subresources, not types.
            if not r.get("namespaced") or "/" in r["name"] or "list" not in r.get("verbs", []):
                continue
            try:
                items = kube.request("GET", f"{base}/namespaces/{namespace}/{r['name']}").get("items", [])
            except KubeError:
                failed.append(f"{r['name']}.{group}" if group else r["name"])
                continue
            for item in items:
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", r["kind"])
            yield items
