"""The command line: flags only. Each command wires options into a verb and exits."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from kubectl_hcmigrate import __version__
from kubectl_hcmigrate import cli_flags as flags
from kubectl_hcmigrate.cli_help import Shell, _completion_var, _examples, prog_name
from kubectl_hcmigrate.core.options import KubeTarget, OutputFormat

app = typer.Typer(
    name="hcmigrate",
    help="Back up, restore and migrate HyperShift hosted clusters between management clusters.",
    epilog=_examples(prog_name()),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # No markup parsing: it imports markdown-it and pygments, half of --help's start-up time.
    rich_markup_mode=None,
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
        None, "--context", help="Kubeconfig context of the source management cluster."
    ),
    output: OutputFormat = typer.Option(OutputFormat.text, "-o", "--output", help="Output format: text or json."),
    request_timeout: str = typer.Option(
        "30s", "--request-timeout", metavar="DURATION", help="How long one request to an apiserver may take."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    g = flags.Globals()
    g.kube = KubeTarget(kubeconfig=kubeconfig, context=context, request_timeout=flags.request_timeout(request_timeout))
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


@app.command()
def backup(
    ctx: typer.Context,
    bucket: flags.BucketOpt,
    hc: flags.FleetHcOpt = None,
    namespace: flags.NsOpt = "clusters",
    context: flags.ContextOpt = None,
    prefix: flags.PrefixOpt = "",
    dir: flags.DirOpt = None,
    keep_paused: Annotated[bool, typer.Option("--keep-paused", help="Leave the source paused (to migrate).")] = False,
    online: flags.OnlineOpt = False,
    region: flags.RegionOpt = None,
    endpoint_url: flags.EndpointOpt = None,
    aws_creds: flags.CredsOpt = None,
    part_size_mib: Annotated[int, typer.Option("--part-size-mib", min=5, max=5120, help="S3 multipart part size.")] = 8,
    dry_run: flags.DryRunOpt = False,
    output: flags.OutputOpt = None,
    every: flags.AllOpt = False,
    selector: flags.SelectorOpt = None,
    parallel: flags.ParallelOpt = 2,
) -> None:
    """Pause the HC, stream its etcd snapshot into S3 and write its object bundle."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.backup import BackupOptions

    opts = BackupOptions(
        name=hc or "", namespace=namespace,
        bucket=flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds),
        dir=dir, keep_paused=keep_paused, part_size=part_size_mib << 20, online=online,
    )  # fmt: skip
    if hc is None or every or selector:  # several HCs, each its own backup: cli_fleet.py
        raise typer.Exit(cli_fleet.backup_many(ctx, opts, every, selector, parallel, context, dry_run, output))
    raise typer.Exit(
        commands.backup(flags.source(ctx, context), opts, dry_run=dry_run, output=flags.output(ctx, output))
    )


@app.command()
def restore(
    ctx: typer.Context,
    hc: flags.HcOpt,
    bucket: flags.BucketOpt,
    namespace: flags.NsOpt = "clusters",
    prefix: flags.PrefixOpt = "",
    source_dir: flags.FromOpt = None,
    backup_id: flags.BackupIdOpt = None,
    to_context: flags.ToContextOpt = None,
    to_kubeconfig: flags.ToKubeconfigOpt = None,
    with_nodes: flags.WithNodesOpt = False,
    trust_ha_etcd: flags.TrustHaEtcdOpt = False,
    url_expiry: flags.UrlExpiryOpt = "6h",
    timeout: flags.WaitTimeoutOpt = "30m",
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Return once everything is applied.")] = False,
    region: flags.RegionOpt = None,
    endpoint_url: flags.EndpointOpt = None,
    aws_creds: flags.CredsOpt = None,
    dry_run: flags.DryRunOpt = False,
    output: flags.OutputOpt = None,
) -> None:
    """Recreate a backed-up HC on the destination; its etcd restores from the snapshot."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.restore import RestoreOptions

    opts = RestoreOptions(
        name=hc, namespace=namespace,
        bucket=flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds),
        source_dir=source_dir, backup_id=backup_id, with_nodes=with_nodes, trust_ha_etcd=trust_ha_etcd,
        url_expiry=flags.seconds(url_expiry, "--url-expiry"), timeout=flags.seconds(timeout, "--timeout"), wait=not no_wait,
    )  # fmt: skip
    destination = flags.destination(ctx, to_kubeconfig, to_context)
    raise typer.Exit(commands.restore(destination, opts, dry_run=dry_run, output=flags.output(ctx, output)))


@app.command()
def teardown(
    ctx: typer.Context,
    hc: flags.HcOpt,
    namespace: flags.NsOpt = "clusters",
    context: flags.ContextOpt = None,
    to_context: flags.ToContextOpt = None,
    to_kubeconfig: flags.ToKubeconfigOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Skip the check that the destination runs this HC (asks first).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm --force without a prompt.")] = False,
    timeout: Annotated[
        str, typer.Option("--timeout", metavar="DURATION", help="How long to wait for each deletion.")
    ] = "5m",
    dry_run: flags.DryRunOpt = False,
    output: flags.OutputOpt = None,
) -> None:
    """Delete the HC from the source once the destination runs it; S3 and bundles stay."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.teardown import TeardownOptions

    opts = TeardownOptions(name=hc, namespace=namespace, force=force, timeout=flags.seconds(timeout, "--timeout"))
    source, destination = flags.source(ctx, context), flags.destination(ctx, to_kubeconfig, to_context)
    raise typer.Exit(
        commands.teardown(source, destination, opts, yes=yes, dry_run=dry_run, output=flags.output(ctx, output))
    )


