"""prune through the real command line against a real S3 server: per HC retention, the newest
complete backup kept, a dry run that deletes nothing, no deletion off a terminal without --yes,
and a backup whose upload is still running left alone while the others go."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from kubectl_hcmigrate.adapters.s3store import Bucket
from kubectl_hcmigrate.core.layout import BackupLayout, new_backup_id
from kubectl_hcmigrate.core.options import BucketTarget
from tests.integration.test_list_verify import etcd_blob, hcm, write_backup
from tests.unit import hc_fixtures as fx

NOW = datetime.now(timezone.utc)


def ago(days: float) -> str:
    return new_backup_id(NOW - timedelta(days=days))


def statuses(target: BucketTarget) -> dict[tuple[str, str], str]:
    proc = hcm(target, "-o", "json", "list")
    assert proc.returncode == 0, proc.stderr
    return {(r["name"], r["backup_id"]): r["status"] for r in json.loads(proc.stdout)["items"]}


def test_prune_keeps_what_the_policy_says_and_never_a_running_upload(bucket: Bucket, target: BucketTarget) -> None:
    blob = etcd_blob(64)
    recent, older, old, oldest = ago(1), ago(2), ago(10), ago(20)
    for backup_id in (recent, older, old, oldest):
        write_backup(bucket, backup_id, blob)
    interrupted = ago(3)
    write_backup(bucket, interrupted, blob, finished=False)
    lonely = ago(30)  # bystander's only backup, far outside the window: its newest, kept
    write_backup(bucket, lonely, blob, name="bystander", objects={fx.NS: list(fx.bystander())})
    # A backup under way: its snapshot's multipart upload open, one part in, no manifest yet.
    running = BackupLayout("", fx.NS, "cesar", new_backup_id(NOW - timedelta(minutes=2)))
    client, key = bucket._client, bucket.full_key(running.snapshot_key)
    upload = client.create_multipart_upload(Bucket=bucket.name, Key=key)["UploadId"]
    part = client.upload_part(Bucket=bucket.name, Key=key, UploadId=upload, PartNumber=1, Body=blob)
    bucket.put_bytes(running.bundle_key("clusters/kustomization.yaml"), b"resources: []\n")
    before = statuses(target)
    assert before[("cesar", running.backup_id)] == "incomplete"

    dry = hcm(target, "-o", "json", "prune", "--keep-last", "2", "--keep-within", "5d", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    plan = {r["backup_id"]: r for r in json.loads(dry.stdout)["backups"]}
    would = sorted(i for i, r in plan.items() if r["action"] == "would delete")
    assert would == sorted([old, oldest, interrupted])
    assert "may still be running" in plan[running.backup_id]["reason"]
    assert "newest complete" in plan[lonely]["reason"]
    assert statuses(target) == before  # nothing deleted

    # Off a terminal, deleting needs --yes: one line, exit 3, nothing deleted.
    asked = hcm(target, "prune", "--keep-last", "2", "--keep-within", "5d")
    assert asked.returncode == 3 and asked.stderr.strip().splitlines()[-1].startswith("error: prune deletes backups")
    assert statuses(target) == before

    done = hcm(target, "-o", "json", "prune", "--keep-last", "2", "--keep-within", "5d", "--yes")
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)["deleted"]) == sorted(f"clusters/cesar/{i}" for i in would)
    after = statuses(target)
    assert after == {k: v for k, v in before.items() if k[1] not in would}
    # The running backup carries on and finishes as if prune had never run.
    client.complete_multipart_upload(Bucket=bucket.name, Key=key, UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})  # fmt: skip
    assert bucket.list_keys(running.backup_root + "/") == sorted(
        [running.snapshot_key, running.bundle_key("clusters/kustomization.yaml")]
    )
    assert not any(k.startswith(f"clusters/cesar/{i}") for i in would for k in bucket.list_keys("clusters/"))


def test_prune_needs_a_policy(target: BucketTarget) -> None:
    proc = hcm(target, "prune")
    assert proc.returncode == 2 and "--keep-last" in proc.stderr
