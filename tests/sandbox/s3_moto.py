"""A second S3 implementation for the S3 tests: moto in server mode (the cloud twin's server).

It keeps a bucket in the region it was created in and answers HeadBucket with that region,
as AWS does, and it takes SSE-KMS with a key of its own KMS. It does not check signatures
or credentials: the tests that prove those run on SeaweedFS (S3Server.kind says which).
"""

from __future__ import annotations

import sys
import time
import urllib.request
from pathlib import Path

from tests.sandbox import procs
from tests.sandbox.s3 import START_TIMEOUT, S3Server

ACCESS, SECRET = "HCMMOTOTESTKEY000000", "moto-does-not-check-this-secret"


def start_moto_s3(state_dir: Path, port: int, bucket: str, region: str = "us-east-1") -> S3Server:
    """moto on 127.0.0.1:`port`; `bucket` is made in `region`, and a KMS key for SSE-KMS."""
    import boto3

    root = Path(state_dir).resolve()
    argv = [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)]
    started = time.monotonic()
    pid = procs.start("s3-moto", argv, pids=root / "pids", logs=root / "logs")
    endpoint = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2):
                    break
            except OSError:
                if not procs.alive(pid) or time.monotonic() - started > START_TIMEOUT:
                    raise procs.SandboxError(f"sandbox: moto S3 did not start; see {root / 'logs'}") from None
                time.sleep(0.05)
        kw = {"endpoint_url": endpoint, "region_name": region, "aws_access_key_id": ACCESS,
              "aws_secret_access_key": SECRET}  # fmt: skip
        where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        boto3.client("s3", **kw).create_bucket(Bucket=bucket, **where)
        key = boto3.client("kms", **kw).create_key(Description="hcmigrate tests")["KeyMetadata"]["KeyId"]
    except BaseException:
        procs.stop_pid(pid)
        raise
    return S3Server(pid=pid, endpoint_url=endpoint, access_key=ACCESS, secret_key=SECRET, bucket=bucket,
                    log_path=root / "logs" / "s3-moto.log", region=region, plain_url=endpoint,
                    kms_key_id=key, kind="moto")  # fmt: skip
