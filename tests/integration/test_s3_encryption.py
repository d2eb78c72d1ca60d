"""Server-side encryption on every write, the bucket's own region, a session token, and a
policy that demands encryption: on SeaweedFS (real SSE-KMS with its local KMS, bucket policies
enforced), moto (regions kept) and MinIO (its static KMS key, a real STS, policies of the
credentials), as the `s3` fixture gives them."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import replace
from typing import Any

import pytest

from kubectl_hcmigrate.adapters.s3store import Bucket
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.report import PreflightError
from tests.sandbox.s3 import S3Server, _client
from tests.sandbox.s3_minio import assume_role, encryption_required

MiB = 1024 * 1024


def _sse(s3: S3Server, sse: str) -> dict[str, Any]:
    return {"sse": sse, "sse_kms_key_id": s3.kms_key_id if sse == "aws:kms" else None}


@pytest.mark.parametrize("sse", ["AES256", "aws:kms"])
def test_every_write_is_encrypted_and_the_presigned_get_reads_it(s3: S3Server, target: BucketTarget, sse: str) -> None:
    bucket = Bucket(replace(target, **_sse(s3, sse)))
    bucket.preflight()  # the probe is written encrypted, and its answer must say so
    data = os.urandom(11 * MiB + 5)  # three 5 MiB parts: a multipart upload

    class Reader:
        pos = 0

        def read(self, n: int) -> bytes:
            chunk = data[self.pos : self.pos + n]
            self.pos += len(chunk)
            return chunk

    bucket.upload_stream("snap.db", Reader(), part_size=5 * MiB)
    bucket.put_bytes("bundle/manifest.json", b"{}")
    raw = _client(s3)
    for key in ("snap.db", "bundle/manifest.json"):
        head = raw.head_object(Bucket=s3.bucket, Key=bucket.full_key(key))
        assert head.get("ServerSideEncryption") == sse, key
        if sse == "aws:kms":
            assert head.get("SSEKMSKeyId"), key
    # The etcd init container's plain GET (no headers): SigV4 in the query, decrypted by the server.
    url = bucket.presign_get("snap.db", 600)
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.read() == data


def test_a_store_ignoring_sse_is_refused(s3: S3Server, target: BucketTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = Bucket(replace(target, sse="AES256"))
    monkeypatch.setattr(bucket, "_sse", {})  # as a store that drops the header would answer
    with pytest.raises(PreflightError, match="stored the preflight probe with encryption none, not AES256"):
        bucket.preflight()
    assert bucket.list_keys() == []


def test_the_region_is_the_buckets_own(s3: S3Server, target: BucketTarget) -> None:
    if s3.kind != "moto":
        pytest.skip({"seaweedfs": "SeaweedFS has no regions"}.get(s3.kind, "MinIO has one region per server"))
    name = f"hcm-eu-{uuid.uuid4().hex[:8]}"
    _client(s3).create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    found = Bucket(replace(target, bucket=name, region=None))
    found.preflight()
    assert "%2Feu-west-1%2Fs3%2Faws4_request" in found.presign_get("x", 60)
    # Not given and never preflighted: the presigned URL still asks the bucket first.
    assert "%2Feu-west-1%2F" in Bucket(replace(target, bucket=name, region=None)).presign_get("x", 60)
    with pytest.raises(PreflightError) as err:
        Bucket(replace(target, bucket=name, region="us-east-1")).preflight()
    assert str(err.value) == (
        f"bucket {name} is in region eu-west-1, not us-east-1 as --region says: "
        "pass --region eu-west-1, or leave --region out to use the bucket's own"
    )


def _session(target: BucketTarget, creds: dict[str, str]) -> BucketTarget:
    """`target` signed with temporary credentials, from an --aws-creds file."""
    path = os.path.join(os.path.dirname(target.aws_creds_file or ""), f"session-{uuid.uuid4().hex[:8]}")
    with open(path, "w") as f:
        f.write(f"[default]\naws_access_key_id={creds['AccessKeyId']}\n"
                f"aws_secret_access_key={creds['SecretAccessKey']}\naws_session_token={creds['SessionToken']}\n")  # fmt: skip
    return replace(target, aws_creds_file=path)


def test_a_session_token_rides_in_the_presigned_url(s3: S3Server, target: BucketTarget) -> None:
    if s3.kind == "seaweedfs":
        pytest.skip("SeaweedFS has no STS: it refuses a made-up token")
    if s3.kind == "moto":  # checks no token: it only rides along
        creds = {"AccessKeyId": s3.access_key, "SecretAccessKey": s3.secret_key, "SessionToken": "FQoGZXIvYXdzEXAMPLE"}
    else:  # MinIO's STS: a real token, checked on every request and in the presigned GET
        creds = assume_role(s3)
    bucket = Bucket(_session(target, creds))
    bucket.preflight()
    bucket.put_bytes("x", b"written with a session token")
    url = bucket.presign_get("x", 60)
    assert f"X-Amz-Security-Token={urllib.parse.quote(creds['SessionToken'], safe='')}" in url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.read() == b"written with a session token"
    if s3.kind == "minio":  # and a token it did not issue is refused
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(url.replace("X-Amz-Security-Token=", "X-Amz-Security-Token=x"), timeout=30)


def test_a_policy_demanding_encryption_refuses_plain_writes(s3: S3Server, target: BucketTarget) -> None:
    if s3.kind == "moto":
        pytest.skip("moto does not enforce bucket policies")
    name = f"hcm-sse-only-{uuid.uuid4().hex[:8]}"
    raw = _client(s3)
    raw.create_bucket(Bucket=name)
    if s3.kind == "minio":  # bucket policies bind anonymous requests only: the credentials' policy
        target = _session(target, assume_role(s3, encryption_required(name)))
    else:
        deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{name}/*",
                "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}  # fmt: skip
        raw.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    plain = Bucket(replace(target, bucket=name, prefix=""))
    with pytest.raises(PreflightError) as err:
        plain.preflight()
    assert str(err.value) == (
        f"bucket {name} refused an unencrypted write (AccessDenied on PutObject); if its policy requires "
        "server-side encryption, pass --sse aws:kms [--sse-kms-key-id ID] or --sse AES256"
    )
    assert plain.list_keys() == [] and plain.list_incomplete_uploads() == []
    encrypted = Bucket(replace(target, bucket=name, prefix="", **_sse(s3, "aws:kms")))
    encrypted.preflight()
    encrypted.put_bytes("m.json", b"{}")
    assert encrypted.list_keys() == ["m.json"]
