"""The app a command line runs has only the verbs its words name prepared with their flags, and
says exactly what the whole app says: the same help, the same refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from kubectl_hcmigrate.cli import app, for_words

LINES = [
    ["--help"],
    [],
    ["backup", "--help"],
    ["bakup"],  # "No such command", with its suggestion
    ["-o", "json", "nosuch"],
    ["restore", "--hc"],
    ["--context", "backup", "version"],  # a verb's name as a flag's value: both prepared
    ["backup", "--", "--help"],
    ["--", "version"],  # the verb after `--`
    ["-o", "json", "version"],
]


@pytest.mark.parametrize("words", LINES, ids=lambda w: " ".join(w) or "no words")
def test_a_command_line_reads_the_same_to_the_narrowed_app(words: list[str]) -> None:
    whole, narrowed = (CliRunner().invoke(a, words, prog_name="kubectl hcmigrate") for a in (app, for_words(words)))
    assert (narrowed.exit_code, narrowed.output) == (whole.exit_code, whole.output)


def test_only_the_verbs_named_get_their_flags() -> None:
    commands = typer.main.get_command(for_words(["--context", "backup", "version"])).commands  # type: ignore[attr-defined]
    assert {name for name, cmd in commands.items() if cmd.params} == {"backup", "version"}
    assert len(commands) == len(app.registered_commands)  # every verb still listed


def test_a_completion_script_still_completes_a_verbs_flags() -> None:
    """The shells' scripts call back with their variable set: the whole app answers them."""
    env = {**os.environ, "_KUBECTL_HCMIGRATE_COMPLETE": "complete_bash",
           "COMP_WORDS": "kubectl-hcmigrate restore --to", "COMP_CWORD": "2"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "kubectl_hcmigrate"], env=env, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert "--to-context" in done.stdout.split(), done.stderr
