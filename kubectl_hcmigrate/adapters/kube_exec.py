"""A command run in a pod, read as a checked binary stream (restic's fs_reader_command.go).

The exec websocket's frames are read here, not through the kubernetes client's loop
(`update()` + `read_stdout()`), which keeps every byte it has read in one growing buffer, so
memory grows with the snapshot. `make bench` measures it: this reader draining `cat SNAPSHOT`
(its "tool reader" row) beside plain `kubectl exec` into /dev/null ("raw exec"), in the same run,
and the CLI's peak RSS at each snapshot size (its target: under 150 MiB, flat as the snapshot
grows). Each frame's first byte is its channel: 1 stdout, 2 stderr, 3 the v1 Status that carries
the exit code.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

from kubectl_hcmigrate.adapters.exec_handshake import connect, refusal
from kubectl_hcmigrate.core.report import StepFailed

STDOUT, STDERR, STATUS = 1, 2, 3
OPCODE_TEXT, OPCODE_BINARY, OPCODE_CLOSE = 0x1, 0x2, 0x8
STDERR_TAIL = 64 * 1024
# The client sends no heartbeat of its own, and a quiet `etcdctl snapshot save` can run
# for minutes: idle connections through load balancers are cut well before that.
KEEPALIVE_SECONDS = 15.0
READ_TIMEOUT_SECONDS = 120
HANDSHAKE_ATTEMPTS = 3
RUN_EXEC_LIMIT = 16 * 1024 * 1024


class FrameSource(Protocol):
    """The part of websocket.WebSocket used here."""

    def recv_data(self) -> tuple[int, bytes]: ...
    def ping(self) -> None: ...
    def send_close(self) -> None: ...
    def shutdown(self) -> None: ...


class ExecFailed(StepFailed):
    """The command failed, could not start, or it is unknown whether it succeeded."""

    def __init__(
        self,
        pod: str,
        command: str,
        exit_code: int | None,
        stderr_tail: bytes,
        reason: str = "",
        *,
        started: bool = True,
    ) -> None:
        self.pod, self.command, self.exit_code = pod, command, exit_code
        self.stderr_tail = stderr_tail
        lines = stderr_tail.decode("utf-8", "replace").strip().splitlines()
        said = lines[-1].strip()[:300] if lines else "no error output"
        if not started:
            message = f"cannot exec {command} in pod {pod}: {reason}"
        elif exit_code is None:
            message = f"{command} in pod {pod} gave no exit status: {reason or said}"
        else:
            message = f"{command} in pod {pod} exited with code {exit_code}: {said}"
        super().__init__(message)


def command_label(argv: Sequence[str]) -> str:
    """argv[0] and its subcommand only: later arguments could hold something secret."""
    label = os.path.basename(argv[0]) if argv else "command"
    previous = ""
    for arg in argv[1:]:
        if not arg.startswith("-"):
            # After "--flag" without "=", this word may be the flag's value.
            if not previous and re.fullmatch(r"[a-z][a-z0-9-]{0,30}", arg):
                label += f" {arg}"
            break
        previous = "" if "=" in arg else arg
    return label


def parse_status(payload: bytes) -> tuple[int | None, str]:
    """(exit code, or None with the reason) from the status channel's v1 Status."""
    try:
        status = json.loads(payload)
    except ValueError:
        status = None
    if not isinstance(status, dict):
        return None, "the exit status could not be read"
    if status.get("status") == "Success":
        return 0, ""
    message = str(status.get("message") or status.get("reason") or "exec failed").strip()
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode" and str(cause.get("message", "")).isdigit():
                return int(cause["message"]), ""
    # Runtimes that skip NonZeroExitCode (kwok among them) end the message with it.
    found = re.search(r"exit (?:status|code) (\d+)$", message)
    if found:
        return int(found.group(1)), ""
    return None, (message.splitlines() or ["exec failed"])[0][:300]


def redact(text: str, argv: Sequence[str]) -> str:
    """`text` without the arguments after argv[0]: runtimes quote the command line."""
    for arg in sorted(argv[1:], key=len, reverse=True):
        if len(arg) > 2:
            text = text.replace(arg, "...")
    return text


class ExecReader:
    """stdout as a binary file; at its end, a failed command raises instead of EOF."""

    def __init__(
        self,
        sock: FrameSource,
        pod: str,
        argv: Sequence[str],
        *,
        raise_on_exit_code: bool = True,
        keepalive: float | None = KEEPALIVE_SECONDS,
    ) -> None:
        self._sock, self.pod, self.command = sock, pod, command_label(argv)
        self._argv = list(argv)
        self._raise_on_exit_code = raise_on_exit_code
        self._pending = memoryview(b"")  # unread rest of the last stdout frame
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
        """Receive frames until stdout has bytes (True) or the stream ends (False)."""
        while not self._eof and not self._pending:
            try:
                opcode, data = self._sock.recv_data()
            except Exception as e:
                self._end((None, f"the connection was lost ({type(e).__name__})"))
                break
            if opcode == OPCODE_CLOSE:
                self._end((None, "the connection closed before the command ended"))
            elif opcode in (OPCODE_BINARY, OPCODE_TEXT) and len(data) > 1:
                # Frames holding only a channel byte open each channel: nothing to do.
                channel, payload = data[0], memoryview(data)[1:]
                if channel == STDOUT:
                    self._pending = payload
                elif channel == STDERR:
                    self._stderr += payload
                    del self._stderr[:-STDERR_TAIL]
                elif channel == STATUS:
                    code, reason = parse_status(bytes(payload))
                    self._end((code, redact(reason, self._argv)))
        return bool(self._pending)

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
                k = min(len(self._pending), len(view) - pos)
                view[pos : pos + k] = self._pending[:k]
                self._pending = self._pending[k:]
                pos += k
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
