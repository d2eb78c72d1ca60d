"""A command run in a pod, read as a checked binary stream (restic's fs_reader_command.go).

The exec websocket's frames are read here (adapters/ws_frames.py), not through the kubernetes
client's loop (`update()` + `read_stdout()`), which keeps every byte it has read in one growing
buffer, so memory grows with the snapshot; stdout goes from the socket into the caller's
buffer. `make bench` measures it: this reader draining `cat SNAPSHOT` (its "tool reader" row)
beside plain `kubectl exec` into /dev/null ("raw exec"), in the same run, and the CLI's peak RSS
at each snapshot size (its target: under 150 MiB, flat as the snapshot grows). Each message's
first byte is its channel: 1 stdout, 2 stderr, 3 the v1 Status that carries the exit code.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

from kubectl_hcmigrate.adapters.exec_handshake import connect, refusal
from kubectl_hcmigrate.adapters.exec_status import ExecFailed, command_label, parse_status, redact
from kubectl_hcmigrate.adapters.ws_frames import (
    OPCODE_BINARY,
    OPCODE_CLOSE,
    OPCODE_CONTINUATION,
    OPCODE_PING,
    OPCODE_TEXT,
    Frames,
    RawSocket,
)

STDOUT, STDERR, STATUS = 1, 2, 3
STDERR_TAIL = 64 * 1024
# The client sends no heartbeat of its own, and a quiet `etcdctl snapshot save` can run
# for minutes: idle connections through load balancers are cut well before that.
KEEPALIVE_SECONDS = 15.0
READ_TIMEOUT_SECONDS = 120
HANDSHAKE_ATTEMPTS = 3
RUN_EXEC_LIMIT = 16 * 1024 * 1024


class Connection(Protocol):
    """The part of websocket.WebSocket used here: its socket is read directly."""

    sock: RawSocket

    def ping(self) -> None: ...
    def pong(self, payload: bytes) -> None: ...
    def send_close(self) -> None: ...
    def shutdown(self) -> None: ...


class ExecReader:
    """stdout as a binary file; at its end, a failed command raises instead of EOF."""

    def __init__(
        self,
        sock: Connection,
        pod: str,
        argv: Sequence[str],
        *,
        raise_on_exit_code: bool = True,
        keepalive: float | None = KEEPALIVE_SECONDS,
    ) -> None:
        self._sock, self.pod, self.command = sock, pod, command_label(argv)
        self._argv = list(argv)
        self._raise_on_exit_code = raise_on_exit_code
        self._frames = Frames(sock.sock)
        self._left = 0  # bytes of the current stdout frame still on the socket
        self._channel = 0  # of the message being read: its continuation frames carry no channel byte
        self._status_message = bytearray()  # until its last frame
        self._stderr = bytearray()
        self._status: tuple[int | None, str] | None = None
        self._eof = False
        self._stop = threading.Event()
        if keepalive:
            threading.Thread(target=self._ping, args=(keepalive,), daemon=True).start()

    @property
    def exit_code(self) -> int | None:
        return self._status[0] if self._status else None

    @property
    def stderr(self) -> bytes:
        return bytes(self._stderr)

    def _ping(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self._sock.ping()
            except Exception:  # the reader sees the broken connection itself
                return

    def _end(self, status: tuple[int | None, str]) -> None:
        self._status, self._eof = status, True
        self.close()

    def _receive(self) -> bool:
        """Read frames until a stdout payload is next on the socket (True) or the stream ends (False)."""
        while not self._eof and not self._left:
            try:
                self._frame()
            except Exception as e:
                self._lost(e)
        return bool(self._left)

    def _frame(self) -> None:
        fin, opcode, length, channel = self._frames.header()
        if opcode == OPCODE_CLOSE:
            self._end((None, "the connection closed before the command ended"))
        elif opcode == OPCODE_PING:  # websocket-client answered these itself
            self._sock.pong(self._frames.payload(length))
        elif opcode in (OPCODE_BINARY, OPCODE_TEXT, OPCODE_CONTINUATION):
            if channel is not None:  # frames of only a channel byte open each channel
                self._channel = channel
            if self._channel == STDOUT:
                self._left = length
                return
            payload = self._frames.payload(length)
            if self._channel == STDERR:
                self._stderr += payload
                del self._stderr[:-STDERR_TAIL]
            elif self._channel == STATUS:
                self._status_message += payload
                if fin and self._status_message:
                    code, reason = parse_status(bytes(self._status_message))
                    self._end((code, redact(reason, self._argv)))
        else:  # a pong, or nothing meant for us
            self._frames.payload(length)

    def _lost(self, error: Exception) -> None:
        self._left = 0
        self._end((None, f"the connection was lost ({type(error).__name__})"))

    def _finished(self) -> None:
        code, reason = self._status or (None, "the stream ended without one")
        if code is None or (code != 0 and self._raise_on_exit_code):
            raise ExecFailed(self.pod, self.command, code, self.stderr, reason)

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` unless the output ends first; 0 only at a successful end."""
        # Released on return, so that the caller may resize its buffer afterwards.
        with memoryview(buffer) as raw, raw.cast("B") as view:
            pos = 0
            while pos < len(view) and self._receive():
                try:
                    got = self._frames.into(view[pos : pos + min(self._left, len(view) - pos)])
                except Exception as e:
                    self._lost(e)
                    break
                self._left -= got
                pos += got
            if pos == 0 and len(view):
                self._finished()
        return pos

    def read(self, n: int = -1, /) -> bytes:
        if n < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        buf = bytearray(n)
        del buf[self.readinto(buf) :]
        return bytes(buf)

    def check(self) -> None:
        """Raise ExecFailed unless all output was read and the command exited 0."""
        if self._receive():
            raise ExecFailed(self.pod, self.command, None, self.stderr, "output left unread")
        self._finished()

    def close(self) -> None:
        """Close the connection; a command still writing loses its stream."""
        self._stop.set()
        # Say goodbye without waiting for the echo: websocket-client's close() waits up to 3 s
        # for it inside a bare `except`, which would swallow a Ctrl-C or SIGTERM arriving then.
        with contextlib.suppress(Exception):  # already closed or broken: nothing to release
            self._sock.send_close()
        with contextlib.suppress(Exception):
            self._sock.shutdown()

    def __enter__(self) -> ExecReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_exec(
    api_client: Any,
    namespace: str,
    pod: str,
    container: str,
    argv: list[str],
    *,
    raise_on_exit_code: bool = True,
    handshake_timeout: float | None = None,
) -> ExecReader:
    """Start `argv` (a list, never a shell string) in the container; read its stdout. Each
    handshake gives up after `handshake_timeout` seconds (the run's --request-timeout)."""
    from kubernetes.client.exceptions import ApiException

    # The command has not started when the handshake fails, so trying again is safe; an
    # apiserver or kubelet under load refuses a connection now and then.
    for attempt in range(HANDSHAKE_ATTEMPTS):
        try:
            client = connect(api_client, namespace, pod, container, argv, handshake_timeout)
            break
        except (ApiException, OSError) as e:
            # The client turns a Ctrl-C or SIGTERM during the handshake into ApiException(status=0):
            # an interrupt is no refused handshake to try again, it must unwind.
            if isinstance(e.__context__, (KeyboardInterrupt, SystemExit)):
                raise e.__context__ from None
            if attempt + 1 == HANDSHAKE_ATTEMPTS or getattr(e, "status", 500) in (400, 401, 403, 404):
                reason = refusal(e, namespace, handshake_timeout, attempt + 1)
                raise ExecFailed(pod, command_label(argv), None, b"", reason, started=False) from None
            time.sleep(0.5 * 3**attempt)
    # The apiserver answers our pings, so a live connection is never silent this long: past
    # it the connection is dead, and waiting forever would keep the source paused for nothing.
    client.sock.settimeout(READ_TIMEOUT_SECONDS)
    return ExecReader(client.sock, pod, argv, raise_on_exit_code=raise_on_exit_code)


def run_exec(
    api_client: Any,
    namespace: str,
    pod: str,
    container: str,
    argv: list[str],
    *,
    handshake_timeout: float | None = None,
) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr) of a small command; raises only if no code came back."""
    opened = open_exec(
        api_client, namespace, pod, container, argv, raise_on_exit_code=False, handshake_timeout=handshake_timeout
    )
    with opened as r:
        out = bytearray()
        while chunk := r.read(1 << 20):
            out += chunk
            if len(out) > RUN_EXEC_LIMIT:
                raise ExecFailed(pod, r.command, None, b"", "more output than run_exec keeps")
        # The loop ends only after a status came back, so exit_code is an int here.
        return r.exit_code or 0, bytes(out), r.stderr
