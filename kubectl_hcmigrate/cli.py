"""The command line: flags only. Each command wires options into a verb and exits."""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from kubectl_hcmigrate import __version__
from kubectl_hcmigrate.core.options import BucketTarget, KubeTarget, OutputFormat


def prog_name() -> str:
    """`kubectl hcmigrate` or `oc hcmigrate`, after the name we were started as."""
    base = os.path.basename(sys.argv[0]) if sys.argv else ""
    return "oc hcmigrate" if base.startswith("oc-") else "kubectl hcmigrate"


def _examples(prog: str) -> str:
    """The help epilog: one example per verb, so --help reads like a short manual."""
    examples = [
        ("Back up a hosted cluster and its etcd to S3", "backup --hc example -n clusters --bucket my-bucket"),
        (
            "Restore it on another management cluster",
            "restore --hc example -n clusters --bucket my-bucket --to-context destination",
        ),
        (
            "Or all three in one command that a re-run carries on",
            "migrate --hc example -n clusters --bucket my-bucket --context source --to-context destination",
        ),
        (
            "Remove it from the source once it runs on the destination",
            "teardown --hc example -n clusters --context source --to-context destination",
        ),
        ("List the backups in a bucket, newest first", "list --bucket my-bucket"),
        (
            "Check the newest backup of an HC, reading the whole snapshot",
            "verify --hc example --bucket my-bucket --deep",
        ),
        ("Print the version as JSON", "-o json version"),
        ("Turn on shell completion (bash, zsh or fish)", "completion bash > ~/.hcmigrate-completion.bash"),
    ]
    # "\b" keeps click from re-wrapping a paragraph: each example stays on its own lines.
    return "Examples:\n\n" + "\n\n".join(f"\b\n  # {what}\n  {prog} {cmd}" for what, cmd in examples)


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
    output: OutputFormat = typer.Option(OutputFormat.text, "-o", "--output", help="Output format: text or json."),
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


