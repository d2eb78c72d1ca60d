"""teardown: delete a migrated hosted cluster from the source without letting HyperShift
destroy what the destination now runs.

Preflight only reads: it refuses unless the destination runs the HC restored from this very
source HC and it is Available. Each object loses its finalizers before it is deleted, so
HyperShift's and CAPI's delete paths (terminate the workers, delete PrivateLink, wipe the
OIDC documents) never run: the destination uses all of that now. Every step re-reads what is
left and treats "gone" as done, so an interrupted teardown completes when run again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from kubectl_hcmigrate import objects
from kubectl_hcmigrate.kinds import KindRule, rule_for, teardown_order
from kubectl_hcmigrate.kube import Kube
from kubectl_hcmigrate.objects import name_of
from kubectl_hcmigrate.pipeline import Plan, Step
from kubectl_hcmigrate.report import PreflightError, StepFailed
from kubectl_hcmigrate.source_state import HC, NODEPOOL, SourceControl, SourceState
from kubectl_hcmigrate.ui import Reporter

Obj = dict[str, Any]
# restore writes both on the destination HC. teardown also writes SOURCE_UID on the source's
# HCP namespace before the first deletion, so that a re-run can still check the identity once
# the source HC is gone; the namespace goes last, and the record with it.
BACKUP_ID = "hcmigrate.openshift.io/backup-id"
SOURCE_UID = "hcmigrate.openshift.io/source-uid"
WORKLOADS = ("deployments", "statefulsets")
# A finalizer or object that keeps coming back means a controller still reconciles it.
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
    kube: Kube
    reporter: Reporter
    destination: str
    hc: Obj | None
    source_uid: str | None
    recorded_uid: str | None
    # This HC's objects in its (maybe shared) namespace, as (kind, name).
    own: set[tuple[str, str]]
    guard: str = "passed"
    warnings: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def hcp_ns(self) -> str:
        return f"{self.opts.namespace}-{self.opts.name}"


def _ref(opts: TeardownOptions) -> Obj:
    """Enough of the HC to find what names it, when the HC itself may be gone."""
    return {"metadata": {"name": opts.name, "namespace": opts.namespace}}


def _annotations(obj: Obj | None) -> dict[str, str]:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def _condition(obj: Obj, kind: str) -> Obj:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def guard_problem(dst_hc: Obj | None, source_uid: str | None, *, where: str, uid_required: bool) -> str | None:
    """Why the source may not be torn down, or None. `where`: "ns/name on the destination (...)"."""
    if dst_hc is None:
        return f"HostedCluster {where} not found: restore it there first, or check --to-context"
    marks = _annotations(dst_hc)
    if not marks.get(BACKUP_ID) or not marks.get(SOURCE_UID):
        return (
            f"HostedCluster {where} was not restored by hcmigrate (no {BACKUP_ID} and {SOURCE_UID} "
            "annotations), so nothing proves it is this cluster: restore it with `hcmigrate restore`"
        )
    if source_uid is not None and dst_hc["metadata"].get("uid") == source_uid:
        return f"HostedCluster {where} is the source's own object: point --to-context at the destination cluster"
    if source_uid is not None and marks[SOURCE_UID] != source_uid:
        return (
            f"HostedCluster {where} comes from another backup: its {SOURCE_UID} is {marks[SOURCE_UID]}, "
            f"the source HostedCluster's uid is {source_uid}; restore this cluster's backup there first"
        )
    if source_uid is None and uid_required:
        return (
            "the source HostedCluster is gone and its control-plane namespace carries no hcmigrate record, "
            "so nothing proves the destination runs it; pass --force to tear down the rest anyway"
        )
    available = _condition(dst_hc, "Available")
    if available.get("status") != "True":
        why = ": ".join(v for v in (available.get("reason"), available.get("message")) if v)
        return (
            f"HostedCluster {where} is not Available (Available={available.get('status', 'unknown')}"
            f"{f', {why}' if why else ''}): wait until restore finishes, then run teardown again"
        )
    return None


def preflight(opts: TeardownOptions, kube: Kube, destination: Callable[[], Kube], reporter: Reporter) -> Teardown:
    ns, name = opts.namespace, opts.name
    hc = kube.get(HC, ns, name)
    hcp = kube.namespace(f"{ns}-{name}")
    recorded_uid = _annotations(hcp).get(SOURCE_UID)
    source_uid = hc["metadata"]["uid"] if hc else recorded_uid
    dst_context, problem = "", None
    try:
        dst = destination()
        dst_context, where = dst.context, f"{ns}/{name} on the destination (context '{dst.context}')"
        problem = guard_problem(dst.get(HC, ns, name), source_uid, where=where, uid_required=hcp is not None)
    except PreflightError as e:  # the destination is unreachable: only --force goes on without it
        problem = str(e)
    # Without the HC, its Secrets are known by name prefix only: the rest keep the namespace.
    ref = hc or _ref(opts)
    pools = kube.list(NODEPOOL, ns)
    secrets, configmaps = objects.select_hc_namespace_objects(
        ref, pools, kube.list(rule_for("Secret", "hc"), ns), kube.list(rule_for("ConfigMap", "hc"), ns),
        kube.list(HC, ns),
    )  # fmt: skip
    own = {(o["kind"], name_of(o)) for o in [*([hc] if hc else []), *objects.nodepools_of(ref, pools)]}
    own |= {("Secret", name_of(s)) for s in secrets} | {("ConfigMap", name_of(c)) for c in configmaps}
    t = Teardown(opts, kube, reporter, dst_context, hc, source_uid, recorded_uid, own)
    if problem and not opts.force:
        raise PreflightError(f"{problem}; nothing was changed")
    if problem:
        t.guard = f"skipped (--force): {problem}"
        t.warnings.append(t.guard)
        reporter.line(f"warning: {problem}; going on because of --force")
    return t


def confirm_force(name: str, *, yes: bool, stdin: TextIO, stderr: TextIO) -> None:
    """--force deletes without proof that the destination runs the HC: make the user say so."""
    if yes:
        return
    if not stdin.isatty():
        raise PreflightError("--force needs --yes when there is no terminal to confirm on; nothing was changed")
    stderr.write(f"--force: type the HostedCluster's name ({name}) to delete it from the source: ")
    stderr.flush()
    if stdin.readline().strip() != name:
        raise PreflightError("the name typed does not match; nothing was changed")


def build_plan(t: Teardown) -> Plan:
    plan = Plan("teardown")
    plan.add(Step("record source identity", lambda: _record(t), changes=lambda: _record_changes(t)))
    plan.add(Step("pause", lambda: _pause(t), changes=lambda: _pause_changes(t)))
    plan.add(Step("scale down control plane", lambda: _scale_down(t), changes=lambda: _scale_changes(t)))
    for rule in teardown_order():
        run, changes = functools.partial(_remove_kind, t, rule), functools.partial(_remove_changes, t, rule)
        plan.add(Step(f"remove {rule.kind}s", run, changes=changes))
    plan.add(Step("delete HCP namespace", lambda: _delete_hcp_namespace(t), changes=lambda: _hcp_ns_changes(t)))
    plan.add(Step("clean up HC namespace", lambda: _clean_hc_namespace(t), changes=lambda: _hc_ns_changes(t)))
    return plan


def _record(t: Teardown) -> None:
    if _record_changes(t):
        t.kube.annotate_namespace(t.hcp_ns, {SOURCE_UID: t.source_uid})


def _record_changes(t: Teardown) -> list[str]:
    if t.hc is None or t.recorded_uid == t.source_uid or t.kube.namespace(t.hcp_ns) is None:
        return []
    return [f"annotate Namespace {t.hcp_ns} with {SOURCE_UID}={t.source_uid}, for a re-run to check"]


def _pauser(t: Teardown) -> SourceControl | None:
    """Pausing keeps the HyperShift operator from scaling the control plane up again."""
    if t.kube.get(HC, t.opts.namespace, t.opts.name) is None:
        return None
    pools = objects.nodepools_of(_ref(t.opts), t.kube.list(NODEPOOL, t.opts.namespace))
    state = SourceState(None, dict.fromkeys(name_of(p) for p in pools))
    return SourceControl(t.kube, t.opts.namespace, t.opts.name, state)


def _pause(t: Teardown) -> None:
    if pauser := _pauser(t):
        pauser.pause()


def _pause_changes(t: Teardown) -> list[str]:
    pauser = _pauser(t)
    return pauser.pause_changes() if pauser else []


def _scale_targets(t: Teardown) -> list[tuple[str, Obj]]:
    return [(plural, w) for plural in WORKLOADS for w in t.kube.workloads(plural, t.hcp_ns)]


def _drops_pvcs(workload: Obj) -> bool:
    """etcd's volumes would go with the scale-down; Retain keeps them until the namespace goes."""
    policy = workload["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
    return policy.get("whenScaled") == "Delete"


def _scale_changes(t: Teardown) -> list[str]:
    out = []
    for plural, w in _scale_targets(t):
        what = f"{w.get('kind', plural[:-1].title())} {t.hcp_ns}/{name_of(w)}"
        if _drops_pvcs(w):
            out.append(f"set spec.persistentVolumeClaimRetentionPolicy.whenScaled=Retain on {what}")
        if w["spec"].get("replicas", 1) != 0:
            out.append(f"scale {what} from {w['spec'].get('replicas', 1)} to 0")
    return out


def _scale_down(t: Teardown) -> None:
    for plural, w in _scale_targets(t):
        if _drops_pvcs(w):
            retain = {"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Retain"}}}
            t.kube.patch_workload(plural, t.hcp_ns, name_of(w), retain)
        if w["spec"].get("replicas", 1) != 0:
            t.kube.scale(plural, t.hcp_ns, name_of(w), 0)
    # The CAPI and CAPA controllers run here: none may see a deletion. Removing finalizers
    # first is the real protection, so a pod stuck terminating is a warning, not a failure.
    if not _wait(lambda: not [p for p in t.kube.pods(t.hcp_ns) if _run_by_workload(p)], min(60, t.opts.timeout)):
        t.warnings.append(f"control-plane pods in {t.hcp_ns} still terminating; went on")
        t.reporter.line(f"warning: {t.warnings[-1]}")


