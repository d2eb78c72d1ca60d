"""Server-side encryption of what hcmigrate writes: the request arguments for every write
(PutObject and CreateMultipartUpload; parts inherit the upload's), and the lines for a
bucket that refuses or ignores them."""

from __future__ import annotations

from typing import Any

from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.report import PreflightError

CHOICES = ("AES256", "aws:kms")


def write_args(target: BucketTarget) -> dict[str, str]:
    """The SSE arguments of PutObject and CreateMultipartUpload; none without --sse."""
    if target.sse is None:
        return {}
    args: dict[str, str] = {"ServerSideEncryption": target.sse}
    if target.sse_kms_key_id:
        args["SSEKMSKeyId"] = target.sse_kms_key_id
    return args


def check_stored(target: BucketTarget, answer: dict[str, Any], bucket: str) -> None:
    """A store that ignores the header would keep the object in plain text while the run
    reports it encrypted: the probe's answer must echo the encryption asked for."""
    if target.sse is None:
        return
    got = answer.get("ServerSideEncryption")
    if got != target.sse:
        raise PreflightError(
            f"bucket {bucket} stored the preflight probe with encryption {got or 'none'}, "
            f"not {target.sse} as --sse asked: this store does not honour --sse"
        )


def refused_write(target: BucketTarget, bucket: str, code: str) -> PreflightError:
    """The preflight probe's PutObject was refused although the bucket answered HeadBucket:
    most often a bucket policy that demands (another) server-side encryption."""
    if target.sse is None:
        return PreflightError(
            f"bucket {bucket} refused an unencrypted write ({code} on PutObject); if its policy "
            "requires server-side encryption, pass --sse aws:kms [--sse-kms-key-id ID] or --sse AES256"
        )
    key = f" with key {target.sse_kms_key_id}" if target.sse_kms_key_id else ""
    return PreflightError(
        f"bucket {bucket} refused a write encrypted {target.sse}{key} ({code} on PutObject): "
        "check its policy's encryption condition, the KMS key and the credentials' rights to both"
    )


def validate(sse: str | None, kms_key_id: str | None) -> None:
    """--sse-kms-key-id only makes sense with --sse aws:kms (AWS would refuse the request)."""
    if sse is not None and sse not in CHOICES:
        raise ValueError(f"--sse must be one of {', '.join(CHOICES)}, not {sse!r}")
    if kms_key_id and sse != "aws:kms":
        raise ValueError("--sse-kms-key-id needs --sse aws:kms")
