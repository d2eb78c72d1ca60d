"""Fault injection: run the real CLI, send it a signal at a step boundary (or a given time into
a step), and read back what a user would find: the source, the bucket, the pod's volumes."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.helpers import HCP_NS, hcm_popen, incomplete_uploads, keys
from tests.sandbox.harness import Sandbox


@dataclass
class Cut:
    """A signal `delay` seconds after the line `==> <step>` appears on stderr."""

    step: str
    delay: float = 0.0
    sig: int = signal.SIGINT

    @property
    def id(self) -> str:
        return f"{signal.Signals(self.sig).name}-{self.step.replace(' ', '_')}+{self.delay:g}s"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    fired: bool  # the signal was sent before the run ended
    lines: list[str] = field(default_factory=list)


def run_and_cut(sb: Sandbox, args: list[str], cut: Cut, timeout: float = 300) -> Run:
    """Runs the CLI and sends `cut.sig` once `cut.step` starts (after `cut.delay`)."""
    return run_and_do(sb, args, cut.step, cut.delay, lambda proc: proc.send_signal(cut.sig), timeout)


def run_and_do(
    sb: Sandbox, args: list[str], step: str, delay: float, action: Callable[[subprocess.Popen[str]], object],
    timeout: float = 300,
) -> Run:  # fmt: skip
    """Runs the CLI and calls `action(proc)` `delay` seconds after the line `==> <step>`."""
    proc = hcm_popen(sb, *args)
    assert proc.stderr is not None and proc.stdout is not None
    lines: list[str] = []
    fired = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if not fired.is_set() and line.strip() == f"==> {step}":
                if delay:
                    time.sleep(delay)
                if proc.poll() is None:
                    action(proc)
                    fired.set()

    out: list[str] = []
    reader = threading.Thread(target=watch, daemon=True)
    drain = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else ""), daemon=True)
    reader.start()
    drain.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    reader.join(timeout=10)
    drain.join(timeout=10)
    return Run(proc.returncode, "".join(out), "".join(lines), fired.is_set(), lines)


@contextmanager
def frozen(sb: Sandbox, cluster: str) -> Iterator[Callable[[object], None]]:
    """A `freeze` action that stops (SIGSTOP) `cluster`'s kube-apiserver, as a hung machine would;
    it is thawed (SIGCONT) when the block ends, whatever happened."""
    pid = int((sb.cfg.pids / f"{cluster}-apiserver.pid").read_text())

    def freeze(_: object) -> None:
        os.kill(pid, signal.SIGSTOP)

    try:
        yield freeze
    finally:
        os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sb.clusters[cluster].kubectl().run("get", "--raw", "/readyz", check=False).strip() == "ok":
                break
            time.sleep(0.5)


def scratch_files(sb: Sandbox, pod: str = "etcd-0") -> list[str]:
    """Files of ours left in the etcd pod's volumes (the data volume and /tmp)."""
    out = sb.source.kubectl().run("exec", "-n", HCP_NS, pod, "-c", "etcd", "--", "ls", "-a", "/var/lib/data", "/tmp")
    return [name for name in out.split() if "hcmigrate" in name]


def bucket_problems(sb: Sandbox, prefix: str, *, killed: bool = False) -> list[str]:
    """What a reader of the bucket must never find: an upload left running, or (unless the
    process was killed, when nothing of it could clean up) a backup's objects without the
    manifest that makes them a backup, which `list` calls incomplete."""
    problems = [f"unfinished upload {k}" for k in incomplete_uploads(sb, prefix)]
    if killed:
        return problems
    by_backup: dict[str, list[str]] = {}
    for key in keys(sb, prefix):
        parts = key[len(prefix) :].lstrip("/").split("/")
        # <ns>/<name>/<backup id>/...
        if len(parts) >= 4:
            by_backup.setdefault("/".join(parts[:3]), []).append("/".join(parts[3:]))
    for backup, files in by_backup.items():
        if "bundle/manifest.json" not in files and "manifest.json" not in files:
            problems.append(f"backup {backup} has {len(files)} objects and no manifest")
    return problems


def state_problems(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [f"{k}: {before[k]!r} -> {after[k]!r}" for k in before if before[k] != after[k]]
