"""Reading etcd in tests: digests of every key and value, and restoring a snapshot."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.sandbox.hosted_etcd import SEED_KEY, HostedEtcd


def trailer_ok(data: bytes) -> bool:
    """An etcd snapshot ends with the SHA-256 of everything before it."""
    return len(data) % 512 == 32 and hashlib.sha256(data[:-32]).digest() == data[-32:]


def digest(conn_factory, revision: int = 0) -> tuple[int, str]:
    """(number of keys, sha256 over every key and value in order), paging through range."""
    h = hashlib.sha256()
    count, key = 0, b"\0"
    conn = conn_factory()
    try:
        while True:
            body = {"key": _b64(key), "range_end": _b64(b"\0"), "limit": 500}
            if revision:
                body["revision"] = revision
            conn.request("POST", "/v3/kv/range", json.dumps(body), {"Content-Type": "application/json"})
            resp = json.loads(conn.getresponse().read())
            kvs = resp.get("kvs", [])
            for kv in kvs:
                k, v = base64.b64decode(kv["key"]), base64.b64decode(kv.get("value", ""))
                h.update(len(k).to_bytes(4, "big") + k + len(v).to_bytes(4, "big") + v)
                count += 1
            if not resp.get("more"):
                return count, h.hexdigest()
            key = base64.b64decode(kvs[-1]["key"]) + b"\0"
    finally:
        conn.close()


def hosted_digest(etcd: HostedEtcd, member: int = 0, cluster: str = "source") -> tuple[int, str]:
    """Of a source member, or of a destination member the twin restored."""
    ctx = ssl.create_default_context(cafile=str(etcd.ca_cert))
    ctx.load_cert_chain(*map(str, etcd.client_cert))
    ip = etcd.cfg.member_ip(member, cluster)
    return digest(lambda: http.client.HTTPSConnection(ip, 2379, context=ctx, timeout=60))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def restored_etcd(bin_: Path, snapshot: Path, workdir: Path) -> Iterator[Callable[[], http.client.HTTPConnection]]:
    """Restores the snapshot with etcdutl and serves it from a throwaway etcd on 127.0.0.1."""
    data = workdir / "restored"
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run(
        [str(bin_ / "etcdutl"), "snapshot", "restore", str(snapshot), f"--data-dir={data}"],
        check=True, capture_output=True,
    )  # fmt: skip
    cport, pport = _free_port(), _free_port()
    proc = subprocess.Popen(
        [str(bin_ / "etcd"), f"--data-dir={data}", "--name=default",
         f"--listen-client-urls=http://127.0.0.1:{cport}", f"--advertise-client-urls=http://127.0.0.1:{cport}",
         f"--listen-peer-urls=http://127.0.0.1:{pport}", f"--initial-advertise-peer-urls=http://127.0.0.1:{pport}",
         f"--initial-cluster=default=http://127.0.0.1:{pport}", "--log-level=error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", cport, timeout=5)
                c.request("POST", "/v3/kv/range", json.dumps({"key": _b64(SEED_KEY.encode())}))
                c.getresponse().read()
                c.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield lambda: http.client.HTTPConnection("127.0.0.1", cport, timeout=60)
    finally:
        proc.terminate()
        proc.wait(10)


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()
