"""Access: what preflight asks the apiserver (SelfSubjectAccessReview) and what a Forbidden
answer mid-run says: the verb, the resource and the namespace refused, and the role that grants them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubectl_hcmigrate.core.bounded import map_bounded
from kubectl_hcmigrate.core.permissions import ROLE_NAMES, Check, describe
from kubectl_hcmigrate.core.ports import KubeError

if TYPE_CHECKING:
    from kubectl_hcmigrate.adapters.kube import Kube

VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
PARALLEL = 8  # a review is one small POST each; a few at once keep a remote apiserver's round trips short


def allowed(kube: Kube, checks: list[Check]) -> list[bool]:
    """The apiserver's answer to each check, for the user of `kube`'s context."""

    def review(check: Check) -> bool:
        verb, group, resource, namespace = check
        resource, _, sub = resource.partition("/")
        attrs = {"verb": verb, "group": group, "resource": resource, "subresource": sub}
        if namespace:
            attrs["namespace"] = namespace
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attrs}}  # fmt: skip
        answer = kube.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body)
        return bool(answer.get("status", {}).get("allowed"))

    # As restore's creates: a Ctrl-C is acted on between waits and the reviews in flight end first.
    return map_bounded(checks, review, in_flight=PARALLEL, name="access-review")


def request_check(method: str, path: str) -> Check:
    """(verb, group, resource, namespace) of a REST request, as RBAC sees it."""
    parts = path.split("?")[0].strip("/").split("/")
    if len(parts) < (3 if parts[0] == "api" else 4):  # discovery (/api/v1, /apis/<group>/<v>): no resource
        return ("get", "", "/" + "/".join(parts), None)
    group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    namespace = None
    if len(rest) > 2 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    resource = "/".join([rest[0], *rest[2:3]]) if rest else ""
    verb = VERBS.get(method) or ("get" if len(rest) > 1 else "list")
    return verb, group, resource, namespace


def forbidden(role: str, method: str, path: str, error: KubeError) -> KubeError:
    """A 403's line: what was refused, and where the grant is (never the server's own text,
    which names the user and can be long)."""
    role_name = ROLE_NAMES.get(role, "hcmigrate-" + role)
    return KubeError(
        403,
        error.reason or "Forbidden",
        f"the {role} cluster refused to {describe(request_check(method, path))} (Forbidden): "
        f"the ClusterRole {role_name} in deploy/rbac/ grants it",
    )
