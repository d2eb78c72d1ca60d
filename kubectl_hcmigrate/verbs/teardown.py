"""teardown: delete a migrated hosted cluster from the source without letting HyperShift
destroy what the destination now runs.

Preflight only reads, and refuses unless the destination runs the HC restored from this very
source HC and it is Available. Every object loses its finalizers before it is deleted, so that
the HyperShift and CAPI delete paths (terminate the workers, delete PrivateLink, wipe the OIDC
documents) never run: the destination uses all of that now. Each step lists again what is
left and takes "gone" as done, so an interrupted teardown completes when run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kubectl_hcmigrate.core import objects
from kubectl_hcmigrate.core import teardown_rules as rules
from kubectl_hcmigrate.core.changes import Change, change_step
from kubectl_hcmigrate.core.finalizers import finalized, strip_and_delete
from kubectl_hcmigrate.core.kinds import KindRule, teardown_order
from kubectl_hcmigrate.core.lease import lease_name
from kubectl_hcmigrate.core.marks import SOURCE_UID, TEARDOWN_CONFIG, annotations_of, config_names, config_record
from kubectl_hcmigrate.core.objects import name_of
from kubectl_hcmigrate.core.pipeline import Plan
from kubectl_hcmigrate.core.ports import KubePort, Reporter
from kubectl_hcmigrate.core.report import PreflightError, StepFailed, step_seconds, succeeded
from kubectl_hcmigrate.core.source_state import HC, NODEPOOL, recorded
from kubectl_hcmigrate.core.wait import poll_until
from kubectl_hcmigrate.verbs.collect import CONFIGMAP, SECRET

Obj = dict[str, Any]
WORKLOADS = ("deployments", "statefulsets")
RETAIN = {"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Retain"}}}
# An object that keeps coming back (or its finalizers) means a controller still reconciles it.
MAX_REMOVALS = 5
POLL = 0.5


@dataclass(frozen=True)
class TeardownOptions:
    name: str
    namespace: str
    force: bool = False
    timeout: float = 300.0


@dataclass
class Teardown:
    """What preflight found; the steps act on it and fill in what they removed."""

    opts: TeardownOptions
    kube: KubePort
    reporter: Reporter
    destination: str
    hc: Obj | None
    source_uid: str | None
    recorded_uid: str | None
    own: set[tuple[str, str]]  # (kind, name) of this HC's objects in its (maybe shared) namespace
    dst: KubePort | None = None
    guard: str = "passed"
    handoff: str = "none: the source was not held for a migration (backup --keep-paused)"
    warnings: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def hcp_ns(self) -> str:
        return objects.hcp_namespace_of(self.opts.namespace, self.opts.name)


def _ref(opts: TeardownOptions) -> Obj:
    """Enough of the HC to find what names it, when the HC itself may be gone."""
    return {"metadata": {"name": opts.name, "namespace": opts.namespace}}


def preflight(
    opts: TeardownOptions, kube: KubePort, destination: Callable[[], KubePort], reporter: Reporter
) -> Teardown:
    ns, name = opts.namespace, opts.name
    hc = kube.get(HC, ns, name)
    hcp = kube.namespace(objects.hcp_namespace_of(ns, name))
    recorded_uid = annotations_of(hcp).get(SOURCE_UID)
    source_uid = hc["metadata"]["uid"] if hc else recorded_uid
    pools, secrets, configmaps, hcs = (kube.list_objects(r, ns) for r in (NODEPOOL, SECRET, CONFIGMAP, HC))
    own = rules.own_objects(hc or _ref(opts), hc, pools, secrets, configmaps, hcs, config_names(hcp))
    own |= {("Lease", lease_name(name))}
    context, problem, dst, kept = "", None, None, set[str]()
    try:
        dst = there = destination()
        context, where = dst.context, f"{ns}/{name} on the destination (context '{dst.context}')"
        dst_hc = dst.get(HC, ns, name)
        problem = rules.guard_problem(dst_hc, source_uid, where=where, uid_required=hcp is not None)
        kept, unfinished = rules.pools_kept(own, dst_hc, lambda n: there.get(NODEPOOL, ns, n) is not None, where)
        problem = problem or unfinished
    except PreflightError as e:  # no destination to ask: only --force goes on without it
        problem = str(e)
    t = Teardown(opts, kube, reporter, context, hc, source_uid, recorded_uid, rules.keep_pools(own, pools, kept), dst)
    t.kept, t.warnings = rules.kept_pool_notes(ns, kept)
    if hc is not None and (held := getattr(recorded(hc), "held", None)):
        t.handoff = held.describe()
    if problem and not opts.force:
        raise PreflightError(f"{problem}; nothing was changed (--force skips this check)")
    if problem:
        t.guard = f"skipped (--force): {problem}"
        t.warnings.append("the guard was skipped (--force)")  # Guard says why, once
    return t


def build_plan(t: Teardown) -> Plan:
    plan, step = Plan("teardown"), partial(change_step, reporter=t.reporter)  # n/N for long runs of deletions
    plan.add(step("record source identity", partial(_record, t)))
    plan.add(step("pause", partial(_pause, t)))
    plan.add(step("scale down control plane", partial(_scale_down, t), after=partial(_wait_pods, t)))
    for rule in teardown_order():
        plan.add(step(f"remove {rule.kind}s", partial(_remove, t, rule), after=partial(_wait_gone, t, rule)))
    plan.add(step("remove its Secrets and ConfigMaps", partial(_own_config, t)))
    plan.add(step("remove component finalizers", partial(_component_finalizers, t)))
    plan.add(step("delete HCP namespace", partial(_hcp_namespace, t)))
    plan.add(step("clean up HC namespace", partial(_hc_namespace, t)))
    return plan


# SOURCE_UID on the HCP namespace before the first deletion: a re-run checks the identity after the HC went.
def _record(t: Teardown) -> list[Change]:
    if t.hc is None or t.recorded_uid == t.source_uid or t.kube.namespace(t.hcp_ns) is None:
        return []
    config = config_record(f"{k}/{n}" for k, n in t.own if k in ("Secret", "ConfigMap"))
    do = partial(t.kube.annotate_namespace, t.hcp_ns, {SOURCE_UID: t.source_uid, TEARDOWN_CONFIG: config})
    return [Change(f"annotate Namespace {t.hcp_ns} with {SOURCE_UID}={t.source_uid} and its config's names", do)]


def _pause(t: Teardown) -> list[Change]:
    """Paused, HyperShift stops reconciling: it would scale the control plane back up and put
    finalizers back while we remove them. `backup --keep-paused` has usually done it already."""
    out = []
    for rule in (HC, NODEPOOL):
        ns, items = _targets(t, rule)
        for o in items:
            if o["spec"].get("pausedUntil") != "true":
                do = partial(t.kube.merge_patch, rule, ns, name_of(o), {"spec": {"pausedUntil": "true"}})
                out.append(Change(f"pause {rule.kind} {ns}/{name_of(o)}", do))
    return out


def _scale_down(t: Teardown) -> list[Change]:
    out = []
    for plural in WORKLOADS:
        for w in t.kube.workloads(plural, t.hcp_ns):
            what, spec = f"{plural[:-1]} {t.hcp_ns}/{name_of(w)}", w["spec"]
            # etcd's volumes would go with the scale-down; Retain keeps them until the namespace goes.
            if (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") == "Delete":
                do = partial(t.kube.patch_workload, plural, t.hcp_ns, name_of(w), RETAIN)
                out.append(Change(f"set persistentVolumeClaimRetentionPolicy.whenScaled=Retain on {what}", do))
            if spec.get("replicas", 1) != 0:
                do = partial(t.kube.scale, plural, t.hcp_ns, name_of(w), 0)
                out.append(Change(f"scale {what} from {spec.get('replicas', 1)} to 0", do))
    return out


def _wait_pods(t: Teardown) -> None:
    # The CAPI and CAPA controllers run there too: none should see a deletion. Removing the
    # finalizers is the real protection, so a pod stuck terminating is a warning only.
    def running() -> bool:
        owners = (o.get("kind") for p in t.kube.pods(t.hcp_ns) for o in p["metadata"].get("ownerReferences", []))
        return any(kind in ("ReplicaSet", "StatefulSet") for kind in owners)

    if not poll_until(lambda: not running(), min(60.0, t.opts.timeout), every=POLL, reporter=t.reporter, what=t.hcp_ns):
        t.warnings.append(f"control-plane pods in {t.hcp_ns} still terminating; went on")


def _targets(t: Teardown, rule: KindRule) -> tuple[str, list[Obj]]:
    if rule.scope == "hcp":
        return t.hcp_ns, t.kube.list_objects(rule, t.hcp_ns)
    # The HC namespace is shared (other HCs live there): the table says which items are this HC's.
    assert rule.own_items is not None, f"{rule.kind} in the HC namespace needs own_items in the kind table"
    own = rule.own_items(_ref(t.opts), t.kube.list_objects(rule, t.opts.namespace))
    return t.opts.namespace, [o for o in own if (rule.kind, name_of(o)) in t.own]  # a kept NodePool is not


def _remove(t: Teardown, rule: KindRule) -> list[Change]:
    ns, items = _targets(t, rule)
    out = []
    for o in items:
        fins = o["metadata"].get("finalizers")
        why = f" after removing its finalizers {', '.join(fins)}" if fins else ""
        what = f"delete {rule.kind} {ns}/{name_of(o)}{why}"
        out.append(Change(what, partial(_strip_and_delete, t, rule, ns, o)))
    return out


def _strip_and_delete(t: Teardown, rule: KindRule, ns: str, obj: Obj) -> None:
    label = f"{rule.kind} {ns}/{name_of(obj)}"
    if strip_and_delete(t.kube, rule, ns, obj) and label not in t.removed:
        t.removed.append(label)


def _wait_gone(t: Teardown, rule: KindRule) -> None:
    removals, ns = dict[str, int](), t.hcp_ns if rule.scope == "hcp" else t.opts.namespace

    def gone() -> bool:
        items = _targets(t, rule)[1]
        for o in items:
            fins = o["metadata"].get("finalizers")
            if not fins and o["metadata"].get("deletionTimestamp"):
                continue  # on its way out
            # A controller put a finalizer back, or created it again: remove it again, a few times.
            removals[name_of(o)] = removals.get(name_of(o), 0) + 1
            if removals[name_of(o)] > MAX_REMOVALS:
                raise StepFailed(
                    f"{rule.kind} {ns}/{name_of(o)} keeps coming back (finalizers {fins}): a controller still "
                    "reconciles it (is the HostedCluster paused, as `backup --keep-paused` leaves it?); stop it, "
                    "then run teardown again"
                )
            _strip_and_delete(t, rule, ns, o)
        return not items

    if not poll_until(gone, t.opts.timeout, every=POLL):
        raise StepFailed(f"{rule.kind}s in {ns} are still there after {t.opts.timeout:.0f}s; run teardown again")


def _component_finalizers(t: Teardown) -> list[Change]:
    """Stripped once the HC is gone: its controller puts the component finalizer back on every
    reconcile, paused or not, and the namespace deletion would wait on it forever."""
    if t.kube.namespace(t.hcp_ns) is None:
        return []
    out = []
    for rule, o in finalized(t.kube, t.hcp_ns):
        do = partial(t.kube.remove_finalizers, rule, t.hcp_ns, name_of(o))
        fins = ", ".join(o["metadata"]["finalizers"])
        out.append(Change(f"remove finalizers {fins} from {rule.kind} {t.hcp_ns}/{name_of(o)}", do))
    return out


def _hcp_namespace(t: Teardown) -> list[Change]:
    do = Change(f"delete Namespace {t.hcp_ns} with all left in it", partial(_delete_namespace, t, t.hcp_ns))
    return [] if t.kube.namespace(t.hcp_ns) is None else [do]


def _delete_namespace(t: Teardown, ns: str) -> None:
    # Deleting a namespace that is already terminating is a conflict: just wait for it.
    if not (t.kube.namespace(ns) or {}).get("metadata", {}).get("deletionTimestamp"):
        t.kube.delete_namespace(ns)
    if not poll_until(lambda: t.kube.namespace(ns) is None, t.opts.timeout, every=POLL, reporter=t.reporter, what=ns):
        conditions = (t.kube.namespace(ns) or {}).get("status", {}).get("conditions", [])
        why = "; ".join(c.get("message", "") for c in conditions if c.get("status") == "True") or "unknown why"
        raise StepFailed(f"Namespace {ns} is still terminating after {t.opts.timeout:.0f}s: {why}")
    t.removed.append(f"Namespace {ns}")


def _hc_namespace(t: Teardown) -> list[Change]:
    ns = t.opts.namespace
    if t.kube.namespace(ns) is None:
        return []
    unlisted: list[str] = []
    contents = [o for items in t.kube.namespace_listings(ns, unlisted) for o in items]
    others = rules.leftovers(contents, t.own, t.source_uid) + [f"(unlistable {u})" for u in unlisted]
    if not others:
        return [Change(f"delete Namespace {ns}: nothing else lives in it", partial(_delete_namespace, t, ns))]
    more = f" and {len(others) - 5} more" if len(others) > 5 else ""
    kept = f"Namespace {ns}: it also holds {', '.join(others[:5])}{more}"
    return [Change(f"keep {kept}", partial(t.kept.append, kept))]


def _own_config(t: Teardown) -> list[Change]:
    """This HC's Secrets and ConfigMaps in the shared namespace (pull secret, keys, ...): the
    source has no use for them now, but each goes only if the destination has it already."""
    out = []
    for rule in (SECRET, CONFIGMAP):
        names = [name_of(o) for o in t.kube.list_objects(rule, t.opts.namespace) if (rule.kind, name_of(o)) in t.own]
        out += [_config_change(t, rule, name) for name in names]
    return out


def _config_change(t: Teardown, rule: KindRule, name: str) -> Change:
    what = f"{rule.kind} {t.opts.namespace}/{name}"
    if t.dst is not None and t.dst.get(rule, t.opts.namespace, name) is not None:
        return Change(f"delete {what} (the destination has it)", partial(_delete_config, t, rule, name, what))
    return Change(f"keep {what}: the destination does not have it", partial(t.kept.append, what))


def _delete_config(t: Teardown, rule: KindRule, name: str, what: str) -> None:
    if t.kube.delete(rule, t.opts.namespace, name):
        t.removed.append(what)


def result(t: Teardown, timings: dict[str, float]) -> dict[str, Any]:
    return succeeded(
        t.opts,
        destination_context=t.destination,
        guard=t.guard,
        source_hold=t.handoff,
        removed=t.removed,
        kept=t.kept,
        warnings=t.warnings,
        timings_seconds=step_seconds(timings),
    )
