"""The SSE arguments, the region check and the --sse flags, without a server."""

from __future__ import annotations

import pytest

from kubectl_hcmigrate.adapters import s3encryption as encryption
from kubectl_hcmigrate.adapters import s3region as regions
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.report import PreflightError


def test_write_args() -> None:
    assert encryption.write_args(BucketTarget("b")) == {}
    assert encryption.write_args(BucketTarget("b", sse="AES256")) == {"ServerSideEncryption": "AES256"}
    kms = BucketTarget("b", sse="aws:kms", sse_kms_key_id="alias/k")
    assert encryption.write_args(kms) == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/k"}


@pytest.mark.parametrize(
    ("sse", "key", "error"),
    [
        ("aes256", None, "--sse must be one of AES256, aws:kms"),
        ("AES256", "k", "--sse-kms-key-id needs --sse aws:kms"),
        (None, "k", "--sse-kms-key-id needs --sse aws:kms"),
    ],
)
def test_validate_refuses(sse: str | None, key: str | None, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        encryption.validate(sse, key)


def test_validate_accepts() -> None:
    for sse, key in ((None, None), ("AES256", None), ("aws:kms", None), ("aws:kms", "arn:aws:kms:x")):
        encryption.validate(sse, key)


def test_check_stored() -> None:
    encryption.check_stored(BucketTarget("b"), {}, "b")
    encryption.check_stored(BucketTarget("b", sse="aws:kms"), {"ServerSideEncryption": "aws:kms"}, "b")
    with pytest.raises(PreflightError, match="not aws:kms as --sse asked"):
        encryption.check_stored(BucketTarget("b", sse="aws:kms"), {"ServerSideEncryption": "AES256"}, "b")


def test_refused_write_names_the_encryption() -> None:
    plain = str(encryption.refused_write(BucketTarget("b"), "b", "AccessDenied"))
    assert "refused an unencrypted write" in plain and "--sse aws:kms" in plain
    kms = str(encryption.refused_write(BucketTarget("b", sse="aws:kms", sse_kms_key_id="k1"), "b", "AccessDenied"))
    assert "encrypted aws:kms with key k1" in kms


def test_region_header_and_check() -> None:
    head = {"ResponseMetadata": {"HTTPHeaders": {"x-amz-bucket-region": "eu-west-1"}}}
    assert regions.header_region(head) == "eu-west-1"
    assert regions.header_region({}) is None
    regions.check(None, "eu-west-1", "b")
    regions.check("eu-west-1", None, "b")  # a store that will not say: nothing to compare
    with pytest.raises(PreflightError, match="bucket b is in region eu-west-1, not us-east-1 as --region says"):
        regions.check("us-east-1", "eu-west-1", "b")


class _Located:
    def __init__(self, where: str | None) -> None:
        self.where = where

    def get_bucket_location(self, Bucket: str) -> dict[str, str | None]:
        return {"LocationConstraint": self.where}


@pytest.mark.parametrize(
    ("where", "custom", "region"),
    [(None, False, "us-east-1"), ("EU", False, "eu-west-1"), ("ap-south-1", True, "ap-south-1"), ("", True, None)],
)
def test_location_region(where: str | None, custom: bool, region: str | None) -> None:
    assert regions.location_region(_Located(where), "b", custom_endpoint=custom) == region


def test_cli_refuses_a_key_without_kms() -> None:
    from typer.testing import CliRunner

    from kubectl_hcmigrate.cli import app

    out = CliRunner().invoke(app, ["backup", "--hc", "x", "--bucket", "b", "--sse", "AES256", "--sse-kms-key-id", "k"])
    assert out.exit_code == 2
    assert "--sse-kms-key-id needs --sse aws:kms" in out.output


@pytest.mark.parametrize(("given", "connect", "read"), [(None, 10.0, 120), (5.0, 5.0, 5.0), (300.0, 10.0, 300.0)])
def test_s3_requests_time_out_as_asked(given: float | None, connect: float, read: float) -> None:
    from kubectl_hcmigrate.adapters.s3session import make_client
    from kubectl_hcmigrate.core.options import BucketTarget

    config = make_client(BucketTarget("b", request_timeout=given), "http://127.0.0.1:9", "us-east-1", 3).meta.config
    assert (config.connect_timeout, config.read_timeout) == (connect, read)


class Sent(Exception):
    """Raised by the test's hook with the request's headers, before anything goes on the wire."""


@pytest.mark.parametrize(("endpoint", "signed"), [("https://127.0.0.1:9", False), ("http://127.0.0.1:9", True)])
def test_a_part_is_hashed_for_its_signature_only_without_tls(
    endpoint: str, signed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    from kubectl_hcmigrate.adapters.s3session import make_client

    def stop(request: object, **_: object) -> None:
        raise Sent(dict(request.headers))  # type: ignore[attr-defined]

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    client = make_client(BucketTarget("b"), endpoint, "us-east-1", 1)
    client.meta.events.register("before-send.s3.UploadPart", stop)
    with pytest.raises(Sent) as sent:
        client.upload_part(Bucket="b", Key="k", UploadId="u", PartNumber=1, Body=b"part")
    body_hash = sent.value.args[0]["X-Amz-Content-SHA256"]
    assert body_hash == (hashlib.sha256(b"part").hexdigest().encode() if signed else b"UNSIGNED-PAYLOAD")
