"""ExecReader's frame, status and buffering logic, fed by an in-memory frame source.

The fake (tests/fakes.py) stands in for websocket.WebSocket: its socket serves (opcode, payload)
frames encoded as a server sends them.
"""

from __future__ import annotations

import json
import os

import pytest

from kubectl_hcmigrate.adapters.kube_exec import (
    OPCODE_BINARY,
    OPCODE_CLOSE,
    STDERR_TAIL,
    ExecFailed,
    ExecReader,
    command_label,
    parse_status,
    redact,
)
from tests.fakes import FakeSocket

SUCCESS = json.dumps({"metadata": {}, "status": "Success"}).encode()


def exit_status(code: int) -> bytes:
    return json.dumps(
        {
            "metadata": {},
            "status": "Failure",
            "message": f"command terminated with non-zero exit code: exit status {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
        }
    ).encode()


def frame(channel: int, data: bytes = b"") -> tuple[int, bytes]:
    return OPCODE_BINARY, bytes([channel]) + data


def stream_of(stdout: bytes, size: int, status: bytes = SUCCESS) -> list[tuple[int, bytes]]:
    # The apiserver opens each channel with a frame holding only the channel byte.
    frames = [frame(1), frame(2), frame(3)]
    frames += [frame(1, stdout[i : i + size]) for i in range(0, len(stdout), size)]
    return [*frames, frame(3, status), (OPCODE_CLOSE, b"")]


def reader_for(frames: list[tuple[int, bytes]], **kw: object) -> tuple[ExecReader, FakeSocket]:
    sock = FakeSocket(frames)
    return ExecReader(sock, "etcd-0", ["cat", "/var/lib/x.db"], keepalive=None, **kw), sock


def read_all(reader: ExecReader, n: int) -> bytes:
    out = bytearray()
    while chunk := reader.read(n):
        assert len(chunk) <= n
        out += chunk
    return bytes(out)


@pytest.mark.parametrize(("frame_size", "read_size"), [(1, 1000), (1000, 7), (4096, 4096)])
def test_every_byte_arrives_exactly(frame_size: int, read_size: int) -> None:
    data = bytes(range(256)) * 40 + os.urandom(3000)  # every byte value, not text
    reader, sock = reader_for(stream_of(data, frame_size))
    assert read_all(reader, read_size) == data
    assert reader.exit_code == 0
    assert sock.closed


def test_read_fills_the_request_across_frames() -> None:
    reader, _ = reader_for(stream_of(b"a" * 10_000, 100))
    assert len(reader.read(2500)) == 2500  # 25 frames gathered for one read


def test_readinto_holds_at_most_one_frame_besides_the_buffer() -> None:
    reader, sock = reader_for(stream_of(b"x" * 10_000, 1000))
    buf = bytearray(1500)
    assert reader.readinto(buf) == 1500
    # 3 channel-opening frames, one whole data frame and 500 bytes of the next: no read-ahead.
    assert sock.sock.consumed == 3 * 3 + (4 + 1 + 1000) + (4 + 1 + 500)


def test_stderr_is_kept_apart_and_bounded() -> None:
    noise = [frame(2, b"e" * 10_000) for _ in range(20)]
    frames = [frame(1, b"out"), *noise, frame(2, b"last words\n"), frame(3, SUCCESS)]
    reader, _ = reader_for(frames)
    assert reader.read() == b"out"
    assert len(reader.stderr) == STDERR_TAIL
    assert reader.stderr.endswith(b"last words\n")


def test_non_zero_exit_raises_at_the_end_after_all_output() -> None:
    frames = stream_of(b"partial", 3, exit_status(2))
    frames.insert(-2, frame(2, b"cat: /var/lib/x.db: No such file or directory\n"))
    reader, _ = reader_for(frames)
    assert reader.read(7) == b"partial"
    with pytest.raises(ExecFailed) as err:
        reader.read(7)
    assert err.value.exit_code == 2
    assert str(err.value) == ("cat in pod etcd-0 exited with code 2: cat: /var/lib/x.db: No such file or directory")


def test_missing_status_is_a_failure() -> None:
    reader, _ = reader_for([frame(1, b"abc"), (OPCODE_CLOSE, b"")])
    assert reader.read(10) == b"abc"
    with pytest.raises(ExecFailed, match="gave no exit status: the connection closed"):
        reader.read(10)


def test_lost_connection_is_a_failure() -> None:
    sock = FakeSocket([frame(1, b"abc")], error=ConnectionResetError("reset"))
    reader = ExecReader(sock, "etcd-0", ["cat", "x"], keepalive=None)
    with pytest.raises(ExecFailed, match=r"connection was lost \(ConnectionResetError\)"):
        reader.read()


def test_check_refuses_unread_output_and_accepts_a_clean_end() -> None:
    reader, _ = reader_for(stream_of(b"abcdef", 3))
    assert reader.read(3) == b"abc"
    with pytest.raises(ExecFailed, match="output left unread"):
        reader.check()
    reader, _ = reader_for(stream_of(b"abcdef", 3))
    assert reader.read(6) == b"abcdef"
    reader.check()  # pulls the status frame itself


def test_without_raising_the_exit_code_is_reported() -> None:
    reader, _ = reader_for(stream_of(b"", 1, exit_status(1)), raise_on_exit_code=False)
    assert reader.read() == b""
    assert reader.exit_code == 1


def test_close_closes_the_socket_early() -> None:
    reader, sock = reader_for(stream_of(b"x" * 100, 10))
    reader.read(10)
    reader.close()
    assert sock.closed


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (SUCCESS, (0, "")),
        (exit_status(137), (137, "")),
        (
            json.dumps({"status": "Failure", "reason": "InternalError", "message": "no cat\nx"}),
            (None, "no cat"),
        ),
        # kwok reports InternalError and puts the status at the end of the message.
        (
            json.dumps({"status": "Failure", "reason": "InternalError", "message": "x: exit status 3"}),
            (3, ""),
        ),
        (b"not json", (None, "the exit status could not be read")),
        (b"[]", (None, "the exit status could not be read")),
    ],
)
def test_parse_status(payload: bytes | str, expected: tuple[int | None, str]) -> None:
    raw = payload.encode() if isinstance(payload, str) else payload
    assert parse_status(raw) == expected


@pytest.mark.parametrize(
    ("argv", "label"),
    [
        (
            ["etcdctl", "--endpoints=https://x", "--key=/k", "snapshot", "save", "/f"],
            "etcdctl snapshot",
        ),
        (["/usr/bin/cat", "/var/lib/data/x.db"], "cat"),
        (["tool", "--password", "hunter2"], "tool"),
        (["test", "-f", "/etc/etcd/tls/etcd-ca/ca.crt"], "test"),
    ],
)
def test_command_label_never_shows_later_arguments(argv: list[str], label: str) -> None:
    assert command_label(argv) == label


def test_runtime_messages_lose_the_arguments() -> None:
    status = {
        "status": "Failure",
        "reason": "InternalError",
        "message": "error executing command in container: cmd start: tool --token=s3cr3t-value "
        '/data/extra : exec: "tool": executable file not found in $PATH',
    }
    frames = [frame(3, json.dumps(status).encode())]
    sock = FakeSocket(frames)
    reader = ExecReader(sock, "etcd-0", ["tool", "--token=s3cr3t-value", "/data/extra"], keepalive=None)
    with pytest.raises(ExecFailed) as err:
        reader.read()
    assert "s3cr3t" not in str(err.value) and "/data/extra" not in str(err.value)
    assert "executable file not found" in str(err.value)
    assert redact("a b c", ["x", "b"]) == "a b c"  # too short to be worth hiding
