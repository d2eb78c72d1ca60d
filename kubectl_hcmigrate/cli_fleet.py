"""The command line for many HCs at once: `backup --all | -l SELECTOR | -n NS` (the backup command
in cli_cluster.py hands over here) and `prune`, registered on the same app."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from kubectl_hcmigrate import cli_flags as flags
from kubectl_hcmigrate import cli_globals as g
from kubectl_hcmigrate.cli_app import app
from kubectl_hcmigrate.core.options import KubeTarget, OutputFormat


def _usage(message: str) -> int:
    """A usage error as the parser gives one (exit 2)."""
    raise typer.BadParameter(message, param_hint="'--hc'")


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def backup_many(
    ctx: typer.Context, opts: Any, every: bool, selector: str | None, parallel: int,
    target: KubeTarget, dry_run: bool, output: OutputFormat,
) -> int:  # fmt: skip
    """Backs up every HC picked by --all, -l or -n (given on the command line), each in its own run."""
    from kubectl_hcmigrate import commands, fleet

    namespace = opts.namespace if _given(ctx, "namespace") else None
    if opts.name and (every or selector):
        return _usage("--hc names one HostedCluster: not with --all or -l")
    if not (opts.name or every or selector or namespace):
        return _usage("Missing option '--hc' (or --all, -l SELECTOR, or -n NAMESPACE for every HC there)")

    def body(reporter: Any) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.kube import Kube
        from kubectl_hcmigrate.core.report import PreflightError
        from kubectl_hcmigrate.core.source_state import HC

        if opts.keep_paused:
            raise PreflightError("--keep-paused hands one HC to a migration: not with several HCs; nothing was changed")
        picked = fleet.members_of(Kube(target, "source").list_objects(HC, namespace, selector))
        if not picked:
            where = f"namespace {namespace}" if namespace else "any namespace"
            match = f" matching {selector!r}" if selector else ""
            raise PreflightError(f"no HostedCluster{match} in {where} on context '{target.context or 'current'}'")
        reporter.line(f"backing up {len(picked)} hosted clusters, {parallel} at a time")
        folder = opts.dir.resolve() if opts.dir is not None else None  # each HC's bundle in its own folder there
        args = fleet.Args(_before(target), _backup_args(opts, dry_run), folder)
        return fleet.back_up(picked, args, parallel)

    return commands.run(commands.Out(output, "BackupFleetResult"), body, text=lambda r: fleet.show(r, as_json=False))


def _before(target: KubeTarget) -> list[str]:
    args = ["--request-timeout", f"{int(target.request_timeout)}s"]
    if target.kubeconfig:  # absolute: each run works in the bundle folder
        args += ["--kubeconfig", os.pathsep.join(str(Path(p).resolve()) for p in target.kubeconfig.split(os.pathsep))]
    if target.context:
        args += ["--context", target.context]
    return args


def _backup_args(opts: Any, dry_run: bool) -> list[str]:
    b = opts.bucket
    args = ["--bucket", b.bucket, "--prefix", b.prefix, "--part-size-mib", str(opts.part_size >> 20)]
    creds = str(Path(b.aws_creds_file).resolve()) if b.aws_creds_file else None
    given = (("--region", b.region), ("--endpoint-url", b.endpoint_url), ("--aws-creds", creds),
             ("--sse", b.sse), ("--sse-kms-key-id", b.sse_kms_key_id))  # fmt: skip
    for flag, value in given:
        if value:
            args += [flag, value]
    return args + (["--online"] if opts.online else []) + (["--dry-run"] if dry_run else [])


# prune's own flags.
ScopeHcOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--hc", envvar="HC_CLUSTER_NAME", callback=flags.k8s_name, help="Only this HostedCluster (-n: its namespace)."
    ),
]
ScopeNsOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("-n", "--namespace", envvar="HC_CLUSTER_NS", callback=flags.k8s_name, help="Only this namespace."),
]
KeepLastOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--keep-last", min=1, metavar="N", help="Keep the N newest complete backups of each HC."),
]
KeepWithinOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--keep-within", metavar="DURATION", help="Keep each HC's complete backups younger than this (7d)."),
]
GraceOpt = Annotated[
    str,
    typer.Option(
        "--incomplete-grace",
        metavar="DURATION",
        help="An unfinished backup younger than this may still be uploading: kept.",
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking (needed off a terminal).")]


@app.command()
def prune(
    ctx: typer.Context,
    bucket: flags.BucketOpt,
    keep_last: KeepLastOpt = None,
    keep_within: KeepWithinOpt = None,
    incomplete_grace: GraceOpt = "24h",
    hc: ScopeHcOpt = None,
    namespace: ScopeNsOpt = None,
    prefix: flags.PrefixOpt = "",
    yes: YesOpt = False,
    dry_run: flags.DryRunOpt = False,
    region: flags.RegionOpt = None,
    endpoint_url: flags.EndpointOpt = None,
    aws_creds: flags.CredsOpt = None,
    output: flags.OutputOpt = None,
) -> None:
    """Delete the backups a retention policy lets go, per HC; never an HC's newest complete one."""
    from kubectl_hcmigrate.core.retention import Policy

    policy = Policy(
        keep_last, None if keep_within is None else flags.seconds(keep_within, "--keep-within"),
        flags.seconds(incomplete_grace, "--incomplete-grace"),
    )  # fmt: skip
    try:
        policy.check()
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="'--keep-last' / '--keep-within'") from None
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.prune import PruneOptions, show

    opts = PruneOptions(
        flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds, timeout=g.s3_timeout(ctx)), policy,
        namespace or ("clusters" if hc else None), hc,
    )  # fmt: skip

    def body(reporter: Any) -> dict[str, Any]:
        from kubectl_hcmigrate.adapters.s3store import Bucket
        from kubectl_hcmigrate.verbs.prune import prune as run_prune

        return run_prune(opts, Bucket(opts.bucket), reporter, dry_run=dry_run, confirm=lambda n: _confirm(n, yes))

    out = commands.Out(g.output(ctx, output), "PruneResult")
    raise typer.Exit(commands.run(out, body, text=lambda r: show(r, as_json=False)))


def _confirm(count: int, yes: bool) -> bool:
    """On a terminal, the user says yes; off one, --yes must have said it."""
    import sys

    from kubectl_hcmigrate.core.report import PreflightError

    if yes:
        return True
    if not sys.stdin.isatty():
        raise PreflightError(
            "prune deletes backups: pass --yes when there is no terminal to confirm on; nothing was deleted"
        )
    sys.stderr.write(f"delete {count} backup{'s' if count != 1 else ''} (listed above)? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
