"""backup: pause the HC, quiesce its control plane, stream an etcd snapshot into S3, write the
kustomize-ready bundle next to it, then put the source back (or keep it paused to migrate).

Preflight only reads. Every step that changes the source has an undo, and the original state
is recorded on the HC before the first change, so a re-run after a crash still knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kubectl_hcmigrate import __version__
from kubectl_hcmigrate.core import objects
from kubectl_hcmigrate.core.bundle import check_bundle_dir, write_bundle
from kubectl_hcmigrate.core.layout import (
    BackupLayout,
    HostedClusterRef,
    Manifest,
    SnapshotRef,
    hc_prefix,
    new_backup_id,
    utc_timestamp,
)
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.pipeline import Plan, Step, changed, warn
from kubectl_hcmigrate.core.ports import BucketPort, KubePort, Reporter
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.core.source_state import HC, NODEPOOL, Hold, SourceControl, SourceState, recorded
from kubectl_hcmigrate.core.staleness import versions_of
from kubectl_hcmigrate.core.wait import poll_until
from kubectl_hcmigrate.etcd.snapshotter import EtcdSnapshotter, SnapshotResult, ready_etcd_pods
from kubectl_hcmigrate.verbs import preconditions
from kubectl_hcmigrate.verbs.collect import SECRET, collect_objects
from kubectl_hcmigrate.verbs.leftovers import abort_ended_uploads, remove_scratch_leftovers

QUIESCE_WAIT_SECONDS = 60


@dataclass(frozen=True)
class BackupOptions:
    name: str
    namespace: str
    bucket: BucketTarget
    dir: Path | None = None
    keep_paused: bool = False
    part_size: int = 8 << 20
    run_id: str = ""  # this run's (core/lease.py): part of the backup id and of its upload's key
    destination: str | None = None  # the context a migration hands the source to, when known
    dry_run: bool = False  # preflight then lists every precondition's verdict


@dataclass
class Backup:
    """What preflight found; the steps act on it."""

    opts: BackupOptions
    kube: KubePort
    bucket: BucketPort
    reporter: Reporter
    hc: dict[str, Any]
    state: SourceState
    etcd_pods: list[str]
    backup_id: str
    layout: BackupLayout
    dir: Path
    snapshot: SnapshotResult | None = None
    manifest: Manifest | None = None
    uploaded: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def hcp_ns(self) -> str:
        return objects.hcp_namespace(self.hc)


def preflight(opts: BackupOptions, kube: KubePort, bucket: BucketPort, reporter: Reporter) -> Backup:
    ns, name = opts.namespace, opts.name
    hc = kube.get(HC, ns, name)
    if hc is None:
        raise PreflightError(
            f"HostedCluster {ns}/{name} not found on context '{kube.context}': check --hc, -n and --context"
        )
    # T15 first, from the spec alone: kept paused for a migration, unfixed hostnames are refused.
    fixed = preconditions.fixed_hostnames(hc, migration=opts.keep_paused)
    warnings = preconditions.settle([fixed], reporter, show=opts.dry_run)
    hcp_ns = objects.hcp_namespace(hc)
    if kube.namespace(hcp_ns) is None:
        raise PreflightError(f"the control-plane namespace {hcp_ns} of {ns}/{name} does not exist")
    objects.infra_id(hc)
    for key in objects.encryption_key_names(hc):
        if kube.get(SECRET, ns, key) is None:
            raise PreflightError(
                f"the etcd encryption key secret {ns}/{key} is missing: without it the snapshot "
                "cannot be decrypted; restore that secret before backing up"
            )
    pods = ready_etcd_pods(kube, hcp_ns)
    if not pods:
        raise PreflightError(f"no Ready etcd pod in {hcp_ns}: the snapshot needs a healthy member")
    bucket.preflight()  # a dry run's bucket (s3store.DryRunBucket) skips the write probe
    pools = objects.nodepools_of(hc, kube.list_objects(NODEPOOL, ns))
    observed = SourceState.observe(hc, pools, kube.workloads("deployments", hcp_ns))
    # A record left by an interrupted run is the truth about what was there before; a pool
    # added since that run keeps its current setting.
    state = recorded(hc) or observed
    state.nodepools = {**observed.nodepools, **state.nodepools}
    backup_id = new_backup_id(run_id=opts.run_id or None)
    # Keys relative to --prefix: the bucket adapter adds it, full_key() shows it.
    layout = BackupLayout("", ns, name, backup_id)
    folder = opts.dir or Path(f"{ns}-{name}-{backup_id}")
    check_bundle_dir(folder)
    return Backup(opts, kube, bucket, reporter, hc, state, pods, backup_id, layout, folder, warnings=warnings)


def build_plan(b: Backup) -> Plan:
    ctl = SourceControl(b.kube, b.opts.namespace, b.opts.name, b.state)
    plan = Plan("backup")
    hc_keys = hc_prefix("", b.opts.namespace, b.opts.name)
    plan.add(
        Step(
            "abort interrupted uploads",
            lambda: abort_ended_uploads(b.bucket, hc_keys, b.backup_id, b.reporter),
            changes=lambda: [f"abort unfinished multipart uploads of ended runs under {b.bucket.full_key(hc_keys)}"],
        )
    )
    plan.add(
        Step(
            "remove leftover snapshot files",
            lambda: remove_scratch_leftovers(b.kube, b.hcp_ns, b.etcd_pods, b.reporter),
            changes=lambda: [
                f"remove snapshot scratch files of interrupted runs from {b.hcp_ns}/{', '.join(b.etcd_pods)}"
            ],
        )
    )
    held = b.state.held
    if held is None:
        plan.add(
            Step(
                "record source state",
                ctl.record,
                undo=ctl.forget,
                undo_last_if_clean=True,
                changes=lambda: [f"annotate HostedCluster {b.opts.namespace}/{b.opts.name} with the state to put back"],
            )
        )
    # A source held for a migration stays paused and quiesced whatever happens: no undo.
    plan.add(Step("pause", ctl.pause, undo=None if held else ctl.unpause, changes=ctl.pause_changes))
    plan.add(
        Step(
            "quiesce control plane",
            lambda: _quiesce(b, ctl),
            undo=None if held else ctl.unquiesce,
            changes=ctl.quiesce_changes,
        )
    )
    plan.add(
        Step(
            "etcd snapshot",
            lambda: _snapshot(b),
            undo=lambda: _drop_orphan_snapshot(b),
            changes=lambda: [
                f"stream an etcd snapshot from {b.hcp_ns}/{b.etcd_pods[0]} to s3://{b.opts.bucket.bucket}/{b.layout.snapshot_key}"
            ],
        )
    )
    plan.add(
        Step(
            "write bundle",
            lambda: _bundle(b),
            undo=lambda: _drop_partial_bundle(b),
            changes=lambda: [
                f"write the bundle to {b.dir} and s3://{b.opts.bucket.bucket}/{b.bucket.full_key(b.layout.bundle_prefix)}"
            ],
        )
    )
    if held is not None:
        b.reporter.line(f"the source is {held.describe()}: it stays so")
    elif b.opts.keep_paused:
        plan.add(
            Step(
                "hold for migration",
                lambda: ctl.hold(Hold(b.backup_id, utc_timestamp(), b.opts.destination)),
                changes=lambda: [f"mark the source held for a migration by backup {b.backup_id}, keep it paused"],
            )
        )
    else:
        plan.add(
            Step(
                "resume source",
                ctl.put_back,
                undo=ctl.put_back,  # a put-back cut short is finished by the undo
                changes=lambda: ["put back pausedUntil and replicas as recorded, remove the annotation"],
            )
        )
    return plan  # fmt: skip


def _quiesce(b: Backup, ctl: SourceControl) -> None:
    ctl.quiesce()
    # Wait for the writers to stop, so the snapshot holds no half-done change; not fatal.
    names = set(b.state.replicas)

    def stopped() -> bool:
        return not [p for p in b.kube.pods(b.hcp_ns) if p["metadata"].get("labels", {}).get("app") in names]

    if not poll_until(stopped, QUIESCE_WAIT_SECONDS):
        warn(
            f"control-plane pods still terminating after {QUIESCE_WAIT_SECONDS}s: the snapshot was taken while "
            "the control plane may still have been writing",
            b.reporter,
        )


def _snapshot(b: Backup) -> SnapshotResult:
    snap = EtcdSnapshotter(b.kube, b.hcp_ns, b.reporter)
    changed(f"upload an etcd snapshot to {b.bucket.full_key(b.layout.snapshot_key)}")
    try:
        b.snapshot = snap.snapshot_to_bucket(
            b.etcd_pods, b.bucket, b.layout.snapshot_key, b.opts.part_size, b.backup_id
        )
    except BaseException:
        # An interrupt can land while S3 creates or completes the upload, where its reply is
        # lost: clear whatever exists of this backup's own key, finished or not.
        _forget(b, [b.layout.snapshot_key])
        raise
    return b.snapshot


def _bundle(b: Backup) -> Manifest:
    assert b.snapshot is not None
    hc = b.kube.get(HC, b.opts.namespace, b.opts.name) or b.hc
    meta = Manifest(
        tool_version=__version__, backup_id=b.backup_id, created=utc_timestamp(),
        source_context=b.kube.context,
        hostedcluster=HostedClusterRef(b.opts.name, b.opts.namespace, hc["metadata"]["uid"], objects.infra_id(hc)),
        snapshot=SnapshotRef(
            b.opts.bucket.bucket, b.bucket.full_key(b.snapshot.key), b.snapshot.size, b.snapshot.sha256, b.snapshot.pod,
            etag=b.snapshot.etag, version_id=b.snapshot.version_id,
        ),
    )  # fmt: skip
    found = collect_objects(b.kube, hc)
    meta = replace(meta, versions=versions_of(found[b.opts.namespace]))  # what migrate compares later
    manifest = write_bundle(b.dir, found, meta)
    # Upload every file, the manifest last: without it the backup is incomplete to every reader.
    for relpath in [*manifest.files, "manifest.json"]:
        b.uploaded.append(b.layout.bundle_key(relpath))  # before the call: its reply may be lost
        b.bucket.put_bytes(b.layout.bundle_key(relpath), (b.dir / relpath).read_bytes())
    b.manifest = manifest
    return manifest


def _drop_partial_bundle(b: Backup) -> None:
    """Bundle files whose manifest never made it are no backup: remove them."""
    if b.manifest is None:
        _forget(b, b.uploaded)


def _drop_orphan_snapshot(b: Backup) -> None:
    """A snapshot whose backup never got its manifest is of no use to anyone: remove it. One
    with a manifest is a good backup, whatever failed after it: keep it."""
    if b.snapshot is not None and b.manifest is None:
        _forget(b, [b.snapshot.key])


def _forget(b: Backup, keys: list[str]) -> None:
    for key in reversed(keys):
        try:
            b.bucket.abort_incomplete_uploads(key)
            b.bucket.delete(key)
        except Exception as e:  # a warning: the cause of the failure matters more
            b.reporter.line(f"warning: could not remove s3://{b.opts.bucket.bucket}/{b.bucket.full_key(key)}: {e}")


def result(b: Backup, timings: dict[str, float]) -> dict[str, Any]:
    snap = b.snapshot
    return {
        "outcome": "SUCCEEDED",
        "hostedcluster": f"{b.opts.namespace}/{b.opts.name}",
        "backup_id": b.backup_id,
        "bucket": b.opts.bucket.bucket,
        "snapshot_key": b.bucket.full_key(b.layout.snapshot_key),
        "snapshot_size": snap.size if snap else None,
        "snapshot_sha256": snap.sha256 if snap else None,
        "etcd_pod": snap.pod if snap else None,
        "manifest_key": b.bucket.full_key(b.layout.manifest_key),
        "bundle_dir": str(b.dir),
        "source": _source_result(b),
        "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
        **({"warnings": b.warnings} if b.warnings else {}),
    }


def _source_result(b: Backup) -> str:
    if b.state.held is not None and b.state.held.backup_id != b.backup_id:  # held before this run
        return f"kept paused: {b.state.held.describe()}"
    return "paused (--keep-paused)" if b.opts.keep_paused else "resumed"
