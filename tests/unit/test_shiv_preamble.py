"""The zipapp's shiv preamble keeps one unpacked copy per build of this tool: older builds go once
idle for a day; a copy started recently (perhaps still running) and other tools' copies stay."""

from __future__ import annotations

import os
import runpy
import time
from pathlib import Path

PREAMBLE = Path(__file__).parents[2] / "krew" / "shiv_preamble.py"


def test_older_idle_builds_of_this_tool_are_removed(tmp_path: Path) -> None:
    clean = runpy.run_path(str(PREAMBLE))["clean"]
    now = time.time()
    dirs = {
        n: tmp_path / n
        for n in ("kubectl-hcmigrate_new", "kubectl-hcmigrate_old", "oc-hcmigrate_old", "oc-hcmigrate_busy",
                  "othertool_old")
    }  # fmt: skip
    for d in dirs.values():
        (d / "site-packages").mkdir(parents=True)
        os.utime(d, (now - 3 * 86400, now - 3 * 86400))
    (tmp_path / ".kubectl-hcmigrate_old_lock").touch()
    (dirs["oc-hcmigrate_busy"] / ".last-start").touch()  # started an hour ago: may still run
    os.utime(dirs["oc-hcmigrate_busy"] / ".last-start", (now - 3600, now - 3600))

    removed = clean(dirs["kubectl-hcmigrate_new"], now)
    assert sorted(p.name for p in removed) == ["kubectl-hcmigrate_old", "oc-hcmigrate_old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kubectl-hcmigrate_new", "oc-hcmigrate_busy", "othertool_old"]
    assert (dirs["kubectl-hcmigrate_new"] / ".last-start").is_file()


def test_as_shiv_runs_it(tmp_path: Path) -> None:
    site = tmp_path / "kubectl-hcmigrate_b1" / "site-packages"
    site.mkdir(parents=True)
    runpy.run_path(str(PREAMBLE), init_globals={"site_packages": site}, run_name="__main__")
    assert (site.parent / ".last-start").is_file()
