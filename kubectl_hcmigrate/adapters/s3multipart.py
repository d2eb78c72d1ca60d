"""Stream a reader into one S3 multipart upload: all of it, or nothing.

Driven by hand rather than by boto3's transfer manager, so that the caller's checks (the
command's exit status, the snapshot's trailer) run after the last byte and before
CompleteMultipartUpload, and any failure aborts the upload instead of leaving an object.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

from kubectl_hcmigrate.adapters.s3errors import S3Error
from kubectl_hcmigrate.core.bounded import drain, result_of
from kubectl_hcmigrate.core.ports import Readable

MiB = 1024 * 1024
# Small parts, several in flight: S3 takes parts in parallel, and memory stays near
# (IN_FLIGHT + 1) parts. 10,000 parts of 8 MiB hold 78 GiB, well past etcd's 8 GiB quota.
DEFAULT_PART_SIZE = 8 * MiB
IN_FLIGHT = 4
MIN_PART_SIZE = 5 * MiB  # S3's minimum for every part but the last
MAX_PARTS = 10_000


def note_cleanup_failure(cause: BaseException, what: str, error: BaseException) -> None:
    """Attach a failed cleanup to the error that caused it, never replacing the cause."""
    if hasattr(cause, "add_note"):  # Python >= 3.11
        cause.add_note(f"cleanup ({what}) also failed: {error}")


def upload(
    client: Any,
    bucket: str,
    key: str,
    reader: Readable,
    *,
    part_size: int,
    errors: Callable[[], AbstractContextManager[None]],
    on_progress: Callable[[int], None] | None = None,
    finish: Callable[[], object] | None = None,
    expected_size: int | None = None,
    sha256: Callable[[], str] | None = None,
    extra: dict[str, str] | None = None,
) -> tuple[str, int, str]:
    """(etag, size, sha256) of the completed object; on any exception, abort and re-raise.

    `errors` maps client exceptions to ours; `finish` runs after EOF, before completion.
    `sha256`, when the caller already hashes every byte (the snapshot verifier does), gives
    the whole object's hex digest after `finish`, so the data is not hashed twice.
    `extra` goes to CreateMultipartUpload (server-side encryption: the parts inherit it).
    """
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
    with errors():
        upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **(extra or {}))["UploadId"]
    ids = {"Bucket": bucket, "Key": key, "UploadId": upload_id}
    try:
        parts, size, sha = _send_parts(client, ids, reader, part_size, errors, on_progress, hash_data=sha256 is None)
        if expected_size is not None and size != expected_size:
            raise S3Error(f"read {size} bytes for {key}, expected {expected_size}")
        if finish is not None:
            finish()
        if sha256 is not None:
            sha = sha256()
        with errors():
            done = client.complete_multipart_upload(**ids, MultipartUpload={"Parts": parts})
        return done["ETag"], size, sha
    except BaseException as cause:
        try:
            with errors():
                client.abort_multipart_upload(**ids)
        except Exception as e:
            note_cleanup_failure(cause, f"abort multipart upload of {key}", e)
        raise


def _send_parts(
    client: Any,
    ids: dict[str, str],
    reader: Readable,
    part_size: int,
    errors: Callable[[], AbstractContextManager[None]],
    on_progress: Callable[[int], None] | None,
    *,
    hash_data: bool = True,
) -> tuple[list[dict[str, Any]], int, str]:
    def send(number: int, body: bytearray) -> dict[str, Any]:
        with errors():
            etag = client.upload_part(**ids, PartNumber=number, Body=body)["ETag"]
        return {"PartNumber": number, "ETag": etag}

    # Up to IN_FLIGHT parts upload while the next is read: memory stays near IN_FLIGHT + 1 parts.
    # A part's buffer is filled again once its upload is done: a fresh 8 MiB bytearray is zeroed
    # by the kernel and again by Python, 0.6 s of held GIL per GiB in `make bench`'s profile.
    digest, parts, size, number = hashlib.sha256(), [], 0, 0
    pool = ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="s3-part")
    pending: deque[tuple[Future[dict[str, Any]], bytearray]] = deque()
    spare: list[bytearray] = []
    try:
        while True:
            if len(pending) == IN_FLIGHT:
                sent, buf = pending.popleft()
                parts.append(result_of(sent))  # in order: parts stays sorted
                spare.append(buf)
            buf = _fill(reader, spare.pop() if spare else bytearray(part_size), size, on_progress)
            if hash_data:
                digest.update(buf)
            size += len(buf)
            if not buf and number:  # the end fell on a part boundary
                break
            number += 1
            if number > MAX_PARTS:
                raise S3Error(f"more than {MAX_PARTS} parts: use a larger part size")
            pending.append((pool.submit(send, number, buf), buf))
            if len(buf) < part_size:
                break
        while pending:
            parts.append(result_of(pending.popleft()[0]))
    finally:
        drain(pool)  # the parts in flight land, so that the abort that follows removes them
    return parts, size, digest.hexdigest()


def _fill(reader: Readable, buf: bytearray, done: int, on_progress: Callable[[int], None] | None) -> bytearray:
    """Fill `buf` unless EOF comes first (then trimmed to what came): readers may return short reads."""
    part_size = len(buf)
    readinto = getattr(reader, "readinto", None)
    pos = 0
    # Released before the trim below, which cannot resize a buffer with live views.
    with memoryview(buf) as view:
        while pos < part_size:
            if readinto is not None:
                n = readinto(view[pos:])
            else:
                chunk = reader.read(part_size - pos)
                n = len(chunk)
                view[pos : pos + n] = chunk
            if not n:
                break
            pos += n
            if on_progress is not None:
                on_progress(done + pos)
    try:
        del buf[pos:]
    except BufferError:  # the reader kept a view of it: copy instead of trimming
        buf = buf[:pos]
    return buf
