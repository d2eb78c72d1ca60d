"""Safe whatever else runs (issue 11): the migration hand-off is a state a plain backup keeps,
migrate refuses a backup the source has moved on from, and one run at a time holds an HC."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_hcmigrate.core.marks import SOURCE_STATE
from tests.e2e.helpers import (
    HC_KIND,
    HC_NAME,
    HC_NS,
    HCP_NS,
    NP_KIND,
    hcm,
    hcm_popen,
    incomplete_uploads,
    keys,
    put_back,
    said,
    source_state,
    stop_mid_stream,
)
from tests.sandbox.config import REPO
from tests.sandbox.harness import Sandbox

pytestmark = pytest.mark.e2e
POOL, CA = f"{HC_NAME}-us-east-2a", "user-ca-bundle"


def backup(sb: Sandbox, tmp: Path, prefix: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return hcm(sb, "-o", "json", "backup", "--hc", HC_NAME, "-n", HC_NS, "--prefix", prefix,
               "--dir", str(tmp / uuid.uuid4().hex[:6]), *extra)  # fmt: skip


def record(sb: Sandbox) -> dict[str, Any]:
    hc = sb.source.kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)
    return json.loads(hc["metadata"]["annotations"][SOURCE_STATE])


@pytest.fixture
def original(sandbox: Sandbox) -> Iterator[dict[str, Any]]:
    """The source as it was; put back by hand after tests that hold it or change it."""
    before = source_state(sandbox)
    yield before
    if source_state(sandbox) != before:
        put_back(sandbox, before)


def test_a_plain_backup_of_a_held_source_keeps_it_held(sandbox: Sandbox, original: Any, tmp_path: Path) -> None:
    prefix = f"held-{uuid.uuid4().hex[:8]}"
    first = backup(sandbox, tmp_path, prefix, "--keep-paused")
    assert first.returncode == 0, first.stderr
    handed = json.loads(first.stdout)["backup_id"]
    assert record(sandbox)["held"]["backup_id"] == handed

    # Between the hand-off and the teardown, someone takes a plain DR backup.
    second = backup(sandbox, tmp_path, prefix)
    assert second.returncode == 0, second.stderr
    state = source_state(sandbox)
    assert state["hc_paused"] == "true" and state["pools"][POOL] == "true"
    assert state["replicas"]["kube-apiserver"] == 0 and state["replicas"]["control-plane-operator"] == 0
    assert record(sandbox)["held"]["backup_id"] == handed  # still the migration's hand-off
    assert json.loads(second.stdout)["source"].startswith("kept paused: held for a migration")


def _written(obj: dict[str, Any]) -> tuple[Any, ...]:
    meta = obj["metadata"]
    return obj["spec"], meta.get("generation"), meta.get("labels"), meta.get("annotations")


def _on_source(sb: Sandbox, *args: str) -> None:
    sb.source.kubectl().run(*args)


def test_migrate_refuses_a_backup_the_source_moved_on_from(sandbox: Sandbox, original: Any, tmp_path: Path) -> None:
    dest = sandbox.destination.kubectl()
    dest.run("delete", "namespace", HC_NS, HCP_NS, "--ignore-not-found", "--timeout=180s")
    prefix = f"stale-{uuid.uuid4().hex[:8]}"
    src = sandbox.source.kubectl()
    replicas = src.get(NP_KIND, POOL, "-n", HC_NS)["spec"].get("replicas", 2)
    ca = src.get("configmap", CA, "-n", HC_NS)["data"]
    try:
        dr = backup(sandbox, tmp_path, prefix)  # a plain DR backup: the source goes on running
        assert dr.returncode == 0, dr.stderr
        restored = hcm(sandbox, "-o", "json", "restore", "--hc", HC_NAME, "--prefix", prefix,
                       "--to-context", "destination", "--no-wait")  # fmt: skip
        assert restored.returncode == 0, restored.stderr
        # The source moves on: a NodePool scaled, a new trust bundle.
        _on_source(sandbox, "patch", NP_KIND, POOL, "-n", HC_NS, "--type=merge", "-p", '{"spec":{"replicas":5}}')
        _on_source(sandbox, "patch", "configmap", CA, "-n", HC_NS, "--type=merge",
                   "-p", json.dumps({"data": {k: v + "\n# rotated" for k, v in ca.items()}}))  # fmt: skip
        before, there, listed = source_state(sandbox), dest.get(HC_KIND, HC_NAME, "-n", HC_NS), keys(sandbox, prefix)

        proc = hcm(sandbox, "migrate", "--hc", HC_NAME, "-n", HC_NS, "--prefix", prefix, "--context", "source",
                   "--to-context", "destination", "--dir", str(tmp_path / "m"), "--timeout", "20s")  # fmt: skip
        assert proc.returncode == 3, proc.stderr
        lines = said(proc.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
        assert "changed since" in lines[0] and "not held for a migration" in lines[0]
        assert f"NodePool {HC_NS}/{POOL} changed" in lines[0] and f"ConfigMap {HC_NS}/{CA} changed" in lines[0]
        assert "run migrate again" in lines[0]
        # Nothing changed anywhere.
        assert source_state(sandbox) == before and keys(sandbox, prefix) == listed
        # The destination's operator goes on writing the HC's status (its resourceVersion moves); what the
        # tool would write, spec, labels and annotations, is as it was.
        now = dest.get(HC_KIND, HC_NAME, "-n", HC_NS)
        assert _written(now) == _written(there)
    finally:
        _on_source(sandbox, "patch", NP_KIND, POOL, "-n", HC_NS, "--type=merge",
                   "-p", json.dumps({"spec": {"replicas": replicas}}))  # fmt: skip
        _on_source(sandbox, "patch", "configmap", CA, "-n", HC_NS, "--type=merge", "-p", json.dumps({"data": ca}))
        dest.run("delete", "namespace", HC_NS, HCP_NS, "--ignore-not-found", "--timeout=180s")


def test_a_second_backup_is_refused_while_the_first_streams(
    sandbox: Sandbox, original: dict[str, Any], tmp_path: Path
) -> None:
    prefix = f"twice-{uuid.uuid4().hex[:8]}"
    first = hcm_popen(sandbox, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", prefix,
                      "--part-size-mib", "5", "--dir", str(tmp_path / "first"))  # fmt: skip
    cat = stop_mid_stream(sandbox, first)
    assert cat is not None, "the first backup's stream was never caught mid-file"
    try:
        t0 = time.monotonic()
        second = backup(sandbox, tmp_path, prefix)
        refused_in = time.monotonic() - t0
    finally:
        os.kill(cat, signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert second.returncode == 3, second.stderr
    lines = said(second.stderr)
    assert len(lines) == 1 and "another hcmigrate run holds" in lines[0], second.stderr
    assert re.search(rf"holder [^ ]+/{first.pid}/[0-9a-f]{{8}}, since \d{{4}}-\d\d-\d\dT", lines[0]), lines[0]
    print(f"\nsecond backup refused in {refused_in:.2f}s")
    # The first carried on untouched: complete, nothing left running, the source put back.
    assert first.returncode == 0, err
    res = json.loads(out)
    assert [k for k in keys(sandbox, f"{prefix}/") if k.endswith("manifest.json")] == [res["manifest_key"]]
    assert incomplete_uploads(sandbox, f"{prefix}/") == []
    assert source_state(sandbox) == original
    assert not sandbox.source.kubectl().run("get", "lease", "-n", HC_NS, "-o", "name").strip()


def test_two_runs_started_in_the_same_second_get_different_ids(sandbox: Sandbox, tmp_path: Path) -> None:
    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "kubectl_hcmigrate", "-o", "json", "backup", "--hc", HC_NAME,
             "--prefix", "same-second", "--dry-run", "--dir", str(tmp_path / uuid.uuid4().hex[:6])],
            cwd=REPO, env={**os.environ, **sandbox.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    # A backup id is made at the end of preflight: under load, runs started together spread over
    # a second or two. Four at once, until two of them share a second.
    for _ in range(3):
        procs = [start() for _ in range(4)]
        outs = [p.communicate(timeout=300) for p in procs]
        assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
        ids = [re.search(r"/(\d{8}T\d{6}Z[^/]*)/etcd-snapshot\.db", o).group(1) for o, _ in outs]  # type: ignore[union-attr]
        seconds = [i[:16] for i in ids]
        if len(set(seconds)) < len(seconds):
            break
    assert len(set(seconds)) < len(seconds), f"never two runs in one second: {ids}"
    assert len(set(ids)) == len(ids), ids
