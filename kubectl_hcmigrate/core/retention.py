"""Which backups `prune` keeps, per HC: pure rules over what the bucket lists (restic's forget
policy, a backup kept when any rule keeps it). Three hold whatever the flags say: the newest
complete backup of an HC is never deleted, an incomplete one younger than the grace may still be
uploading and is kept, and a damaged one is left for a person to look at."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kubectl_hcmigrate.core.units import format_duration

COMPLETE, INCOMPLETE = "complete", "incomplete"


@dataclass(frozen=True)
class Policy:
    keep_last: int | None = None  # the N newest complete backups of each HC
    keep_within: int | None = None  # seconds: complete backups started at most this long ago
    incomplete_grace: int = 24 * 3600  # seconds an unfinished backup's upload may still be running

    def check(self) -> None:
        if self.keep_last is None and self.keep_within is None:
            raise ValueError("say what to keep: --keep-last N, --keep-within DURATION, or both")
        if (self.keep_last is not None and self.keep_last < 1) or (
            self.keep_within is not None and self.keep_within < 0
        ):
            raise ValueError("--keep-last must be at least 1 and --keep-within not negative")


@dataclass(frozen=True)
class Backup:
    hc: str  # namespace/name
    backup_id: str
    status: str  # complete, incomplete, or anything else (damaged): never deleted
    started: datetime  # from the backup id: all an unfinished backup can tell


@dataclass(frozen=True)
class Decision:
    backup: Backup
    delete: bool
    reason: str


def decide(backups: Iterable[Backup], policy: Policy, now: datetime) -> list[Decision]:
    """One decision per backup, newest first within each HC."""
    by_hc: dict[str, list[Backup]] = {}
    for b in sorted(backups, key=lambda b: b.backup_id, reverse=True):
        by_hc.setdefault(b.hc, []).append(b)
    decisions: list[Decision] = []
    for hc in sorted(by_hc):
        complete = 0
        for b in by_hc[hc]:
            age = (now - b.started).total_seconds()
            if b.status == COMPLETE:
                complete += 1
                decisions.append(Decision(b, *_complete(complete, age, policy)))
            elif b.status == INCOMPLETE:
                if age < policy.incomplete_grace:
                    why = f"incomplete, started {_ago(age)} ago: its upload may still be running"
                    decisions.append(Decision(b, False, why))
                else:
                    decisions.append(Decision(b, True, f"incomplete (interrupted), started {_ago(age)} ago"))
            else:
                decisions.append(Decision(b, False, f"{b.status}: left for a person to look at"))
    return decisions


def _complete(rank: int, age: float, policy: Policy) -> tuple[bool, str]:
    if rank == 1:
        return False, "the newest complete backup of this HC"
    if policy.keep_last is not None and rank <= policy.keep_last:
        return False, f"one of the {policy.keep_last} newest complete"
    if policy.keep_within is not None and age <= policy.keep_within:
        return False, f"within {format_duration(policy.keep_within)}"
    return True, f"complete, started {_ago(age)} ago: beyond what the policy keeps"


def _ago(seconds: float) -> str:
    """An age to the minute (to the second under one)."""
    return format_duration(seconds if seconds < 60 else seconds // 60 * 60)
