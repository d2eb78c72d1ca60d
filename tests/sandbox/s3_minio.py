"""MinIO, the second real S3 server: it checks signatures and session tokens (a real STS), and
encrypts with its built-in static KMS key (MINIO_KMS_SECRET_KEY), so SSE-KMS and SSE-S3 run for
real with a key id as on AWS. It is built from its Go module into the cache outside the repo
(build-bins.sh) and runs unmodified as a process of its own: a test-only server, never linked into
or shipped with the tool.

MinIO applies bucket policies to anonymous requests only. A policy that demands encryption of a
signed-in client is therefore a policy of its credentials: `assume_role` hands out temporary
credentials (a session token) that such a policy restricts, as an IAM role's would on AWS.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.sandbox import pki, procs
from tests.sandbox.config import minio_bin
from tests.sandbox.s3 import START_TIMEOUT, S3Server, _client, _random_keys

KMS_KEY_ID = "hcmigrate-minio-key"
# The console's port, pinned though the console is off (MINIO_BROWSER=off), beside the API's.
CONSOLE_OFFSET = 1


def owned_ports(port: int) -> list[int]:
    return [port, port + CONSOLE_OFFSET]


def _certs(root: Path, ca: tuple[Path, Path]) -> Path:
    """MinIO's certs dir: public.crt and private.key signed by `ca` (the sandbox's S3 CA, which the
    etcd init container and the tool already trust), and that CA under CAs/."""
    certs = root / "certs"
    _, key = pki.make_cert(certs, "public", ca, cn="minio", dns=("localhost",), ips=("127.0.0.1",))
    key.rename(certs / "private.key")
    (certs / "CAs").mkdir()
    shutil.copy(ca[0], certs / "CAs" / "ca.crt")
    return certs


def start_minio_s3(
    state_dir: Path, port: int, bucket: str, *, ca: tuple[Path, Path] | None = None, region: str = "us-east-1"
) -> S3Server:
    """MinIO on 127.0.0.1:`port` (HTTPS with a certificate of `ca` when given); returns once
    `bucket` exists. Its pid goes to state_dir/pids/s3-minio.pid, its log to state_dir/logs/."""
    root = Path(state_dir).resolve()
    home = root / "minio"
    shutil.rmtree(home, ignore_errors=True)  # its data is encrypted with the KMS key made below
    (home / "data").mkdir(parents=True)
    access, secret = _random_keys()
    env = {
        "MINIO_ROOT_USER": access,
        "MINIO_ROOT_PASSWORD": secret,
        "MINIO_KMS_SECRET_KEY": f"{KMS_KEY_ID}:{base64.b64encode(os.urandom(32)).decode()}",
        "MINIO_SITE_REGION": region,
        "MINIO_BROWSER": "off",
        "MINIO_UPDATE": "off",
    }
    argv = [str(minio_bin()), "server", "--quiet", "--address", f"127.0.0.1:{port}",
            "--console-address", f"127.0.0.1:{port + CONSOLE_OFFSET}"]  # fmt: skip
    scheme, context = "http", None
    if ca:
        argv += ["--certs-dir", str(_certs(home, ca))]
        scheme, context = "https", ssl.create_default_context(cafile=str(ca[0]))
    pid = procs.start("s3-minio", [*argv, str(home / "data")], pids=root / "pids", logs=root / "logs", env=env)
    endpoint = f"{scheme}://127.0.0.1:{port}"
    server = S3Server(pid=pid, endpoint_url=endpoint, access_key=access, secret_key=secret, bucket=bucket,
                      log_path=root / "logs" / "s3-minio.log", region=region, ca_bundle=ca[0] if ca else None,
                      plain_url=endpoint, kms_key_id=KMS_KEY_ID, kind="minio")  # fmt: skip
    try:
        _wait_ready(server, context)
        where = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        _client(server).create_bucket(Bucket=bucket, **where)
    except BaseException:
        procs.stop_pid(pid)
        raise
    return server


def _wait_ready(server: S3Server, context: ssl.SSLContext | None) -> None:
    started = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(server.endpoint_url + "/minio/health/ready", timeout=2, context=context):
                return
        except OSError:
            if not procs.alive(server.pid) or time.monotonic() - started > START_TIMEOUT:
                raise procs.SandboxError(f"sandbox: MinIO did not start; see {server.log_path}") from None
            time.sleep(0.05)


def assume_role(server: S3Server, policy: dict[str, Any] | None = None, seconds: int = 3600) -> dict[str, str]:
    """Temporary credentials of MinIO's STS (AssumeRole as its root user), restricted by `policy`
    when given (MinIO then carries the policy in the token, which makes it long): AccessKeyId,
    SecretAccessKey and SessionToken."""
    import boto3

    sts = boto3.client("sts", endpoint_url=server.endpoint_url, region_name=server.region,
                       aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
                       verify=str(server.ca_bundle) if server.ca_bundle else None)  # fmt: skip
    # MinIO ignores the role's ARN for its root user; the session policy is what restricts.
    inline = {"Policy": json.dumps(policy)} if policy else {}
    answer = sts.assume_role(RoleArn="arn:minio:iam:::role/hcmigrate", RoleSessionName="hcmigrate",
                             DurationSeconds=seconds, **inline)  # fmt: skip
    creds = answer["Credentials"]
    return {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}


def encryption_required(bucket: str, keys: list[str] | None = None) -> dict[str, Any]:
    """Everything on `bucket`, but no PutObject without an encryption header on `keys` (patterns;
    all keys by default): the AWS policy that demands server-side encryption."""
    covered = [f"arn:aws:s3:::{bucket}/{k}" for k in keys or ["*"]]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:*"], "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
            {"Effect": "Deny", "Action": ["s3:PutObject"], "Resource": covered,
             "Condition": {"Null": {"s3:x-amz-server-side-encryption": ["true"]}}},
        ],
    }  # fmt: skip


# The sandbox's MinIO in its env file (tests read it from there, as they read SeaweedFS's).
_ENV = {"pid": "HCMIGRATE_SANDBOX_MINIO_PID", "endpoint_url": "HCMIGRATE_SANDBOX_MINIO_URL",
        "access_key": "HCMIGRATE_SANDBOX_MINIO_ACCESS_KEY", "secret_key": "HCMIGRATE_SANDBOX_MINIO_SECRET_KEY",
        "bucket": "HCMIGRATE_SANDBOX_MINIO_BUCKET", "ca_bundle": "HCMIGRATE_SANDBOX_MINIO_CA_BUNDLE",
        "log_path": "HCMIGRATE_SANDBOX_MINIO_LOG"}  # fmt: skip


def to_env(server: S3Server) -> dict[str, str]:
    return {var: str(getattr(server, field)) for field, var in _ENV.items()}


def from_env(env: dict[str, str]) -> S3Server:
    v = {field: env[var] for field, var in _ENV.items()}
    return S3Server(pid=int(v["pid"]), endpoint_url=v["endpoint_url"], access_key=v["access_key"],
                    secret_key=v["secret_key"], bucket=v["bucket"], log_path=Path(v["log_path"]),
                    ca_bundle=Path(v["ca_bundle"]), plain_url=v["endpoint_url"], kms_key_id=KMS_KEY_ID,
                    kind="minio")  # fmt: skip
