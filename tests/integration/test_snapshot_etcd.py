"""SnapshotVerifier on real `etcdctl snapshot save` output, and its trip through S3."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_hcmigrate.adapters.s3store import Bucket
from kubectl_hcmigrate.etcd.verifier import SnapshotInvalid, SnapshotVerifier, VerifyingReader


def etcd_bin() -> Path:
    """The sandbox's cached etcd v3.6 binaries (tests/sandbox/build-bins.sh)."""
    cache = os.environ.get("HCMIGRATE_SANDBOX_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "hcmigrate-sandbox"
    )
    found = sorted(Path(cache).glob("bin-*/etcdctl"))
    if not found:
        pytest.skip("no cached etcd binaries: run `make bins`")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    bin_, work = etcd_bin(), tmp_path_factory.mktemp("etcd")
    client, peer = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    log = open(work / "etcd.log", "wb")  # noqa: SIM115 - the child writes it
    proc = subprocess.Popen(
        [
            str(bin_ / "etcd"),
            f"--data-dir={work / 'data'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=default={peer}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    ctl = [str(bin_ / "etcdctl"), f"--endpoints={client}"]
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([*ctl, "endpoint", "health"], capture_output=True).returncode:
            assert time.monotonic() < deadline, f"etcd did not start; see {work / 'etcd.log'}"
            time.sleep(0.2)
        value = os.urandom(6000).hex()  # incompressible, 12 KB per key
        for i in range(300):
            subprocess.run([*ctl, "put", f"/registry/k{i}", value], check=True, capture_output=True)
        path = work / "snapshot.db"
        subprocess.run([*ctl, "snapshot", "save", str(path)], check=True, capture_output=True)
        yield path
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def verify(data: bytes, chunk: int = 65536) -> SnapshotVerifier:
    v = SnapshotVerifier()
    for i in range(0, len(data), chunk):
        v.update(data[i : i + chunk])
    return v


def test_real_snapshot_passes(snapshot_file: Path) -> None:
    data = snapshot_file.read_bytes()
    assert len(data) > 3_000_000 and len(data) % 512 == 32  # etcd's layout, as assumed
    digest = verify(data, chunk=12345).finish()
    assert digest.size == len(data)
    assert digest.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("offset", [100, 1 << 20, -1])
def test_flipped_byte_in_real_snapshot(snapshot_file: Path, offset: int) -> None:
    data = bytearray(snapshot_file.read_bytes())
    data[offset] ^= 0x40
    with pytest.raises(SnapshotInvalid):
        verify(bytes(data)).finish()


@pytest.mark.parametrize("cut", [1, 32, 4096])
def test_truncated_real_snapshot(snapshot_file: Path, cut: int) -> None:
    with pytest.raises(SnapshotInvalid):
        verify(snapshot_file.read_bytes()[:-cut]).finish()


def test_real_snapshot_through_s3(snapshot_file: Path, bucket: Bucket) -> None:
    data = snapshot_file.read_bytes()
    verifier = SnapshotVerifier()
    reader = VerifyingReader(io.BytesIO(data), verifier)
    result = bucket.upload_stream("etcd.db", reader, part_size=5 << 20, finish=verifier.finish)
    assert bucket.head("etcd.db") == (len(data), hashlib.sha256(data).hexdigest())
    assert result.sha256 == verifier.finish().sha256
    # What etcdutl restores from must be the bytes etcdctl wrote.
    assert hashlib.sha256(bucket.get_bytes("etcd.db")).digest() == hashlib.sha256(data).digest()
