"""Finding a finished backup and reading it back, checked: the bundle (from the bucket or a
directory) against its manifest, and the snapshot object against the size and sha256 the
manifest recorded. Only reads; every refusal is one line saying what to do."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from kubectl_hcmigrate.core.archive import unpack
from kubectl_hcmigrate.core.bounded import map_bounded
from kubectl_hcmigrate.core.bundle import Bundle, read_bundle
from kubectl_hcmigrate.core.layout import (
    ARCHIVE,
    BackupLayout,
    complete_backup_ids,
    hc_prefix,
    latest_backup_id,
    parse_backup_id,
)
from kubectl_hcmigrate.core.ports import BucketPort, Reporter
from kubectl_hcmigrate.core.report import ObjectMissing, PreflightError
from kubectl_hcmigrate.etcd.verifier import SnapshotInvalid, SnapshotVerifier

FETCHES_IN_FLIGHT = 8
_HASH_LABEL = "hash snapshot"
_HASH_CHUNK = 8 << 20


def read_from_bucket(bucket: BucketPort, namespace: str, name: str, backup_id: str | None) -> Bundle:
    """The bundle of `backup_id`, or of the newest complete backup, read into memory."""
    where = f"s3://{bucket.name}/{bucket.full_key(hc_prefix('', namespace, name))}"
    keys = bucket.list_keys(hc_prefix("", namespace, name))
    if backup_id is None:
        backup_id = latest_backup_id(keys)
        if backup_id is None:
            raise PreflightError(
                f"no complete backup of {namespace}/{name} under {where} (a backup without "
                "manifest.json did not finish): check --bucket, --prefix, --hc and -n"
            )
    elif backup_id not in complete_backup_ids(keys):
        parse_backup_id(backup_id)  # a malformed id gets its own message
        raise PreflightError(
            f"backup {backup_id} is not under {where} or did not finish (no manifest.json): "
            "pick a complete one from `list`"
        )
    layout = BackupLayout("", namespace, name, backup_id)
    wanted: dict[str, str] = {}
    for key in keys:
        if key.startswith(layout.bundle_prefix):
            try:
                wanted[layout.relpath_of(key)] = key
            except ValueError:
                raise PreflightError(f"s3://{bucket.name}/{bucket.full_key(key)} cannot be a bundle file") from None
    # Two requests for a bundle written as one archive; older backups have a key per file, which a
    # few requests in flight fetch faster.
    fetched = map_bounded(list(wanted.values()), bucket.get_bytes, in_flight=FETCHES_IN_FLIGHT, name="bundle-fetch")
    files = dict(zip(wanted, fetched, strict=True))
    if ARCHIVE in files:
        where = f"s3://{bucket.name}/{bucket.full_key(layout.archive_key)}"
        packed = unpack(files.pop(ARCHIVE), where)
        if both := sorted(set(packed) & set(files)):
            raise PreflightError(f"{both[0]} is both in {where} and beside it: the bundle was changed; remove it")
        files.update(packed)
    return _the_one_asked_for(read_bundle(files), namespace, name, backup_id)


def read_from_dir(path: str | os.PathLike[str], namespace: str, name: str, backup_id: str | None) -> Bundle:
    return _the_one_asked_for(read_bundle(path), namespace, name, backup_id)


def _the_one_asked_for(bundle: Bundle, namespace: str, name: str, backup_id: str | None) -> Bundle:
    m = bundle.manifest
    hc = m.hostedcluster
    if (hc.namespace, hc.name) != (namespace, name):
        raise PreflightError(
            f"the bundle is a backup of {hc.namespace}/{hc.name}, not {namespace}/{name}: check --hc, -n and --from"
        )
    if backup_id is not None and m.backup_id != backup_id:
        raise PreflightError(f"the bundle holds backup {m.backup_id}, not {backup_id}: check --backup-id")
    return bundle


@dataclass(frozen=True)
class SnapshotCheck:
    """What was checked of a snapshot object, all of it matching the manifest."""

    key: str  # relative to the bucket's prefix
    same_object: bool  # its ETag (and VersionId) are those the manifest recorded; False if it has none
    tagged: bool  # it carries a sha256 tag, and the tag matches
    hashed: bool  # its bytes were read and hashed (no tag, or deep)
    trailer: bool  # its own trailing SHA-256, etcd's, was checked too (deep)


def check_snapshot(bucket: BucketPort, bundle: Bundle, reporter: Reporter) -> str:
    """The snapshot's key relative to the bucket's prefix, once it matches the manifest."""
    return inspect_snapshot(bucket, bundle, reporter).key


def inspect_snapshot(bucket: BucketPort, bundle: Bundle, reporter: Reporter, *, deep: bool = False) -> SnapshotCheck:
    """The snapshot object is there with the manifest's size and sha256 tag; `deep` reads its
    bytes too, as an untagged object's always are, and then checks etcd's own trailer."""
    snap, backup_id = bundle.manifest.snapshot, bundle.manifest.backup_id
    where = f"s3://{snap.bucket}/{snap.key}"
    if snap.bucket != bucket.name:
        raise PreflightError(f"the snapshot of backup {backup_id} is {where}: pass --bucket {snap.bucket}")
    key = bucket.relative_key(snap.key)
    if bucket.full_key(key) != snap.key:
        raise PreflightError(f"the snapshot of backup {backup_id} ({where}) is not under --prefix: pass the backup's")
    try:
        size, tag, etag, _ = bucket.stat(key, version_id=snap.version_id)
    except ObjectMissing:
        raise PreflightError(
            f"the etcd snapshot {where} of backup {backup_id} does not exist: it was deleted or moved; "
            "take a new backup"
        ) from None
    if size != snap.size:
        raise PreflightError(
            f"the etcd snapshot {where} is {size} bytes, the manifest says {snap.size}: take a new backup"
        )
    # Tags can be copied onto another object; the ETag is S3's own, of the bytes it stores.
    if snap.etag is not None and etag != snap.etag:
        raise PreflightError(
            f"the etcd snapshot {where} is not the object backup {backup_id} wrote (ETag {etag}, the manifest "
            f"says {snap.etag}): it was replaced; take a new backup"
        )
    same = snap.etag is not None
    if tag:
        _same_sha256(tag, snap.sha256, where)
        if not deep:
            return SnapshotCheck(key, same, tagged=True, hashed=False, trailer=False)
    # Without its tag (copied by hand, or a store that drops tags) the object is hashed instead.
    verifier = _read(bucket, key, size, reporter, snap.version_id)
    # A replaced object is told as such before its trailer is judged: that is the likelier news.
    _same_sha256(verifier.sha256(), snap.sha256, where)
    if deep:
        try:
            verifier.finish()
        except SnapshotInvalid as e:
            raise PreflightError(f"{e} ({where}, backup {backup_id}); take a new backup") from None
    return SnapshotCheck(key, same, tagged=bool(tag), hashed=True, trailer=deep)


def _same_sha256(found: str, recorded: str, where: str) -> None:
    if found != recorded:
        raise PreflightError(
            f"the etcd snapshot {where} has sha256 {found}, the manifest says {recorded}: "
            "it was changed or replaced; take a new backup"
        )


def _read(bucket: BucketPort, key: str, size: int, reporter: Reporter, version_id: str | None) -> SnapshotVerifier:
    """Every byte of the object through a SnapshotVerifier: one chunk in memory, never a file."""
    verifier, t0 = SnapshotVerifier(), time.monotonic()
    reporter.progress(_HASH_LABEL, 0, size)  # starts the reporter's clock for the rate
    for chunk in bucket.iter_chunks(key, _HASH_CHUNK, version_id=version_id):
        verifier.update(chunk)
        reporter.progress(_HASH_LABEL, verifier.size, size)
    reporter.progress_done(_HASH_LABEL, verifier.size, time.monotonic() - t0)
    return verifier
