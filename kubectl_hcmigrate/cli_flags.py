"""The flags the verbs share, declared once (kubectl's names), and the checks that turn their
text into options before anything is contacted. The global flags (--kubeconfig, --context,
--request-timeout, -o) are declared here once and taken by every verb after its name too;
cli_globals.py merges them with the same flags typed before the verb."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from kubectl_hcmigrate.core.options import BucketTarget, CloudTarget, OutputFormat


def bucket_target(
    bucket: str,
    prefix: str,
    region: str | None,
    endpoint_url: str | None,
    aws_creds: str | None,
    sse: str | None = None,
    sse_kms_key_id: str | None = None,
    *,
    timeout: float | None = None,
) -> BucketTarget:
    from kubectl_hcmigrate.adapters.s3encryption import validate

    try:
        validate(sse, sse_kms_key_id)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    return BucketTarget(
        bucket=bucket, prefix=prefix, region=region, endpoint_url=endpoint_url,
        aws_creds_file=aws_creds, sse=sse, sse_kms_key_id=sse_kms_key_id,  # type: ignore[arg-type]
        request_timeout=timeout,
    )  # fmt: skip


def k8s_name(value: str | None) -> str | None:
    """An HC name or namespace is a DNS-1123 label (the HCP namespace is `<ns>-<name>`): say so
    up front instead of looking for a cluster that cannot exist."""
    import re

    if value is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", value):
        raise typer.BadParameter(f"{value!r} is not a Kubernetes name (lowercase letters, digits and '-', at most 63)")
    return value


def complete(name: str) -> Any:
    """A completion callback of cli_complete.py, imported only when the shell asks."""

    def complete(ctx: typer.Context, incomplete: str) -> list[str]:
        from kubectl_hcmigrate import cli_complete

        found: list[str] = getattr(cli_complete, name)(ctx, incomplete)
        return found

    return complete


HcOpt = Annotated[
    str,
    typer.Option(
        "--hc", envvar="HC_CLUSTER_NAME", callback=k8s_name, help="HostedCluster name.",
        autocompletion=complete("hostedclusters"),
    ),
]  # fmt: skip
FleetHcOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--hc", envvar="HC_CLUSTER_NAME", callback=k8s_name, help="HostedCluster name (or --all, -l, -n alone).",
        autocompletion=complete("hostedclusters"),
    ),
]  # fmt: skip
AllOpt = Annotated[bool, typer.Option("--all", help="Every HostedCluster on the context (-n: of that namespace).")]
SelectorOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("-l", "--selector", help="The HostedClusters matching this label selector (-n: in that namespace)."),
]
ParallelOpt = Annotated[
    int, typer.Option("--parallel", min=1, max=16, help="With several HCs: how many are backed up at a time.")
]
NsOpt = Annotated[
    str,
    typer.Option("-n", "--namespace", envvar="HC_CLUSTER_NS", callback=k8s_name, help="HostedCluster namespace."),
]
BucketOpt = Annotated[str, typer.Option("--bucket", envvar=["BUCKET_NAME", "HCMIGRATE_BUCKET"], help="S3 bucket.")]
PrefixOpt = Annotated[str, typer.Option("--prefix", help="Key prefix inside the bucket.")]
RegionOpt = Annotated[Optional[str], typer.Option("--region", help="The bucket's AWS region.")]  # noqa: UP045
EndpointOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--endpoint-url", help="S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3)."),
]
CredsOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--aws-creds", envvar="AWS_CREDS", help="AWS credentials file (the runbook's)."),
]
SseOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--sse", metavar="AES256|aws:kms", help="Server-side encryption of every object written."),
]
SseKeyOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--sse-kms-key-id", metavar="ID", help="KMS key of --sse aws:kms (default: the aws/s3 key)."),
]
# list's filter: no default, unlike the verbs' -n.
NsFilterOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "-n",
        "--namespace",
        envvar="HC_CLUSTER_NS",
        callback=k8s_name,
        help="Only this namespace (with --hc, default: clusters).",
    ),
]
FromOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--from", envvar="BACKUP_DIR", help="Read the bundle from this directory, not the bucket."),
]
BackupIdOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--backup-id", help="Which backup (default: the newest complete one).", autocompletion=complete("backup_ids")
    ),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print every change; change nothing.")]
DirOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--dir", envvar="BACKUP_DIR", help="Where to write the bundle."),
]
WithNodesOpt = Annotated[
    bool,
    typer.Option(
        "--with-nodes",
        help="Also restore the NodePools and their CAPI machine objects, which adopt the running workers; "
        "without it the NodePools are left out (their workers run on unmanaged).",
    ),
]
TrustHaEtcdOpt = Annotated[
    bool,
    typer.Option(
        "--trust-ha-etcd-restore",
        help="Restore an HA etcd on a release not known to carry the one-cluster fix (OCPBUGS-99534), "
        "e.g. a patched control-plane operator; its members are still checked after the wait.",
    ),
]
OnlineOpt = Annotated[
    bool,
    typer.Option(
        "--online",
        help="Pause and scale down nothing (a scheduled DR backup): etcd's snapshot is consistent at one "
        "revision, which the manifest records; not with --keep-paused.",
    ),
]
UrlExpiryOpt = Annotated[
    str, typer.Option("--url-expiry", metavar="DURATION", help="Presigned snapshot URL lifetime (at most 7d).")
]
WaitTimeoutOpt = Annotated[
    str, typer.Option("--timeout", metavar="DURATION", help="How long to wait for the control plane.")
]

ForceOpt = Annotated[
    bool, typer.Option("--force", help="Skip the check that the destination runs this HC (asks first).")
]
DeletionTimeoutOpt = Annotated[
    str, typer.Option("--timeout", metavar="DURATION", help="How long to wait for each deletion.")
]


# The global flags, as each verb takes them after its name. No envvar here: the flag before the
# verb reads MGMT_KUBECONFIG, and an environment default must never clash with a typed flag.
KubeconfigOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--kubeconfig", help="Path to the kubeconfig file.", rich_help_panel="Global flags"),
]
SourceContextOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--context", help="Kubeconfig context of the source management cluster.", rich_help_panel="Global flags"
    ),
]
# restore writes to one cluster only: --context is that cluster, as in kubectl.
DestinationContextOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--context", help="Kubeconfig context of the cluster restored onto (same as --to-context).",
        rich_help_panel="Global flags", autocompletion=complete("contexts"),
    ),
]  # fmt: skip
RequestTimeoutOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--request-timeout", metavar="DURATION", help="How long one request to an apiserver (default 30s) or to S3 (default 2m) may take.",
        rich_help_panel="Global flags",
    ),
]  # fmt: skip
OutputOpt = Annotated[
    Optional[OutputFormat],  # noqa: UP045
    typer.Option("-o", "--output", help="Output format: text, json or yaml.", rich_help_panel="Global flags"),
]


class ListFormat(str, enum.Enum):
    """list's -o: the formats every verb has, and kubectl's `wide` table."""

    text = "text"
    json = "json"
    yaml = "yaml"
    wide = "wide"


ListOutputOpt = Annotated[
    Optional[ListFormat],  # noqa: UP045
    typer.Option("-o", "--output", help="Output format: text, wide, json or yaml.", rich_help_panel="Global flags"),
]
ToContextOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--to-context",
        help="Kubeconfig context of the destination management cluster.",
        autocompletion=complete("contexts"),
    ),
]
ToKubeconfigOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--to-kubeconfig", envvar="MGMT2_KUBECONFIG", help="Destination kubeconfig (else --kubeconfig)."),
]


def seconds(value: str, flag: str) -> int:
    from kubectl_hcmigrate.core.units import parse_duration

    try:
        return parse_duration(value)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint=flag) from None


def request_timeout(value: str) -> float:
    from kubectl_hcmigrate.core.units import parse_duration

    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise typer.BadParameter(f"--request-timeout: {e}") from None
    if seconds <= 0:
        raise typer.BadParameter("--request-timeout must be at least 1s: a request with no limit can wait forever")
    return float(seconds)


# Where the HC's DNS records and OIDC identity are read (the DNS handoff, T16; the OIDC check, T17).
HostedZoneOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--hosted-zone-id",
        help="Route53 hosted zone of the HC's hostnames: the handoff and the teardown guard read the records "
        "and their ExternalDNS owners there (else the system resolver, which cannot tell owners apart).",
    ),
]
CloudEndpointOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--cloud-endpoint-url", help="AWS-compatible endpoint for Route53, IAM and the OIDC bucket."),
]
HandoffTimeoutOpt = Annotated[
    str, typer.Option("--handoff-timeout", metavar="DURATION", help="How long to wait for the records to move.")
]


ResolverOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--resolver", metavar="ADDR[:PORT]", help="Ask this DNS server (UDP, port 53 by default) "
                 "whether the HC's hostnames resolve, instead of the system resolver (not with --hosted-zone-id)."),
]  # fmt: skip


def cloud_target(
    zone: str | None, endpoint_url: str | None, region: str | None, aws_creds: str | None, resolver: str | None = None
) -> CloudTarget:
    from kubectl_hcmigrate.adapters.dns_query import parse_address

    if resolver is not None:
        if zone:  # one source of the records: the zone's would silently win over the resolver
            raise typer.BadParameter("give --hosted-zone-id or --resolver, not both", param_hint="--resolver")
        try:
            parse_address(resolver)
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--resolver") from None
    return CloudTarget(
        hosted_zone_id=zone, region=region, endpoint_url=endpoint_url, aws_creds_file=aws_creds, resolver=resolver
    )


HostedKubeconfigOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--hosted-kubeconfig", help="Kubeconfig of the hosted cluster: its OVN pods are restarted at the end "
                 "(Public and PublicAndPrivate clusters; else the command to do it is printed)."),
]  # fmt: skip