def _run_by_workload(pod: Obj) -> bool:
    return any(o.get("kind") in ("ReplicaSet", "StatefulSet") for o in pod["metadata"].get("ownerReferences") or [])


def _wait(done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True


# The HC namespace is shared (other HCs live there): its kinds say how they name their HC.
# The HCP namespace is this HC's alone: everything of a kind there is its own.
HC_NAMESPACE_SELECTORS: dict[KindRule, Callable[[Obj, list[Obj]], list[Obj]]] = {
    HC: lambda ref, items: [o for o in items if name_of(o) == name_of(ref)],
    NODEPOOL: objects.nodepools_of,
}


def _targets(t: Teardown, rule: KindRule) -> tuple[str, list[Obj]]:
    if rule.scope == "hcp":
        return t.hcp_ns, t.kube.list(rule, t.hcp_ns)
    return t.opts.namespace, HC_NAMESPACE_SELECTORS[rule](_ref(t.opts), t.kube.list(rule, t.opts.namespace))


def _remove_changes(t: Teardown, rule: KindRule) -> list[str]:
    ns, items = _targets(t, rule)
    out = []
    for o in items:
        fins = o["metadata"].get("finalizers")
        out.append(f"{f'remove finalizers {fins} from, then ' if fins else ''}delete {rule.kind} {ns}/{name_of(o)}")
    return out


def _remove_kind(t: Teardown, rule: KindRule) -> None:
    ns, items = _targets(t, rule)
    for o in items:
        _strip_and_delete(t, rule, ns, o)
    for o in items:
        _wait_gone(t, rule, ns, name_of(o))
        t.removed.append(f"{rule.kind} {ns}/{name_of(o)}")


def _strip_and_delete(t: Teardown, rule: KindRule, ns: str, obj: Obj) -> None:
    if obj["metadata"].get("finalizers"):
        t.kube.remove_finalizers(rule, ns, name_of(obj))
    t.kube.delete(rule, ns, name_of(obj))


def _wait_gone(t: Teardown, rule: KindRule, ns: str, name: str) -> None:
    deadline, removals = time.monotonic() + t.opts.timeout, 1
    while (obj := t.kube.get(rule, ns, name)) is not None:
        meta = obj["metadata"]
        # Held by a finalizer a controller put back, or created again: remove it again.
        if meta.get("finalizers") or not meta.get("deletionTimestamp"):
            if removals >= MAX_REMOVALS:
                raise StepFailed(
                    f"{rule.kind} {ns}/{name} came back {removals} times (finalizers {meta.get('finalizers')}): "
                    "a controller still reconciles it; stop it (is the HyperShift operator scaled up and the "
                    "HostedCluster unpaused?) and run teardown again to finish"
                )
            removals += 1
            _strip_and_delete(t, rule, ns, obj)
        elif time.monotonic() > deadline:
            raise StepFailed(f"{rule.kind} {ns}/{name} is still being deleted after {t.opts.timeout:.0f}s")
        time.sleep(POLL)


def _hcp_ns_changes(t: Teardown) -> list[str]:
    return [f"delete Namespace {t.hcp_ns} and all that is left in it"] if t.kube.namespace(t.hcp_ns) else []


def _delete_hcp_namespace(t: Teardown) -> None:
    if t.kube.namespace(t.hcp_ns) is None:
        return
    t.kube.delete_namespace(t.hcp_ns)

    def gone() -> bool:
        # Whatever a controller created meanwhile would hold the namespace by its finalizers.
        for rule in teardown_order():
            if rule.scope == "hcp":
                for o in t.kube.list(rule, t.hcp_ns):
                    if o["metadata"].get("finalizers"):
                        t.kube.remove_finalizers(rule, t.hcp_ns, name_of(o))
        return t.kube.namespace(t.hcp_ns) is None

    if not _wait(gone, t.opts.timeout):
        conditions = (t.kube.namespace(t.hcp_ns) or {}).get("status", {}).get("conditions") or []
        why = "; ".join(c.get("message", "") for c in conditions if c.get("status") == "True")
        raise StepFailed(f"Namespace {t.hcp_ns} is still terminating after {t.opts.timeout:.0f}s: {why or '?'}")
    t.removed.append(f"Namespace {t.hcp_ns}")


# What every namespace holds without anyone putting it there: no reason to keep one.
_DEFAULT_CONTENT: dict[str, Callable[[Obj], bool]] = {
    "Event": lambda o: True,  # history, not content
    "ConfigMap": lambda o: name_of(o) in ("kube-root-ca.crt", "openshift-service-ca.crt"),
    "ServiceAccount": lambda o: name_of(o) in ("default", "builder", "deployer"),
    "RoleBinding": lambda o: name_of(o) in ("system:image-pullers", "system:image-builders", "system:deployers"),
    "Secret": objects.is_generated_secret,  # service account tokens and their registry configs
}


def leftovers(contents: list[Obj], own: set[tuple[str, str]], owner_uid: str | None) -> list[str]:
    """What in the HC namespace is someone else's: while anything is, the namespace stays."""

    def someone_elses(o: Obj) -> bool:
        owners = {r.get("uid") for r in o["metadata"].get("ownerReferences") or []}
        if (o["kind"], name_of(o)) in own or (owner_uid is not None and owner_uid in owners):
            return False
        return not _DEFAULT_CONTENT.get(o["kind"], lambda _: False)(o)

    return sorted({f"{o['kind']} {name_of(o)}" for o in contents if someone_elses(o)})


def _hc_ns_verdict(t: Teardown) -> list[str] | None:
    """None: the namespace is gone; else what keeps it (empty: it can go)."""
    if t.kube.namespace(t.opts.namespace) is None:
        return None
    contents, unlisted = t.kube.namespace_contents(t.opts.namespace)
    return leftovers(contents, t.own, t.source_uid) + [f"(could not list {u})" for u in unlisted]


def _hc_ns_changes(t: Teardown) -> list[str]:
    others = _hc_ns_verdict(t)
    if others is None:
        return []
    if others:
        return [f"keep Namespace {t.opts.namespace}: it also holds {_summary(others)}"]
    return [f"delete Namespace {t.opts.namespace}: nothing else lives in it"]


def _summary(items: list[str], most: int = 5) -> str:
    return ", ".join(items[:most]) + (f" and {len(items) - most} more" if len(items) > most else "")


def _clean_hc_namespace(t: Teardown) -> None:
    others = _hc_ns_verdict(t)
    if others is None:
        return
    if others:
        t.kept.append(f"Namespace {t.opts.namespace}: it also holds {_summary(others)}")
        t.reporter.line(f"keeping {t.kept[-1]}")
        return
    t.kube.delete_namespace(t.opts.namespace)
    if not _wait(lambda: t.kube.namespace(t.opts.namespace) is None, t.opts.timeout):
        raise StepFailed(f"Namespace {t.opts.namespace} is still terminating after {t.opts.timeout:.0f}s")
    t.removed.append(f"Namespace {t.opts.namespace}")


def result(t: Teardown, timings: dict[str, float]) -> dict[str, Any]:
    return {
        "outcome": "SUCCEEDED_WITH_WARNINGS" if t.warnings else "SUCCEEDED",
        "hostedcluster": f"{t.opts.namespace}/{t.opts.name}",
        "destination_context": t.destination,
        "guard": t.guard,
        "removed": t.removed,
        "kept": t.kept,
        "warnings": t.warnings,
        "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
    }
