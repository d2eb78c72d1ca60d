"""What a person sees in a real terminal (issue 14): the zipapp, as kubectl starts it, run in tmux
at 70 and 200 columns. A backup's progress never wraps into stale lines, its etcdctl snapshot
save held past two seconds shows the time waited, and it ends in the summary with the next step; a Ctrl-C mid-stream leaves the live line as it was, says what was put back,
and exits 130; a restore's wait is one line redrawn in place with the time waited."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.build_dist import ZIPAPP
from tests.distribution.tools import build_once
from tests.e2e.helpers import (
    HC_NAME,
    HC_NS,
    delete_restored,
    hcm,
    keys,
    operator_stopped,
    source_state,
    stop_mid_stream,
    stop_snapshot_save,
)
from tests.sandbox.harness import Sandbox


@pytest.fixture(scope="module")
def zipapp(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zipapp as `make dist` builds it from this tree: the distribution tests' build."""
    return build_once(request.config, tmp_path_factory.getbasetemp()) / ZIPAPP


class Pane:
    """One tmux session of a given width running one command, on a server of its own."""

    def __init__(self, sb: Sandbox, tmp: Path, width: int, zipapp: Path, *args: str) -> None:
        self.socket, self.name = f"hcm-{os.getpid()}-{width}", "t"
        script = tmp / f"run-{width}.sh"
        # The zipapp unpacks into a throwaway SHIV_ROOT; started outside the checkout, through its
        # shebang as kubectl starts a plugin, nothing of the source tree can be imported instead.
        env = {**sb.env, "SHIV_ROOT": str(tmp / "shiv")}
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        command = shlex.join([str(zipapp), *args])
        # Ctrl-C goes to the whole foreground group: the shell traps it (a handler, not an ignore,
        # which the tool would inherit) to go on and say the tool's exit code.
        script.write_text(
            f"trap 'true' INT\nunset PYTHONPATH\ncd {shlex.quote(str(tmp))}\n{exports}{command}\n"
            "echo EXIT=$?\nsleep 600\n"
        )
        self.tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", "60", f"sh {shlex.quote(str(script))}")

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def screen(self) -> list[str]:
        """The screen as it shows, with wrapped lines joined (-J): a joined line longer than the
        pane is one that wrapped."""
        return self.tmux("capture-pane", "-p", "-J", "-S", "-500", "-t", self.name).rstrip("\n").splitlines()

    def wait_for(self, text: str, timeout: float = 300) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.screen()
            if any(text in line for line in lines):
                return lines
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never showed:\n" + "\n".join(self.screen()))

    def poll(self) -> int | None:
        """None while the command runs (for stop_mid_stream)."""
        return 0 if any(line.startswith("EXIT=") for line in self.screen()) else None

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


# The live line of a save past two seconds.
LIVE_SAVE = r"etcdctl snapshot save in \S+: [2-9]s"