@app.command()
def migrate(
    ctx: typer.Context,
    hc: flags.HcOpt,
    bucket: flags.BucketOpt,
    namespace: flags.NsOpt = "clusters",
    prefix: flags.PrefixOpt = "",
    context: flags.ContextOpt = None,
    to_context: flags.ToContextOpt = None,
    to_kubeconfig: flags.ToKubeconfigOpt = None,
    dir: flags.DirOpt = None,
    with_nodes: flags.WithNodesOpt = False,
    trust_ha_etcd: flags.TrustHaEtcdOpt = False,
    url_expiry: flags.UrlExpiryOpt = "6h",
    timeout: flags.WaitTimeoutOpt = "30m",
    region: flags.RegionOpt = None,
    endpoint_url: flags.EndpointOpt = None,
    aws_creds: flags.CredsOpt = None,
    output: flags.OutputOpt = None,
    dry_run: flags.DryRunOpt = False,
) -> None:
    """Backup (kept paused), restore with the wait, teardown: one command; run it again to carry on."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.migrate import MigrateOptions

    opts = MigrateOptions(
        name=hc, namespace=namespace, bucket=flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds),
        dir=dir, with_nodes=with_nodes, url_expiry=flags.seconds(url_expiry, "--url-expiry"),
        timeout=flags.seconds(timeout, "--timeout"), trust_ha_etcd=trust_ha_etcd,
    )  # fmt: skip
    source, destination = flags.source(ctx, context), flags.destination(ctx, to_kubeconfig, to_context)
    raise typer.Exit(commands.migrate(source, destination, opts, dry_run=dry_run, output=flags.output(ctx, output)))


@app.command("list")
def list_(
    ctx: typer.Context,
    bucket: flags.BucketOpt,
    prefix: flags.PrefixOpt = "",
    hc: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--hc",
            envvar="HC_CLUSTER_NAME",
            callback=flags.k8s_name,
            help="Only this HostedCluster's backups (-n: its namespace).",
        ),
    ] = None,
    namespace: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "-n",
            "--namespace",
            envvar="HC_CLUSTER_NS",
            callback=flags.k8s_name,
            help="Only this namespace (with --hc, default: clusters).",
        ),
    ] = None,
    region: flags.RegionOpt = None,
    endpoint_url: flags.EndpointOpt = None,
    aws_creds: flags.CredsOpt = None,
    output: flags.OutputOpt = None,
) -> None:
    """List the backups in the bucket, newest first, complete or not; reads only S3."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.list import ListOptions

    opts = ListOptions(
        bucket=flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds),
        namespace=namespace or ("clusters" if hc else None), name=hc,
    )  # fmt: skip
    raise typer.Exit(commands.list_backups(opts, output=flags.output(ctx, output)))


@app.command()
def verify(
    ctx: typer.Context,
    hc: flags.HcOpt,
    bucket: flags.BucketOpt,
    namespace: flags.NsOpt = "clusters",
    prefix: flags.PrefixOpt = "",
    source_dir: flags.FromOpt = None,
    backup_id: flags.BackupIdOpt = None,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also read the whole snapshot: its sha256 and etcd's own checksum.")
    ] = False,
    region: flags.RegionOpt = None,
    endpoint_url: flags.EndpointOpt = None,
    aws_creds: flags.CredsOpt = None,
    output: flags.OutputOpt = None,
) -> None:
    """Check a backup as restore would, changing nothing: bundle files, snapshot size and sha256."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.verify import VerifyOptions

    opts = VerifyOptions(
        name=hc, namespace=namespace,
        bucket=flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds),
        source_dir=source_dir, backup_id=backup_id, deep=deep,
    )  # fmt: skip
    raise typer.Exit(commands.verify(opts, output=flags.output(ctx, output)))


from kubectl_hcmigrate import cli_fleet  # noqa: E402 - registers prune on app; needs app above


def run() -> None:
    from kubectl_hcmigrate.cli_usage import invoke

    complete_var = _completion_var()
    if complete_var in os.environ:
        # The scripts above speak Typer's protocol, whose classes add_completion=False leaves out.
        from typer.completion import completion_init

        completion_init()
    invoke(app, prog_name(), complete_var)  # a usage error is JSON too with -o json
