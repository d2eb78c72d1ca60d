"""The command line: the app (cli_app.py) with every verb registered, and the entry point."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import Any

from kubectl_hcmigrate import cli_bucket, cli_cluster, cli_fleet, cli_handoff  # noqa: F401 - they register their verbs on app
from kubectl_hcmigrate.cli_app import app
from kubectl_hcmigrate.cli_help import _completion_var, prog_name

__all__ = ["app", "run"]


def run() -> None:
    import sys

    from kubectl_hcmigrate.cli_usage import invoke

    if sys.argv[1:2] == ["__complete"]:  # kubectl's plugin completion (kubectl_complete-hcmigrate)
        from kubectl_hcmigrate.cli_complete import kubectl_complete

        sys.stdout.write("".join(line + "\n" for line in kubectl_complete(sys.argv[2:])))
        return

    complete_var = _completion_var()
    if complete_var in os.environ:
        # The scripts above speak Typer's protocol, whose classes add_completion=False leaves out.
        from typer.completion import completion_init

        completion_init()
        invoke(app, prog_name(), complete_var)  # every verb whole: the completer reads their flags
    invoke(for_words(sys.argv[1:]), prog_name(), complete_var)  # a usage error is JSON too with -o json


def for_words(args: Sequence[str]) -> Any:
    """The app as these words need it: a verb that is not among them keeps its name and help (for
    `--help` and "No such command"), not its flags. Typer turns every verb's signature into click
    flags before it parses a word: for all eleven verbs, 0.04-0.07 CPU-s of every start (measured
    on `--help` and `backup --help`)."""
    words = set(args)  # all of them: after `--` a word is still the verb (`hcmigrate -- version`)
    narrowed = copy.copy(app)
    narrowed.registered_commands = [i if _verb(i) in words else _listed_only(i) for i in app.registered_commands]
    return narrowed


def _verb(info: Any) -> str:
    """The name typer gives the verb: its own, or its function's."""
    import typer.main

    return str(info.name or typer.main.get_command_name(info.callback.__name__))


def _listed_only(info: Any) -> Any:
    """The verb's entry with a callback of no parameters, under the same name and help."""
    listed = copy.copy(info)

    def unused() -> None:  # never runs: a verb that runs is one of the words
        raise AssertionError(f"{info.callback.__name__} was not prepared to run")

    unused.__name__, unused.__doc__ = info.callback.__name__, info.callback.__doc__
    listed.callback = unused
    return listed
