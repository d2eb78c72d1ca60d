"""The verbs that read only the bucket: no cluster flag applies to them, and one typed before
the verb is refused (cli_globals.no_cluster) rather than ignored."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_hcmigrate import cli_flags as flags
from kubectl_hcmigrate import cli_globals as g
from kubectl_hcmigrate.cli_app import app
from kubectl_hcmigrate.core.options import OutputFormat


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
    namespace: flags.NsFilterOpt = None,
    no_headers: Annotated[bool, typer.Option("--no-headers", help="Leave out the header line (text).")] = False,
    region: flags.RegionOpt = None,
    endpoint_url: flags.EndpointOpt = None,
    aws_creds: flags.CredsOpt = None,
    output: flags.ListOutputOpt = None,
) -> None:
    """List the backups in the bucket, newest first, complete or not; reads only S3."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.list import ListOptions

    g.no_cluster(ctx, "list")
    opts = ListOptions(
        bucket=flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds, timeout=g.s3_timeout(ctx)),
        namespace=namespace or ("clusters" if hc else None), name=hc,
    )  # fmt: skip
    wide = output is flags.ListFormat.wide
    fmt = g.output(ctx, None if output is None or wide else OutputFormat(output.value))
    raise typer.Exit(commands.list_backups(opts, output=fmt, wide=wide, headers=not no_headers))


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

    g.no_cluster(ctx, "verify")
    opts = VerifyOptions(
        name=hc, namespace=namespace,
        bucket=flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds, timeout=g.s3_timeout(ctx)),
        source_dir=source_dir, backup_id=backup_id, deep=deep,
    )  # fmt: skip
    raise typer.Exit(commands.verify(opts, output=g.output(ctx, output)))
