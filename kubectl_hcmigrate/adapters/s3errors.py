"""One clear line for each way an S3 call fails.

Built from error codes and class names only: botocore's own text can carry an access key,
a signature's string-to-sign or a presigned query string. Pure (botocore is recognised by
class names), so it costs nothing at start-up and needs no bucket to test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from kubectl_hcmigrate.core.report import HcmigrateError, ObjectMissing, S3Error

__all__ = ["ObjectMissing", "S3Error", "Where", "describe", "s3_errors"]


CREDENTIALS_REFUSED = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken"}
    | {"ExpiredToken", "TokenRefreshRequired", "InvalidSecurity", "403", "Forbidden"}
)
NO_CREDENTIALS = frozenset({"NoCredentialsError", "PartialCredentialsError"})
UNREACHABLE = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"}
    | {"ReadTimeoutError", "ProxyConnectionError", "SSLError"}
)
WRONG_REGION = frozenset({"PermanentRedirect", "AuthorizationHeaderMalformed", "301"})
MISSING_KEY = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class Where:
    """What a message may name: the bucket and the endpoint without userinfo or query."""

    bucket: str
    endpoint: str

    @classmethod
    def of(cls, bucket: str, endpoint_url: str | None, region: str) -> Where:
        if not endpoint_url:
            return cls(bucket, f"AWS S3 in {region}")
        parts = urlsplit(endpoint_url)
        return cls(bucket, f"{parts.scheme}://{parts.hostname}" + _port(parts.port))


def _port(port: int | None) -> str:
    return f":{port}" if port else ""


def _is_botocore(e: BaseException) -> bool:
    return any(c.__module__.startswith("botocore") for c in type(e).__mro__)


def _safe(text: object) -> str:
    # A server chooses the error code; keep it to a short token.
    return re.sub(r"[^A-Za-z0-9.]", "", str(text))[:64] or "error"


def describe(e: BaseException, where: Where, key: str = "") -> tuple[bool, str]:
    """(is it a missing object, one line) for a botocore exception."""
    names = {c.__name__ for c in type(e).__mro__}
    b = where.bucket
    if names & NO_CREDENTIALS:
        return False, (
            f"no AWS credentials found for bucket {b}: set AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or pass --aws-creds"
        )
    if names & UNREACHABLE:
        return False, (f"cannot reach {where.endpoint} for bucket {b}: check --endpoint-url, --region and the network")
    response = getattr(e, "response", None)
    if not isinstance(response, dict):
        return False, f"S3 request for bucket {b} failed: {type(e).__name__}"
    code = _safe(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    op = _safe(getattr(e, "operation_name", "request"))
    if code == "NoSuchBucket" or (op == "HeadBucket" and status == 404):
        return False, f"bucket {b} does not exist; create it or pass --bucket"
    if code in CREDENTIALS_REFUSED or status == 403:
        return False, (
            f"S3 refused the credentials for bucket {b}: check AWS_ACCESS_KEY_ID/"
            f"AWS_SECRET_ACCESS_KEY or --aws-creds ({code} on {op})"
        )
    if code in WRONG_REGION or status == 301:
        return False, f"bucket {b} is in another region than the one used; pass --region"
    if key and (code in MISSING_KEY or status == 404):
        return True, f"{key} does not exist in bucket {b}"
    return False, f"S3 {op} for {key or 'bucket'} in {b} failed: {code} (HTTP {status})"


@contextmanager
def s3_errors(kind: type[HcmigrateError], where: Where, key: str = "") -> Iterator[None]:
    """Turn botocore exceptions into `kind` (ObjectMissing for a missing key)."""
    try:
        yield
    except Exception as e:
        if not _is_botocore(e):
            raise
        missing, line = describe(e, where, key)
        raise (ObjectMissing if missing else kind)(line) from None
