"""The commands of the DNS handoff and the OIDC check (T16, T17), registered on cli.app: cli.py
holds the verbs that came first."""

from __future__ import annotations

import typer

from kubectl_hcmigrate import cli_flags as flags
from kubectl_hcmigrate.cli import app


@app.command()
def handoff(
    ctx: typer.Context,
    hc: flags.HcOpt,
    namespace: flags.NsOpt = "clusters",
    context: flags.ContextOpt = None,
    hosted_zone_id: flags.HostedZoneOpt = None,
    cloud_endpoint_url: flags.CloudEndpointOpt = None,
    region: flags.RegionOpt = None,
    aws_creds: flags.CredsOpt = None,
    timeout: flags.HandoffTimeoutOpt = "10m",
    dry_run: flags.DryRunOpt = False,
    output: flags.OutputOpt = None,
) -> None:
    """Between backup --keep-paused and restore: delete the source's Routes/Services of the HC's hostnames
    and wait until its ExternalDNS dropped their records (Public and PublicAndPrivate clusters)."""
    from kubectl_hcmigrate import commands_handoff
    from kubectl_hcmigrate.verbs.handoff import HandoffOptions

    opts = HandoffOptions(name=hc, namespace=namespace, timeout=flags.seconds(timeout, "--timeout"))
    cloud = flags.cloud_target(hosted_zone_id, cloud_endpoint_url, region, aws_creds)
    code = commands_handoff.handoff(flags.source(ctx, context), cloud, opts, dry_run=dry_run,
                                    output=flags.output(ctx, output))  # fmt: skip
    raise typer.Exit(code)
