"""A bucket whose policy demands server-side encryption (SeaweedFS enforces it, with its local
KMS): backup without --sse is refused before anything changes, backup with --sse aws:kms writes
every object KMS-encrypted, and the restored etcd's init container (a plain curl of the
presigned URL) reads the snapshot back and restores it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.helpers import HC_NAME, delete_restored, hcm, incomplete_uploads, keys, s3, source_state
from tests.sandbox.harness import Sandbox
from tests.sandbox.s3 import KMS_KEY_ID

PREFIX = "sse-only"


def test_a_bucket_demanding_encryption_takes_kms_backups_and_they_restore(sandbox: Sandbox, tmp_path: Path) -> None:
    client, bucket = s3(sandbox), sandbox.env["HCMIGRATE_BUCKET"]
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/{PREFIX}/*",
            "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}  # fmt: skip
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    try:
        before = source_state(sandbox)
        plain = hcm(sandbox, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", PREFIX, "--dir", str(tmp_path / "a"))
        assert plain.returncode == 3, plain.stderr
        assert f"bucket {bucket} refused an unencrypted write (AccessDenied on PutObject)" in plain.stderr
        assert "pass --sse aws:kms" in plain.stderr
        assert source_state(sandbox) == before
        assert keys(sandbox, PREFIX + "/") == [] and incomplete_uploads(sandbox, PREFIX + "/") == []

        sse = ("--sse", "aws:kms", "--sse-kms-key-id", KMS_KEY_ID)
        done = hcm(sandbox, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", PREFIX, *sse,
                   "--dir", str(tmp_path / "b"))  # fmt: skip
        assert done.returncode == 0, done.stderr
        written = keys(sandbox, PREFIX + "/")
        assert any(k.endswith("manifest.json") for k in written) and len(written) >= 3
        for key in written:  # the snapshot's parts, the bundle and the manifest
            assert client.head_object(Bucket=bucket, Key=key).get("ServerSideEncryption") == "aws:kms", key

        restored = hcm(sandbox, "-o", "json", "restore", "--hc", HC_NAME, "--to-context", "destination",
                       "--prefix", PREFIX, "--timeout", "2m")  # fmt: skip
        assert restored.returncode == 0, restored.stderr
        assert json.loads(restored.stdout)["waited"]
    finally:
        client.delete_bucket_policy(Bucket=bucket)
        delete_restored(sandbox)
