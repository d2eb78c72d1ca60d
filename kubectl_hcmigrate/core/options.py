"""Resolved options, passed from the CLI into the verbs. Frozen: resolved once."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"
    yaml = "yaml"


@dataclass(frozen=True)
class KubeTarget:
    """A management cluster as kubectl would pick it: kubeconfig path(s) and context."""

    kubeconfig: str | None = None
    context: str | None = None
    # Seconds one request to its apiserver may take (kubectl's --request-timeout).
    request_timeout: float = 30.0


@dataclass(frozen=True)
class BucketTarget:
    """Where backups go in S3 and how to reach it; keys are relative to `prefix`."""

    bucket: str
    prefix: str = ""
    region: str | None = None
    # None: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, then AWS itself.
    endpoint_url: str | None = None
    # The runbook's credentials file (INI, aws_access_key_id / aws_secret_access_key);
    # None: boto3's usual chain (environment, profile, instance role).
    aws_creds_file: str | None = None
    # Without a hosted zone: ask this DNS server ("ADDR[:PORT]", UDP) instead of the system resolver.
    resolver: str | None = None
    # "when_required": botocore's default CRC checksums break many S3-compatible stores.
    checksum_mode: Literal["when_required", "when_supported"] = "when_required"
    # Server-side encryption of every object written: None (the bucket's default), "AES256"
    # (SSE-S3) or "aws:kms" (SSE-KMS, with `sse_kms_key_id` or the account's aws/s3 key).
    sse: Literal["AES256", "aws:kms"] | None = None
    sse_kms_key_id: str | None = None
    # Seconds one S3 request may wait for an answer (a typed --request-timeout); None: 120 s,
    # enough for a multipart part or a CompleteMultipartUpload over a slow link.
    request_timeout: float | None = None


@dataclass(frozen=True)
class CloudTarget:
    """Where the tool looks at the HC's DNS records and OIDC identity (Route53, IAM, the OIDC bucket)."""

    # Read the records from this Route53 hosted zone (owner TXT records included); None: resolve them.
    hosted_zone_id: str | None = None
    region: str | None = None
    # None: AWS itself (or AWS_ENDPOINT_URL); an AWS-compatible endpoint for Route53, IAM and S3.
    endpoint_url: str | None = None
    aws_creds_file: str | None = None
    # Without a hosted zone: ask this DNS server ("ADDR[:PORT]", UDP) instead of the system resolver.
    resolver: str | None = None


@dataclass(frozen=True)
class HostedClusterBackups:
    """The hosted cluster a verb works on and the bucket its backups are in: where backup,
    restore, verify and migrate all start (each verb's options add its own after these)."""

    name: str
    namespace: str
    bucket: BucketTarget


@dataclass(frozen=True)
class BackupChoice(HostedClusterBackups):
    """One of those backups, to read back: a bundle folder, or an id (neither: the newest complete one)."""

    source_dir: Path | None = None
    backup_id: str | None = None
