"""The exec websocket's frames as the apiserver sends them (RFC 6455, section 5.2), read straight
off the connection's socket, a payload into the caller's own buffer.

websocket-client reads a frame 16 KiB at a time into new bytes objects, joins them, and hands
the frame over, which the exec reader then copies into the upload's part: at the apiserver's
32 KiB frames that held the GIL 2.9 s per GiB of snapshot in `make bench`'s profile, on a stream
whose two cores are shared with the apiserver and S3. Here TLS decrypts into the part in place.
Only what a server sends is read: frames without a mask (RFC 6455 forbids a server to mask) and
without extensions (the handshake asks for none, so no RSV bit may be set).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY = 0x0, 0x1, 0x2
OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG = 0x8, 0x9, 0xA
# What `payload` holds in memory at once: a stderr or status frame, a ping. The apiserver sends
# at most 32 KiB a frame; a larger length would be a broken stream, not one to allocate for.
MAX_HELD = 1024 * 1024


class RawSocket(Protocol):
    """The part of socket.socket and ssl.SSLSocket used here."""

    def recv_into(self, buffer: Any, nbytes: int = 0, /) -> int: ...


class FrameError(ConnectionError):
    """The bytes on the connection are not a websocket stream this reader can follow."""


class Header(NamedTuple):
    fin: bool  # the last frame of its message
    opcode: int
    length: int  # of the payload still on the socket
    # The first payload byte of a text or binary frame that starts a message: Kubernetes' channel
    # protocols put the channel there. Read with the header, in one call instead of two.
    channel: int | None


class Frames:
    """Reads a header, then its payload: in place with `into`, or as bytes with `payload`."""

    def __init__(self, sock: RawSocket) -> None:
        self._sock = sock
        self._head = memoryview(bytearray(9))  # a header's bytes: reused, a frame is read 32 KiB at a time

    def header(self) -> Header:
        first, second = self._exact(2)
        if first & 0x70:
            raise FrameError("a websocket frame uses an extension that was not negotiated")
        if second & 0x80:
            raise FrameError("the server sent a masked websocket frame")
        opcode, length = first & 0x0F, second & 0x7F
        extended = 0 if length < 126 else 2 if length == 126 else 8
        led = opcode in (OPCODE_TEXT, OPCODE_BINARY) and bool(length)
        rest = self._exact(extended + led)
        if extended:
            length = int.from_bytes(rest[:extended], "big")
        return Header(bool(first & 0x80), opcode, length - led, rest[extended] if led else None)

    def into(self, view: memoryview) -> int:
        """Some of the current payload into `view` (never more than fits): at least one byte."""
        got = self._sock.recv_into(view, len(view))
        if not got:
            raise FrameError("the connection closed inside a websocket frame")
        return got

    def payload(self, length: int) -> bytes:
        """Exactly `length` bytes of the current payload."""
        if length > MAX_HELD:
            raise FrameError(f"a websocket frame of {length} bytes on a channel that is not read in place")
        buf = bytearray(length)
        self._fill(memoryview(buf))
        return bytes(buf)

    def _exact(self, n: int) -> memoryview:
        view = self._head[:n]
        self._fill(view)
        return view

    def _fill(self, view: memoryview) -> None:
        pos = 0
        while pos < len(view):
            pos += self.into(view[pos:])
