"""migrate's checks of where a run starts: whether the move can work at all, the backup a
destination HC came from, and whether the source stayed held since that backup (else carrying on
would tear down what changed)."""

from __future__ import annotations

from typing import Protocol

from kubectl_hcmigrate.core import restore_url
from kubectl_hcmigrate.core.layout import BackupLayout, Manifest, new_backup_id
from kubectl_hcmigrate.core.lease import new_run_id
from kubectl_hcmigrate.core.marks import SOURCE_UID, annotations_of, restored_from
from kubectl_hcmigrate.core.objects import hcp_namespace_of
from kubectl_hcmigrate.core.ports import BucketPort, KubePort, Reporter
from kubectl_hcmigrate.core.report import PreflightError, nothing_changed
from kubectl_hcmigrate.core.source_state import HC, recorded
from kubectl_hcmigrate.core.staleness import stale_reasons, versions_of
from kubectl_hcmigrate.verbs import preconditions
from kubectl_hcmigrate.verbs.collect import hc_namespace_objects
from kubectl_hcmigrate.verbs.restore_checks import check_crds, check_ha_etcd_release, check_options, refusing


class MoveOptions(Protocol):
    """What check_first reads of migrate's options (a frozen dataclass: read-only here too)."""

    @property
    def name(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def with_nodes(self) -> bool: ...
    @property
    def trust_ha_etcd(self) -> bool: ...
    @property
    def url_expiry(self) -> int: ...
    @property
    def timeout(self) -> int: ...
    @property
    def run_id(self) -> str | None: ...


def check_first(
    opts: MoveOptions,
    source: KubePort,
    destination: KubePort,
    bucket: BucketPort,
    reporter: Reporter,
    *,
    show: bool = False,
) -> str | None:
    """Every stage's options, checked before the first change of the first stage (a refusal, exit 3,
    for the run and its dry run alike): restore's own, then, for a new backup, whether the move can
    work at all (its preconditions: `show` lists their verdicts), the destination's CRDs for them,
    whether the HC's release restores its etcd as one cluster, and the restore URL a new backup's
    snapshot would get. The backup a destination HC came from, if any."""
    check_options(opts.url_expiry, opts.timeout, wait=True)  # it waits before the teardown
    backup_id = restored_backup_id(source, destination, opts.namespace, opts.name)
    if backup_id is None:  # first, as they read only the HC's spec and the destination
        check_move(source, destination, opts.namespace, opts.name, opts.with_nodes, reporter, show=show)
    if backup_id is not None:
        check_still_held(source, destination, bucket, opts.namespace, opts.name, backup_id)
    else:  # what the backup would take is what the destination restores
        with nothing_changed():
            hc = source.get(HC, opts.namespace, opts.name) or {}
            check_ha_etcd_release(hc, opts.trust_ha_etcd, reporter)
    with refusing(destination):
        check_crds(destination, opts.with_nodes)
        if backup_id is None:  # a resumed run's restore preflight checks the URL it already has
            key = BackupLayout(
                "", opts.namespace, opts.name, new_backup_id(run_id=opts.run_id or new_run_id())
            ).snapshot_key
            limit = restore_url.max_length(destination.crd(HC.qualified), destination.version_of(HC.group))
            restore_url.check(bucket.presign_get(key, opts.url_expiry), limit)
    return backup_id


def restored_backup_id(source: KubePort, destination: KubePort, ns: str, name: str) -> str | None:
    """The backup a destination HC was restored from, when it came from this source HC."""
    there = destination.get(HC, ns, name)
    if there is None:
        if source.get(HC, ns, name) is None:
            raise PreflightError(
                f"HostedCluster {ns}/{name} is neither on context '{source.context}' nor on "
                f"'{destination.context}': check --hc, -n, --context and --to-context"
            )
        return None
    here = source.get(HC, ns, name)
    # Teardown records the source's uid on the destination's identity check; once the source HC
    # is gone, only the backup id is left to go on, and teardown's own guard checks the rest.
    if backup_id := restored_from(there, here["metadata"]["uid"] if here else None):
        return backup_id
    raise PreflightError(
        f"HostedCluster {ns}/{name} already exists on context '{destination.context}' and was not restored "
        f"from this source's HC: refusing to migrate over it"
    )


def check_still_held(
    source: KubePort, destination: KubePort, bucket: BucketPort, ns: str, name: str, backup_id: str
) -> None:
    """Carrying on with the backup the destination runs is right only if the source stayed held
    since that backup and nothing of it changed; else the teardown would lose what changed."""
    hc = source.get(HC, ns, name)
    if hc is None or annotations_of(source.namespace(hcp_namespace_of(ns, name))).get(SOURCE_UID):
        return  # the teardown began, after its guard passed: let it finish
    state = recorded(hc)
    hold = state.held if state else None
    with nothing_changed():
        manifest = Manifest.from_json(bucket.get_bytes(BackupLayout("", ns, name, backup_id).manifest_key))
    now = versions_of(hc_namespace_objects(source, hc))
    if reasons := stale_reasons(hold.backup_id if hold else None, backup_id, manifest.versions, now):
        raise PreflightError(
            f"the destination (context '{destination.context}') runs {ns}/{name} from backup {backup_id}, but the "
            f"source (context '{source.context}') changed since: {'; '.join(reasons)}. Nothing was changed: take "
            "the destination's copy down and run migrate again to move the source as it is now"
        )


def check_move(
    source: KubePort, destination: KubePort, ns: str, name: str, with_nodes: bool, reporter: Reporter, *, show: bool
) -> None:
    """Before a new backup: the HC's spec and the destination say whether the move can work at
    all (verbs/preconditions.py), so a move that never could is refused before the source's
    etcd or the bucket is looked at. `show`: a dry run lists every verdict."""
    with nothing_changed():
        hc = source.get(HC, ns, name) or {}
    with refusing(destination):
        check_crds(destination, with_nodes)  # the plain "install HyperShift there" first
        verdicts = [
            preconditions.fixed_hostnames(hc, migration=True),
            *preconditions.destination_install(hc, destination),
            preconditions.destination_crds(destination, source=source),
        ]
    preconditions.settle(verdicts, reporter, show=show)
