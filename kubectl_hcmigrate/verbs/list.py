"""list: the backups in a bucket, one row each. Keys are read back through layout.py, the
module that names them for backup and restore, so list cannot see a backup that restore
would not (or call one complete that restore would refuse for want of a manifest).

Only reads: the listing, and each complete backup's manifest.json.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_hcmigrate.core.layout import (
    BackupLayout,
    Manifest,
    backup_of_key,
    complete_backup_ids,
    parse_backup_id,
    scope_prefix,
    utc_timestamp,
)
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.ports import BucketPort
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.core.units import human_bytes

COMPLETE, INCOMPLETE, DAMAGED = "complete", "incomplete", "damaged"
# Said once under the table for each status that needs it.
MEANING = {
    INCOMPLETE: "incomplete: no manifest.json, the backup was interrupted; restore never picks it",
    DAMAGED: "damaged: manifest.json is unreadable or names another backup (see -o json); restore refuses it",
}
HEADERS = ("HOSTEDCLUSTER", "BACKUP ID", "CREATED", "SNAPSHOT", "SOURCE CONTEXT", "STATUS")
WIDE = ("LOCATION", "PROBLEM")


@dataclass(frozen=True)
class ListOptions:
    bucket: BucketTarget
    namespace: str | None = None  # None: every namespace
    name: str | None = None  # None: every HC (of `namespace`)


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


def table(rows: list[dict[str, Any]], *, wide: bool = False, headers: bool = True) -> str:
    """`rows` (list's JSON items) as kubectl prints a table: padded columns, 3 spaces apart;
    `wide` adds where each backup is and what is wrong with a damaged one."""
    head = HEADERS + (WIDE if wide else ())
    cells = [head] if headers else []
    for r in rows:
        size = "-" if r["snapshot_size"] is None else human_bytes(r["snapshot_size"])
        line = (
            f"{r['namespace']}/{r['name']}",
            r["backup_id"],
            r["created"],
            size,
            r["source_context"] or "-",
            r["status"],
        )
        cells.append(line + ((r["location"], r["problem"] or "-") if wide else ()))
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    return "".join("   ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n" for line in cells)


def list_backups(opts: ListOptions, bucket: BucketPort) -> dict[str, Any]:
    prefix = scope_prefix(opts.namespace, opts.name)
    bucket.preflight(probe_write=False)
    sizes = bucket.list_sizes(prefix)
    entries = catalog(sizes, lambda b: Manifest.from_json(bucket.get_bytes(b.manifest_key)))

    def location(b: BackupLayout) -> str:
        return f"s3://{bucket.name}/{bucket.full_key(b.backup_root)}/"

    return {
        "outcome": "SUCCEEDED",
        "where": f"s3://{bucket.name}/{bucket.full_key(prefix)}",
        "backups": [e.to_dict(location(e.layout)) for e in entries],
    }


def show(result: dict[str, Any], *, wide: bool = False, headers: bool = True) -> None:
    """The table on stdout; notes on stderr, as kubectl does."""
    rows = result["backups"]
    if not rows:
        sys.stderr.write(f"no backups under {result['where']}: check --bucket, --prefix, --hc and -n\n")
        return
    sys.stdout.write(table(rows, wide=wide, headers=headers))
    for status in dict.fromkeys(r["status"] for r in rows):
        if status in MEANING:
            sys.stderr.write(MEANING[status] + "\n")
