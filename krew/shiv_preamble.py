"""Run by the zipapp once shiv has unpacked it, before the plugin starts (shiv's --preamble):
removes the unpacked copies of older builds of this tool from the shiv root. shiv keeps one
directory per executable name and build (about 36 MB each) and never removes one.

A copy still in use must not go: the plugin imports lazily, so a run of an older build, still
going, reads its directory. Each start marks its own copy (`.last-start`); a copy is removed only
once nothing started it for a day, far longer than a run lasts (migrate's waits are at most
hours)."""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path

NAMES = ("kubectl-hcmigrate", "oc-hcmigrate")
IDLE_SECONDS = 24 * 3600
MARK = ".last-start"


def clean(current: Path, now: float) -> list[Path]:
    """Marks `current` ({root}/{name}_{build}) as started now; removes this tool's idle others."""
    (current / MARK).touch()
    removed = []
    for other in current.parent.iterdir():
        name, sep, _ = other.name.partition("_")
        if other == current or not sep or name not in NAMES or not other.is_dir():
            continue
        mark = other / MARK
        last = mark.stat().st_mtime if mark.exists() else other.stat().st_mtime
        if now - last > IDLE_SECONDS:
            shutil.rmtree(other, ignore_errors=True)
            (current.parent / f".{other.name}_lock").unlink(missing_ok=True)
            removed.append(other)
    return removed


if __name__ == "__main__":
    # A cache that cannot be cleaned must never keep the plugin from running.
    with contextlib.suppress(OSError):
        clean(Path(site_packages).parent, time.time())  # type: ignore[name-defined]  # noqa: F821 - shiv's
