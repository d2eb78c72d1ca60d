"""The global flags (--kubeconfig, --context, --request-timeout, -o), typed before the verb or
after it, turned into the clusters a verb acts on. A flag typed is never ignored: typed twice
with different values, or naming a cluster a verb does not use, it is a usage error (exit 2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from kubectl_hcmigrate.cli_flags import request_timeout
from kubectl_hcmigrate.core.options import KubeTarget, OutputFormat

DEFAULT_REQUEST_TIMEOUT = "30s"


@dataclass
class Globals:
    """The flags given before the verb, and which of them were typed (not from the environment)."""

    kubeconfig: str | None = None
    context: str | None = None
    request_timeout: str | None = None
    output: OutputFormat | None = None
    typed: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Given:
    """One spelling of a setting on the command line: its flag, value and whether it was typed."""

    flag: str
    value: str | None
    typed: bool


def typed(ctx: typer.Context, param: str) -> bool:
    # By name: typer carries its own copy of click, whose ParameterSource is not click's.
    return getattr(ctx.get_parameter_source(param), "name", None) == "COMMANDLINE"


def after(ctx: typer.Context, param: str, flag: str, value: str | None) -> Given:
    """A flag after the verb."""
    return Given(flag, value, value is not None and typed(ctx, param))


def before(ctx: typer.Context, param: str) -> Given:
    """The global flag of that name, before the verb."""
    g: Globals = ctx.obj
    flag = "-o" if param == "output" else "--" + param.replace("_", "-")
    return Given(f"{flag} (before the verb)", getattr(g, param), param in g.typed)


def one_of(*given: Given) -> str | None:
    """The value the user asked for: every typed spelling must agree; else the first value set
    (an environment default), in the order given."""
    chosen = [g for g in given if g.typed and g.value is not None]
    values = {g.value for g in chosen}
    if len(values) > 1:
        a, b = chosen[0], next(g for g in chosen if g.value != chosen[0].value)
        raise typer.BadParameter(f"{a.flag} {a.value} and {b.flag} {b.value} disagree: give one of them")
    if chosen:
        return chosen[0].value
    return next((g.value for g in given if g.value is not None), None)


def output(ctx: typer.Context, value: OutputFormat | None) -> OutputFormat:
    """`-o` before or after the verb (kubectl takes both)."""
    picked = one_of(
        before(ctx, "output"), Given("-o", value.value if value else None, value is not None and typed(ctx, "output"))
    )
    return OutputFormat(picked) if picked else OutputFormat.text


def _timeouts(ctx: typer.Context, value: str | None) -> list[Given]:
    """--request-timeout before the verb and after it."""
    return [before(ctx, "request_timeout"), after(ctx, "request_timeout", "--request-timeout", value)]


def _timeout(ctx: typer.Context, value: str | None) -> float:
    return request_timeout(one_of(*_timeouts(ctx, value)) or DEFAULT_REQUEST_TIMEOUT)


def s3_timeout(ctx: typer.Context, value: str | None = None) -> float | None:
    """A typed --request-timeout bounds S3's requests too; untyped, S3 keeps its own default."""
    given = _timeouts(ctx, value)
    picked = one_of(*given)
    return request_timeout(picked) if picked and any(g.typed for g in given) else None


def source(ctx: typer.Context, kubeconfig: str | None, context: str | None, timeout: str | None) -> KubeTarget:
    """The cluster a one- or two-cluster verb reads its HC from: --kubeconfig and --context."""
    return KubeTarget(
        kubeconfig=one_of(before(ctx, "kubeconfig"), after(ctx, "kubeconfig", "--kubeconfig", kubeconfig)),
        context=one_of(before(ctx, "context"), after(ctx, "context", "--context", context)),
        request_timeout=_timeout(ctx, timeout),
    )


def destination(ctx: typer.Context, source: KubeTarget, kubeconfig: str | None, context: str | None) -> KubeTarget:
    """The other cluster of a two-cluster verb: --to-kubeconfig (else the source's) and --to-context."""
    return KubeTarget(
        kubeconfig=one_of(after(ctx, "to_kubeconfig", "--to-kubeconfig", kubeconfig)) or source.kubeconfig,
        context=context,
        request_timeout=source.request_timeout,
    )


def restore_target(
    ctx: typer.Context,
    kubeconfig: str | None,
    context: str | None,
    to_kubeconfig: str | None,
    to_context: str | None,
    timeout: str | None,
) -> KubeTarget:
    """restore writes to one cluster: --context and --to-context both name it, before or after
    the verb; so do --kubeconfig and --to-kubeconfig."""
    kube_given = [
        before(ctx, "kubeconfig"), after(ctx, "kubeconfig", "--kubeconfig", kubeconfig),
        after(ctx, "to_kubeconfig", "--to-kubeconfig", to_kubeconfig),
    ]  # fmt: skip
    # MGMT2_KUBECONFIG (the destination's) goes before MGMT_KUBECONFIG when neither is typed.
    return KubeTarget(
        kubeconfig=one_of(*kube_given) if any(g.typed for g in kube_given) else one_of(*kube_given[::-1]),
        context=one_of(
            before(ctx, "context"), after(ctx, "context", "--context", context),
            after(ctx, "to_context", "--to-context", to_context),
        ),
        request_timeout=_timeout(ctx, timeout),
    )  # fmt: skip


def no_cluster(ctx: typer.Context, verb: str) -> None:
    """A verb that reads only the bucket refuses cluster flags typed before it, rather than
    leave the user thinking they chose something."""
    g: Globals = ctx.obj
    for param in ("kubeconfig", "context"):  # --request-timeout bounds its S3 requests
        if param in g.typed:
            flag = "--" + param.replace("_", "-")
            raise typer.BadParameter(f"{flag}: {verb} reads only the bucket and uses no cluster; leave it out")
