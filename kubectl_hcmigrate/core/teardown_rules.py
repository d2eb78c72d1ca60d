"""teardown's rules, apart from the calls that act on them: whether the destination vouches
for the source's hosted cluster, and what in a shared namespace belongs to someone else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubectl_hcmigrate.core import objects
from kubectl_hcmigrate.core.kinds import is_namespace_default
from kubectl_hcmigrate.core.marks import BACKUP_ID, NODEPOOLS_LEFT_OUT, SOURCE_UID, annotations_of, restored_from
from kubectl_hcmigrate.core.objects import name_of
from kubectl_hcmigrate.core.wait import condition_state

Obj = dict[str, Any]


def guard_problem(dst_hc: Obj | None, source_uid: str | None, *, where: str, uid_required: bool) -> str | None:
    """Why the source may not be torn down, or None; `where` names the destination's HC."""
    if dst_hc is None:
        return f"HostedCluster {where} not found: restore it there first, or check --to-context"
    if source_uid is not None and dst_hc["metadata"].get("uid") == source_uid:
        return f"HostedCluster {where} is the source's own: point --to-context at the destination cluster"
    marks = annotations_of(dst_hc)
    if not marks.get(BACKUP_ID) or not marks.get(SOURCE_UID):
        return f"HostedCluster {where} has no {SOURCE_UID} and {BACKUP_ID}: it was not restored by hcmigrate"
    if restored_from(dst_hc, source_uid) is None:
        return (
            f"HostedCluster {where} comes from another backup ({SOURCE_UID} {marks[SOURCE_UID]}, but the "
            f"source's uid is {source_uid}): restore this cluster's backup there first"
        )
    if source_uid is None and uid_required:
        return "the source HostedCluster is gone and its control-plane namespace has no hcmigrate record"
    if (available := condition_state(dst_hc, "Available")) != "True":
        return f"HostedCluster {where} is not Available ({available}): wait until its restore finishes"
    return None


def pools_kept(
    own: set[tuple[str, str]], dst_hc: Obj | None, on_destination: Callable[[str], bool], where: str
) -> tuple[set[str], str | None]:
    """The NodePools of this HC that the destination lacks because its restore left them out (no
    --with-nodes, T14): they stay on the source, held, with their workers; and why not, when it lacks
    one its restore meant to create. Restore creates the NodePools after the HC, so a restore cut
    short there leaves an HC that comes up Available alone, and the teardown would take away the
    source's NodePool that nothing else holds now."""
    missing = {n for kind, n in own if kind == "NodePool" and not on_destination(n)}
    left_out = {n for n in annotations_of(dst_hc).get(NODEPOOLS_LEFT_OUT, "").split(",") if n}
    if not (unfinished := missing - left_out):
        return missing, None
    problem = f"HostedCluster {where} has no NodePool {', '.join(sorted(unfinished))}: its restore did not finish"
    return missing & left_out, f"{problem}; run restore again"


def keep_pools(own: set[tuple[str, str]], pools: list[Obj], kept: set[str]) -> set[tuple[str, str]]:
    """`own` without the NodePools kept on the source and the Secrets and ConfigMaps they reference."""
    refs = {n for p in pools if name_of(p) in kept for n in objects.referenced_names(p)}
    return own - {("NodePool", n) for n in kept} - {(k, n) for n in refs for k in ("Secret", "ConfigMap")}


def kept_pool_notes(ns: str, kept: set[str]) -> tuple[list[str], list[str]]:
    """What teardown's result says of the NodePools kept on the source: kept, and warnings."""
    return [f"NodePool {ns}/{n}: left out by its restore (no --with-nodes)" for n in sorted(kept)], [
        f"NodePool {ns}/{n} stays on the source, paused: its restore left it out (no --with-nodes), so the "
        "destination does not have it, and its workers run on; run restore --with-nodes to adopt them there, "
        "then teardown again to remove it here"
        for n in sorted(kept)
    ]


def leftovers(contents: list[Obj], own: set[tuple[str, str]], owner_uid: str | None) -> list[str]:
    """What in the HC namespace is someone else's: while anything is, the namespace stays."""

    def someone_elses(o: Obj) -> bool:
        owners = {r.get("uid") for r in o["metadata"].get("ownerReferences") or []}
        if (o["kind"], name_of(o)) in own or (owner_uid is not None and owner_uid in owners):
            return False
        return not is_namespace_default(o)

    return sorted({f"{o['kind']} {name_of(o)}" for o in contents if someone_elses(o)})


def own_objects(
    ref: Obj,
    hc: Obj | None,
    pools: list[Obj],
    secrets: list[Obj],
    configmaps: list[Obj],
    hcs: list[Obj],
    recorded: list[str],
) -> set[tuple[str, str]]:
    """(kind, name) of what in the shared HC namespace is this HC's: the HC, its NodePools, the
    Secrets and ConfigMaps they reference or that carry its name, and what an earlier run recorded
    (`Kind/name`: once the HC is gone its references cannot be followed). A Secret another HC or its
    NodePools reference is theirs too: never ours to delete."""
    own_secrets, own_configmaps = objects.select_hc_namespace_objects(ref, pools, secrets, configmaps, hcs)
    own = {(o["kind"], name_of(o)) for o in [*([hc] if hc else []), *objects.nodepools_of(ref, pools)]}
    own |= {("Secret", name_of(s)) for s in own_secrets} | {("ConfigMap", name_of(c)) for c in own_configmaps}
    own |= {(k, n) for k, _, n in (r.partition("/") for r in recorded)}
    others = [o for o in [*hcs, *pools] if (o["kind"], name_of(o)) not in own]
    return own - {(kind, n) for o in others for n in objects.referenced_names(o) for kind in ("Secret", "ConfigMap")}
