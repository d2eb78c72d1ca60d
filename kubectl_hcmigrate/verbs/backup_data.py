"""backup's data steps: the etcd snapshot saved in the pod and streamed out, the objects read, the
bundle's files uploaded as one archive with the manifest after it (the commit marker), and the
removal of a backup that never got its manifest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from kubectl_hcmigrate import __version__
from kubectl_hcmigrate.core import objects
from kubectl_hcmigrate.core.archive import pack
from kubectl_hcmigrate.core.bundle import render_bundle
from kubectl_hcmigrate.core.bundle_dir import write_files
from kubectl_hcmigrate.core.layout import MANIFEST, BackupLayout, HostedClusterRef, Manifest, SnapshotRef, utc_timestamp
from kubectl_hcmigrate.core.pipeline import changed
from kubectl_hcmigrate.core.ports import BucketPort, Reporter
from kubectl_hcmigrate.core.source_state import HC
from kubectl_hcmigrate.core.staleness import versions_of
from kubectl_hcmigrate.etcd.saving import Saving
from kubectl_hcmigrate.etcd.snapshotter import EtcdSnapshotter, SnapshotResult
from kubectl_hcmigrate.verbs.backup_found import Backup
from kubectl_hcmigrate.verbs.collect import collect_objects


def write_and_upload(
    folder: Path,
    found: dict[str, list[dict[str, Any]]],
    meta: Manifest,
    bucket: BucketPort,
    layout: BackupLayout,
    uploaded: list[str],
) -> Manifest:
    """Writes the bundle to `folder` and uploads it."""
    files, manifest = render_bundle(found, meta)
    write_files(folder, files)
    upload_bundle(bucket, layout, files, uploaded)
    return manifest


def upload_bundle(bucket: BucketPort, layout: BackupLayout, files: Mapping[str, bytes], uploaded: list[str]) -> None:
    """The bundle's files as one archive, then the manifest: without it the backup is incomplete to
    every reader. Each key is in `uploaded` before its request (the reply may be lost)."""
    uploaded.append(layout.archive_key)
    bucket.put_bytes(layout.archive_key, pack(files))
    uploaded.append(layout.manifest_key)
    bucket.put_bytes(layout.manifest_key, files[MANIFEST])


def forget(bucket: BucketPort, bucket_name: str, keys: list[str], reporter: Reporter) -> None:
    """Removes what a backup without a manifest left; a key that resists is a warning, since the
    cause of the failure matters more."""
    for key in reversed(keys):
        try:
            bucket.abort_incomplete_uploads(key)
            bucket.delete(key)
        except Exception as e:
            reporter.line(f"warning: could not remove s3://{bucket_name}/{bucket.full_key(key)}: {e}")


def _snapshotter(b: Backup) -> EtcdSnapshotter:
    return EtcdSnapshotter(b.kube, b.hcp_ns, b.reporter)


def save(b: Backup) -> Saving:
    """Until the snapshot's content is fixed; the rest of the save runs on while the source is put back."""
    changed(f"save an etcd snapshot in a scratch file of {b.hcp_ns}")
    b.saving = _snapshotter(b).begin(b.etcd_pods, b.backup_id)
    return b.saving


def drop_scratch(b: Backup) -> None:
    if b.saved is not None:
        _snapshotter(b).remove(b.saved)
    elif b.saving is not None:  # a save that failed removed its own file already; one under way ends first
        _snapshotter(b).drop(b.saving)


def read(b: Backup) -> None:
    b.hc = b.kube.get(HC, b.opts.namespace, b.opts.name) or b.hc
    b.found = collect_objects(b.kube, b.hc)


def upload(b: Backup) -> SnapshotResult:
    assert b.saving is not None
    changed(f"upload an etcd snapshot to {b.bucket.full_key(b.layout.snapshot_key)}")
    try:
        snapshotter = _snapshotter(b)
        if b.saved is None:  # the save's end, its file checked (a failed one drops its file)
            b.saved = snapshotter.finish(b.saving)
        b.snapshot = snapshotter.upload(b.saved, b.bucket, b.layout.snapshot_key, b.opts.part_size)
    except BaseException:
        # An interrupt can land while S3 creates or completes the upload, where its reply is
        # lost: clear whatever exists of this backup's own key, finished or not.
        _forget_keys(b, [b.layout.snapshot_key])
        raise
    return b.snapshot


def bundle(b: Backup) -> Manifest:
    assert b.snapshot is not None and b.found is not None
    hc, snap = b.hc, b.snapshot
    meta = Manifest(
        tool_version=__version__, backup_id=b.backup_id, created=utc_timestamp(),
        source_context=b.kube.context,
        hostedcluster=HostedClusterRef(b.opts.name, b.opts.namespace, hc["metadata"]["uid"], objects.infra_id(hc)),
        snapshot=SnapshotRef(
            b.opts.bucket.bucket, b.bucket.full_key(snap.key), snap.size, snap.sha256, snap.pod,
            etag=snap.etag, version_id=snap.version_id,
        ),
        online=b.opts.online, etcd_revision=b.snapshot.revision if b.snapshot else None,
    )  # fmt: skip
    meta = replace(meta, versions=versions_of(b.found[b.opts.namespace]))  # what migrate compares later
    b.manifest = write_and_upload(b.dir, b.found, meta, b.bucket, b.layout, b.uploaded)
    return b.manifest


def drop_partial_bundle(b: Backup) -> None:
    """Bundle files whose manifest never made it are no backup: remove them."""
    if b.manifest is None:
        _forget_keys(b, b.uploaded)


def drop_orphan_snapshot(b: Backup) -> None:
    """A snapshot whose backup never got its manifest is of no use to anyone: remove it. One
    with a manifest is a good backup, whatever failed after it: keep it."""
    if b.snapshot is not None and b.manifest is None:
        _forget_keys(b, [b.snapshot.key])


def _forget_keys(b: Backup, keys: list[str]) -> None:
    forget(b.bucket, b.opts.bucket.bucket, keys, b.reporter)
