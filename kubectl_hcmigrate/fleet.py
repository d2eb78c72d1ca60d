"""backup of many HCs in one run (`--all`, `-n NS`, `-l SELECTOR`): each HC is backed up by its
own run of this tool, `parallel` at a time, and one summary ends the whole.

A run per HC, not a thread: each one has its own lease, its own undo and its own handling of
Ctrl-C and SIGTERM (they reach every run, as the process group's), so an HC that fails, or a
signal, never leaves that HC's source paused, and never stops the others. The fleet's exit code
is the worst of theirs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import kubectl_hcmigrate
from kubectl_hcmigrate.core.pipeline import interrupts_to
from kubectl_hcmigrate.core.report import EXIT_CODES, Outcome

# Worst first: what a user must look at before anything else.
SEVERITY = (
    Outcome.FAILED_NEEDS_ATTENTION, Outcome.INTERRUPTED, Outcome.TIMED_OUT, Outcome.FAILED_SOURCE_RESTORED,
    Outcome.REFUSED, Outcome.USAGE_ERROR, Outcome.SUCCEEDED_WITH_WARNINGS, Outcome.SUCCEEDED,
)  # fmt: skip


@dataclass(frozen=True)
class Args:
    """The command line every HC's run shares: the flags before the verb, and backup's own."""

    before: list[str]
    backup: list[str]
    folder: Path | None = None  # where each run writes its bundle (its default name); else here


@dataclass(frozen=True)
class Member:
    """One HC of the fleet and the command line that backs it up."""

    namespace: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"


def worst(outcomes: Sequence[Outcome]) -> Outcome:
    return min(outcomes, key=SEVERITY.index, default=Outcome.SUCCEEDED)


def members_of(hcs: Sequence[dict[str, Any]]) -> list[Member]:
    found = {Member(hc["metadata"]["namespace"], hc["metadata"]["name"]) for hc in hcs}
    return sorted(found, key=lambda m: (m.namespace, m.name))


def _tool() -> tuple[list[str], dict[str, str]]:
    """This tool's own command line and environment, from a checkout or the zipapp alike."""
    home = str(Path(kubectl_hcmigrate.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (home, os.environ.get("PYTHONPATH", "")) if p)
    # The runbook's variables are flag defaults: each run gets its HC and folder from its flags.
    env = {k: v for k, v in os.environ.items() if k not in ("HC_CLUSTER_NAME", "HC_CLUSTER_NS", "BACKUP_DIR")}
    return [sys.executable, "-m", "kubectl_hcmigrate"], {**env, "PYTHONPATH": path}


class Runs:
    """The runs under way, and whether a signal said to stop: no run starts after it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.procs: set[subprocess.Popen[str]] = set()
        self.stopped = False

    def stop(self, signum: int, frame: object) -> None:
        """Ctrl-C reaches every run from the terminal; a SIGTERM sent to this process alone is
        passed on. Each run then puts its own source back."""
        with self.lock:
            self.stopped = True
            if signum == signal.SIGTERM:
                for proc in self.procs:
                    proc.send_signal(signal.SIGTERM)

    def handling_signals(self) -> AbstractContextManager[None]:
        return interrupts_to(self.stop)


def _run_one(member: Member, args: Args, err: TextIO, runs: Runs) -> dict[str, Any]:
    """Runs one HC's backup with `-o json`; its stderr lines go out as they come, prefixed."""
    cmd, env = _tool()
    with runs.lock:
        if runs.stopped:
            return {"hostedcluster": member.label, "outcome": Outcome.INTERRUPTED.value,
                    "error": "not started: the run was interrupted", "exit_code": 130}  # fmt: skip
        proc = subprocess.Popen(
            [*cmd, *args.before, "-o", "json", "backup", "--hc", member.name, "-n", member.namespace, *args.backup],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=args.folder,
        )  # fmt: skip
        runs.procs.add(proc)
    assert proc.stdout is not None and proc.stderr is not None
    out: list[str] = []
    drain = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else ""), daemon=True)
    drain.start()
    last_error = ""
    for line in proc.stderr:
        if line.startswith("error: ") and not last_error:
            last_error = line.removeprefix("error: ").strip()
        with runs.lock:
            err.write(f"[{member.label}] {line}")
            err.flush()
    code = proc.wait()
    drain.join()
    with runs.lock:
        runs.procs.discard(proc)
    return _result_of(member, code, "".join(out), last_error)


# A run handles Ctrl-C and SIGTERM from the start of its work to its exit (commands.py): one that
# died of either, saying nothing, was stopped while it started, before it changed anything.
_STOPPED_STARTING = {-signal.SIGINT: "Ctrl-C", -signal.SIGTERM: "SIGTERM"}


def _result_of(member: Member, code: int, stdout: str, last_error: str) -> dict[str, Any]:
    try:
        result = json.loads(stdout)
    except ValueError:
        result = None
    if code in _STOPPED_STARTING and not stdout.strip():
        error = f"stopped by {_STOPPED_STARTING[code]} as it started, before it changed anything"
        result = {"outcome": Outcome.INTERRUPTED.value, "error": error}
    elif not isinstance(result, dict) or "outcome" not in result:
        # Killed, or died before it could answer: what it did is unknown, so the user must look.
        outcome = Outcome.INTERRUPTED if code == 130 else Outcome.FAILED_NEEDS_ATTENTION
        result = {"outcome": outcome.value, "error": last_error or f"the backup run ended with exit code {code}"}
    return {"hostedcluster": member.label, **result, "exit_code": code}


def back_up(
    members: Sequence[Member], args: Args, parallel: int, err: TextIO = sys.stderr,
    run_one: Callable[[Member, Args, TextIO, Runs], dict[str, Any]] = _run_one,
) -> dict[str, Any]:  # fmt: skip
    """Backs up every member, `parallel` at a time; one result per HC, in the members' order."""
    runs = Runs()
    if args.folder is not None:
        args.folder.mkdir(parents=True, exist_ok=True)
    with runs.handling_signals(), ThreadPoolExecutor(max(1, parallel), thread_name_prefix="fleet") as pool:
        futures = [pool.submit(run_one, m, args, err, runs) for m in members]
        results = [f.result() for f in futures]
    outcome = worst([Outcome(r["outcome"]) for r in results])
    return {"outcome": outcome.value, "hostedclusters": len(results), "results": results}


def show(result: dict[str, Any], *, as_json: bool) -> None:
    """The one summary: a table with a row per HC (its own outcome and what to look at)."""
    out, summary = sys.stdout, result
    if as_json:
        out.write(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        return
    rows = [("HOSTEDCLUSTER", "OUTCOME", "BACKUP", "DETAIL")]
    for r in summary["results"]:
        detail = r.get("error") or r.get("source", "")
        rows.append((r["hostedcluster"], r["outcome"], r.get("backup_id") or "-", detail))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + f"  {row[3]}\n")
    out.write(f"{summary['hostedclusters']} hosted clusters, outcome {summary['outcome']}\n")


def exit_code(summary: dict[str, Any]) -> int:
    return EXIT_CODES[Outcome(summary["outcome"])]
