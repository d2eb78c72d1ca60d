"""The boto3 session and S3 client of a bucket: credentials from the runbook's file (a session
token included) or boto3's chain, SigV4 always."""

from __future__ import annotations

import configparser
from typing import Any

from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.report import PreflightError


def make_client(target: BucketTarget, endpoint: str | None, region: str | None, attempts: int) -> Any:
    """An S3 client signing SigV4 for `region` (else the session's, else us-east-1)."""
    import boto3
    from botocore.config import Config

    sess = boto3.Session(**credentials(target.aws_creds_file))
    region = region or sess.region_name or "us-east-1"

    def client(sign_payload: bool) -> Any:
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint else "auto", "payload_signing_enabled": sign_payload},
            retries={"mode": "standard", "max_attempts": attempts},
            request_checksum_calculation=target.checksum_mode,
            response_checksum_validation=target.checksum_mode,
            connect_timeout=min(10.0, target.request_timeout or 10.0),
            read_timeout=target.request_timeout or 120,
            tcp_keepalive=True,
        )
        return sess.client("s3", region_name=region, endpoint_url=endpoint, config=config)

    # Over TLS, which delivers the bytes intact, signing each body's sha256 hashes every byte of
    # the snapshot a second time (the manifest's sha256 covers them, and `verify` checks it end to
    # end): 1 CPU-s per GiB on a stream bound by CPU. Over plain HTTP (an endpoint from the
    # flags, the environment or ~/.aws/config) the signature is what catches a changed body.
    made = client(sign_payload=False)
    return made if made.meta.endpoint_url.lower().startswith("https://") else client(sign_payload=True)


def credentials(path: str | None) -> dict[str, str]:
    """Session arguments from the runbook's credentials file; none means boto3's chain."""
    if path is None:
        return {}
    parser = configparser.ConfigParser()
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except (OSError, configparser.Error) as e:
        why = type(e).__name__  # not str(e): a parse error quotes the file's lines
        raise PreflightError(f"cannot read the AWS credentials file {path}: {why}") from None
    section = "default" if parser.has_section("default") else next(iter(parser.sections()), "")
    found = dict(parser.items(section)) if section else {}
    if not found.get("aws_access_key_id") or not found.get("aws_secret_access_key"):
        raise PreflightError(
            f"the AWS credentials file {path} has no aws_access_key_id and "
            "aws_secret_access_key in [default] (or its only section)"
        )
    wanted = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
    return {k: found[k] for k in wanted if found.get(k)}