@pytest.mark.parametrize("width", [70, 200])
def test_progress_fits_the_terminal_and_ctrl_c_ends_cleanly(
    sandbox: Sandbox, zipapp: Path, tmp_path: Path, width: int
) -> None:
    args = ["backup", "--hc", HC_NAME, "--part-size-mib", "5", "--dir"]
    pane = Pane(sandbox, tmp_path, width, zipapp, *args, str(tmp_path / "a"), "--prefix", f"tty-{width}")
    try:
        # The sandbox's etcdctl snapshot save takes a moment; a big etcd's, minutes: held until its
        # live line has counted past 2s (at most 15s). Caught before its first bytes, the wait for
        # them is live (the source is down); caught after, the source is put back first and then
        # the wait for the save's end is live.
        save = stop_snapshot_save(sandbox, pane)  # type: ignore[arg-type]
        assert save is not None, "etcdctl snapshot save was never caught running"
        try:
            deadline, held = time.monotonic() + 15, pane.screen()
            while time.monotonic() < deadline and not re.fullmatch(LIVE_SAVE, held[-1]):
                time.sleep(0.5)
                held = pane.screen()
        finally:
            os.kill(save, signal.SIGCONT)
        screen = pane.wait_for("EXIT=")
    finally:
        pane.close()
    # A save past two seconds shows it is alive: the time waited, redrawn in place on the last
    # line; once saved, a line of its own says the size, and nothing of the live line is left.
    assert re.fullmatch(r"etcdctl snapshot save in \S+: [2-9]s", held[-1]) and len(held[-1]) < width, held
    assert any(re.fullmatch(r"etcdctl snapshot save in \S+: [\d.]+ [KMG]?i?B in [\d.]+s", ln) for ln in screen)
    assert not any(re.fullmatch(r"etcdctl snapshot save in \S+: \d+s", ln) for ln in screen)
    text = "\n".join(screen)
    assert screen[0].startswith(f"backing up {HC_NS}/{HC_NAME} from context source (https://"), text
    # The keys are aligned to the longest one: the padding is not the point here.
    assert "EXIT=0" in screen and any(re.fullmatch(r"Outcome: +SUCCEEDED", line) for line in screen), text
    assert any(line.startswith("next: kubectl hcmigrate restore ") for line in screen), text
    # Every progress line fits: none wrapped, and none left half-drawn before another line.
    progress = [line for line in screen if "MiB" in line and "/s" in line]
    assert progress and all(len(line) < width for line in progress), text
    assert not any("\x1b" in line or line.count("MiB/s") > 1 for line in screen), text

    before = source_state(sandbox)
    pane = Pane(sandbox, tmp_path, width, zipapp, *args, str(tmp_path / "b"), "--prefix", f"tty-cut-{width}")
    try:
        cat = stop_mid_stream(sandbox, pane)  # type: ignore[arg-type]
        assert cat is not None, "the stream was never caught mid-file"
        pane.tmux("send-keys", "-t", pane.name, "C-c")
        os.kill(cat, signal.SIGCONT)
        screen = pane.wait_for("EXIT=")
    finally:
        pane.close()
    text = "\n".join(screen)
    assert "EXIT=130" in screen, text
    assert any(line.startswith("put back: ") for line in screen), text
    # The live line stays as it was drawn; the terminal itself echoes `^C` after it.
    assert all(len(re.sub(r"\^C?$", "", line)) < width for line in screen if "ETA" in line), text
    assert source_state(sandbox) == before


WAITING = re.compile(r"^waiting (\S+) \(\S+ left\): ")


@pytest.mark.parametrize("width", [70, 200])
def test_restore_wait_is_one_line_redrawn_in_place(sandbox: Sandbox, zipapp: Path, tmp_path: Path, width: int) -> None:
    prefix = f"tty-{width}"
    if not keys(sandbox, prefix):  # the backup the test above took, unless this one runs alone
        assert hcm(sandbox, "backup", "--hc", HC_NAME, "--prefix", prefix, "--dir", str(tmp_path / "a")).returncode == 0
    args = ["restore", "--hc", HC_NAME, "--prefix", prefix, "--context", "destination", "--timeout", "2m"]
    waited: set[str] = set()

    def sample() -> None:  # while it waits: the wait is the last line, alone, within the width
        screen = pane.screen()
        live = [line for line in screen if WAITING.match(line)]
        if live:
            assert live == screen[-1:] and len(live[0]) < width, "\n".join(screen)
            waited.add(WAITING.match(live[0])[1])  # type: ignore[index]

    try:
        # The destination's operator held (SIGSTOP) until the wait was seen going on: on an idle
        # machine the restored control plane is up within two seconds, before a second reading.
        with operator_stopped(sandbox, "destination"):
            pane = Pane(sandbox, tmp_path, width, zipapp, *args)
            pane.wait_for("waiting ")
            deadline = time.monotonic() + 30
            while len(waited) < 2 and pane.poll() is None and time.monotonic() < deadline:
                sample()
                time.sleep(0.5)
        while pane.poll() is None:
            sample()
            time.sleep(0.5)
        screen = pane.screen()
    finally:
        if "pane" in locals():
            pane.close()
        delete_restored(sandbox)
    text = "\n".join(screen)
    assert "EXIT=0" in screen, text
    assert len(waited) >= 2, f"the time waited never moved on: {waited}\n{text}"
    # Once done, a line of its own took the wait's place: none of the live line is left on screen.
    assert not any("waiting" in line for line in screen), text
    assert "waited " in text and any(re.fullmatch(r"Outcome: +SUCCEEDED\w*", line) for line in screen), text
