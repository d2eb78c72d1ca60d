"""backup: pause the HC, quiesce its control plane, stream an etcd snapshot into S3, write the
kustomize-ready bundle next to it, then put the source back (or keep it paused to migrate).

Preflight only reads. Every step that changes the source has an undo, and the original state
is recorded on the HC before the first change, so a re-run after a crash still knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubectl_hcmigrate import __version__
from kubectl_hcmigrate.core import objects
from kubectl_hcmigrate.core.bundle import check_bundle_dir, write_bundle
from kubectl_hcmigrate.core.kinds import rule_for, rules_in_scope
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
from kubectl_hcmigrate.core.ports import BucketPort, KubeError, KubePort, Reporter
from kubectl_hcmigrate.core.report import HcmigrateError, PreflightError
from kubectl_hcmigrate.core.source_state import HC, NODEPOOL, SourceControl, SourceState, recorded
from kubectl_hcmigrate.core.wait import poll_until
from kubectl_hcmigrate.etcd.scratch import remove_leftovers
from kubectl_hcmigrate.etcd.snapshotter import EtcdSnapshotter, SnapshotResult, ready_etcd_pods

QUIESCE_WAIT_SECONDS = 60
SECRET, CONFIGMAP = rule_for("Secret", "hc"), rule_for("ConfigMap", "hc")


@dataclass(frozen=True)
class BackupOptions:
    name: str
    namespace: str
    bucket: BucketTarget
    dir: Path | None = None
    keep_paused: bool = False
    part_size: int = 8 << 20


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
    backup_id = new_backup_id()
    # Keys relative to --prefix: the bucket adapter adds it, full_key() shows it.
    layout = BackupLayout("", ns, name, backup_id)
    folder = opts.dir or Path(f"{ns}-{name}-{backup_id}")
    check_bundle_dir(folder)
    return Backup(opts, kube, bucket, reporter, hc, state, pods, backup_id, layout, folder)


def build_plan(b: Backup) -> Plan:
    ctl = SourceControl(b.kube, b.opts.namespace, b.opts.name, b.state)
    plan = Plan("backup")
    hc_keys = hc_prefix("", b.opts.namespace, b.opts.name)
    plan.add(
        Step(
            "abort interrupted uploads",
            lambda: _abort_stale(b, hc_keys),
            changes=lambda: [f"abort unfinished multipart uploads under {b.bucket.full_key(hc_keys)}"],
        )
    )
    plan.add(
        Step(
            "remove leftover snapshot files",
            lambda: _remove_leftovers(b),
            changes=lambda: [
                f"remove snapshot scratch files of interrupted runs from {b.hcp_ns}/{', '.join(b.etcd_pods)}"
            ],
        )
    )
    plan.add(
        Step(
            "record source state",
            ctl.record,
            undo=ctl.forget,
            undo_last_if_clean=True,
            changes=lambda: [f"annotate HostedCluster {b.opts.namespace}/{b.opts.name} with the state to put back"],
        )
    )
    plan.add(Step("pause", ctl.pause, undo=ctl.unpause, changes=ctl.pause_changes))
    plan.add(Step("quiesce control plane", lambda: _quiesce(b, ctl), undo=ctl.unquiesce, changes=ctl.quiesce_changes))
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
    if not b.opts.keep_paused:
        plan.add(
            Step(
                "resume source",
                ctl.put_back,
                undo=ctl.put_back,  # a put-back cut short is finished by the undo
                changes=lambda: ["put back pausedUntil and replicas as recorded, remove the annotation"],
            )
        )
    return plan  # fmt: skip


def _abort_stale(b: Backup, prefix: str) -> None:
    for key in b.bucket.abort_incomplete_uploads(prefix):
        b.reporter.line(f"aborted an unfinished upload of {b.bucket.full_key(key)} left by an interrupted run")


def _remove_leftovers(b: Backup) -> None:
    """A killed run cannot remove its scratch file: each run removes what earlier ones left. Like
    the uploads above, that is no change to put back. (A concurrent-run lease passes its live run's
    file as `keep`.)"""
    try:
        for where in remove_leftovers(b.kube, b.hcp_ns, b.etcd_pods, keep=set()):
            b.reporter.line(f"removed {b.hcp_ns}/{where}, left by an interrupted run")
    except (HcmigrateError, KubeError) as e:  # the snapshot can still be taken: say so, go on
        warn(str(e), b.reporter)


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


def collect_objects(kube: KubePort, hc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """This HC's objects only, by namespace: never another HC's."""
    ns, hcp_ns = objects.namespace_of(hc), objects.hcp_namespace(hc)
    all_pools = kube.list_objects(NODEPOOL, ns)
    pools = objects.nodepools_of(hc, all_pools)
    secrets, configmaps = objects.select_hc_namespace_objects(
        hc, all_pools, kube.list_objects(SECRET, ns), kube.list_objects(CONFIGMAP, ns), kube.list_objects(HC, ns)
    )
    hcp_objs: list[dict[str, Any]] = []
    for rule in rules_in_scope("hcp"):
        items = kube.list_objects(rule, hcp_ns)
        hcp_objs += [o for o in items if not (rule.skip_item and rule.skip_item(o))]
    return {ns: [*secrets, *configmaps, hc, *pools], hcp_ns: hcp_objs}


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
    manifest = write_bundle(b.dir, collect_objects(b.kube, hc), meta)
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
        "source": "paused (--keep-paused)" if b.opts.keep_paused else "resumed",
        "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
    }
