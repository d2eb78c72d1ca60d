"""list: the backups in a bucket, one row each, as core/catalog.py finds them.

Only reads: the listing, and each complete backup's manifest.json.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from kubectl_hcmigrate.core.catalog import DAMAGED, INCOMPLETE, catalog
from kubectl_hcmigrate.core.layout import BackupLayout, Manifest, scope_prefix
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.ports import BucketPort
from kubectl_hcmigrate.core.units import human_bytes

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
