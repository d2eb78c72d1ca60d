"""The command line: the app (cli_app.py) with every verb registered, and the entry point."""

from __future__ import annotations

import os

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
    invoke(app, prog_name(), complete_var)  # a usage error is JSON too with -o json
