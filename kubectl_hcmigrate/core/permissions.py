"""What each verb asks of each management cluster, one row per permission with the step that
needs it. deploy/rbac/ grants exactly these rows (tests/unit/test_rbac.py compares them), and
preflight asks the apiserver about every one (SelfSubjectAccessReview) before anything changes,
so a missing rule is one refusal up front instead of a Forbidden halfway through a run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from kubectl_hcmigrate.core.objects import hcp_namespace_of
from kubectl_hcmigrate.core.report import PreflightError

Where = Literal["hc", "hcp", "cluster"]  # the HC's namespace, the control plane's, cluster-scoped
HS, CAPI, CAPA, APPS = "hypershift.openshift.io", "cluster.x-k8s.io", "infrastructure.cluster.x-k8s.io", "apps"
COORD, CRDS, ROUTES = "coordination.k8s.io", "apiextensions.k8s.io", "route.openshift.io"
MACHINES = ("clusters", "machinedeployments", "machinesets", "machines")
AWS_MACHINES = ("awsclusters", "awsmachinetemplates", "awsmachines")
READ = ("get", "list")


@dataclass(frozen=True)
class Need:
    verbs: tuple[str, ...]
    group: str
    resources: tuple[str, ...]  # a subresource as "pods/exec"
    where: Where
    step: str  # why: the step that needs it, as deploy/rbac/ comments it


LEASE = Need(("get", "create", "update", "delete"), COORD, ("leases",), "hc", "the run's lease on the HC")
SCHEMA = Need(("get",), CRDS, ("customresourcedefinitions",), "cluster", "read the CRDs' schemas")
NAMESPACES = Need(("get",), "", ("namespaces",), "cluster", "find the HC's and the control plane's namespaces")

BACKUP = (
    LEASE, SCHEMA, NAMESPACES,
    Need((*READ, "patch"), HS, ("hostedclusters", "nodepools"), "hc", "read the HC and its NodePools; pause them"),
    Need(READ, "", ("secrets", "configmaps"), "hc", "collect what the HC references"),
    Need(READ, "", ("secrets", "configmaps"), "hcp", "collect the control plane's PKI and configuration"),
    Need(READ, HS, ("hostedcontrolplanes",), "hcp", "collect the HostedControlPlane"),
    Need(READ, CAPI, MACHINES, "hcp", "collect the CAPI objects"),
    Need(READ, CAPA, AWS_MACHINES, "hcp", "collect the CAPA objects"),
    Need(("list",), APPS, ("deployments",), "hcp", "record the control plane's replicas"),
    Need(("list",), "", ("pods",), "hcp", "find the ready etcd members"),
    # An exec is a websocket GET: RBAC asks for get, and since 1.30 for create as well.
    Need(("get", "create"), "", ("pods/exec",), "hcp", "stream the etcd snapshot out of a member"),
)  # fmt: skip

RESTORE = (
    LEASE, SCHEMA,
    Need(("get", "create"), "", ("namespaces",), "cluster", "create the HC's and the control plane's namespaces"),
    Need((*READ, "create", "update", "delete"), "", ("secrets", "configmaps"), "hc",
         "apply the HC's secrets and configuration; replace what another backup's restore left"),
    Need((*READ, "create", "update", "delete"), "", ("secrets", "configmaps"), "hcp",
         "apply the control plane's PKI; replace what another backup's restore left"),
    Need((*READ, "create", "update", "patch", "delete"), HS, ("hostedclusters", "nodepools"), "hc",
         "create the HC and its NodePools; mark them"),
    Need((*READ, "create", "update", "patch", "delete"), HS, ("hostedcontrolplanes",), "hcp",
         "create the HostedControlPlane with the restore URL"),
    Need((*READ, "create", "update", "delete"), CAPI, MACHINES, "hcp", "create the CAPI objects (--with-nodes)"),
    Need((*READ, "create", "update", "delete"), CAPA, AWS_MACHINES, "hcp", "create the CAPA objects (--with-nodes)"),
    Need(("list",), APPS, ("deployments",), "cluster", "find the HyperShift operator and ExternalDNS by what they run (T19)"),
    Need(("list",), "", ("pods",), "hcp", "watch the restored etcd's pods"),
    Need(("get",), "", ("pods/log",), "hcp", "name a failing etcd-init's last log line"),
    Need(("get", "create"), "", ("pods/exec",), "hcp", "check the restored etcd members"),
)  # fmt: skip

TEARDOWN = (
    LEASE, SCHEMA,
    Need(("get", "delete"), "", ("namespaces",), "cluster", "delete the control plane's namespace"),
    Need(("patch",), "", ("namespaces",), "cluster", "record the source's identity on the control plane's namespace"),
    Need((*READ, "patch", "delete"), HS, ("hostedclusters", "nodepools"), "hc",
         "pause, then delete the HC and its NodePools; release finalizers"),
    Need((*READ, "patch", "delete"), HS, ("hostedcontrolplanes",), "hcp", "delete the HostedControlPlane"),
    Need(("patch",), HS, ("awsendpointservices",), "hcp", "release the control-plane operator's finalizer (T13)"),
    Need((*READ, "patch", "delete"), CAPI, MACHINES, "hcp", "delete the CAPI objects; release finalizers"),
    Need((*READ, "patch", "delete"), CAPA, AWS_MACHINES, "hcp", "delete the CAPA objects; release finalizers"),
    Need(READ, "", ("secrets", "configmaps"), "hc", "find the secrets only this HC references"),
    Need(("delete",), "", ("secrets", "configmaps"), "hc", "delete the secrets only this HC referenced"),
    Need(("list", "patch"), APPS, ("deployments", "statefulsets"), "hcp", "scale the control plane down"),
    Need(("patch",), APPS, ("deployments/scale", "statefulsets/scale"), "hcp", "scale the control plane down"),
    Need(("list",), "", ("pods",), "hcp", "wait for the control plane's pods to go"),
    Need(("list",), "*", ("*",), "hcp", "refuse to delete a namespace holding anything else"),
)  # fmt: skip

# The DNS handoff (T16): the source's Routes and LoadBalancer Services of the HC's hostnames are
# recorded on the HC, deleted, and recreated by a rollback.
HANDOFF = (
    LEASE, SCHEMA,
    Need((*READ, "patch"), HS, ("hostedclusters",), "hc", "read the HC; record the Routes and Services it deletes"),
    Need((*READ, "create", "delete"), ROUTES, ("routes",), "hcp",
         "hand the hostnames over: delete the Routes (a rollback recreates them)"),
    Need((*READ, "create", "delete"), "", ("services",), "hcp",
         "hand the hostnames over: delete the LoadBalancer Services (a rollback recreates them)"),
)  # fmt: skip

# The OIDC check and fix (T17) read the HC and the control plane's sa-signing-key.
OIDC = (
    Need(("get",), HS, ("hostedclusters",), "hc", "oidc: read the HC's issuer URL"),
    Need(("get",), "", ("secrets",), "hcp", "oidc: read the sa-signing-key the documents are made from"),
)

# Teardown checks on the destination that the HC runs there: reads only.
TEARDOWN_DESTINATION = (
    Need(("get",), HS, ("hostedclusters",), "hc", "teardown: check that the destination runs the HC"),
    Need(("get",), HS, ("hostedcontrolplanes",), "hcp", "teardown: check that the destination runs the HC"),
)

# What each cluster's role in deploy/rbac/ grants: the source backs up and is torn down, the
# destination is restored into and read by teardown.
ROLES = {"source": BACKUP + TEARDOWN + HANDOFF, "destination": RESTORE + TEARDOWN_DESTINATION + OIDC}
ROLE_NAMES = {"source": "hcmigrate-source", "destination": "hcmigrate-destination"}

Check = tuple[str, str, str, str | None]  # verb, group, resource (maybe "x/sub"), namespace
EVERYTHING: Check = ("*", "*", "*", None)


def checks(needs: Sequence[Need], namespace: str, name: str) -> list[Check]:
    """Every (verb, group, resource, namespace) of `needs` for the HC `namespace/name`, once each."""
    where = {"hc": namespace, "hcp": hcp_namespace_of(namespace, name), "cluster": None}
    seen: dict[Check, None] = {}
    for need in needs:
        for resource in need.resources:
            for verb in need.verbs:
                seen[verb, need.group, resource, where[need.where]] = None
    return list(seen)


def describe(check: Check) -> str:
    verb, group, resource, namespace = check
    what = f"{resource}.{group}" if group else resource
    return f"{verb} {what}" + (f" in namespace {namespace}" if namespace else " (cluster-wide)")


def require(
    allowed: Callable[[list[Check]], list[bool]], needs: Sequence[Need], namespace: str, name: str, side: str
) -> None:
    """Refuse (exit 3, nothing changed) unless the apiserver allows every check of `needs`."""
    if allowed([EVERYTHING]) == [True]:
        return  # cluster-admin: one review instead of one per permission
    wanted = checks(needs, namespace, name)
    refused = [describe(c) for c, ok in zip(wanted, allowed(wanted), strict=True) if not ok]
    if refused:
        shown = ", ".join(refused[:6]) + (f" and {len(refused) - 6} more" if len(refused) > 6 else "")
        raise PreflightError(
            f"the {side} cluster does not allow this user to {shown}: the ClusterRole {ROLE_NAMES[side]} "
            f"in deploy/rbac/ grants what this command needs; nothing was changed"
        )


@dataclass(frozen=True)
class Rule:
    """One rule of a ClusterRole in deploy/rbac/, with the steps that need it."""

    group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    steps: tuple[str, ...]


def role_rules(side: str) -> list[Rule]:
    """The side's needs as ClusterRole rules in which no permission is granted twice (so that
    dropping any one rule takes something away): one rule per group, verbs and steps, and no
    verb a wildcard rule already grants for every resource."""
    wildcard = {v for n in ROLES[side] if n.resources == ("*",) for v in n.verbs}
    per: dict[tuple[str, str], tuple[dict[str, None], dict[str, None]]] = {}
    for need in ROLES[side]:
        for resource in need.resources:
            verbs, steps = per.setdefault((need.group, resource), ({}, {}))
            for verb in need.verbs:
                if resource == "*" or verb not in wildcard:
                    verbs[verb] = None
            steps[need.step] = None
    rules: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for (group, resource), (verbs, steps) in per.items():
        if verbs:
            rules.setdefault((group, tuple(verbs), tuple(steps)), []).append(resource)
    return [Rule(g, tuple(res), verbs, steps) for (g, verbs, steps), res in rules.items()]
