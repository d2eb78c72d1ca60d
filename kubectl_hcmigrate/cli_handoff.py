"""The commands of the DNS handoff and the OIDC check (T16, T17), registered on the app."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_hcmigrate import cli_flags as flags
from kubectl_hcmigrate import cli_globals as g
from kubectl_hcmigrate.cli_app import app


@app.command()
def handoff(
    ctx: typer.Context,
    hc: flags.HcOpt,
    namespace: flags.NsOpt = "clusters",
    hosted_zone_id: flags.HostedZoneOpt = None,
    resolver: flags.ResolverOpt = None,
    cloud_endpoint_url: flags.CloudEndpointOpt = None,
    region: flags.RegionOpt = None,
    aws_creds: flags.CredsOpt = None,
    timeout: flags.HandoffTimeoutOpt = "10m",
    dry_run: flags.DryRunOpt = False,
    kubeconfig: flags.KubeconfigOpt = None,
    context: flags.SourceContextOpt = None,
    request_timeout: flags.RequestTimeoutOpt = None,
    output: flags.OutputOpt = None,
) -> None:
    """Between backup --keep-paused and restore: delete the source's Routes/Services of the HC's hostnames
    and wait until its ExternalDNS dropped their records (Public and PublicAndPrivate clusters)."""
    from kubectl_hcmigrate import commands_handoff
    from kubectl_hcmigrate.verbs.handoff import HandoffOptions

    opts = HandoffOptions(name=hc, namespace=namespace, timeout=flags.seconds(timeout, "--timeout"))
    cloud = flags.cloud_target(hosted_zone_id, cloud_endpoint_url, region, aws_creds, resolver)
    source = g.source(ctx, kubeconfig, context, request_timeout)
    code = commands_handoff.handoff(source, cloud, opts, dry_run=dry_run, output=g.output(ctx, output))
    raise typer.Exit(code)


@app.command()
def oidc(
    ctx: typer.Context,
    hc: flags.HcOpt,
    namespace: flags.NsOpt = "clusters",
    to_context: flags.ToContextOpt = None,
    to_kubeconfig: flags.ToKubeconfigOpt = None,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix", help="Regenerate missing documents from the HCP's sa-signing-key; recreate the provider."
        ),
    ] = False,
    oidc_bucket: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--oidc-bucket", help="The OIDC bucket (default: named by the issuer URL's host)."),
    ] = None,
    cloud_endpoint_url: flags.CloudEndpointOpt = None,
    region: flags.RegionOpt = None,
    aws_creds: flags.CredsOpt = None,
    dry_run: flags.DryRunOpt = False,
    kubeconfig: flags.KubeconfigOpt = None,
    context: flags.DestinationContextOpt = None,
    request_timeout: flags.RequestTimeoutOpt = None,
    output: flags.OutputOpt = None,
) -> None:
    """After the restore: check the OIDC discovery and JWKS documents at spec.issuerURL and the IAM OIDC
    provider of that issuer on the destination's HC (T17); --fix recreates what is missing."""
    from kubectl_hcmigrate import commands_handoff
    from kubectl_hcmigrate.verbs.oidc import OidcOptions

    opts = OidcOptions(name=hc, namespace=namespace, fix=fix or dry_run, bucket=oidc_bucket)
    cloud = flags.cloud_target(None, cloud_endpoint_url, region, aws_creds)
    destination = g.restore_target(ctx, kubeconfig, context, to_kubeconfig, to_context, request_timeout)
    code = commands_handoff.oidc(destination, cloud, opts, dry_run=dry_run, output=g.output(ctx, output))
    raise typer.Exit(code)