class Shell(str, enum.Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def _completion_var() -> str:
    """The variable a completion script sets when it calls us back for candidates."""
    # Named after the executable: Click would derive it from prog_name, which has a space.
    return "_" + prog_name().replace(" ", "_").upper() + "_COMPLETE"


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


def _bucket_target(
    bucket: str, prefix: str, region: str | None, endpoint_url: str | None, aws_creds: str | None
) -> BucketTarget:
    return BucketTarget(
        bucket=bucket, prefix=prefix, region=region, endpoint_url=endpoint_url,
        aws_creds_file=aws_creds,
    )  # fmt: skip


def _k8s_name(value: str | None) -> str | None:
    """An HC name or namespace is a DNS-1123 label (the HCP namespace is `<ns>-<name>`): say so
    up front instead of looking for a cluster that cannot exist."""
    import re

    if value is not None and not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", value):
        raise typer.BadParameter(f"{value!r} is not a Kubernetes name (lowercase letters, digits and '-', at most 63)")
    return value


HcOpt = Annotated[str, typer.Option("--hc", envvar="HC_CLUSTER_NAME", callback=_k8s_name, help="HostedCluster name.")]
NsOpt = Annotated[
    str,
    typer.Option("-n", "--namespace", envvar="HC_CLUSTER_NS", callback=_k8s_name, help="HostedCluster namespace."),
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
    bool, typer.Option("--with-nodes", help="Also restore the CAPI machine objects, to keep the nodes.")
]
UrlExpiryOpt = Annotated[
    str, typer.Option("--url-expiry", metavar="DURATION", help="Presigned snapshot URL lifetime (at most 7d).")
]
WaitTimeoutOpt = Annotated[
    str, typer.Option("--timeout", metavar="DURATION", help="How long to wait for the control plane.")
]


def _output(ctx: typer.Context, output: OutputFormat | None) -> OutputFormat:
    """`-o` after the verb (as kubectl takes it) wins over `-o` before it."""
    return output or ctx.obj.output


def _source(ctx: typer.Context, context: str | None) -> KubeTarget:
    return KubeTarget(kubeconfig=ctx.obj.kube.kubeconfig, context=context or ctx.obj.kube.context)


def _destination(ctx: typer.Context, kubeconfig: str | None, context: str | None) -> KubeTarget:
    return KubeTarget(kubeconfig=kubeconfig or ctx.obj.kube.kubeconfig, context=context)


@app.command()
def backup(
    ctx: typer.Context,
    hc: HcOpt,
    bucket: BucketOpt,
    namespace: NsOpt = "clusters",
    context: ContextOpt = None,
    prefix: PrefixOpt = "",
    dir: DirOpt = None,
    keep_paused: Annotated[bool, typer.Option("--keep-paused", help="Leave the source paused (to migrate).")] = False,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    aws_creds: CredsOpt = None,
    part_size_mib: Annotated[int, typer.Option("--part-size-mib", min=5, max=5120, help="S3 multipart part size.")] = 8,
    dry_run: DryRunOpt = False,
    output: OutputOpt = None,
) -> None:
    """Pause the HC, stream its etcd snapshot into S3 and write its object bundle."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.backup import BackupOptions

    opts = BackupOptions(
        name=hc, namespace=namespace,
        bucket=_bucket_target(bucket, prefix, region, endpoint_url, aws_creds),
        dir=dir, keep_paused=keep_paused, part_size=part_size_mib << 20,
    )  # fmt: skip
    raise typer.Exit(commands.backup(_source(ctx, context), opts, dry_run=dry_run, output=_output(ctx, output)))


def _seconds(value: str, flag: str) -> int:
    from kubectl_hcmigrate.core.units import parse_duration

    try:
        return parse_duration(value)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint=flag) from None


@app.command()
def restore(
    ctx: typer.Context,
    hc: HcOpt,
    bucket: BucketOpt,
    namespace: NsOpt = "clusters",
    prefix: PrefixOpt = "",
    source_dir: FromOpt = None,
    backup_id: BackupIdOpt = None,
    to_context: ToContextOpt = None,
    to_kubeconfig: ToKubeconfigOpt = None,
    with_nodes: WithNodesOpt = False,
    url_expiry: UrlExpiryOpt = "6h",
    timeout: WaitTimeoutOpt = "30m",
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Return once everything is applied.")] = False,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    aws_creds: CredsOpt = None,
    dry_run: DryRunOpt = False,
    output: OutputOpt = None,
) -> None:
    """Recreate a backed-up HC on the destination; its etcd restores from the snapshot."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.restore import RestoreOptions

    opts = RestoreOptions(
        name=hc, namespace=namespace,
        bucket=_bucket_target(bucket, prefix, region, endpoint_url, aws_creds),
        source_dir=source_dir, backup_id=backup_id, with_nodes=with_nodes,
        url_expiry=_seconds(url_expiry, "--url-expiry"), timeout=_seconds(timeout, "--timeout"), wait=not no_wait,
    )  # fmt: skip
    destination = _destination(ctx, to_kubeconfig, to_context)
    raise typer.Exit(commands.restore(destination, opts, dry_run=dry_run, output=_output(ctx, output)))


@app.command()
def teardown(
    ctx: typer.Context,
    hc: HcOpt,
    namespace: NsOpt = "clusters",
    context: ContextOpt = None,
    to_context: ToContextOpt = None,
    to_kubeconfig: ToKubeconfigOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Skip the check that the destination runs this HC (asks first).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm --force without a prompt.")] = False,
    timeout: Annotated[
        str, typer.Option("--timeout", metavar="DURATION", help="How long to wait for each deletion.")
    ] = "5m",
    dry_run: DryRunOpt = False,
    output: OutputOpt = None,
) -> None:
    """Delete the HC from the source once the destination runs it; S3 and bundles stay."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.teardown import TeardownOptions

    opts = TeardownOptions(name=hc, namespace=namespace, force=force, timeout=_seconds(timeout, "--timeout"))
    source, destination = _source(ctx, context), _destination(ctx, to_kubeconfig, to_context)
    raise typer.Exit(
        commands.teardown(source, destination, opts, yes=yes, dry_run=dry_run, output=_output(ctx, output))
    )


@app.command()
def migrate(
    ctx: typer.Context,
    hc: HcOpt,
    bucket: BucketOpt,
    namespace: NsOpt = "clusters",
    prefix: PrefixOpt = "",
    context: ContextOpt = None,
    to_context: ToContextOpt = None,
    to_kubeconfig: ToKubeconfigOpt = None,
    dir: DirOpt = None,
    with_nodes: WithNodesOpt = False,
    url_expiry: UrlExpiryOpt = "6h",
    timeout: WaitTimeoutOpt = "30m",
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    aws_creds: CredsOpt = None,
    output: OutputOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Backup (kept paused), restore with the wait, teardown: one command; run it again to carry on."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.migrate import MigrateOptions

    opts = MigrateOptions(
        name=hc, namespace=namespace, bucket=_bucket_target(bucket, prefix, region, endpoint_url, aws_creds),
        dir=dir, with_nodes=with_nodes, url_expiry=_seconds(url_expiry, "--url-expiry"),
        timeout=_seconds(timeout, "--timeout"),
    )  # fmt: skip
    source, destination = _source(ctx, context), _destination(ctx, to_kubeconfig, to_context)
    raise typer.Exit(commands.migrate(source, destination, opts, dry_run=dry_run, output=_output(ctx, output)))


@app.command("list")
def list_(
    ctx: typer.Context,
    bucket: BucketOpt,
    prefix: PrefixOpt = "",
    hc: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--hc",
            envvar="HC_CLUSTER_NAME",
            callback=_k8s_name,
            help="Only this HostedCluster's backups (-n: its namespace).",
        ),
    ] = None,
    namespace: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "-n",
            "--namespace",
            envvar="HC_CLUSTER_NS",
            callback=_k8s_name,
            help="Only this namespace (with --hc, default: clusters).",
        ),
    ] = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    aws_creds: CredsOpt = None,
    output: OutputOpt = None,
) -> None:
    """List the backups in the bucket, newest first, complete or not; reads only S3."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.list import ListOptions

    opts = ListOptions(
        bucket=_bucket_target(bucket, prefix, region, endpoint_url, aws_creds),
        namespace=namespace or ("clusters" if hc else None), name=hc,
    )  # fmt: skip
    raise typer.Exit(commands.list_backups(opts, output=_output(ctx, output)))


@app.command()
def verify(
    ctx: typer.Context,
    hc: HcOpt,
    bucket: BucketOpt,
    namespace: NsOpt = "clusters",
    prefix: PrefixOpt = "",
    source_dir: FromOpt = None,
    backup_id: BackupIdOpt = None,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also read the whole snapshot: its sha256 and etcd's own checksum.")
    ] = False,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    aws_creds: CredsOpt = None,
    output: OutputOpt = None,
) -> None:
    """Check a backup as restore would, changing nothing: bundle files, snapshot size and sha256."""
    from kubectl_hcmigrate import commands
    from kubectl_hcmigrate.verbs.verify import VerifyOptions

    opts = VerifyOptions(
        name=hc, namespace=namespace,
        bucket=_bucket_target(bucket, prefix, region, endpoint_url, aws_creds),
        source_dir=source_dir, backup_id=backup_id, deep=deep,
    )  # fmt: skip
    raise typer.Exit(commands.verify(opts, output=_output(ctx, output)))


def run() -> None:
    complete_var = _completion_var()
    if complete_var in os.environ:
        # The scripts above speak Typer's protocol, whose classes add_completion=False leaves out.
        from typer.completion import completion_init

        completion_init()
    app(prog_name=prog_name(), complete_var=complete_var)
