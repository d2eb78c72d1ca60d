"""The flags the verbs share, declared once (kubectl's names), and the checks that turn their
text into options before anything is contacted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from kubectl_hcmigrate.core.options import BucketTarget, KubeTarget, OutputFormat


class Globals:
    """The flags given before the verb."""

    kube: KubeTarget
    output: OutputFormat


def bucket_target(
    bucket: str, prefix: str, region: str | None, endpoint_url: str | None, aws_creds: str | None
) -> BucketTarget:
    return BucketTarget(
        bucket=bucket, prefix=prefix, region=region, endpoint_url=endpoint_url,
        aws_creds_file=aws_creds,
    )  # fmt: skip


def k8s_name(value: str | None) -> str | None:
    """An HC name or namespace is a DNS-1123 label (the HCP namespace is `<ns>-<name>`): say so
    up front instead of looking for a cluster that cannot exist."""
    import re

    if value is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", value):
        raise typer.BadParameter(f"{value!r} is not a Kubernetes name (lowercase letters, digits and '-', at most 63)")
    return value


HcOpt = Annotated[str, typer.Option("--hc", envvar="HC_CLUSTER_NAME", callback=k8s_name, help="HostedCluster name.")]
FleetHcOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--hc", envvar="HC_CLUSTER_NAME", callback=k8s_name, help="HostedCluster name (or --all, -l, -n alone)."
    ),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every HostedCluster on the context (-n: of that namespace).")]
SelectorOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("-l", "--selector", help="The HostedClusters matching this label selector (-n: in that namespace)."),
]
ParallelOpt = Annotated[
    int, typer.Option("--parallel", min=1, max=16, help="With several HCs: how many are backed up at a time.")
]
ScopeHcOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--hc", envvar="HC_CLUSTER_NAME", callback=k8s_name, help="Only this HostedCluster (-n: its namespace)."
    ),
]
ScopeNsOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("-n", "--namespace", envvar="HC_CLUSTER_NS", callback=k8s_name, help="Only this namespace."),
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
FromOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--from", envvar="BACKUP_DIR", help="Read the bundle from this directory, not the bucket."),
]
BackupIdOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--backup-id", help="Which backup (default: the newest complete one)."),
]
# Also accepted after the verb, as kubectl users type it: `list -o json`.
OutputOpt = Annotated[
    Optional[OutputFormat],  # noqa: UP045
    typer.Option("-o", "--output", help="Output format: text or json."),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print every change; change nothing.")]
# Also accepted after the verb, as in `teardown --context source --to-context destination`.
ContextOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--context", help="Kubeconfig context of the source management cluster."),
]
ToContextOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--to-context", help="Kubeconfig context of the destination management cluster."),
]
ToKubeconfigOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--to-kubeconfig", envvar="MGMT2_KUBECONFIG", help="Destination kubeconfig (else --kubeconfig)."),
]

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


def output(ctx: typer.Context, output: OutputFormat | None) -> OutputFormat:
    """`-o` after the verb (as kubectl takes it) wins over `-o` before it."""
    return output or ctx.obj.output


def source(ctx: typer.Context, context: str | None) -> KubeTarget:
    g = ctx.obj.kube
    return KubeTarget(kubeconfig=g.kubeconfig, context=context or g.context, request_timeout=g.request_timeout)


def destination(ctx: typer.Context, kubeconfig: str | None, context: str | None) -> KubeTarget:
    g = ctx.obj.kube
    return KubeTarget(kubeconfig=kubeconfig or g.kubeconfig, context=context, request_timeout=g.request_timeout)


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
