"""Runs the command line so that a usage error (exit 2) reads like every other failure: the
parser's message on stderr, and with `-o json` also `{"outcome": "USAGE_ERROR", "error": ...}` on
stdout, where a script reading JSON looks."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asks for `-o json`, before or after the verb, in any spelling
    the parser takes; read off the words, as parsing them is what failed."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg in ("-o", "--output"):
            value = args[i + 1] if i + 1 < len(args) else ""
        elif arg.startswith("--output="):
            value = arg.removeprefix("--output=")
        elif arg.startswith("-o") and not arg.startswith("--"):
            value = arg[2:]
        else:
            continue
        if value == "json":
            return True
    return False


def invoke(app: Any, prog_name: str, complete_var: str, args: Sequence[str] | None = None) -> NoReturn:
    """The typer app with the parser's errors handled here, not inside click (standalone mode)."""
    import typer  # its own click: typer.TyperException is the base of click's exceptions there

    from kubectl_hcmigrate.core.report import EXIT_CODES, Outcome
    from kubectl_hcmigrate.ui import print_result

    args = list(sys.argv[1:] if args is None else args)
    try:
        code = app(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("Aborted!\n")
        sys.exit(1)
    except typer.TyperException as e:
        if not hasattr(e, "show"):
            raise
        e.show()
        if wants_json(args) and e.exit_code == EXIT_CODES[Outcome.USAGE_ERROR]:
            print_result({"outcome": Outcome.USAGE_ERROR.value, "error": e.format_message()}, as_json=True)
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
