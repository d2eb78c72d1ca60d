"""What a person sees in a real terminal (issue 14): the tool run in tmux at 70 and 200 columns.
A backup's progress never wraps into stale lines and ends in the summary with the next step; a
Ctrl-C mid-stream leaves the live line as it was, says what was put back, and exits 130."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import HC_NAME, HC_NS, source_state, stop_mid_stream
from tests.sandbox.config import REPO
from tests.sandbox.harness import Sandbox


class Pane:
    """One tmux session of a given width running one command, on a server of its own."""

    def __init__(self, sb: Sandbox, tmp: Path, width: int, *args: str) -> None:
        self.socket, self.name = f"hcm-{os.getpid()}-{width}", "t"
        script = tmp / f"run-{width}.sh"
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sb.env.items())
        command = shlex.join([sys.executable, "-m", "kubectl_hcmigrate", *args])
        # Ctrl-C goes to the whole foreground group: the shell traps it (a handler, not an ignore,
        # which the tool would inherit) to go on and say the tool's exit code.
        script.write_text(
            f"trap 'true' INT\ncd {shlex.quote(str(REPO))}\n{exports}{command}\necho EXIT=$?\nsleep 600\n"
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


@pytest.mark.parametrize("width", [70, 200])
def test_progress_fits_the_terminal_and_ctrl_c_ends_cleanly(sandbox: Sandbox, tmp_path: Path, width: int) -> None:
    args = ["backup", "--hc", HC_NAME, "--part-size-mib", "5", "--dir"]
    pane = Pane(sandbox, tmp_path, width, *args, str(tmp_path / "a"), "--prefix", f"tty-{width}")
    try:
        screen = pane.wait_for("EXIT=")
    finally:
        pane.close()
    text = "\n".join(screen)
    assert screen[0].startswith(f"backing up {HC_NS}/{HC_NAME} from context source (https://"), text
    assert "EXIT=0" in screen and "Outcome:         SUCCEEDED" in screen, text
    assert any(line.startswith("next: kubectl hcmigrate restore ") for line in screen), text
    # Every progress line fits: none wrapped, and none left half-drawn before another line.
    progress = [line for line in screen if "MiB" in line and "/s" in line]
    assert progress and all(len(line) < width for line in progress), text
    assert not any("\x1b" in line or line.count("MiB/s") > 1 for line in screen), text

    before = source_state(sandbox)
    pane = Pane(sandbox, tmp_path, width, *args, str(tmp_path / "b"), "--prefix", f"tty-cut-{width}")
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
