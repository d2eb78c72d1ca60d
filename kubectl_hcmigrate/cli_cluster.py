"""The verbs that act on management clusters: each wires its flags into options and a verb and
exits. The global flags come after the verb too (cli_globals.py says which cluster they name)."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_hcmigrate import cli_flags as flags
from kubectl_hcmigrate import cli_globals as g
from kubectl_hcmigrate.cli_app import app


@app.command()
def backup(
    ctx: typer.Context,
    bucket: flags.BucketOpt,
    hc: flags.FleetHcOpt = None,
    namespace: flags.NsOpt = "clusters",
    prefix: flags.PrefixOpt = "",
    dir: flags.DirOpt = None,
    keep_paused: Annotated[bool, typer.Option("--keep-paused", help="Leave the source paused (to migrate).")] = False,
    online: flags.OnlineOpt = False,
    region: flags.RegionOpt = None,
    endpoint_url: flags.EndpointOpt = None,
    aws_creds: flags.CredsOpt = None,
    sse: flags.SseOpt = None,
    sse_kms_key_id: flags.SseKeyOpt = None,
    part_size_mib: Annotated[int, typer.Option("--part-size-mib", min=5, max=5120, help="S3 multipart part size.")] = 8,
    dry_run: flags.DryRunOpt = False,
    kubeconfig: flags.KubeconfigOpt = None,
    context: flags.SourceContextOpt = None,
    request_timeout: flags.RequestTimeoutOpt = None,
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
        bucket=flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds, sse, sse_kms_key_id,
                                  timeout=g.s3_timeout(ctx, request_timeout)),
        dir=dir, keep_paused=keep_paused, part_size=part_size_mib << 20, online=online,
    )  # fmt: skip
    source, fmt = g.source(ctx, kubeconfig, context, request_timeout), g.output(ctx, output)
    if hc is None or every or selector:  # several HCs, each its own backup: cli_fleet.py
        from kubectl_hcmigrate import cli_fleet

        raise typer.Exit(cli_fleet.backup_many(ctx, opts, every, selector, parallel, source, dry_run, fmt))
    raise typer.Exit(commands.backup(source, opts, dry_run=dry_run, output=fmt))


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
    kubeconfig: flags.KubeconfigOpt = None,
    context: flags.DestinationContextOpt = None,
    request_timeout: flags.RequestTimeoutOpt = None,
    output: flags.OutputOpt = None,
) -> None:
    """Recreate a backed-up HC on the destination; its etcd restores from the snapshot."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.restore import RestoreOptions

    opts = RestoreOptions(
        name=hc, namespace=namespace,
        bucket=flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds, timeout=g.s3_timeout(ctx, request_timeout)),
        source_dir=source_dir, backup_id=backup_id, with_nodes=with_nodes, trust_ha_etcd=trust_ha_etcd,
        url_expiry=flags.seconds(url_expiry, "--url-expiry"), timeout=flags.seconds(timeout, "--timeout"), wait=not no_wait,
    )  # fmt: skip
    destination = g.restore_target(ctx, kubeconfig, context, to_kubeconfig, to_context, request_timeout)
    raise typer.Exit(commands.restore(destination, opts, dry_run=dry_run, output=g.output(ctx, output)))


@app.command()
def teardown(
    ctx: typer.Context,
    hc: flags.HcOpt,
    namespace: flags.NsOpt = "clusters",
    to_context: flags.ToContextOpt = None,
    to_kubeconfig: flags.ToKubeconfigOpt = None,
    force: flags.ForceOpt = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm --force without a prompt.")] = False,
    timeout: flags.DeletionTimeoutOpt = "5m",
    hosted_zone_id: flags.HostedZoneOpt = None,
    resolver: flags.ResolverOpt = None,
    cloud_endpoint_url: flags.CloudEndpointOpt = None,
    dry_run: flags.DryRunOpt = False,
    kubeconfig: flags.KubeconfigOpt = None,
    context: flags.SourceContextOpt = None,
    request_timeout: flags.RequestTimeoutOpt = None,
    output: flags.OutputOpt = None,
) -> None:
    """Delete the HC from the source once the destination runs it; S3 and bundles stay."""
    from kubectl_hcmigrate import commands_teardown
    from kubectl_hcmigrate.verbs.teardown import TeardownOptions

    opts = TeardownOptions(name=hc, namespace=namespace, force=force, timeout=flags.seconds(timeout, "--timeout"))
    source = g.source(ctx, kubeconfig, context, request_timeout)
    destination = g.destination(ctx, source, to_kubeconfig, to_context)
    cloud = flags.cloud_target(hosted_zone_id, cloud_endpoint_url, None, None, resolver)
    raise typer.Exit(commands_teardown.teardown(source, destination, opts, yes=yes, dry_run=dry_run,
                                                output=g.output(ctx, output), cloud=cloud))  # fmt: skip


@app.command()
def migrate(
    ctx: typer.Context,
    hc: flags.HcOpt,
    bucket: flags.BucketOpt,
    namespace: flags.NsOpt = "clusters",
    prefix: flags.PrefixOpt = "",
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
    sse: flags.SseOpt = None,
    sse_kms_key_id: flags.SseKeyOpt = None,
    hosted_zone_id: flags.HostedZoneOpt = None,
    resolver: flags.ResolverOpt = None,
    cloud_endpoint_url: flags.CloudEndpointOpt = None,
    handoff_timeout: flags.HandoffTimeoutOpt = "10m",
    hosted_kubeconfig: flags.HostedKubeconfigOpt = None,
    dry_run: flags.DryRunOpt = False,
    kubeconfig: flags.KubeconfigOpt = None,
    context: flags.SourceContextOpt = None,
    request_timeout: flags.RequestTimeoutOpt = None,
    output: flags.OutputOpt = None,
) -> None:
    """Backup (kept paused), restore with the wait, teardown: one command; run it again to carry on."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.migrate import MigrateOptions

    opts = MigrateOptions(
        name=hc, namespace=namespace,
        bucket=flags.bucket_target(bucket, prefix, region, endpoint_url, aws_creds, sse, sse_kms_key_id,
                                  timeout=g.s3_timeout(ctx, request_timeout)),
        dir=dir, with_nodes=with_nodes, url_expiry=flags.seconds(url_expiry, "--url-expiry"),
        timeout=flags.seconds(timeout, "--timeout"), trust_ha_etcd=trust_ha_etcd,
        handoff_timeout=flags.seconds(handoff_timeout, "--handoff-timeout"), hosted_kubeconfig=hosted_kubeconfig,
        cloud=flags.cloud_target(hosted_zone_id, cloud_endpoint_url, region, aws_creds, resolver),
    )  # fmt: skip
    source = g.source(ctx, kubeconfig, context, request_timeout)
    destination = g.destination(ctx, source, to_kubeconfig, to_context)
    raise typer.Exit(commands.migrate(source, destination, opts, dry_run=dry_run, output=g.output(ctx, output)))
