"""list and verify --deep on the sandbox, after a real backup of `example`: list shows it as
backup wrote it, verify reads the real etcd snapshot through, and neither needs a cluster."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.e2e.helpers import HC_NAME, HC_NS, assert_no_secrets, hcm
from tests.sandbox.harness import Sandbox


def test_list_and_deep_verify_of_a_real_backup(sandbox: Sandbox, tmp_path: Path) -> None:
    proc = hcm(sandbox, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", "listed", "--dir", str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    # No kubeconfig to be found: these verbs must not need one.
    no_kube = {"KUBECONFIG": str(tmp_path / "absent"), "MGMT_KUBECONFIG": str(tmp_path / "absent")}

    listed = hcm(sandbox, "-o", "json", "list", "--prefix", "listed", "--hc", HC_NAME, env=no_kube)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)["items"]
    assert (row["namespace"], row["name"], row["backup_id"]) == (HC_NS, HC_NAME, res["backup_id"])
    assert (row["status"], row["snapshot_size"], row["source_context"]) == ("complete", res["snapshot_size"], "source")
    assert row["location"] == f"s3://{res['bucket']}/{res['manifest_key'].rsplit('/bundle/', 1)[0]}/"

    deep = hcm(sandbox, "-o", "json", "verify", "--hc", HC_NAME, "--prefix", "listed", "--deep", env=no_kube)
    assert deep.returncode == 0, deep.stderr
    out = json.loads(deep.stdout)
    assert (out["backup_id"], out["snapshot_sha256"], out["snapshot_size"], out["deep"]) == (
        res["backup_id"], res["snapshot_sha256"], res["snapshot_size"], True,
    )  # fmt: skip
    assert out["checked"][-1] == "it ends in a valid etcd SHA-256 of its data, as etcdutl checks on restore"
    assert "hash snapshot: " in deep.stderr

    local = hcm(sandbox, "verify", "--hc", HC_NAME, "--prefix", "listed", "--from", res["bundle_dir"], env=no_kube)
    assert local.returncode == 0, local.stderr
    assert re.search(rf"^Bundle: +{re.escape(res['bundle_dir'])}$", local.stdout, re.M), local.stdout
    assert_no_secrets(sandbox, listed.stdout, listed.stderr, deep.stdout, deep.stderr, local.stdout, local.stderr)
