"""The S3 adapter against a real SeaweedFS (started here, on ports apart from the sandbox's)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from kubectl_hcmigrate.adapters.s3dryrun import DryRunBucket
from kubectl_hcmigrate.adapters.s3errors import ObjectMissing
from kubectl_hcmigrate.adapters.s3multipart import IN_FLIGHT
from kubectl_hcmigrate.adapters.s3store import Bucket
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.etcd.verifier import SnapshotInvalid, SnapshotVerifier, VerifyingReader
from tests.sandbox.s3 import S3Server

MiB = 1024 * 1024
PART = 16 * MiB
BIG = 150 * MiB
REPO = Path(__file__).resolve().parents[2]


class Source:
    """A deterministic byte source with short reads; it records every request size."""

    def __init__(self, size: int, fail_at: int | None = None, exc: BaseException | None = None):
        self.size, self.pos, self.fail_at, self.exc = size, 0, fail_at, exc
        self.requests: list[int] = []
        self.digest = hashlib.sha256()
        self._block = hashlib.sha512(b"seed").digest() * 16384  # 1 MiB, not all zeros

    def read(self, n: int) -> bytes:
        self.requests.append(n)
        if self.fail_at is not None and self.pos >= self.fail_at:
            raise self.exc or RuntimeError("source broke")
        n = min(n, self.size - self.pos, 700_000)  # short reads, like a socket
        start = self.pos % len(self._block)
        data = (self._block[start:] + self._block)[:n]
        self.pos += n
        self.digest.update(data)
        return data


def assert_nothing_left(bucket: Bucket) -> None:
    assert bucket.list_keys() == []
    assert bucket.list_incomplete_uploads() == []


def test_preflight_passes(bucket: Bucket) -> None:
    bucket.preflight()
    assert_nothing_left(bucket)  # the probe object is gone


def test_multipart_upload_of_150_mb(bucket: Bucket) -> None:
    src = Source(BIG)
    seen: list[int] = []
    result = bucket.upload_stream("big.db", src, part_size=PART, on_progress=seen.append)
    assert result.size == BIG
    assert result.sha256 == src.digest.hexdigest()
    assert result.etag.strip('"').endswith("-10")  # ceil(150 / 16) parts
    assert max(src.requests) <= PART  # never an unbounded read
    assert seen[-1] == BIG
    assert bucket.head("big.db") == (BIG, src.digest.hexdigest())
    body = bucket.open_reader("big.db")
    back = hashlib.sha256()
    while chunk := body.read(8 * MiB):
        back.update(chunk)
    assert back.hexdigest() == src.digest.hexdigest()
    assert bucket.list_incomplete_uploads() == []


def test_upload_ending_on_a_part_boundary(bucket: Bucket) -> None:
    src = Source(2 * 5 * MiB)
    result = bucket.upload_stream("edge", src, part_size=5 * MiB)
    assert bucket.head("edge") == (result.size, src.digest.hexdigest())


def test_empty_upload_makes_an_empty_object(bucket: Bucket) -> None:
    result = bucket.upload_stream("empty", Source(0), part_size=5 * MiB)
    assert bucket.head("empty") == (0, hashlib.sha256().hexdigest()) == (result.size, result.sha256)


@pytest.mark.parametrize("exc", [RuntimeError("source broke"), KeyboardInterrupt()])
def test_failure_mid_stream_aborts(bucket: Bucket, exc: BaseException) -> None:
    src = Source(BIG, fail_at=40 * MiB, exc=exc)
    with pytest.raises(type(exc)):
        bucket.upload_stream("broken.db", src, part_size=PART)
    assert_nothing_left(bucket)


def test_expected_size_mismatch_aborts(bucket: Bucket) -> None:
    with pytest.raises(Exception, match="expected"):
        bucket.upload_stream("short", Source(6 * MiB), part_size=5 * MiB, expected_size=7 * MiB)
    assert_nothing_left(bucket)


def snapshot_like(size_pages: int, corrupt: bool) -> bytes:
    body = bytearray(hashlib.sha512(b"x").digest() * (size_pages * 8))
    trailer = hashlib.sha256(body).digest()
    if corrupt:
        body[len(body) // 2] ^= 0xFF
    return bytes(body) + trailer


@pytest.mark.parametrize("corrupt", [False, True])
def test_finish_hook_decides(bucket: Bucket, corrupt: bool) -> None:
    import io

    blob = snapshot_like(24 * 1024, corrupt)  # 12 MiB: three 5 MiB parts
    verifier = SnapshotVerifier()
    reader = VerifyingReader(io.BytesIO(blob), verifier)
    if corrupt:
        with pytest.raises(SnapshotInvalid):
            bucket.upload_stream("snap.db", reader, part_size=5 * MiB, finish=verifier.finish)
        assert_nothing_left(bucket)
    else:
        result = bucket.upload_stream("snap.db", reader, part_size=5 * MiB, finish=verifier.finish)
        assert result.sha256 == verifier.finish().sha256 == hashlib.sha256(blob).hexdigest()


def test_wrong_secret_is_refused_without_echoing_it(s3: S3Server, target: BucketTarget) -> None:
    if s3.kind == "moto":
        pytest.skip("moto checks no secret")
    wrong = "W" + s3.secret_key[1:]
    path = Path(target.aws_creds_file or "").with_name("wrong")
    path.write_text(f"[x]\naws_access_key_id={s3.access_key}\naws_secret_access_key={wrong}\n")
    with pytest.raises(PreflightError) as err:
        Bucket(replace(target, aws_creds_file=str(path))).preflight()
    message = str(err.value)
    assert message.startswith(
        f"S3 refused the credentials for bucket {s3.bucket}: check AWS_ACCESS_KEY_ID/"
        "AWS_SECRET_ACCESS_KEY or --aws-creds"
    )
    assert wrong not in message and s3.secret_key not in message and "\n" not in message


def test_missing_bucket(target: BucketTarget) -> None:
    with pytest.raises(PreflightError) as err:
        Bucket(replace(target, bucket="no-such-bucket-here")).preflight()
    assert str(err.value) == "bucket no-such-bucket-here does not exist; create it or pass --bucket"


def test_unreachable_endpoint(target: BucketTarget) -> None:
    # Port 9 (discard) on loopback: refused at once; retries make this take a few seconds.
    with pytest.raises(PreflightError, match=r"cannot reach http://127.0.0.1:9 for bucket"):
        Bucket(replace(target, endpoint_url="http://user:pw@127.0.0.1:9")).preflight()


def test_credentials_from_the_environment(s3: S3Server, target: BucketTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret_key)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint_url)
    Bucket(replace(target, aws_creds_file=None, endpoint_url=None)).preflight()


def test_presigned_get_returns_the_bytes(bucket: Bucket) -> None:
    data = os.urandom(3 * MiB + 17)
    bucket.put_bytes("dir/blob.bin", data)
    url = bucket.presign_get("dir/blob.bin", 3600)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.read() == data


@pytest.mark.parametrize("seconds", [0, -1, 604801])
def test_presign_expiry_limits(bucket: Bucket, seconds: int) -> None:
    with pytest.raises(PreflightError, match="7 days"):
        bucket.presign_get("k", seconds)


def test_head_reports_stored_digest(bucket: Bucket) -> None:
    bucket.put_bytes("a/manifest.json", b"{}\n")
    assert bucket.head("a/manifest.json") == (3, hashlib.sha256(b"{}\n").hexdigest())
    assert bucket.get_bytes("a/manifest.json") == b"{}\n"
    assert bucket.list_keys("a/") == ["a/manifest.json"]
    with pytest.raises(ObjectMissing, match="a/missing does not exist in bucket"):
        bucket.head("a/missing")


def test_dry_run_reads_but_never_writes(bucket: Bucket) -> None:
    bucket.put_bytes("existing", b"x")
    dry = DryRunBucket(bucket)
    dry.preflight()
    src = Source(6 * MiB)
    dry.upload_stream("snap.db", src, part_size=5 * MiB)
    dry.put_bytes("manifest.json", b"{}")
    dry.delete("existing")
    assert src.requests == []  # not even read
    assert dry.list_keys() == ["existing"] and bucket.list_incomplete_uploads() == []
    assert dry.head("existing")[0] == 1


MEASURE = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from kubectl_hcmigrate.core.options import BucketTarget
    from kubectl_hcmigrate.adapters.s3store import Bucket
    from tests.integration.test_s3store import Source

    def status(field):
        text = Path("/proc/self/status").read_text()
        return int(text.split(field + ":")[1].split()[0])  # KiB

    part, size = int(sys.argv[1]), int(sys.argv[2])
    bucket = Bucket(BucketTarget(**json.loads(os.environ["TARGET"])))
    bucket.upload_stream("warm", Source(5 << 20), part_size=5 << 20)  # imports, pools
    # Reset the peak (VmHWM), so that building the client's tables does not count.
    Path("/proc/self/clear_refs").write_text("5")
    before = status("VmRSS")
    t = time.monotonic()
    bucket.upload_stream("measured", Source(size), part_size=part)
    seconds = time.monotonic() - t
    print(json.dumps({"growth_kib": status("VmHWM") - before, "seconds": seconds}))
    """
)


def test_memory_stays_near_the_parts_in_flight(target: BucketTarget) -> None:
    env = {**os.environ, "TARGET": json.dumps(target.__dict__)}
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(PART), str(BIG)],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    got = json.loads(out.splitlines()[-1])
    growth = got["growth_kib"] * 1024
    print(
        f"\n150 MiB in {got['seconds']:.2f}s = {BIG / MiB / got['seconds']:.0f} MiB/s, "
        f"peak RSS growth {growth / MiB:.0f} MiB with {PART // MiB} MiB parts"
    )
    # IN_FLIGHT parts uploading, one filling, and change; over PART/2, or it measured nothing.
    assert PART // 2 < growth < (IN_FLIGHT + 2) * PART
