"""The bucket of a dry run (restic's dry backend): reads go to the real bucket, writes go nowhere,
so a verb's steps need no `if dry_run` of their own."""

from __future__ import annotations

from typing import Any

from kubectl_hcmigrate.adapters.s3store import Bucket, UploadResult
from kubectl_hcmigrate.core.ports import Readable


class DryRunBucket:
    """restic's dry backend: reads go to the bucket, writes are recorded and not sent."""

    _READS = frozenset(
        {
            "head",
            "stat",
            "get_bytes",
            "open_reader",
            "iter_chunks",
            "list_keys",
            "list_sizes",
            "list_incomplete_uploads",
        }
        | {"presign_get", "full_key", "relative_key"}
    )

    def __init__(self, bucket: Bucket) -> None:
        self._bucket = bucket
        self.name = bucket.name

    def __getattr__(self, name: str) -> Any:
        # An allow-list, so a write method added to Bucket later cannot slip through.
        if name in self._READS:
            return getattr(self._bucket, name)
        raise AttributeError(name)

    def preflight(self, *, probe_write: bool = True) -> None:
        self._bucket.preflight(probe_write=False)

    def upload_stream(self, key: str, reader: Readable, **_: Any) -> UploadResult:
        return UploadResult(key=key, size=0, etag="", sha256="")

    def put_bytes(self, key: str, data: bytes) -> None:
        pass

    def delete(self, key: str) -> None:
        pass
