"""The bucket: the only module that imports boto3, and only when a Bucket is built.

Every object hcmigrate writes carries its sha256 and size as S3 object tags: they work on
AWS and SeaweedFS alike, need no server-side copy (5 GB limit) and no second object.
Preflight tags its probe object, so a store or a policy without tagging fails there.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from kubectl_hcmigrate.adapters import s3encryption as encryption
from kubectl_hcmigrate.adapters import s3multipart as multipart
from kubectl_hcmigrate.adapters import s3region as regions
from kubectl_hcmigrate.adapters import s3session as session
from kubectl_hcmigrate.adapters.s3errors import S3Error, Where, s3_errors
from kubectl_hcmigrate.adapters.s3multipart import DEFAULT_PART_SIZE, Readable
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.ports import ObjectStat
from kubectl_hcmigrate.core.report import HcmigrateError, PreflightError
from kubectl_hcmigrate.core.restore_url import MAX_PRESIGN_SECONDS

RETRY_ATTEMPTS = 5


@dataclass(frozen=True)
class UploadResult:
    key: str
    size: int
    etag: str
    sha256: str
    version_id: str | None = None  # on a versioned bucket


class Bucket:
    """One bucket and prefix; every key argument is relative to the prefix."""

    def __init__(self, target: BucketTarget) -> None:
        self.target = target
        self.name = target.bucket
        # Resolved here (boto3 would too) because an endpoint also means path-style keys.
        env = os.environ
        self._endpoint = target.endpoint_url or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        self._client = self._make_client(target.region)
        self._where = Where.of(self.name, self._endpoint, self._client.meta.region_name)
        self._sse = encryption.write_args(target)  # on every PutObject and CreateMultipartUpload
        self._bucket_region: str | None = None  # read from the bucket at preflight

    def _make_client(self, region: str | None) -> Any:
        return session.make_client(self.target, self._endpoint, region, RETRY_ATTEMPTS)

    def _settle_region(self, head: dict[str, Any]) -> None:
        """Sign for the bucket's own region from now on (presigned URLs included); a --region
        that is not the bucket's is refused here, before anything changes."""
        actual = regions.header_region(head) or regions.location_region(
            self._client, self.name, custom_endpoint=bool(self._endpoint)
        )
        regions.check(self.target.region, actual, self.name)
        self._bucket_region = actual or self._client.meta.region_name
        if self._bucket_region != self._client.meta.region_name:
            self._client = self._make_client(self._bucket_region)
            self._where = Where.of(self.name, self._endpoint, self._bucket_region)

    def _key(self, key: str) -> str:
        prefix = self.target.prefix.strip("/")
        return f"{prefix}/{key}" if prefix else key

    def full_key(self, key: str) -> str:
        """The key as stored in the bucket, prefix included (what a manifest records)."""
        return self._key(key)

    def relative_key(self, full: str) -> str:
        """The inverse of full_key: a key as a manifest records it, made relative again."""
        return self._rel(full)

    def _rel(self, full: str) -> str:
        prefix = self.target.prefix.strip("/")
        return full[len(prefix) + 1 :] if prefix else full

    def _errors(self, kind: type[HcmigrateError] = S3Error, key: str = "") -> AbstractContextManager[None]:
        return s3_errors(kind, self._where, key)

    def preflight(self, *, probe_write: bool = True) -> None:
        """The bucket answers and, with `probe_write`, takes, tags and drops an object.

        Tagging is probed because that is how uploads store their sha256 and size; the probe
        is written with --sse's encryption, so a policy that demands another is met here.
        """
        with self._errors(PreflightError):
            self._settle_region(self._client.head_bucket(Bucket=self.name))
            if not probe_write:
                return
            probe = f".hcmigrate-preflight-{uuid.uuid4().hex}"
            answer = self._probe_put(probe)
            try:
                encryption.check_stored(self.target, answer, self.name)
                self._client.put_object_tagging(
                    Bucket=self.name, Key=self._key(probe), Tagging={"TagSet": _tags("0" * 64, 20)}
                )
            except BaseException as cause:
                self._discard(probe, cause)
                raise
            self._client.delete_object(Bucket=self.name, Key=self._key(probe))

    def _probe_put(self, probe: str) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        try:
            return dict(self._client.put_object(Bucket=self.name, Key=self._key(probe), Body=b"hcmigrate preflight\n",
                                                **self._sse))  # fmt: skip
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code == "AccessDenied" or e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
                raise encryption.refused_write(self.target, self.name, "AccessDenied") from None
            raise

    def _discard(self, key: str, cause: BaseException) -> None:
        """Delete `key` after a failure; if that fails too, note it on the cause."""
        try:
            self.delete(key)
        except Exception as e:
            multipart.note_cleanup_failure(cause, f"delete {key}", e)

    def upload_stream(
        self,
        key: str,
        reader: Readable,
        *,
        part_size: int = DEFAULT_PART_SIZE,
        on_progress: Callable[[int], None] | None = None,
        finish: Callable[[], object] | None = None,
        expected_size: int | None = None,
        sha256: Callable[[], str] | None = None,
    ) -> UploadResult:
        """Multipart-upload `reader` to its end, then tag the object with sha256 and size.

        `finish` runs after the last byte and may raise to abort. On any exception,
        KeyboardInterrupt included, no object and no unfinished upload is left behind.
        """
        full = self._key(key)
        etag, size, sha = multipart.upload(
            self._client,
            self.name,
            full,
            reader,
            part_size=part_size,
            errors=lambda: self._errors(key=key),
            on_progress=on_progress,
            finish=finish,
            expected_size=expected_size,
            sha256=sha256,
            extra=self._sse,
        )
        try:
            with self._errors(key=key):
                self._client.put_object_tagging(Bucket=self.name, Key=full, Tagging={"TagSet": _tags(sha, size)})
                head = self._client.head_object(Bucket=self.name, Key=full)
            stored = head["ContentLength"]
            if stored != size:
                raise S3Error(f"{key} is {stored} bytes in bucket {self.name}, {size} were sent")
        except BaseException as cause:
            # An untagged or short object must not look like a finished backup.
            self._discard(key, cause)
            raise
        # As a later HEAD will see them: restore and verify compare them to tell a replaced object.
        return UploadResult(key, size, head.get("ETag") or etag, sha, _version(head))

    def put_bytes(self, key: str, data: bytes) -> None:
        tagging = urlencode({"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
        with self._errors(key=key):
            self._client.put_object(Bucket=self.name, Key=self._key(key), Body=data, Tagging=tagging, **self._sse)

    def get_bytes(self, key: str) -> bytes:
        body = self.open_reader(key)
        try:
            with self._errors(key=key):
                return body.read()
        finally:
            body.close()

    def open_reader(self, key: str, *, version_id: str | None = None) -> Any:
        """The object's streaming body (of that version, if given): read(n) and close()."""
        with self._errors(key=key):
            return self._client.get_object(**self._ids(key, version_id))["Body"]

    def _ids(self, key: str, version_id: str | None) -> dict[str, str]:
        ids = {"Bucket": self.name, "Key": self._key(key)}
        return {**ids, "VersionId": version_id} if version_id else ids

    def iter_chunks(self, key: str, chunk_size: int, *, version_id: str | None = None) -> Iterator[bytes]:
        """The object's bytes, at most `chunk_size` at a time: memory stays bounded whatever
        its size, and a connection lost mid-read is one line like every other S3 error."""
        body = self.open_reader(key, version_id=version_id)
        try:
            while True:
                with self._errors(key=key):
                    chunk = body.read(chunk_size)
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    def head(self, key: str) -> tuple[int, str | None]:
        """Size, and the sha256 stored with the object when its size tag still matches."""
        return self.stat(key)[:2]

    def stat(self, key: str, *, version_id: str | None = None) -> ObjectStat:
        """head(), plus what S3 computed for the object (of that version, if given)."""
        with self._errors(key=key):
            head = self._client.head_object(**self._ids(key, version_id))
            tags = self._client.get_object_tagging(**self._ids(key, version_id))["TagSet"]
        size, found = head["ContentLength"], {t["Key"]: t["Value"] for t in tags}
        sha = found.get("sha256") if found.get("size") == str(size) else None
        return ObjectStat(size, sha, head.get("ETag"), _version(head))

    def list_keys(self, prefix: str = "") -> list[str]:
        return list(self.list_sizes(prefix))

    def list_sizes(self, prefix: str = "") -> dict[str, int]:
        """Key -> size in bytes, from the listing itself (no request per object)."""
        return {self._rel(o["Key"]): o["Size"] for o in self._pages("list_objects_v2", "Contents", prefix)}

    def list_incomplete_uploads(self, prefix: str = "") -> list[tuple[str, str]]:
        """(key, upload id) of multipart uploads started and neither completed nor aborted."""
        uploads = self._pages("list_multipart_uploads", "Uploads", prefix)
        return [(self._rel(u["Key"]), u["UploadId"]) for u in uploads]

    def abort_incomplete_uploads(self, prefix: str) -> list[str]:
        """Aborts uploads a killed run left under `prefix` (they hold storage, never objects)."""
        stale = self.list_incomplete_uploads(prefix)
        for key, upload_id in stale:
            with self._errors(key=key):
                self._client.abort_multipart_upload(Bucket=self.name, Key=self._key(key), UploadId=upload_id)
        return [key for key, _ in stale]

    def _pages(self, operation: str, field: str, prefix: str) -> list[dict[str, Any]]:
        with self._errors():
            pages = self._client.get_paginator(operation).paginate(Bucket=self.name, Prefix=self._key(prefix))
            return [item for page in pages for item in page.get(field, [])]

    def delete(self, key: str) -> None:
        with self._errors(key=key):
            self._client.delete_object(Bucket=self.name, Key=self._key(key))

    def presign_get(self, key: str, expires_seconds: int, *, version_id: str | None = None) -> str:
        """An HTTPS (or endpoint) GET URL signed for the bucket's own region; of that version, if
        given, so an object put over it later is not what the URL serves."""
        if not 0 < expires_seconds <= MAX_PRESIGN_SECONDS:
            raise PreflightError(
                f"a presigned URL must expire in 1 to {MAX_PRESIGN_SECONDS} seconds (7 days), not {expires_seconds}"
            )
        if self._bucket_region is None:
            with self._errors(PreflightError):
                self._settle_region(self._client.head_bucket(Bucket=self.name))
        # SigV4 for the bucket's region (the client's config): an SSE-KMS object is served
        # only to a SigV4 request, and a session token rides in the query as X-Amz-Security-Token.
        return self._client.generate_presigned_url(
            "get_object",
            Params=self._ids(key, version_id),
            ExpiresIn=int(expires_seconds),
        )


def _version(head: dict[str, Any]) -> str | None:
    """A HEAD's VersionId; none (or "null") on a bucket that never had versioning."""
    found = head.get("VersionId")
    return found if found and found != "null" else None


def _tags(sha256: str, size: int) -> list[dict[str, str]]:
    return [{"Key": "sha256", "Value": sha256}, {"Key": "size", "Value": str(size)}]
