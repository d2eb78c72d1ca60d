"""`list` and `verify` through the real command line, against backups laid out in a real
SeaweedFS by the same calls backup makes: the snapshot streamed through SnapshotVerifier into
a tagged multipart upload, then the rendered bundle, manifest.json last."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kubectl_hcmigrate import __version__
from kubectl_hcmigrate.adapters.s3store import Bucket
from kubectl_hcmigrate.core.archive import pack
from kubectl_hcmigrate.core.bundle import render_bundle, write_bundle
from kubectl_hcmigrate.core.layout import (
    MANIFEST,
    BackupLayout,
    HostedClusterRef,
    Manifest,
    SnapshotRef,
    parse_backup_id,
    utc_timestamp,
)
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.etcd.verifier import SnapshotVerifier, VerifyingReader
from kubectl_hcmigrate.verbs.backup_data import upload_bundle
from tests.sandbox.s3 import S3Server
from tests.unit import hc_fixtures as fx

MiB = 1 << 20
REPO = Path(__file__).resolve().parents[2]
OLD, NEW, UNFINISHED = "20240501T100203Z", "20240502T080000Z", "20240503T000000Z"
HC_FILE = "clusters/hostedcluster-cesar.yaml"
# The runbook's variables are flag defaults: the tests' own environment must not leak into them.
RUNBOOK = {"HC_CLUSTER_NAME", "HC_CLUSTER_NS", "BUCKET_NAME", "HCMIGRATE_BUCKET", "AWS_CREDS", "BACKUP_DIR"}


def etcd_blob(pages: int, seed: bytes = b"etcd") -> bytes:
    """Shaped like `etcdctl snapshot save` output: whole 512-byte pages, then their SHA-256."""
    body = hashlib.sha512(seed).digest() * (pages * 8)
    return body + hashlib.sha256(body).digest()


def cesar_objects() -> dict[str, list[dict]]:
    secrets = [fx.secret(n) for n in ("cesar-pull-secret", "cesar-etcd-encryption-key", "old-etcd-key")]
    return {fx.NS: [fx.hostedcluster(), *fx.nodepools(), *secrets], fx.HCP_NS: fx.hcp_objects()}


def meta(bucket: Bucket, layout: BackupLayout, size: int, sha256: str) -> Manifest:
    return Manifest(
        tool_version=__version__, backup_id=layout.backup_id,
        created=utc_timestamp(parse_backup_id(layout.backup_id)), source_context="source",
        hostedcluster=HostedClusterRef(layout.name, layout.namespace, f"uid-{layout.name}", "fakeInfraID"),
        snapshot=SnapshotRef(bucket.name, bucket.full_key(layout.snapshot_key), size, sha256, "etcd-0"),
    )  # fmt: skip


def write_backup(
    bucket: Bucket,
    backup_id: str,
    blob: bytes,
    *,
    name: str = "cesar",
    objects: dict[str, list[dict]] | None = None,
    finished: bool = True,
    check_trailer: bool = True,
    per_file: bool = False,
) -> tuple[Manifest, dict[str, bytes]]:
    """A backup as backup writes it; `finished=False` stops before manifest.json (interrupted),
    `per_file` writes each bundle file as its own key, as backups before the archive did."""
    layout = BackupLayout("", fx.NS, name, backup_id)
    verifier = SnapshotVerifier()
    up = bucket.upload_stream(
        layout.snapshot_key, VerifyingReader(io.BytesIO(blob), verifier), part_size=5 * MiB,
        finish=verifier.finish if check_trailer else None,
    )  # fmt: skip
    files, manifest = render_bundle(objects or cesar_objects(), meta(bucket, layout, up.size, up.sha256))
    if per_file:
        for relpath in [*manifest.files, MANIFEST] if finished else manifest.files:
            bucket.put_bytes(layout.bundle_key(relpath), files[relpath])
    elif finished:
        upload_bundle(bucket, layout, files, [])
    else:
        bucket.put_bytes(layout.archive_key, pack(files))
    return manifest, files


def argv(target: BucketTarget, *args: str) -> list[str]:
    """The real command line, pointed at the test's bucket and prefix."""
    return [sys.executable, "-m", "kubectl_hcmigrate", *args, "--bucket", target.bucket, "--prefix", target.prefix,
            "--region", target.region or "", "--endpoint-url", target.endpoint_url or "",
            "--aws-creds", target.aws_creds_file or ""]  # fmt: skip


def run(*command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in RUNBOOK}
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def hcm(target: BucketTarget, *args: str) -> subprocess.CompletedProcess[str]:
    return run(*argv(target, *args))


