"""T4: whether `spec.pausedUntil` pauses reconciliation, as support/util/pausereconcile.go
parses it: strconv.ParseBool, else an RFC3339 time still in the future; anything else is
not a pause."""

from __future__ import annotations

from datetime import datetime, timezone

# Go's strconv.ParseBool accepts exactly these.
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def is_paused(value: str | None, now: datetime | None = None) -> bool:  # T4
    if not value:
        return False
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    try:
        until = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if until.tzinfo is None:  # RFC3339 requires an offset
        return False
    return until > (now or datetime.now(timezone.utc))
