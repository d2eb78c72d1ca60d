"""The command line: flags only. Each command wires options into a verb and exits."""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer

from kubectl_hcmigrate import __version__
from kubectl_hcmigrate.options import KubeTarget, OutputFormat


def prog_name() -> str:
    """`kubectl hcmigrate` or `oc hcmigrate`, after the name we were started as."""
    base = os.path.basename(sys.argv[0]) if sys.argv else ""
    return "oc hcmigrate" if base.startswith("oc-") else "kubectl hcmigrate"


app = typer.Typer(
    name="hcmigrate",
    help="Back up, restore and migrate HyperShift hosted clusters between management clusters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Globals:
    kube: KubeTarget
    output: OutputFormat


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
        None, "--context", help="Kubeconfig context of the source management cluster."
    ),
    output: OutputFormat = typer.Option(
        OutputFormat.text, "-o", "--output", help="Output format: text or json."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    g = Globals()
    g.kube = KubeTarget(kubeconfig=kubeconfig, context=context)
    g.output = output
    ctx.obj = g


@app.command()
def version(ctx: typer.Context) -> None:
    """Print the version."""
    if ctx.obj.output is OutputFormat.json:
        import json

        typer.echo(json.dumps({"version": __version__}))
    else:
        typer.echo(f"{prog_name()} {__version__}")


def run() -> None:
    app(prog_name=prog_name())
