"""Whether a backup still describes its source: `migrate` may carry on with a backup the
destination already runs only if the source stayed held for the migration since that backup
and the backed-up objects have not changed.

A backup records a version of each object of the HC's namespace (the HostedCluster, its
NodePools, Secrets and ConfigMaps: what a person changes). An object with a generation is
compared by it (a spec change; not status, annotations or finalizers that controllers write),
one without (Secret, ConfigMap) by resourceVersion. The control-plane namespace is left out:
its objects follow the HC, whose controllers are paused while the source is held.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Obj = dict[str, Any]


def key_of(obj: Obj) -> str:
    meta = obj["metadata"]
    return f"{obj['kind']} {meta.get('namespace', '')}/{meta['name']}"


def version_of(obj: Obj) -> str:
    meta = obj["metadata"]
    if meta.get("generation"):
        return f"generation {meta['generation']}"
    return f"resourceVersion {meta.get('resourceVersion', '')}"


def versions_of(objs: Iterable[Obj]) -> dict[str, str]:
    return {key_of(o): version_of(o) for o in objs}


def changes_since(recorded: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """What differs, one phrase each: changed, gone, or new since the backup."""
    out = [f"{k} changed ({v} -> {now[k].split()[-1]})" for k, v in recorded.items() if k in now and now[k] != v]
    out += [f"{k} is gone" for k in recorded if k not in now]
    out += [f"{k} is new" for k in now if k not in recorded]
    return sorted(out)


def held_since(hold_backup_id: str | None, backup_id: str) -> bool:
    """Whether a source held by the hand-off of `hold_backup_id` was held when `backup_id` was
    taken: ids sort in time order, and one run at a time holds the HC."""
    return hold_backup_id is not None and hold_backup_id <= backup_id


def stale_reasons(
    hold_backup_id: str | None, backup_id: str, recorded: Mapping[str, str], now: Mapping[str, str]
) -> list[str]:
    """Why the backup no longer describes the source ([]: it does). A manifest from before
    versions were recorded cannot prove anything but the hold."""
    reasons = [] if held_since(hold_backup_id, backup_id) else [_not_held(hold_backup_id)]
    return reasons + changes_since(recorded, now) if recorded else reasons


def _not_held(hold_backup_id: str | None) -> str:
    if hold_backup_id is None:
        return "the source was not held for a migration since (it was resumed, or never held)"
    return f"the source is held for a later backup ({hold_backup_id})"
