"""Removing an object that HyperShift holds with a finalizer, without ever starting its delete path.

HyperShift puts its finalizer back on every reconcile, paused or not (T1): a strip and a plain
delete in two calls race with it, and a delete that lands with the finalizer back on starts the
delete path (T3), which destroys what the destination now runs. So the delete names the exact
version the strip wrote, or the version read when it had no finalizer (a resourceVersion
precondition); on a conflict, read and strip again.
"""

from __future__ import annotations

from kubectl_hcmigrate.core.kinds import HYPERSHIFT, KindRule
from kubectl_hcmigrate.core.ports import KubeError, KubePort, Obj
from kubectl_hcmigrate.core.report import StepFailed

# Strips that may lose the race before teardown gives up. The operators read their informers'
# caches, so their finalizer is back a few milliseconds after a strip: against the sandbox's twin
# reading its cache the same way, one strip-then-delete of a paused NodePool lost 4 races of 40
# on an idle machine, and in a loaded test run 5 in a row (the old limit). An attempt is three
# small requests: twenty are some 60, a few seconds at most even far from the apiserver.
STRIP_ATTEMPTS = 20

# Objects in the HCP namespace that HyperShift's controllers hold with a finalizer of their own: the
# CAPI Deployments' component finalizer (T2), the control-plane operator's on each
# AWSEndpointService (T13). The namespace deletion waits on them forever, and only their delete
# paths, which tear down what the destination now runs, would remove them.
COMPONENT_FINALIZED = (
    KindRule("apps", "v1", "Deployment", "deployments", "hcp", "deployment", restore_phase=0,
             why="cluster-api and capi-provider carry hypershift.openshift.io/component-finalizer (T2)"),
    KindRule(HYPERSHIFT, "v1beta1", "AWSEndpointService", "awsendpointservices", "hcp", "awsendpointservice",
             restore_phase=0, why="the control-plane operator's PrivateLink finalizer (T13)"),
)  # fmt: skip


def strip_and_delete(kube: KubePort, rule: KindRule, ns: str, obj: Obj, attempts: int = STRIP_ATTEMPTS) -> bool:
    """Deletes `obj` with no finalizer on it; False when it was gone already."""
    name = obj["metadata"]["name"]
    for _ in range(attempts):
        # Read with no finalizer: that version only, as HyperShift may put its finalizer back any time.
        version = obj["metadata"].get("resourceVersion")
        if obj["metadata"].get("finalizers"):
            stripped = kube.remove_finalizers(rule, ns, name)
            if stripped is None:
                return False
            version = (stripped.get("metadata") or {}).get("resourceVersion")
        try:
            return kube.delete(rule, ns, name, resource_version=version)
        except KubeError as e:
            if e.status != 409:
                raise
        found = kube.get(rule, ns, name)  # it changed in between: look again
        if found is None:
            return False
        obj = found
    raise StepFailed(
        f"{rule.kind} {ns}/{name} got its finalizers back {attempts} times between removing them and deleting "
        "it: a controller still reconciles it (is the HostedCluster paused?); stop it, then run teardown again"
    )


def finalized(kube: KubePort, ns: str) -> list[tuple[KindRule, Obj]]:
    """The component-finalized objects in `ns` that still hold a finalizer (a kind not served: none)."""
    out = []
    for rule in COMPONENT_FINALIZED:
        try:
            items = kube.list_objects(rule, ns)
        except KubeError as e:
            if e.status != 404:
                raise
            items = []
        out += [(rule, o) for o in items if o["metadata"].get("finalizers")]
    return out
