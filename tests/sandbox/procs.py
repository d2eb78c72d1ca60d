"""Start the sandbox's processes with pid files and logs, and stop them by pid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class SandboxError(RuntimeError):
    pass


def start(
    name: str,
    argv: Sequence[str],
    *,
    pids: Path,
    logs: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    pids.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    log = open(logs / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        start_new_session=True,  # its own group, so stop() reaches its children too
    )
    log.close()
    (pids / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop_pid(pid: int, timeout: float = 10.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5)
        while time.monotonic() < deadline:
            _reap(pid)
            if not alive(pid):
                return
            time.sleep(0.05)


def stop_all(pids: Path) -> list[str]:
    """Stops every process with a pid file, in reverse start order; returns their names."""
    if not pids.is_dir():
        return []
    files = sorted(pids.glob("*.pid"), key=lambda p: p.stat().st_mtime, reverse=True)
    stopped = []
    for f in files:
        try:
            pid = int(f.read_text().strip())
        except FileNotFoundError:  # its owner removed it: a twin stops and forgets an etcd member it replaced
            continue
        except ValueError:
            f.unlink(missing_ok=True)
            continue
        stop_pid(pid)
        stopped.append(f.stem)
        f.unlink(missing_ok=True)
    return stopped


def wait_for(what: str, check: Callable[[], bool], timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    hint = f"; see {log}" if log else ""
    raise SandboxError(f"sandbox: {what} did not become ready in {timeout:.0f}s{hint}")
