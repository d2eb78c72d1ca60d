"""verify: check one backup the way restore's preflight does, and say what was checked.

Only reads, and needs no cluster. The bundle (from the bucket, or --from a directory) verifies
file by file against manifest.json and holds what restore needs; the snapshot object exists
with the manifest's size and sha256 tag. --deep reads the snapshot through too, in bounded
memory and never to a file: its sha256 against the manifest, and etcd's own trailing SHA-256,
which etcdutl checks when it restores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_hcmigrate.core.bundle import check_bundle_objects, load_objects
from kubectl_hcmigrate.core.layout import BackupLayout, scope_prefix
from kubectl_hcmigrate.core.options import BackupChoice
from kubectl_hcmigrate.core.ports import BucketPort, Reporter
from kubectl_hcmigrate.core.report import succeeded
from kubectl_hcmigrate.core.units import human_bytes
from kubectl_hcmigrate.verbs import readback as backups


@dataclass(frozen=True)
class VerifyOptions(BackupChoice):
    deep: bool = False


def verify(opts: VerifyOptions, bucket: BucketPort, reporter: Reporter) -> dict[str, Any]:
    ns, name = opts.namespace, opts.name
    scope_prefix(ns, name)  # refuses a name that cannot be a key before anything is read
    bucket.preflight(probe_write=False)
    if opts.source_dir is not None:
        bundle = backups.read_from_dir(opts.source_dir, ns, name, opts.backup_id)
        where = str(opts.source_dir)
    else:
        bundle = backups.read_from_bucket(bucket, ns, name, opts.backup_id)
        layout = BackupLayout("", ns, name, bundle.manifest.backup_id)
        where = f"s3://{bucket.name}/{bucket.full_key(layout.bundle_prefix)}"
    m, snap = bundle.manifest, bundle.manifest.snapshot
    # What restore checks of the objects before it needs the destination.
    check_bundle_objects(load_objects(bundle), m)
    found = backups.inspect_snapshot(bucket, bundle, reporter, deep=opts.deep)
    checked = [
        f"{len(m.files)} bundle files match the sha256s in manifest.json",
        f"the bundle holds HostedCluster {ns}/{name} with managed etcd and its encryption key secrets",
        f"the snapshot s3://{snap.bucket}/{snap.key} exists with the recorded size, {_size(snap.size)}",
    ]
    if found.same_object:
        checked.append("it is the object backup wrote: its ETag (and version, if versioned) matches the manifest")
    if found.tagged:
        checked.append("its sha256 tag matches the manifest")
    if found.hashed:
        checked.append("its bytes, read through, hash to the manifest's sha256")
    if found.trailer:
        checked.append("it ends in a valid etcd SHA-256 of its data, as etcdutl checks on restore")
    if not found.hashed:
        reporter.line("the snapshot's bytes were not read (its sha256 tag vouches for them): --deep reads them")
    return succeeded(
        opts,
        backup_id=m.backup_id,
        created=m.created,
        source_context=m.source_context,
        bundle=where,
        files=len(m.files),
        snapshot=f"s3://{snap.bucket}/{snap.key}",
        snapshot_size=snap.size,
        snapshot_sha256=snap.sha256,
        deep=opts.deep,
        checked=checked,
    )


def _size(n: int) -> str:
    return f"{human_bytes(n)} ({n} bytes)" if n >= 1024 else f"{n} bytes"
