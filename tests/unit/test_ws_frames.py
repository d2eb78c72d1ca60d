"""The exec websocket read straight off its socket: what a server may send besides 32 KiB stdout
frames (pings, fragmented messages, pongs), and what no server may send."""

from __future__ import annotations

import json

import pytest

from kubectl_hcmigrate.adapters.kube_exec import ExecFailed, ExecReader
from kubectl_hcmigrate.adapters.ws_frames import (
    MAX_HELD,
    OPCODE_BINARY,
    OPCODE_CONTINUATION,
    OPCODE_PING,
    OPCODE_PONG,
    FrameError,
    Frames,
)
from tests.fakes import FakeSocket, Wire, encoded

SUCCESS = json.dumps({"metadata": {}, "status": "Success"}).encode()


def reader(frames: list[tuple[object, ...]]) -> tuple[ExecReader, FakeSocket]:
    sock = FakeSocket(frames)
    return ExecReader(sock, "etcd-0", ["cat", "/var/lib/x.db"], keepalive=None), sock


def test_a_header_carries_the_channel_of_a_message_that_starts() -> None:
    data = b"\x01" + b"z" * 70_000  # past 65,535: the 8-byte length
    frames = Frames(Wire(encoded(OPCODE_BINARY, data) + encoded(OPCODE_CONTINUATION, b"tail"), None))
    assert frames.header() == (True, OPCODE_BINARY, 70_000, 1)
    assert frames.payload(70_000) == b"z" * 70_000
    assert frames.header() == (True, OPCODE_CONTINUATION, 4, None)  # a continuation has no channel byte


def test_a_ping_is_answered_and_a_pong_skipped_between_stdout_frames() -> None:
    r, sock = reader([(OPCODE_BINARY, b"\x01abc"), (OPCODE_PING, b"hi"), (OPCODE_PONG, b"ho"),
                      (OPCODE_BINARY, b"\x01def"), (OPCODE_BINARY, b"\x03" + SUCCESS)])  # fmt: skip
    assert r.read() == b"abcdef"
    assert sock.pongs == [b"hi"]
    r.check()


def test_stdout_and_a_status_split_over_continuation_frames_are_read_whole() -> None:
    half = len(SUCCESS) // 2
    r, _ = reader([
        (OPCODE_BINARY, b"\x01ab", False), (OPCODE_CONTINUATION, b"cd", False),
        (OPCODE_PING, b""),  # control frames may come between the fragments
        (OPCODE_CONTINUATION, b"ef"),
        (OPCODE_BINARY, b"\x03" + SUCCESS[:half], False), (OPCODE_CONTINUATION, SUCCESS[half:]),
    ])  # fmt: skip
    assert r.read() == b"abcdef"
    assert r.exit_code == 0


@pytest.mark.parametrize(
    ("wire", "why"),
    [
        (encoded(OPCODE_BINARY, b"\x01abc", mask=True), "masked"),
        (bytes([0x80 | 0x40 | OPCODE_BINARY, 1, 1]), "extension"),  # RSV1: compressed, never negotiated
        (
            encoded(OPCODE_BINARY, b"\x02" + b"e" * (MAX_HELD + 1)),
            "not read in place",
        ),  # a stderr frame past any sane size
        (encoded(OPCODE_BINARY, b"\x01abc")[:4], "closed inside"),  # the connection ends mid-frame
    ],
)
def test_what_no_server_sends_ends_the_stream_as_a_lost_connection(wire: bytes, why: str) -> None:
    frames = Frames(Wire(wire, eof=True))
    with pytest.raises(FrameError, match=why):
        frames.payload(frames.header().length)
    sock = FakeSocket([])
    sock.sock = Wire(wire, eof=True)
    with pytest.raises(ExecFailed, match="no exit status: the connection was lost"):
        ExecReader(sock, "etcd-0", ["cat", "x"], keepalive=None).read()


def test_a_stdout_frame_header_is_one_read_and_bytes_read_past_a_short_one_are_kept() -> None:
    class Counted(Wire):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.asked: list[int] = []

        def recv_into(self, buffer: memoryview, nbytes: int = 0, /) -> int:
            self.asked.append(nbytes)
            return super().recv_into(buffer, nbytes)

    # A channel opening (a 3-byte header and nothing else), then what a 32 KiB stdout frame carries.
    wire = Counted(encoded(OPCODE_BINARY, b"\x01") + encoded(OPCODE_BINARY, b"\x01" + b"s" * 32_768))
    frames = Frames(wire)
    assert frames.header() == (True, OPCODE_BINARY, 0, 1)  # its read brought the next header's first 2 bytes
    assert frames.header() == (True, OPCODE_BINARY, 32_768, 1)
    assert wire.asked == [5, 3]
    assert frames.payload(32_768) == b"s" * 32_768
    wire = Counted(encoded(OPCODE_BINARY, b"\x01" + b"s" * 32_768))
    Frames(wire).header()
    assert wire.asked == [5]
