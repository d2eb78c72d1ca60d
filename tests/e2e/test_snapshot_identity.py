"""The snapshot restore serves is the snapshot backup wrote (issue 11, finding 7): a backup's
snapshot object overwritten with another valid snapshot of the same HC, the same size, its tags
copied back, is refused by `restore` and by plain `verify` (not only by `verify --deep`)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.helpers import HC_KIND, HC_NAME, HC_NS, HCP_NS, hcm, s3, said
from tests.sandbox.harness import Sandbox


def _backup(sb: Sandbox, prefix: str, folder: Path) -> dict:
    proc = hcm(sb, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", prefix, "--dir", str(folder))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _refused(proc: object, message: str) -> None:
    code, err = proc.returncode, proc.stderr  # type: ignore[attr-defined]
    assert code == 3, err
    lines = [line for line in said(err) if not line.startswith("hash snapshot: ")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err


def test_a_replaced_snapshot_is_refused_by_restore_and_plain_verify(sandbox: Sandbox, tmp_path: Path) -> None:
    dst = sandbox.destination.kubectl()
    dst.run("delete", "namespace", HC_NS, HCP_NS, "--ignore-not-found", "--timeout=180s")
    ours, other = _backup(sandbox, "ident", tmp_path / "a"), _backup(sandbox, "ident-other", tmp_path / "b")
    client, bucket = s3(sandbox), sandbox.env["HCMIGRATE_BUCKET"]
    body = client.get_object(Bucket=bucket, Key=other["snapshot_key"])["Body"].read()
    # Another valid snapshot of the same HC and the same size: only what S3 computed tells them apart.
    assert len(body) == ours["snapshot_size"] and other["snapshot_sha256"] != ours["snapshot_sha256"]
    manifest = json.loads(client.get_object(Bucket=bucket, Key=ours["manifest_key"])["Body"].read())
    assert manifest["snapshot"]["etag"]
    tags = client.get_object_tagging(Bucket=bucket, Key=ours["snapshot_key"])["TagSet"]
    client.put_object(Bucket=bucket, Key=ours["snapshot_key"], Body=body)
    client.put_object_tagging(Bucket=bucket, Key=ours["snapshot_key"], Tagging={"TagSet": tags})  # copied back

    message = f"is not the object backup {ours['backup_id']} wrote"
    _refused(hcm(sandbox, "verify", "--hc", HC_NAME, "--prefix", "ident"), message)
    restore = hcm(sandbox, "restore", "--hc", HC_NAME, "--prefix", "ident", "--to-context", "destination",
                  "--no-wait")  # fmt: skip
    _refused(restore, message)
    assert dst.run("get", HC_KIND, "-n", HC_NS, "-o", "name", check=False).strip() == ""
