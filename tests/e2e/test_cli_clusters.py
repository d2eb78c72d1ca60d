"""Which cluster, always explicit (issue 14), on the sandbox: each verb's first line names the
context and server it acts on, `--context` before or after restore names the cluster written to,
a dry run says its changes once, a restore onto the cluster the backup came from is refused, and
completion offers the cluster's HostedClusters for --hc and the bucket's backups for --backup-id.
(Every global flag before and after every verb: tests/unit/test_cli_globals.py.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.build_dist import ROOT
from tests.distribution.tools import plugin_bin
from tests.e2e.helpers import HC_NAME, HC_NS, delete_restored, hcm, said
from tests.sandbox.harness import Sandbox

SERVER = r"\(https://127\.0\.0\.1:\d+\)"


def complete(sb: Sandbox, tmp_path: Path, *words: str) -> list[str]:
    """`kubectl hcmigrate <words><TAB>`, as kubectl asks it."""
    where = tmp_path / "completion"
    if not where.exists():
        where.mkdir()
        plugin_bin(where)
    path = os.pathsep.join([str(where / "bin"), str(sb.bin), os.environ["PATH"]])
    env = {**os.environ, **sb.env, "PATH": path, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sb.bin / "kubectl", "__complete", "hcmigrate", *words], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    return done.stdout.splitlines()


def first_line(stderr: str) -> str:
    return re.sub(r"^\S+Z ", "", stderr.splitlines()[0])  # a log's line carries a timestamp


def test_each_verb_names_its_cluster_and_context_means_the_one_acted_on(sandbox: Sandbox, tmp_path: Path) -> None:
    prefix = "flags"
    made = hcm(sandbox, "--context", "source", "backup", "--hc", HC_NAME, "--prefix", prefix, "--dir",
               str(tmp_path / "b"), "-o", "json")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(rf"backing up {HC_NS}/{HC_NAME} from context source {SERVER}", first_line(made.stderr))
    assert json.loads(made.stdout)["kind"] == "BackupResult"

    restore = ["restore", "--hc", HC_NAME, "--prefix", prefix, "--dry-run"]
    for args in (["--context", "destination", *restore], [*restore, "--context", "destination"]):
        dry = hcm(sandbox, *args)
        assert dry.returncode == 0, dry.stderr
        assert re.fullmatch(
            rf"planning the restore of {HC_NS}/{HC_NAME} onto context destination {SERVER}", first_line(dry.stderr)
        ), dry.stderr
        # The changes once, counted per kind, on stdout; none on stderr.
        assert "would " not in dry.stderr and re.search(r"^Changes: +\d+$", dry.stdout, re.M), dry.stdout
        assert dry.stdout.splitlines()[-1] == "next: run the same command without --dry-run"
        assert len(dry.stdout.splitlines()) < 40, dry.stdout

    onto_source = hcm(sandbox, "--context", "source", *restore)
    assert onto_source.returncode == 3, onto_source.stderr
    (error,) = [line for line in said(onto_source.stderr) if line.startswith("error: ")]  # after a dry run's verdicts
    assert error.startswith("error: context 'source' is the cluster backup ") and "was taken from" in error

    # Completion's answers from the cluster and the bucket, through kubectl's own plugin completion:
    # kubectl runs the shipped kubectl_complete-hcmigrate, which asks the plugin.
    hcs = complete(sandbox, tmp_path, "restore", "--context", "source", "--hc", "")
    assert HC_NAME in hcs and hcs[-1] == ":4", hcs
    ids = complete(sandbox, tmp_path, "restore", "--hc", HC_NAME, "--prefix", prefix, "--backup-id", "")
    assert json.loads(made.stdout)["backup_id"] in ids, ids

    both = hcm(sandbox, "--context", "source", *restore, "--to-context", "destination")
    assert both.returncode == 2 and "disagree: give one of them" in both.stderr, both.stderr
    delete_restored(sandbox)
