"""prune: retention for a bucket. Lists the backups as `list` does, decides per HC
(core/retention.py) and deletes what the policy lets go: each backup's manifest.json first, so
a backup being removed stops looking complete before any of its files goes, then its other
objects and any multipart upload left under it.

Only the S3 bucket is touched; the backups decided on are the ones listed when prune started, so
a backup that starts meanwhile is not among them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kubectl_hcmigrate.core.catalog import catalog, group_backups
from kubectl_hcmigrate.core.layout import BackupLayout, Manifest, parse_backup_id, scope_prefix
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.ports import BucketPort, Reporter
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.core.retention import Backup, Decision, Policy, decide


@dataclass(frozen=True)
class PruneOptions:
    bucket: BucketTarget
    policy: Policy
    namespace: str | None = None  # None: every namespace
    name: str | None = None  # None: every HC (of `namespace`)


Found = dict[Backup, tuple[BackupLayout, list[str]]]


def plan(opts: PruneOptions, bucket: BucketPort, now: datetime | None = None) -> tuple[list[Decision], Found]:
    """The decisions, and each backup's layout and keys; reads only."""
    bucket.preflight(probe_write=False)
    sizes = bucket.list_sizes(scope_prefix(opts.namespace, opts.name))
    groups = group_backups(sizes)
    entries = catalog(sizes, lambda b: Manifest.from_json(bucket.get_bytes(b.manifest_key)))
    found = [
        Backup(
            f"{e.layout.namespace}/{e.layout.name}", e.layout.backup_id, e.status, parse_backup_id(e.layout.backup_id)
        )
        for e in entries
    ]
    decisions = decide(found, opts.policy, now or datetime.now(timezone.utc))
    by_id = {(f"{layout.namespace}/{layout.name}", layout.backup_id): layout for layout in groups}
    return decisions, {
        d.backup: (by_id[k], groups[by_id[k]]) for d in decisions for k in [(d.backup.hc, d.backup.backup_id)]
    }


def prune(
    opts: PruneOptions, bucket: BucketPort, reporter: Reporter, *, dry_run: bool, confirm: Callable[[int], bool],
    now: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    decisions, where = plan(opts, bucket, now)
    doomed = [d for d in decisions if d.delete]
    deleted: list[str] = []
    if doomed and not dry_run:
        for d in doomed:
            reporter.line(f"to delete: {d.backup.hc} {d.backup.backup_id} ({d.reason})")
        if not confirm(len(doomed)):
            raise PreflightError("nothing was deleted: not confirmed")
        for d in doomed:
            layout, keys = where[d.backup]
            _delete(bucket, layout, keys)
            deleted.append(f"{d.backup.hc}/{d.backup.backup_id}")
            reporter.line(f"deleted {d.backup.hc} {d.backup.backup_id} ({len(keys)} objects)")
    return {
        "outcome": "SUCCEEDED",
        "dry_run": dry_run,
        "where": f"s3://{bucket.name}/{bucket.full_key(scope_prefix(opts.namespace, opts.name))}",
        "backups": [_row(d, dry_run) for d in decisions],
        "deleted": deleted,
    }


def _delete(bucket: BucketPort, layout: BackupLayout, keys: list[str]) -> None:
    # The manifest first: from then on the backup reads as incomplete, never as complete with
    # files missing, whatever stops this half-way (a re-run deletes the rest: it is old).
    for key in sorted(keys, key=lambda k: k != layout.manifest_key):
        bucket.delete(key)
    bucket.abort_incomplete_uploads(layout.backup_root + "/")


def _row(d: Decision, dry_run: bool) -> dict[str, Any]:
    action = "keep" if not d.delete else ("would delete" if dry_run else "deleted")
    hc = d.backup.hc
    return {"hostedcluster": hc, "backup_id": d.backup.backup_id, "status": d.backup.status,
            "action": action, "reason": d.reason}  # fmt: skip


def show(result: dict[str, Any], *, as_json: bool) -> None:
    import json

    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, sort_keys=True) + "\n")
        return
    rows = [("HOSTEDCLUSTER", "BACKUP ID", "STATUS", "ACTION", "WHY")]
    rows += [(r["hostedcluster"], r["backup_id"], r["status"], r["action"], r["reason"]) for r in result["backups"]]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        sys.stdout.write("   ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + f"   {r[4]}\n")
    if not result["backups"]:
        sys.stderr.write(f"no backups under {result['where']}\n")
