"""How a part is filled from readers that return short reads (no S3 needed)."""

from __future__ import annotations

import io

from kubectl_hcmigrate.adapters.s3multipart import _fill


class Trickle:
    """read() returns at most 3 bytes, like a pipe under load."""

    def __init__(self, data: bytes) -> None:
        self._src = io.BytesIO(data)
        self.asked: list[int] = []

    def read(self, n: int) -> bytes:
        self.asked.append(n)
        return self._src.read(min(n, 3))


def test_fills_whole_parts_from_short_reads() -> None:
    src, seen = Trickle(bytes(range(25))), []
    assert _fill(src, bytearray(10), 0, seen.append) == bytes(range(10))
    assert _fill(src, bytearray(10), 10, seen.append) == bytes(range(10, 20))
    assert _fill(src, bytearray(10), 20, seen.append) == bytes(range(20, 25))  # EOF: a short last part
    assert _fill(src, bytearray(10), 25, seen.append) == b""
    assert max(src.asked) <= 10  # never more than the part has room for
    assert seen[-1] == 25


def test_readinto_is_preferred() -> None:
    src = io.BytesIO(b"abcdefgh")
    assert _fill(src, bytearray(5), 0, None) == b"abcde"
    assert _fill(src, bytearray(5), 5, None) == b"fgh"


def test_a_reader_keeping_a_view_does_not_break_the_trim() -> None:
    class Keeper:
        def __init__(self) -> None:
            self.kept: list[memoryview] = []
            self.left = 4

        def readinto(self, b: memoryview) -> int:
            self.kept.append(b)
            n, self.left = self.left, 0
            b[:n] = b"wxyz"[:n]
            return n

    assert _fill(Keeper(), bytearray(10), 0, None) == b"wxyz"
