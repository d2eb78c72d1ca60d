"""Everything is checked before the first change, and bad input is one line (issue 11, findings 6
and 8): migrate refuses a restore option before its backup, in the run and its dry run alike; an
unusable kubeconfig or a malformed source-state record is one line, exit 3, nothing changed;
with `-o json` a usage error and a refusal are JSON objects on stdout."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import HC_KIND, HC_NAME, HC_NS, HCP_NS, hcm, incomplete_uploads, keys, said, source_state
from tests.sandbox.harness import Sandbox

RECORD = "hcmigrate.openshift.io/source-state"


def _one_line(stderr: str) -> str:
    lines = said(stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
@pytest.mark.parametrize(
    ("expiry", "message"),
    [(["--url-expiry", "8d"], "--url-expiry must be more than 0 and at most 7d"),
     (["--url-expiry", "30m", "--timeout", "30m"], "--url-expiry 30m is shorter than the 30m of --timeout plus 1m")],
    ids=["over-7d", "under-the-timeout"],
)  # fmt: skip
def test_migrate_refuses_a_bad_url_expiry_before_any_change(
    sandbox: Sandbox, tmp_path: Path, dry_run: bool, expiry: list[str], message: str
) -> None:
    sandbox.destination.kubectl().run("delete", "namespace", HC_NS, HCP_NS, "--ignore-not-found", "--timeout=180s")
    before, prefix = source_state(sandbox), f"early-{uuid.uuid4().hex[:8]}"
    proc = hcm(sandbox, "migrate", "-o", "json", "--hc", HC_NAME, "-n", HC_NS, "--prefix", prefix,
               "--context", "source", "--to-context", "destination", "--dir", str(tmp_path / "b"),
               *expiry, *(["--dry-run"] if dry_run else []))  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert message in _one_line(proc.stderr)
    assert json.loads(proc.stdout)["outcome"] == "REFUSED"
    assert source_state(sandbox) == before
    assert keys(sandbox, f"{prefix}/") == [] and incomplete_uploads(sandbox, f"{prefix}/") == []
    assert not (tmp_path / "b").exists()
    assert sandbox.destination.kubectl().run("get", HC_KIND, "-n", HC_NS, "-o", "name", check=False).strip() == ""


@pytest.fixture
def record(sandbox: Sandbox) -> Iterator[str]:
    """A malformed source-state record on the source HC, removed afterwards."""
    k = sandbox.source.kubectl()
    value = json.dumps({"v": 1, "hc_paused_until": None, "nodepools": {}, "replicas": {"kube-apiserver": -3}})
    k.run("annotate", HC_KIND, HC_NAME, "-n", HC_NS, "--overwrite", f"{RECORD}={value}")
    yield value
    k.run("annotate", HC_KIND, HC_NAME, "-n", HC_NS, f"{RECORD}-")


def _bad_kubeconfig(tmp_path: Path, case: str) -> list[str]:
    if case == "directory":
        return ["--kubeconfig", str(tmp_path)]
    (tmp_path / "config").write_text("apiVersion: v1\nclusters: [\n  - {name: a\n")
    return ["--kubeconfig", str(tmp_path / "config")]


@pytest.mark.parametrize("case", ["kubeconfig-directory", "kubeconfig-malformed", "malformed-record"])
def test_bad_input_is_one_line_exit_3_and_changes_nothing(
    sandbox: Sandbox, tmp_path: Path, request: pytest.FixtureRequest, case: str
) -> None:
    prefix = f"bad-input-{uuid.uuid4().hex[:8]}"
    if case == "malformed-record":
        request.getfixturevalue("record")
        extra = []
    else:
        extra = _bad_kubeconfig(tmp_path, case.removeprefix("kubeconfig-"))
    before = source_state(sandbox)
    proc = hcm(sandbox, *extra, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", prefix,
               "--dir", str(tmp_path / "b"))  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    line = _one_line(proc.stderr)
    assert ("malformed" if case == "malformed-record" else "cannot load kubeconfig") in line
    doc = json.loads(proc.stdout)
    assert (doc["apiVersion"], doc["kind"]) == ("hcmigrate.openshift.io/v1", "BackupResult")
    assert {k: doc[k] for k in ("outcome", "error", "undo_errors")} == {
        "outcome": "REFUSED", "error": line.removeprefix("error: "), "undo_errors": [],
    }  # fmt: skip
    assert source_state(sandbox) == before
    assert keys(sandbox, f"{prefix}/") == []


def test_a_usage_error_is_json_with_output_json(sandbox: Sandbox) -> None:
    proc = hcm(sandbox, "-o", "json", "restore", "--hc", HC_NAME, "--url-expiry", "soon")
    assert proc.returncode == 2, proc.stderr
    out = json.loads(proc.stdout)
    assert out["outcome"] == "USAGE_ERROR" and "'soon' is not a duration" in out["error"]
    assert out["error"] in proc.stderr
