"""Runs the command line so that a usage error (exit 2) reads like every other failure: the
parser's message on stderr, and with `-o json` also `{"outcome": "USAGE_ERROR", "error": ...}` on
stdout, where a script reading JSON looks (a `UsageError` document; YAML with `-o yaml`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn


def wants_json(args: Sequence[str]) -> bool:
    return wanted_format(args) == "json"


def wanted_format(args: Sequence[str]) -> str | None:
    """`json` or `yaml` if the command line asks for it, before or after the verb, in any
    spelling the parser takes; read off the words, as parsing them is what failed."""
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
        if value in ("json", "yaml"):
            return value
    return None


def invoke(app: Any, prog_name: str, complete_var: str, args: Sequence[str] | None = None) -> NoReturn:
    """The typer app with the parser's errors handled here, not inside click (standalone mode)."""
    import typer  # its own click: typer.TyperException is the base of click's exceptions there

    from kubectl_hcmigrate.core.options import OutputFormat
    from kubectl_hcmigrate.core.report import EXIT_CODES, Outcome
    from kubectl_hcmigrate.render import document, now, show

    args = list(sys.argv[1:] if args is None else args)
    started = now()
    try:
        code = app(args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False)
    except typer.Abort:
        sys.stderr.write("Aborted!\n")
        sys.exit(1)
    except typer.TyperException as e:
        if not hasattr(e, "show"):
            raise
        e.show()
        fmt = wanted_format(args)
        if fmt is not None and e.exit_code == EXIT_CODES[Outcome.USAGE_ERROR]:
            error = {"outcome": Outcome.USAGE_ERROR.value, "error": e.format_message()}
            show(document("UsageError", error, started), OutputFormat(fmt))
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
