"""Checks an etcd snapshot while it streams: its size and its trailing SHA-256.

`etcdctl snapshot save` writes the bbolt file (whole pages, so a multiple of 512 bytes)
followed by the 32-byte SHA-256 of everything before it; `etcdutl snapshot restore`
refuses a file whose trailer does not match. Checking it on the way up means a truncated
or corrupted stream never becomes an object that looks complete.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_hcmigrate.core.report import StepFailed

if TYPE_CHECKING:
    from kubectl_hcmigrate.core.ports import Readable

TRAILER = 32  # bytes of SHA-256
ALIGN = 512


class SnapshotInvalid(StepFailed):
    """The streamed bytes are not an intact etcd snapshot."""


@dataclass(frozen=True)
class SnapshotDigest:
    size: int
    sha256: str  # hex, of the whole file including the trailer


class SnapshotVerifier:
    """Feed it the chunks in order with `update`, then call `finish`.

    One pass of SHA-256 over the body; the whole-file digest is the body's hash state
    continued with the trailer. Memory: the last 32 bytes, whatever the chunk sizes.
    """

    def __init__(self) -> None:
        self._body = hashlib.sha256()
        self._tail = b""
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        if not chunk:
            return
        view = memoryview(chunk)
        self._size += len(view)
        if len(view) >= TRAILER:
            self._body.update(self._tail)
            self._body.update(view[:-TRAILER])
            self._tail = bytes(view[-TRAILER:])
        else:
            held = self._tail + bytes(view)
            self._body.update(held[:-TRAILER])
            self._tail = held[-TRAILER:]

    def sha256(self) -> str:
        """The whole file's sha256 so far, trailer included, whether or not the trailer matches
        (to compare with a recorded digest before judging the trailer)."""
        whole = self._body.copy()
        whole.update(self._tail)
        return whole.hexdigest()

    def finish(self) -> SnapshotDigest:
        """Return the digest, or raise SnapshotInvalid saying what is wrong."""
        size = self._size
        if size == 0:
            raise SnapshotInvalid("the etcd snapshot is empty (0 bytes)")
        if size % ALIGN != TRAILER:
            raise SnapshotInvalid(
                f"the etcd snapshot is {size} bytes, not whole 512-byte pages plus a 32-byte "
                "checksum: it was truncated or is not an etcd snapshot"
            )
        if self._body.digest() != self._tail:
            raise SnapshotInvalid(
                f"the etcd snapshot's trailing SHA-256 does not match its {size - TRAILER} "
                "bytes of data: it was corrupted or cut short in transit"
            )
        return SnapshotDigest(size=size, sha256=self.sha256())


class VerifyingReader:
    """Passes reads through from `source` and feeds every byte to `verifier`."""

    def __init__(self, source: Readable, verifier: SnapshotVerifier) -> None:
        self._source = source
        self.verifier = verifier

    def read(self, n: int = -1, /) -> bytes:
        data = self._source.read(n)
        self.verifier.update(data)
        return data

    def readinto(self, buffer: Any) -> int:
        # Keeps the source's copy-free path (ExecReader has one) when there is one.
        readinto = getattr(self._source, "readinto", None)
        if readinto is None:
            data = self.read(len(buffer))
            memoryview(buffer)[: len(data)] = data
            n = len(data)
        else:
            n = readinto(buffer)
            self.verifier.update(memoryview(buffer)[:n])
        return n
