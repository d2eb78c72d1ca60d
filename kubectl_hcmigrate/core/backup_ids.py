"""Backup ids: the UTC second a backup began and its run's id (`YYYYMMDDTHHMMSSZ-<run>`), which
sort as text in time order, and the manifest's timestamps."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from kubectl_hcmigrate.core.report import PreflightError

_ID_FORMAT = "%Y%m%dT%H%M%SZ"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# A run's id follows the time, so that two backups started in the same second differ; an id
# written before run ids has none. Either sorts as text in time order.
_ID_RE = re.compile(r"^(\d{8}T\d{6}Z)(?:-([0-9a-f]{4,16}))?$")


def _utc(now: datetime | None) -> datetime:
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous; pass one with a timezone")
    return now.astimezone(timezone.utc)


def new_backup_id(now: datetime | None = None, run_id: str | None = None) -> str:
    """UTC `YYYYMMDDTHHMMSSZ-<run id>`: sorts as text in time order."""
    return _utc(now).strftime(_ID_FORMAT) + (f"-{run_id}" if run_id else "")


def run_of_backup_id(backup_id: str) -> str | None:
    """The run that took a backup; None for an id from before run ids (or not an id)."""
    found = _ID_RE.match(backup_id)
    return found.group(2) if found else None


def utc_timestamp(now: datetime | None = None) -> str:
    """The manifest's `created`: RFC 3339 in UTC, like Kubernetes timestamps."""
    return _utc(now).strftime(TIMESTAMP_FORMAT)


def parse_backup_id(backup_id: str) -> datetime:
    try:
        if not (found := _ID_RE.match(backup_id)):
            raise ValueError
        return datetime.strptime(found.group(1), _ID_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise PreflightError(
            f"backup id {backup_id!r} is not of the form YYYYMMDDTHHMMSSZ[-RUN] (UTC); pick one from `list`"
        ) from None


def is_backup_id(text: str) -> bool:
    try:
        parse_backup_id(text)
    except PreflightError:
        return False
    return True
