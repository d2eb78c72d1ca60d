"""prune's rules, per HC: the newest complete backup always stays, an unfinished one younger than
the grace may still be uploading and stays, a damaged one is left for a person."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kubectl_hcmigrate.core.retention import Backup, Policy, decide

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=timezone.utc)


def b(hc: str, days: float, status: str = "complete") -> Backup:
    started = NOW - timedelta(days=days)
    return Backup(hc, started.strftime("%Y%m%dT%H%M%SZ"), status, started)


def deleted(backups: list[Backup], policy: Policy) -> list[tuple[str, str]]:
    return [(d.backup.hc, d.backup.backup_id) for d in decide(backups, policy, NOW) if d.delete]


def ids(*backups: Backup) -> list[tuple[str, str]]:
    return [(x.hc, x.backup_id) for x in backups]


def test_keep_last_is_per_hc() -> None:
    a = [b("ns/a", d) for d in (1, 2, 3, 4)]
    c = [b("ns/c", d) for d in (5, 6)]
    assert deleted([*a, *c], Policy(keep_last=2)) == ids(a[2], a[3])


def test_keep_within_and_keep_last_keep_the_union() -> None:
    a = [b("ns/a", d) for d in (1, 2, 10, 20)]
    assert deleted(a, Policy(keep_within=3 * 86400)) == ids(a[2], a[3])
    assert deleted(a, Policy(keep_last=3, keep_within=3 * 86400)) == ids(a[3])


def test_the_newest_complete_backup_is_never_deleted() -> None:
    old = [b("ns/a", d) for d in (30, 40)]
    # Everything is older than the window: the newest complete one stays anyway, even behind
    # newer incomplete or damaged ones.
    newer = [b("ns/a", 2, "incomplete"), b("ns/a", 3, "damaged")]
    got = decide([*old, *newer], Policy(keep_within=86400, incomplete_grace=86400), NOW)
    kept = {d.backup.backup_id: d.reason for d in got if not d.delete}
    assert old[0].backup_id in kept and "newest complete" in kept[old[0].backup_id]
    assert deleted([*old, *newer], Policy(keep_within=86400, incomplete_grace=86400)) == ids(newer[0], old[1])


def test_an_unfinished_backup_younger_than_the_grace_is_kept() -> None:
    running = b("ns/a", 0.01, "incomplete")  # started 15 minutes ago: its upload may be running
    stale = b("ns/a", 3, "incomplete")
    got = {d.backup.backup_id: d for d in decide([running, stale, b("ns/a", 1)], Policy(keep_last=1), NOW)}
    assert not got[running.backup_id].delete and "may still be running" in got[running.backup_id].reason
    assert got[stale.backup_id].delete


def test_a_damaged_backup_is_left_alone() -> None:
    damaged = b("ns/a", 90, "damaged")
    assert deleted([damaged, b("ns/a", 1)], Policy(keep_last=1)) == []


@pytest.mark.parametrize("policy", [Policy(), Policy(keep_last=0), Policy(keep_within=-1)])
def test_a_policy_must_say_what_to_keep(policy: Policy) -> None:
    with pytest.raises(ValueError):
        policy.check()
