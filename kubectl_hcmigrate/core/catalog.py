"""The backups among a bucket's keys, each complete, incomplete or damaged: what `list` shows and
`prune` decides on. Keys are read back through layout.py, the module that names them for backup
and restore, so no reader sees a backup that restore would not (or calls one complete that
restore would refuse for want of a manifest). Pure: the manifests are read by the caller's
function."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_hcmigrate.core.layout import (
    BackupLayout,
    Manifest,
    backup_of_key,
    complete_backup_ids,
    parse_backup_id,
    utc_timestamp,
)
from kubectl_hcmigrate.core.report import PreflightError

COMPLETE, INCOMPLETE, DAMAGED = "complete", "incomplete", "damaged"


@dataclass(frozen=True)
class Entry:
    layout: BackupLayout
    status: str
    created: str
    snapshot_size: int | None
    source_context: str | None = None
    problem: str | None = None

    def to_dict(self, location: str) -> dict[str, Any]:
        return {
            "namespace": self.layout.namespace,
            "name": self.layout.name,
            "backup_id": self.layout.backup_id,
            "created": self.created,
            "status": self.status,
            "complete": self.status == COMPLETE,
            "snapshot_size": self.snapshot_size,
            "source_context": self.source_context,
            "location": location,
            "problem": self.problem,
        }


def group_backups(keys: Iterable[str]) -> dict[BackupLayout, list[str]]:
    """Each backup's keys; keys that are no backup's (another tool's, a probe) are left out."""
    found: dict[BackupLayout, list[str]] = {}
    for key in keys:
        layout = backup_of_key(key)
        if layout is not None:
            found.setdefault(layout, []).append(key)
    return found


def newest_first(layouts: Iterable[BackupLayout]) -> list[BackupLayout]:
    """By HC (namespace, then name), newest first within each HC."""
    newest = sorted(layouts, key=lambda b: b.backup_id, reverse=True)
    return sorted(newest, key=lambda b: (b.namespace, b.name))  # stable: keeps newest first


def catalog(sizes: Mapping[str, int], read_manifest: Callable[[BackupLayout], Manifest]) -> list[Entry]:
    """One entry per backup among the listed keys (key -> size), in `newest_first` order."""
    groups = group_backups(sizes)
    entries = []
    for b in newest_first(groups):
        # The backup id is the time it started: all an unfinished backup can tell.
        started, listed_size = utc_timestamp(parse_backup_id(b.backup_id)), sizes.get(b.snapshot_key)
        if b.backup_id not in complete_backup_ids(groups[b]):
            entries.append(Entry(b, INCOMPLETE, started, listed_size))
            continue
        try:
            m = read_manifest(b)
            _check_names(m, b)
        except PreflightError as e:
            entries.append(Entry(b, DAMAGED, started, listed_size, problem=str(e)))
            continue
        entries.append(Entry(b, COMPLETE, m.created, m.snapshot.size, m.source_context))
    return entries


def _check_names(m: Manifest, b: BackupLayout) -> None:
    hc = m.hostedcluster
    if (hc.namespace, hc.name, m.backup_id) != (b.namespace, b.name, b.backup_id):
        raise PreflightError(
            f"manifest.json at {b.manifest_key} is of backup {m.backup_id} of {hc.namespace}/{hc.name}"
        )
