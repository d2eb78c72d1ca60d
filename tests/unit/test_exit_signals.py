"""A run's exit code is what its result says, whatever signal comes once that result is being said:
in the process of the command itself (its entry point) a signal between the result and the exit is
held, not raised by click's unwinding or the interpreter's shutdown (a result or a failure printed
as one lands: tests/unit/test_output_golden.py). Found by sending SIGINT at random moments through
migrate: one that landed as the process exited turned a SUCCEEDED run into "killed by SIGINT"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

import kubectl_hcmigrate
from kubectl_hcmigrate import commands
from kubectl_hcmigrate.core.options import OutputFormat
from kubectl_hcmigrate.core.pipeline import LATE_INTERRUPT
from kubectl_hcmigrate.core.report import PreflightError

STARTED = datetime(2026, 3, 1, 10, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def handlers() -> Iterator[None]:
    """Ctrl-C and SIGTERM as they were before the test, whatever it leaves installed."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, h in previous.items():
        signal.signal(s, h)


def _refused(reporter: Any) -> dict[str, Any]:
    raise PreflightError("the source cluster lacks HostedCluster clusters/example: check the name")


def test_in_the_commands_own_process_a_signal_after_the_result_is_held_to_the_exit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], handlers: None
) -> None:
    monkeypatch.setattr(kubectl_hcmigrate, "ends_with_run", True)
    code = commands.run(commands.Out(OutputFormat.json, "BackupResult", STARTED), _refused)
    os.kill(os.getpid(), signal.SIGINT)  # as click unwinds, or the interpreter shuts down
    os.kill(os.getpid(), signal.SIGTERM)
    out, err = capsys.readouterr()
    assert code == 3 and json.loads(out)["outcome"] == "REFUSED"
    assert err.count(LATE_INTERRUPT) == 1


def test_the_entry_point_holds_signals_to_the_exit(monkeypatch: pytest.MonkeyPatch, handlers: None) -> None:
    from kubectl_hcmigrate import __main__, cli

    seen: list[bool] = []
    monkeypatch.setattr(kubectl_hcmigrate, "ends_with_run", False)
    monkeypatch.setattr(cli, "run", lambda: seen.append(kubectl_hcmigrate.ends_with_run))
    __main__.main()
    assert seen == [True]
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN and signal.getsignal(signal.SIGTERM) is signal.SIG_IGN


# The command's own process, with Ctrl-C sent as soon as the run has returned its code: on the
# old code click took it as an abort ("Aborted!", exit 1) over a refusal already printed as such.
_CHILD = """
import os, signal, sys
from kubectl_hcmigrate import __main__, commands
ran = commands.run
def run_then_ctrl_c(*args, **kw):
    code = ran(*args, **kw)
    os.kill(os.getpid(), signal.SIGINT)
    return code
commands.run = run_then_ctrl_c
sys.argv = ["kubectl-hcmigrate", "-o", "json", "backup", "--hc", "example", "-n", "clusters", "--bucket", "b"]
__main__.main()
"""


def test_ctrl_c_as_the_command_exits_leaves_its_code_and_json_as_they_were(tmp_path: Any) -> None:
    env = {**os.environ, "KUBECONFIG": str(tmp_path / "none"), "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert json.loads(proc.stdout)["outcome"] == "REFUSED"
    assert "Traceback" not in proc.stderr and "Aborted" not in proc.stderr


@pytest.mark.parametrize("ignores", [True, False])
def test_the_fault_harness_knows_a_signal_the_process_ignored(ignores: bool) -> None:
    """The e2e harness's cut (tests/e2e/faults.py) tells a signal that came in the shutdown, which
    the entry point ignores, from one a handler took: a slow harness sent one there in a full run."""
    from tests.e2e.faults import _send

    how = "signal.SIG_IGN" if ignores else "lambda *a: None"
    child = subprocess.Popen(
        [sys.executable, "-c", f"import signal, time; signal.signal(signal.SIGINT, {how}); print(1, flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline() == "1\n"
        assert _send(child, signal.SIGINT) is ignores
    finally:
        child.kill()
        child.wait()
