"""One backup and restore on an enterprise setup: a bucket whose policy demands server-side
encryption (SeaweedFS enforces it, with its local KMS) and ServiceAccount tokens bound to
exactly the roles of deploy/rbac/, not cluster-admin.

Backup without --sse is refused before anything changes; with --sse aws:kms every object is
KMS-encrypted, and the restored etcd's init container (a plain curl of the presigned URL)
reads the snapshot back. Teardown and migrate run their dry runs under the same roles."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.helpers import HC_NAME, delete_restored, hcm, incomplete_uploads, keys, s3, source_state
from tests.e2e.rbac import service_account_kubeconfig
from tests.sandbox.harness import Sandbox
from tests.sandbox.s3 import KMS_KEY_ID

PREFIX = "sse-only"


def test_encrypted_bucket_and_least_privilege_backup_restore(sandbox: Sandbox, tmp_path: Path) -> None:
    client, bucket = s3(sandbox), sandbox.env["HCMIGRATE_BUCKET"]
    env = {"KUBECONFIG": str(service_account_kubeconfig(sandbox, tmp_path / "kubeconfig"))}
    src, dst = ("--context", "source-sa"), ("--to-context", "destination-sa")
    # Every key but the snapshot's: SeaweedFS (4.48) checks CompleteMultipartUpload and
    # AbortMultipartUpload against this condition too, though they carry no encryption header
    # (the upload's CreateMultipartUpload did). The snapshot's encryption is checked below.
    covered = [f"arn:aws:s3:::{bucket}/{PREFIX}/.hcmigrate-preflight-*", f"arn:aws:s3:::{bucket}/{PREFIX}/*/bundle/*"]
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": covered,
            "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}  # fmt: skip
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    try:
        before = source_state(sandbox)
        plain = hcm(sandbox, *src, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", PREFIX,
                    "--dir", str(tmp_path / "a"), env=env)  # fmt: skip
        assert plain.returncode == 3, plain.stderr
        assert f"bucket {bucket} refused an unencrypted write (AccessDenied on PutObject)" in plain.stderr
        assert "pass --sse aws:kms" in plain.stderr
        assert source_state(sandbox) == before
        assert keys(sandbox, PREFIX + "/") == [] and incomplete_uploads(sandbox, PREFIX + "/") == []

        sse = ("--sse", "aws:kms", "--sse-kms-key-id", KMS_KEY_ID)
        done = hcm(sandbox, *src, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", PREFIX, *sse,
                   "--dir", str(tmp_path / "b"), env=env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        written = keys(sandbox, PREFIX + "/")
        assert any(k.endswith("manifest.json") for k in written) and len(written) >= 3
        for key in written:  # the snapshot, the bundle's files and the manifest
            assert client.head_object(Bucket=bucket, Key=key).get("ServerSideEncryption") == "aws:kms", key

        restored = hcm(sandbox, "-o", "json", "restore", "--hc", HC_NAME, *dst, "--prefix", PREFIX,
                       "--timeout", "2m", env=env)  # fmt: skip
        assert restored.returncode == 0, restored.stderr
        assert json.loads(restored.stdout)["waited"]  # etcd-init's curl got the KMS object, etcd restored

        teardown = hcm(sandbox, *src, "teardown", "--hc", HC_NAME, *dst, "--dry-run", env=env)
        assert teardown.returncode == 0, teardown.stderr
        migrate = hcm(sandbox, *src, "migrate", "--hc", HC_NAME, *dst, "--prefix", PREFIX, "--dry-run", env=env)
        assert "Forbidden" not in migrate.stderr and "does not allow" not in migrate.stderr, migrate.stderr
    finally:
        client.delete_bucket_policy(Bucket=bucket)
        delete_restored(sandbox)
