"""Fault injection: run the real CLI, send it a signal at a step boundary (or a given time into
a step), and read back what a user would find: the source, the bucket, the pod's volumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubectl_hcmigrate.core import kinds
from kubectl_hcmigrate.core.marks import BACKUP_ID, SOURCE_STATE
from kubectl_hcmigrate.core.pipeline import LATE_INTERRUPT
from tests.e2e.helpers import HC_KIND, HC_NAME, HC_NS, HCP_NS, STAMP, hcm_popen, incomplete_uploads, keys
from tests.sandbox.harness import Sandbox


@dataclass
class Cut:
    """A signal `delay` seconds after the line `==> <step>` appears on stderr (or, for a step
    named `stage ...`, migrate's line that starts that stage)."""

    step: str
    delay: float = 0.0
    sig: int = signal.SIGINT
    # The sandbox's S3 stops answering as the step starts, and the signal comes `delay` later, while
    # a request waits on it; S3 answers again just after. A step that takes milliseconds (the two
    # requests of the bundle) is cut inside that way, not by a race with the clock.
    s3_stalled: bool = False

    @property
    def id(self) -> str:
        step = "".join(c if c.isalnum() else "_" for c in self.step)
        return f"{signal.Signals(self.sig).name}-{step}+{self.delay:g}s{'-s3-stalled' * self.s3_stalled}"

    def marks(self, line: str) -> bool:
        line = STAMP.sub("", line)  # a log's lines carry a timestamp
        if self.step.startswith("stage "):
            return line.startswith(self.step)
        return line.strip() == f"==> {self.step}"

    def expected_code(self, run: Run) -> int:
        """A killed run has no say; a signal that landed in a step, or between two, is an
        interruption: 130. One that came after the last step ended (in the lease's release, the
        result's output) stops nothing: the run's own code, 0 here, and it says so on stderr.
        One that came in the interpreter's shutdown, the whole result out, is ignored unsaid (_send):
        0. One that came after the run ended was never sent: 0."""
        if not run.fired:
            return 0
        if self.sig == signal.SIGKILL:
            return -signal.SIGKILL
        if run.ignored and run.returncode == 0 and run.stdout.strip():
            return 0  # it came in the interpreter's shutdown, after the whole result: see _send
        return 0 if LATE_INTERRUPT in run.stderr else 130


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    fired: bool  # the signal was sent before the run ended
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    ignored: bool = False  # the process ignored the signal just after it was sent (_send)

    def show(self, cut: Cut) -> str:
        """One row of the cut table a test prints (pytest -s): what was cut, how it ended, how long it ran."""
        return f"{cut.id:<60} exit {self.returncode:>4}  {self.seconds:5.1f}s{'' if self.fired else '  (ended first)'}"


def run_and_cut(sb: Sandbox, args: list[str], cut: Cut, timeout: float = 300) -> Run:
    """Runs the CLI and sends `cut.sig` once `cut.step` starts (after `cut.delay`)."""
    if not cut.s3_stalled:
        return run_and_do(sb, args, cut, cut.delay, lambda proc: _send(proc, cut.sig), timeout)
    s3 = int((sb.cfg.pids / "s3.pid").read_text())

    def stall_then_signal(proc: subprocess.Popen[str]) -> bool:
        os.kill(s3, signal.SIGSTOP)
        try:
            time.sleep(cut.delay)
            ignored = _send(proc, cut.sig)
            time.sleep(0.2)
        finally:
            os.kill(s3, signal.SIGCONT)
        return ignored

    return run_and_do(sb, args, cut, 0.0, stall_then_signal, timeout)


def _send(proc: subprocess.Popen[str], sig: int) -> bool:
    """Sends `sig`; True when the process ignores it right after. Once its run has returned, with
    the whole result out, the CLI ignores Ctrl-C and SIGTERM through the interpreter's shutdown
    (__main__.py), and a signal that comes then changes nothing and is not said: the harness, slow
    to read a step's line on a loaded machine, can send one there. A process never takes a handler
    back after ignoring, so one not ignored after the send was not ignored at it."""
    proc.send_signal(sig)
    try:
        status = Path(f"/proc/{proc.pid}/status").read_text()
    except OSError:
        return True  # already gone
    mask = next((int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigIgn:")), 0)
    return bool(mask >> (sig - 1) & 1)


def run_and_do(
    sb: Sandbox, args: list[str], step: str | Cut, delay: float, action: Callable[[subprocess.Popen[str]], object],
    timeout: float = 300,
) -> Run:  # fmt: skip
    """Runs the CLI and calls `action(proc)` `delay` seconds after the line `==> <step>`."""
    at = step if isinstance(step, Cut) else Cut(step)
    t0, proc = time.monotonic(), hcm_popen(sb, *args)
    assert proc.stderr is not None and proc.stdout is not None
    lines: list[str] = []
    fired, ignored = threading.Event(), list[bool]()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if not fired.is_set() and at.marks(line):
                if delay:
                    time.sleep(delay)
                if proc.poll() is None:
                    ignored.append(action(proc) is True)
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
    return Run(proc.returncode, "".join(out), "".join(lines), fired.is_set(), lines, time.monotonic() - t0,
               any(ignored))  # fmt: skip


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
    # The tool's scratch files are `.hcmigrate-snapshot-*` (etcd/scratch.py); the pod's /tmp is the
    # host's in the sandbox, where other runs (a zipapp build) may keep their own hcmigrate-* folders.
    return [name for name in out.split() if "hcmigrate-snapshot" in name]


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


def restored_objects(sb: Sandbox, cluster: str = "destination") -> dict[str, str]:
    """Objects a restore wrote on `cluster` ("Kind ns/name", by the backup id they carry)."""
    k, out = sb.clusters[cluster].kubectl(), {}
    queries = {HC_NS: [r for r in kinds.RULES if r.scope == "hc"], HCP_NS: [r for r in kinds.RULES if r.scope == "hcp"]}
    for ns, rules in queries.items():
        if not k.run("get", "namespace", ns, "--ignore-not-found", "-o", "name").strip():
            continue
        for o in k.get(",".join(dict.fromkeys(r.qualified for r in rules)), "-n", ns)["items"]:
            backup_id = (o["metadata"].get("annotations") or {}).get(BACKUP_ID)
            if backup_id:
                out[f"{o['kind']} {ns}/{o['metadata']['name']}"] = backup_id
    return out


def said_changed(result: dict[str, Any]) -> set[str]:
    """The objects an interrupted run's `-o json` says it created or replaced ("Kind ns/name")."""
    done = (c.split(": ", 1)[-1] for c in result.get("changed", []))
    return {c.split(" ", 1)[1] for c in done if c.startswith(("create ", "replace ")) and "/" in c}


def found(sb: Sandbox, cluster: str, *query: str) -> dict[str, Any] | None:
    """The object (or list) on `cluster`, None if there is no such object."""
    out = sb.clusters[cluster].kubectl().run("get", *query, "--ignore-not-found", "-o", "json").strip()
    return json.loads(out) if out else None


def hc_condition(sb: Sandbox, cluster: str, kind: str = "Available") -> str | None:
    hc = sb.clusters[cluster].kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)
    return next((c["status"] for c in (hc.get("status") or {}).get("conditions", []) if c["type"] == kind), None)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f}s")
        time.sleep(0.5)


def assert_held_if_there(sb: Sandbox) -> None:
    """The source HC, while it is there, is held: paused, its record says for which backup."""
    hc = found(sb, "source", HC_KIND, HC_NAME, "-n", HC_NS)
    if hc is not None:
        record = json.loads(hc["metadata"]["annotations"][SOURCE_STATE])
        assert hc["spec"].get("pausedUntil") == "true" and record.get("held"), hc["metadata"]["annotations"]
