"""The bucket's own region, read from the bucket, and the one refusal when --region says otherwise.

A client signing for the wrong region meets redirects (AWS answers 301 or 400 and botocore
follows) and, for a presigned URL, a signature the bucket rejects: the etcd init container's
plain GET then fails long after the run. Reading the region once, before anything changes,
turns that into one line.
"""

from __future__ import annotations

from typing import Any

from kubectl_hcmigrate.core.report import PreflightError

# GetBucketLocation's legacy answers: none (or empty) is us-east-1, "EU" is eu-west-1.
LEGACY = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}


def header_region(response: dict[str, Any]) -> str | None:
    """HeadBucket's x-amz-bucket-region (AWS sends it on every answer, a 301 or 403 too)."""
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return headers.get("x-amz-bucket-region") or None


def location_region(client: Any, bucket: str, *, custom_endpoint: bool) -> str | None:
    """GetBucketLocation's answer; None when the store has no regions or will not say.

    An S3-compatible store without regions answers an empty constraint: that is "unknown"
    there, not us-east-1 as on AWS, so no --region is refused for it.
    """
    from botocore.exceptions import ClientError

    try:
        where = client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    except ClientError:
        return None  # s3:GetBucketLocation is not granted, or not implemented: nothing to compare
    if custom_endpoint and not where:
        return None
    return LEGACY.get(where, where)


def check(given: str | None, actual: str | None, bucket: str) -> None:
    """Refuse a --region that is not the bucket's (exit 3, before any change)."""
    if given and actual and given != actual:
        raise PreflightError(
            f"bucket {bucket} is in region {actual}, not {given} as --region says: "
            f"pass --region {actual}, or leave --region out to use the bucket's own"
        )
