"""The command line's root: the app, the global flags typed before the verb, and the verbs that
need no cluster (version, completion). Verbs register on `app` from cli_cluster.py and
cli_bucket.py; cli_globals.py merges the global flags with the same flags after the verb."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_hcmigrate import __version__
from kubectl_hcmigrate import cli_flags as flags
from kubectl_hcmigrate.cli_globals import Globals, output, typed
from kubectl_hcmigrate.cli_help import Shell, _completion_var, _examples, prog_name
from kubectl_hcmigrate.core.options import OutputFormat

app = typer.Typer(
    name="hcmigrate",
    help="Back up, restore and migrate HyperShift hosted clusters between management clusters.",
    epilog=_examples(prog_name()),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # No markup parsing: it imports markdown-it and pygments, half of --help's start-up time.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"{prog_name()} {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    kubeconfig: Optional[str] = typer.Option(  # noqa: UP045 - typer 0.28 needs Optional
        None, "--kubeconfig", envvar="MGMT_KUBECONFIG", help="Path to the kubeconfig file."
    ),
    context: Optional[str] = typer.Option(  # noqa: UP045
        None,
        "--context",
        help="Kubeconfig context of the cluster the verb acts on (restore: the one it writes to).",
        autocompletion=flags.complete("contexts"),
    ),
    output: Optional[OutputFormat] = typer.Option(  # noqa: UP045
        None, "-o", "--output", help="Output format: text, json or yaml."
    ),
    request_timeout: Optional[str] = typer.Option(  # noqa: UP045
        None, "--request-timeout", metavar="DURATION", help="How long one request to an apiserver may take (30s)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
    verbose: int = typer.Option(0, "-v", count=True, help="Request-level detail, and tracebacks of failures."),
    level: int = typer.Option(0, "--v", metavar="N", help="Log level, as kubectl's --v (1 and up: as -v)."),
) -> None:
    from kubectl_hcmigrate import verbose as verbosity

    verbosity.enable(max(verbose, level))
    if request_timeout is not None:
        flags.request_timeout(request_timeout)  # checked here: a bad value is wrong whatever the verb
    ctx.obj = Globals(
        kubeconfig=kubeconfig, context=context, request_timeout=request_timeout, output=output,
        typed={p for p in ("kubeconfig", "context", "request_timeout", "output") if typed(ctx, p)},
    )  # fmt: skip


@app.command()
def version(ctx: typer.Context, out: flags.OutputOpt = None) -> None:
    """Print the version."""
    from kubectl_hcmigrate.render import document, now, show

    fmt = output(ctx, out)
    if fmt is OutputFormat.text:
        typer.echo(f"{prog_name()} {__version__}")
    else:
        show(document("Version", {"version": __version__}, now()), fmt)


@app.command()
def completion(
    shell: Annotated[Shell, typer.Argument(metavar="SHELL", help="bash, zsh or fish.")],
) -> None:
    """Print a shell completion script; source it from the shell's startup file."""
    from typer.completion import get_completion_script

    typer.echo(
        get_completion_script(
            prog_name=prog_name().replace(" ", "-"),
            complete_var=_completion_var(),
            shell=shell.value,
        )
    )
