"""One line per S3 failure, built from codes: never botocore's text, never a secret."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from kubectl_hcmigrate.adapters.s3errors import ObjectMissing, S3Error, Where, describe, s3_errors
from kubectl_hcmigrate.core.report import PreflightError

WHERE = Where.of("backups", "https://AKIAEXAMPLE:secret@minio.example:9000/path?X-Amz-Signature=ab", "us-east-1")
SIGNED = "https://backups.s3.amazonaws.com/k?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=deadbeef"


def client_error(code: str, status: int, op: str = "PutObject") -> ClientError:
    # What botocore raises; the message carries server text we must not repeat.
    response = {
        "Error": {"Code": code, "Message": f"StringToSign {SIGNED}"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, op)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (
            client_error("SignatureDoesNotMatch", 403),
            "S3 refused the credentials for bucket backups: check AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY or --aws-creds (SignatureDoesNotMatch on PutObject)",
        ),
        (
            client_error("403", 403, "HeadBucket"),
            "S3 refused the credentials for bucket backups: check AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY or --aws-creds (403 on HeadBucket)",
        ),
        (
            client_error("NoSuchBucket", 404),
            "bucket backups does not exist; create it or pass --bucket",
        ),
        (
            client_error("404", 404, "HeadBucket"),
            "bucket backups does not exist; create it or pass --bucket",
        ),
        (
            client_error("PermanentRedirect", 301),
            "bucket backups is in another region than the one used; pass --region",
        ),
        (
            client_error("SlowDown<script>", 503),
            "S3 PutObject for bucket in backups failed: SlowDownscript (HTTP 503)",
        ),
        (
            NoCredentialsError(),
            "no AWS credentials found for bucket backups: set AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or pass --aws-creds",
        ),
        (
            EndpointConnectionError(endpoint_url=SIGNED),
            "cannot reach https://minio.example:9000 for bucket backups: check --endpoint-url, "
            "--region and the network",
        ),
        (
            ReadTimeoutError(endpoint_url=SIGNED),
            "cannot reach https://minio.example:9000 for bucket backups: check --endpoint-url, "
            "--region and the network",
        ),
    ],
)
def test_each_failure_has_its_line(exc: Exception, line: str) -> None:
    missing, got = describe(exc, WHERE)
    assert (missing, got) == (False, line)
    for secret in ("AKIAEXAMPLE", "secret", "X-Amz-", "deadbeef", "StringToSign", "/path"):
        assert secret not in got


def test_missing_object_is_its_own_error() -> None:
    line = r"^backups-1/snap\.db does not exist in bucket backups$"
    with pytest.raises(ObjectMissing, match=line), s3_errors(S3Error, WHERE, key="backups-1/snap.db"):
        raise client_error("NoSuchKey", 404, "GetObject")


def test_kind_is_chosen_by_the_caller_and_the_cause_is_not_chained() -> None:
    with pytest.raises(PreflightError) as err, s3_errors(PreflightError, WHERE):
        raise client_error("AccessDenied", 403)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_other_errors_pass_through() -> None:
    with pytest.raises(KeyError), s3_errors(S3Error, WHERE):
        raise KeyError("not botocore")


def test_aws_endpoint_named_by_region() -> None:
    assert Where.of("b", None, "eu-west-1").endpoint == "AWS S3 in eu-west-1"
