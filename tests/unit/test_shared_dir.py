"""Without the upstream CRDs and fixtures, the run stops at once with one line that says where it
looked and how to point it elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_hypershift_folder_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "HCMIGRATE_HYPERSHIFT_DIR": str(tmp_path / "nowhere")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/test_cli.py"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 4
    lines = [line for line in (done.stdout + done.stderr).splitlines() if "HCMIGRATE_HYPERSHIFT_DIR" in line]
    assert len(lines) == 1 and str(tmp_path / "nowhere") in lines[0]
    assert "error" not in done.stdout.lower()
