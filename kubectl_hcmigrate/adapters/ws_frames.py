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
# The longest header: 2 bytes, an 8-byte length, the channel byte. A stdout frame's is 5 bytes
# (its 32 KiB takes the 2-byte length), asked for in one read rather than the 2 and 3 that its
# fields need: one TLS read less for each 32 KiB of the stream.
MAX_HEADER, HEADER_READ = 11, 5


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
        # A header's bytes, reused: a frame is read 32 KiB at a time. A read for a header asks for
        # HEADER_READ bytes, which may bring the first bytes after a shorter header: kept here, in
        # [_ahead, _end), and handed out before the socket is read again.
        self._head = memoryview(bytearray(MAX_HEADER))
        self._ahead = self._end = 0

    def header(self) -> Header:
        have = self._end - self._ahead
        if have:  # read with the last header, after it: this header's first bytes
            self._head[:have] = bytes(self._head[self._ahead : self._end])
        have = self._at_least(2, have)
        first, second = self._head[0], self._head[1]
        if first & 0x70:
            raise FrameError("a websocket frame uses an extension that was not negotiated")
        if second & 0x80:
            raise FrameError("the server sent a masked websocket frame")
        opcode, length = first & 0x0F, second & 0x7F
        extended = 0 if length < 126 else 2 if length == 126 else 8
        led = opcode in (OPCODE_TEXT, OPCODE_BINARY) and bool(length)
        size = 2 + extended + led
        self._ahead, self._end = size, self._at_least(size, have)
        if extended:
            length = int.from_bytes(self._head[2 : 2 + extended], "big")
        return Header(bool(first & 0x80), opcode, length - led, self._head[2 + extended] if led else None)

    def into(self, view: memoryview) -> int:
        """Some of the current payload into `view` (never more than fits): at least one byte."""
        if self._ahead < self._end:  # read with the header
            got = min(len(view), self._end - self._ahead)
            view[:got] = self._head[self._ahead : self._ahead + got]
            self._ahead += got
            return got
        return self._recv(view, len(view))

    def payload(self, length: int) -> bytes:
        """Exactly `length` bytes of the current payload."""
        if length > MAX_HELD:
            raise FrameError(f"a websocket frame of {length} bytes on a channel that is not read in place")
        buf = bytearray(length)
        view, pos = memoryview(buf), 0
        while pos < length:
            pos += self.into(view[pos:])
        return bytes(buf)

    def _at_least(self, n: int, have: int) -> int:
        """Header bytes until `have` is `n` or more, in one read when they are all there."""
        while have < n:
            have += self._recv(self._head[have:], max(n, HEADER_READ) - have)
        return have

    def _recv(self, view: memoryview, n: int) -> int:
        got = self._sock.recv_into(view, n)
        if not got:
            raise FrameError("the connection closed inside a websocket frame")
        return got
