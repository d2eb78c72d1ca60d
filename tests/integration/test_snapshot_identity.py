"""The snapshot restore serves is the snapshot backup wrote (issue 11, finding 7), against a real
SeaweedFS: the manifest records what S3 computed for the object (ETag; VersionId on a versioned
bucket), plain `verify` compares them, so another valid snapshot put over it with its tags copied
back is refused; on a versioned bucket the check and the presigned URL are of the version written."""

from __future__ import annotations

import hashlib
import io
import json
import urllib.request
import uuid
from dataclasses import replace
from typing import Any

import pytest

from kubectl_hcmigrate import __version__
from kubectl_hcmigrate.adapters.s3store import Bucket
from kubectl_hcmigrate.core.bundle import render_bundle
from kubectl_hcmigrate.core.layout import MANIFEST, BackupLayout, HostedClusterRef, Manifest, SnapshotRef, utc_timestamp
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.etcd.verifier import SnapshotVerifier, VerifyingReader
from kubectl_hcmigrate.verbs import readback
from tests.fakes import NullReporter
from tests.integration.test_list_verify import _replace, cesar_objects, etcd_blob, hcm, refused, tags, verified
from tests.unit import hc_fixtures as fx

BACKUP_ID = "20240601T000000Z"
MiB = 1 << 20


def write_backup(bucket: Bucket, blob: bytes, *, identity: bool = True) -> Manifest:
    """A backup as backup writes it now (`identity`: the ETag and VersionId in its manifest) or as
    an older version of the tool did (none)."""
    layout = BackupLayout("", fx.NS, "cesar", BACKUP_ID)
    verifier = SnapshotVerifier()
    up = bucket.upload_stream(
        layout.snapshot_key, VerifyingReader(io.BytesIO(blob), verifier), part_size=5 * MiB, finish=verifier.finish
    )
    snap = SnapshotRef(bucket.name, bucket.full_key(layout.snapshot_key), up.size, up.sha256, "etcd-0")
    meta = Manifest(
        tool_version=__version__, backup_id=BACKUP_ID, created=utc_timestamp(), source_context="source",
        hostedcluster=HostedClusterRef("cesar", fx.NS, "uid-cesar", "fakeInfraID"),
        snapshot=replace(snap, etag=up.etag, version_id=up.version_id) if identity else snap,
    )  # fmt: skip
    files, manifest = render_bundle(cesar_objects(), meta)
    for relpath in [*manifest.files, MANIFEST]:
        bucket.put_bytes(layout.bundle_key(relpath), files[relpath])
    return manifest


def test_an_upload_records_what_s3_computed(bucket: Bucket) -> None:
    blob = etcd_blob(2048)
    up = bucket.upload_stream("snap.db", io.BytesIO(blob), part_size=5 * MiB)
    head = bucket._client.head_object(Bucket=bucket.name, Key=bucket.full_key("snap.db"))
    assert up.etag and up.etag == head["ETag"] and up.version_id is None
    assert bucket.stat("snap.db") == (len(blob), hashlib.sha256(blob).hexdigest(), head["ETag"], None)


@pytest.mark.parametrize("retag", ["tags-copied-back", "retagged"])
def test_a_replaced_snapshot_is_refused_by_plain_verify(bucket: Bucket, target: BucketTarget, retag: str) -> None:
    blob, other = etcd_blob(2048), etcd_blob(2048, b"another etcd")  # both valid, the same size
    m = write_backup(bucket, blob)
    assert m.snapshot.etag is not None
    key = BackupLayout("", fx.NS, "cesar", BACKUP_ID).snapshot_key
    _replace(bucket, key, other, tags(blob) if retag == "tags-copied-back" else tags(other))
    refused(hcm(target, "verify", "--hc", "cesar"), f"is not the object backup {BACKUP_ID} wrote (ETag ")
    with pytest.raises(Exception, match="it was replaced; take a new backup"):
        readback.check_snapshot(bucket, readback.read_from_bucket(bucket, fx.NS, "cesar", None), NullReporter())


def test_the_object_backup_wrote_passes_and_so_does_an_older_manifest(bucket: Bucket, target: BucketTarget) -> None:
    m = write_backup(bucket, etcd_blob(2048))
    res = verified(hcm(target, "-o", "json", "verify", "--hc", "cesar"))
    assert res["checked"][3].startswith("it is the object backup wrote")
    data = json.loads(m.to_json())
    del data["snapshot"]["etag"]  # as older versions wrote it: still readable, checked as before
    assert Manifest.from_json(json.dumps(data)).snapshot == replace(m.snapshot, etag=None)


@pytest.fixture
def versioned(target: BucketTarget) -> Bucket:
    """A fresh bucket with versioning on, in the same SeaweedFS."""
    name = f"hcm-versioned-{uuid.uuid4().hex[:8]}"
    plain = Bucket(target)
    plain._client.create_bucket(Bucket=name)
    plain._client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return Bucket(replace(target, bucket=name))


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read()


def test_on_a_versioned_bucket_the_version_written_is_checked_and_served(versioned: Bucket) -> None:
    blob, other = etcd_blob(2048), etcd_blob(2048, b"another etcd")
    m = write_backup(versioned, blob)
    assert m.snapshot.version_id
    key = BackupLayout("", fx.NS, "cesar", BACKUP_ID).snapshot_key
    _replace(versioned, key, other, tags(blob))  # a new current version, its tags copied
    assert versioned.stat(key).etag != m.snapshot.etag
    assert versioned.stat(key, version_id=m.snapshot.version_id).etag == m.snapshot.etag
    url = versioned.presign_get(key, 600, version_id=m.snapshot.version_id)
    assert "versionId=" in url and _get(url) == blob
    bundle = readback.read_from_bucket(versioned, fx.NS, "cesar", None)
    assert readback.check_snapshot(versioned, bundle, NullReporter()) == key  # what the URL serves is right