def refused(proc: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 3, stdout empty, and one `error:` line (after hashing progress, if any)."""
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    *progress, error = unstamped(proc.stderr)
    assert error.startswith("error: ") and message in error, proc.stderr
    assert all(line.startswith("hash snapshot: ") for line in progress), proc.stderr


def unstamped(stderr: str) -> list[str]:
    """stderr's lines without the timestamp a log (not a terminal) gets on each progress line."""
    return [re.sub(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", "", line) for line in stderr.splitlines()]


def verified(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def blob() -> bytes:
    return etcd_blob(2048)  # 1 MiB


# --- list ---------------------------------------------------------------------------------------


def test_list_shows_every_backup_newest_first_and_the_unfinished_ones(
    bucket: Bucket, target: BucketTarget, blob: bytes
) -> None:
    bystander = etcd_blob(3, b"bystander")
    write_backup(bucket, OLD, blob)
    write_backup(bucket, NEW, blob)
    write_backup(bucket, UNFINISHED, blob, finished=False)
    write_backup(bucket, OLD, bystander, name="bystander", objects={fx.NS: list(fx.bystander())})
    bucket.put_bytes("clusters/cesar/notes.txt", b"not a backup")  # ignored, like restore ignores it

    rows = json.loads(hcm(target, "list", "-o", "json").stdout)["items"]
    root = f"s3://{target.bucket}/{target.prefix}clusters"
    assert [(r["name"], r["backup_id"], r["status"], r["complete"]) for r in rows] == [
        ("bystander", OLD, "complete", True),
        ("cesar", UNFINISHED, "incomplete", False),
        ("cesar", NEW, "complete", True),
        ("cesar", OLD, "complete", True),
    ]
    assert rows[0] == {
        "namespace": "clusters", "name": "bystander", "backup_id": OLD, "created": "2024-05-01T10:02:03Z",
        "status": "complete", "complete": True, "snapshot_size": len(bystander), "source_context": "source",
        "location": f"{root}/bystander/{OLD}/", "problem": None,
    }  # fmt: skip
    # An unfinished backup has no manifest: its time is its id's, its size the listing's.
    assert (rows[1]["created"], rows[1]["snapshot_size"], rows[1]["source_context"]) == (
        "2024-05-03T00:00:00Z", len(blob), None,
    )  # fmt: skip

    text = hcm(target, "list", "--hc", "cesar")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "HOSTEDCLUSTER    BACKUP ID          CREATED                SNAPSHOT   SOURCE CONTEXT   STATUS",
        f"clusters/cesar   {UNFINISHED}   2024-05-03T00:00:00Z   1.0 MiB    -                incomplete",
        f"clusters/cesar   {NEW}   2024-05-02T08:00:00Z   1.0 MiB    source           complete",
        f"clusters/cesar   {OLD}   2024-05-01T10:02:03Z   1.0 MiB    source           complete",
    ]
    assert text.stderr.startswith("incomplete: no manifest.json")


def test_an_empty_listing_says_so_and_succeeds(bucket: Bucket, target: BucketTarget, blob: bytes) -> None:
    write_backup(bucket, OLD, blob)
    proc = hcm(target, "list", "-n", "elsewhere")
    assert (proc.returncode, proc.stdout) == (0, "")
    assert proc.stderr == (
        f"no backups under s3://{target.bucket}/{target.prefix}elsewhere/: check --bucket, --prefix, --hc and -n\n"
    )
    as_json = hcm(target, "-o", "json", "list", "--hc", "nobody")
    assert (as_json.returncode, json.loads(as_json.stdout)["items"]) == (0, [])


def test_a_damaged_manifest_is_listed_as_damaged(bucket: Bucket, target: BucketTarget, blob: bytes) -> None:
    write_backup(bucket, OLD, blob)
    bucket.put_bytes(BackupLayout("", fx.NS, "cesar", OLD).manifest_key, b"{not json")
    (row,) = json.loads(hcm(target, "-o", "json", "list").stdout)["items"]
    assert (row["status"], row["snapshot_size"]) == ("damaged", len(blob))
    assert row["problem"].startswith("manifest.json is not a valid hcmigrate manifest")
    refused(hcm(target, "verify", "--hc", "cesar"), "manifest.json is not a valid hcmigrate manifest")


@pytest.mark.parametrize("verb", [["list"], ["verify", "--hc", "cesar"]])
def test_a_missing_bucket_or_a_wrong_secret_is_one_line(
    s3: S3Server, target: BucketTarget, tmp_path: Path, verb: list[str]
) -> None:
    proc = hcm(BucketTarget(**{**target.__dict__, "bucket": "no-such-bucket-here"}), *verb)
    refused(proc, "bucket no-such-bucket-here does not exist; create it or pass --bucket")
    if s3.kind == "moto":
        return  # moto checks no secret
    wrong = tmp_path / "wrong"
    wrong.write_text(f"[default]\naws_access_key_id={s3.access_key}\naws_secret_access_key=W{s3.secret_key[1:]}\n")
    proc = hcm(BucketTarget(**{**target.__dict__, "aws_creds_file": str(wrong)}), *verb)
    refused(proc, f"S3 refused the credentials for bucket {target.bucket}")
    assert s3.secret_key[1:] not in proc.stderr


# --- verify -------------------------------------------------------------------------------------


def test_verify_checks_the_newest_complete_backup(bucket: Bucket, target: BucketTarget, blob: bytes) -> None:
    write_backup(bucket, OLD, blob)
    manifest, _ = write_backup(bucket, NEW, blob)
    write_backup(bucket, UNFINISHED, blob, finished=False)  # newer, but never picked
    proc = hcm(target, "-o", "json", "verify", "--hc", "cesar")
    res = verified(proc)
    assert unstamped(proc.stderr) == [
        "the snapshot's bytes were not read (its sha256 tag vouches for them): --deep reads them"
    ]
    snapshot = f"s3://{target.bucket}/{target.prefix}clusters/cesar/{NEW}/etcd-snapshot.db"
    assert res["backup_id"] == NEW and res["snapshot"] == snapshot and res["deep"] is False
    assert (res["files"], res["snapshot_size"]) == (len(manifest.files), len(blob))
    assert res["snapshot_sha256"] == hashlib.sha256(blob).hexdigest()
    assert res["checked"][-1] == "its sha256 tag matches the manifest"

    deep = hcm(target, "verify", "--hc", "cesar", "--backup-id", OLD, "--deep")
    assert deep.returncode == 0, deep.stderr
    assert re.search(rf"^Backup ID: +{OLD}$", deep.stdout, re.M), deep.stdout
    assert re.search(rf"^Snapshot SHA256: +{hashlib.sha256(blob).hexdigest()}$", deep.stdout, re.M), deep.stdout
    assert "\n  it ends in a valid etcd SHA-256 of its data, as etcdutl checks on restore\n" in deep.stdout
    assert unstamped(deep.stderr)[-1].startswith("hash snapshot: 1.0 MiB in ")


def test_verify_from_a_directory(bucket: Bucket, target: BucketTarget, blob: bytes, tmp_path: Path) -> None:
    manifest, _ = write_backup(bucket, OLD, blob)
    write_bundle(tmp_path / "b", cesar_objects(), manifest.with_files({}))
    assert verified(hcm(target, "-o", "json", "verify", "--hc", "cesar", "--from", str(tmp_path / "b")))["bundle"] == (
        str(tmp_path / "b")
    )
    path = tmp_path / "b" / HC_FILE
    path.write_bytes(path.read_bytes().replace(b"cesar", b"cesaR", 1))
    refused(hcm(target, "verify", "--hc", "cesar", "--from", str(tmp_path / "b")), f"bundle file {HC_FILE} does not")


@pytest.mark.parametrize("per_file", [False, True], ids=["archive", "per-file"])
def test_a_changed_bundle_file_is_refused(bucket: Bucket, target: BucketTarget, blob: bytes, per_file: bool) -> None:
    _, files = write_backup(bucket, OLD, blob, per_file=per_file)
    layout = BackupLayout("", fx.NS, "cesar", OLD)
    changed = files[HC_FILE].replace(b"SingleReplica", b"HighlyAvailable", 1)
    if per_file:
        bucket.put_bytes(layout.bundle_key(HC_FILE), changed)
    else:
        bucket.put_bytes(layout.archive_key, pack({**files, HC_FILE: changed}))
    refused(hcm(target, "verify", "--hc", "cesar"), f"bundle file {HC_FILE} does not match manifest.json")


def test_a_backup_written_a_key_per_file_still_verifies(bucket: Bucket, target: BucketTarget, blob: bytes) -> None:
    manifest, _ = write_backup(bucket, OLD, blob, per_file=True)
    assert verified(hcm(target, "-o", "json", "verify", "--hc", "cesar"))["files"] == len(manifest.files)


def test_a_damaged_archive_is_refused(bucket: Bucket, target: BucketTarget, blob: bytes) -> None:
    write_backup(bucket, OLD, blob)
    layout = BackupLayout("", fx.NS, "cesar", OLD)
    bucket.put_bytes(layout.archive_key, bucket.get_bytes(layout.archive_key)[:-100])
    where = f"s3://{target.bucket}/{target.prefix}{layout.archive_key}"
    refused(hcm(target, "verify", "--hc", "cesar"), f"{where} is not a readable bundle archive")


def test_a_missing_manifest_is_an_unfinished_backup(bucket: Bucket, target: BucketTarget, blob: bytes) -> None:
    write_backup(bucket, UNFINISHED, blob, finished=False)
    where = f"s3://{target.bucket}/{target.prefix}clusters/cesar/"
    refused(hcm(target, "verify", "--hc", "cesar"), f"no complete backup of clusters/cesar under {where}")
    refused(
        hcm(target, "verify", "--hc", "cesar", "--backup-id", UNFINISHED),
        f"backup {UNFINISHED} is not under {where} or did not finish (no manifest.json)",
    )
    refused(hcm(target, "verify", "--hc", "cesar", "--backup-id", "latest"), "pick one from `list`")


def test_a_deleted_snapshot_is_refused(bucket: Bucket, target: BucketTarget, blob: bytes) -> None:
    write_backup(bucket, OLD, blob)
    bucket.delete(BackupLayout("", fx.NS, "cesar", OLD).snapshot_key)
    refused(hcm(target, "verify", "--hc", "cesar"), "does not exist: it was deleted or moved; take a new backup")


def _replace(bucket: Bucket, key: str, data: bytes, tags: list[dict[str, str]] | None) -> None:
    """Another object under the same key: with `tags` (None: none at all), as a hand copy leaves it."""
    client, full = bucket._client, bucket.full_key(key)
    client.put_object(Bucket=bucket.name, Key=full, Body=data)
    if tags is not None:
        client.put_object_tagging(Bucket=bucket.name, Key=full, Tagging={"TagSet": tags})


def tags(data: bytes) -> list[dict[str, str]]:
    return [{"Key": "sha256", "Value": hashlib.sha256(data).hexdigest()}, {"Key": "size", "Value": str(len(data))}]


@pytest.mark.parametrize(
    ("case", "plain_passes"),
    [("retagged", False), ("untagged", False), ("old-tag-kept", True)],
)
def test_a_replaced_snapshot_of_the_same_size_is_refused(
    bucket: Bucket, target: BucketTarget, blob: bytes, case: str, plain_passes: bool
) -> None:
    """Retagged: its tag says so. Untagged: hashed anyway. Its old tag kept: only --deep sees it."""
    write_backup(bucket, OLD, blob)
    other = etcd_blob(2048, b"another etcd")  # a valid snapshot, the same size
    assert len(other) == len(blob)
    key = BackupLayout("", fx.NS, "cesar", OLD).snapshot_key
    _replace(bucket, key, other, {"retagged": tags(other), "untagged": None, "old-tag-kept": tags(blob)}[case])
    message = f"has sha256 {hashlib.sha256(other).hexdigest()}, the manifest says {hashlib.sha256(blob).hexdigest()}"
    plain = hcm(target, "verify", "--hc", "cesar")
    if plain_passes:
        assert plain.returncode == 0, plain.stderr
    else:
        refused(plain, message)
    refused(hcm(target, "verify", "--hc", "cesar", "--deep"), message)


def test_deep_checks_the_etcd_trailer_the_manifest_cannot(bucket: Bucket, target: BucketTarget) -> None:
    """A snapshot corrupted before the backup hashed it: its sha256 matches, its trailer does not."""
    bad = bytearray(etcd_blob(2048))
    bad[1000] ^= 0xFF
    write_backup(bucket, OLD, bytes(bad), check_trailer=False)
    assert verified(hcm(target, "-o", "json", "verify", "--hc", "cesar"))["backup_id"] == OLD
    refused(
        hcm(target, "verify", "--hc", "cesar", "--deep"),
        "the etcd snapshot's trailing SHA-256 does not match its 1048576 bytes of data",
    )


def test_deep_streams_in_bounded_memory(bucket: Bucket, target: BucketTarget) -> None:
    """A 160 MiB snapshot read through with --deep: the process never holds it."""
    big = etcd_blob(160 * 2048)
    write_backup(bucket, OLD, big)
    # The wrapper's only child is the CLI, so its children's peak RSS is the CLI's.
    measure = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = run(sys.executable, "-c", measure, *argv(target, "verify", "--hc", "cesar", "--deep"))
    assert out.returncode == 0, out.stderr
    peak = int(out.stdout.strip()) * 1024
    print(f"\nverify --deep of {len(big) // MiB} MiB: peak RSS {peak / MiB:.0f} MiB")
    assert peak < 128 * MiB
