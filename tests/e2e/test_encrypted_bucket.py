"""One backup and restore on an enterprise setup, on each of the sandbox's two S3 servers: a bucket
whose policy demands server-side encryption, and ServiceAccount tokens bound to exactly the roles of
deploy/rbac/, not cluster-admin.

SeaweedFS enforces a bucket policy and encrypts with its local KMS. MinIO applies bucket policies to
anonymous requests only, so there the same Deny is the policy of the credentials: temporary ones
from its STS (a session token, checked on every request), as an IAM role's would be on AWS; it
encrypts with its static KMS key. Backup without --sse is refused before anything changes; with
--sse aws:kms every object is KMS-encrypted, and the restored etcd's init container (a plain curl of
the presigned URL) reads the snapshot back. Teardown and migrate run their dry runs under the same
roles (their real runs under them are in test_migrate.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import HC_NAME, delete_restored, hcm, s3, source_state
from tests.e2e.rbac import service_account_env
from tests.sandbox import s3_minio
from tests.sandbox.harness import Sandbox
from tests.sandbox.s3 import KMS_KEY_ID, _client

PREFIX = "sse-only"
SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class Store:
    client: Any  # boto3's S3 client, as the bucket's owner
    bucket: str
    kms_key_id: str
    writer: dict[str, str]  # the environment of the backup: credentials a policy demanding encryption binds
    reader: dict[str, str]  # the environment of the restore

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=PREFIX + "/")
        return [o["Key"] for o in listed.get("Contents", [])]

    def uploads(self) -> list[str]:
        listed = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=PREFIX + "/")
        return [u["Key"] for u in listed.get("Uploads", [])]


# Every key but the snapshot's: SeaweedFS (4.48) checks CompleteMultipartUpload and
# AbortMultipartUpload against the policy's condition too, and MinIO UploadPart, though they carry no
# encryption header (the upload's CreateMultipartUpload did). The snapshot's encryption is checked below.
COVERED = [f"{PREFIX}/.hcmigrate-preflight-*", f"{PREFIX}/*/bundle/*"]


@contextmanager
def seaweedfs(sb: Sandbox) -> Iterator[Store]:
    client, bucket = s3(sb), sb.env["HCMIGRATE_BUCKET"]
    covered = [f"arn:aws:s3:::{bucket}/{k}" for k in COVERED]
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": covered,
            "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}  # fmt: skip
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    try:
        yield Store(client, bucket, KMS_KEY_ID, {}, {})
    finally:
        client.delete_bucket_policy(Bucket=bucket)


@contextmanager
def minio(sb: Sandbox) -> Iterator[Store]:
    server = s3_minio.from_env(sb.env)

    def session(policy: dict[str, Any] | None) -> dict[str, str]:
        creds = s3_minio.assume_role(server, policy)
        return {"AWS_ENDPOINT_URL_S3": server.endpoint_url, "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"], "AWS_SESSION_TOKEN": creds["SessionToken"]}  # fmt: skip

    # The restore's token carries no inline policy: MinIO puts that policy into the token, which
    # would make the restore URL longer than the HostedCluster's CRD allows.
    writer = session(s3_minio.encryption_required(server.bucket, COVERED))
    yield Store(_client(server), server.bucket, server.kms_key_id, writer, session(None))


@pytest.mark.parametrize("store", [seaweedfs, minio], ids=["seaweedfs", "minio"])
def test_encrypted_bucket_and_least_privilege_backup_restore(sandbox: Sandbox, tmp_path: Path, store: Any) -> None:
    sa = service_account_env(sandbox, tmp_path)
    src, dst = ("--context", "source-sa"), ("--to-context", "destination-sa")
    with store(sandbox) as bucket:
        before = source_state(sandbox)
        plain = hcm(sandbox, *src, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", PREFIX,
                    "--dir", str(tmp_path / "a"), env={**sa, **bucket.writer})  # fmt: skip
        assert plain.returncode == 3, plain.stderr
        assert f"bucket {bucket.bucket} refused an unencrypted write (AccessDenied on PutObject)" in plain.stderr
        assert "pass --sse aws:kms" in plain.stderr
        assert source_state(sandbox) == before
        assert bucket.keys() == [] and bucket.uploads() == []

        sse = ("--sse", "aws:kms", "--sse-kms-key-id", bucket.kms_key_id)
        done = hcm(sandbox, *src, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", PREFIX, *sse,
                   "--dir", str(tmp_path / "b"), env={**sa, **bucket.writer})  # fmt: skip
        assert done.returncode == 0, done.stderr
        written = bucket.keys()
        assert any(k.endswith("manifest.json") for k in written) and len(written) >= 3
        for key in written:  # the snapshot, the bundle's files and the manifest
            head = bucket.client.head_object(Bucket=bucket.bucket, Key=key)
            assert head.get("ServerSideEncryption") == "aws:kms", key
            assert head.get("SSEKMSKeyId"), key  # SeaweedFS names the key behind its alias
            assert store is seaweedfs or bucket.kms_key_id in head["SSEKMSKeyId"], key

        try:
            restored = hcm(sandbox, "-o", "json", "restore", "--hc", HC_NAME, *dst, "--prefix", PREFIX,
                           "--timeout", "2m", env={**sa, **bucket.reader})  # fmt: skip
            assert restored.returncode == 0, restored.stderr
            assert json.loads(restored.stdout)["waited"]  # etcd-init's curl got the KMS object, etcd restored
            secrets = [
                sandbox.env["AWS_SECRET_ACCESS_KEY"],
                *(e[k] for e in (bucket.writer, bucket.reader) for k in SECRETS if k in e),
            ]
            for text in (plain.stderr, done.stdout, done.stderr, restored.stdout, restored.stderr):
                assert not [s for s in secrets if s in text]
            if store is seaweedfs:  # once is enough: the dry runs read the clusters, not the bucket
                teardown = hcm(sandbox, *src, "teardown", "--hc", HC_NAME, *dst, "--dry-run", env=sa)
                assert teardown.returncode == 0, teardown.stderr
                migrate = hcm(sandbox, *src, "migrate", "--hc", HC_NAME, *dst, "--prefix", PREFIX, "--dry-run",
                              env=sa)  # fmt: skip
                assert "Forbidden" not in migrate.stderr and "does not allow" not in migrate.stderr, migrate.stderr
        finally:
            delete_restored(sandbox)
