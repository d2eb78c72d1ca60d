"""list's pure part: keys grouped into backups, their order and status, and the table."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kubectl_hcmigrate.core import catalog as found
from kubectl_hcmigrate.core.catalog import COMPLETE, DAMAGED, INCOMPLETE, Entry
from kubectl_hcmigrate.core.layout import BackupLayout, HostedClusterRef, Manifest
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.verbs import list as catalog
from tests.unit.hc_fixtures import manifest

OLD, NEW, NEWEST = "20240101T000000Z", "20240301T000000Z", "20240401T000000Z"


def keys_of(ns: str, name: str, backup_id: str, *, snapshot: bool = True, finished: bool = True) -> list[str]:
    b = BackupLayout(None, ns, name, backup_id)
    keys = [b.bundle_key("clusters/hostedcluster-x.yaml"), b.bundle_key("kustomization.yaml")]
    return keys + [b.snapshot_key] * snapshot + [b.manifest_key] * finished


def manifest_of(b: BackupLayout) -> Manifest:
    m = manifest()
    hc = HostedClusterRef(b.name, b.namespace, "uid-1", "infra")
    return replace(m, backup_id=b.backup_id, hostedcluster=hc, snapshot=replace(m.snapshot, size=4096))


def test_keys_group_into_backups_and_everything_else_is_left_out() -> None:
    keys = [
        *keys_of("clusters", "cesar", OLD),
        *keys_of("clusters", "cesar", NEW, finished=False),
        *keys_of("other", "cesar", OLD, snapshot=False),
        ".hcmigrate-preflight-0123",
        "clusters/cesar/notes.txt",
        f"clusters/cesar/{OLD}/etcd-snapshot.db.tmp",
    ]
    groups = found.group_backups(keys)
    assert {(b.namespace, b.name, b.backup_id): len(k) for b, k in groups.items()} == {
        ("clusters", "cesar", OLD): 4,
        ("clusters", "cesar", NEW): 3,
        ("other", "cesar", OLD): 3,
    }


def test_newest_first_within_each_hc_hcs_by_namespace_then_name() -> None:
    layouts = [
        BackupLayout(None, ns, name, i)
        for ns, name, i in [("b", "x", OLD), ("a", "z", NEW), ("a", "y", OLD), ("b", "x", NEWEST), ("a", "y", NEW)]
    ]
    got = [(b.namespace, b.name, b.backup_id) for b in found.newest_first(layouts)]
    assert got == [("a", "y", NEW), ("a", "y", OLD), ("a", "z", NEW), ("b", "x", NEWEST), ("b", "x", OLD)]


def test_status_comes_from_the_manifest_and_nothing_else() -> None:
    keys = [
        *keys_of("clusters", "cesar", OLD),
        *keys_of("clusters", "cesar", NEW, finished=False),
        *keys_of("clusters", "cesar", NEWEST),  # its manifest is unreadable
        *keys_of("clusters", "bad", OLD),  # its manifest names another HC
    ]
    sizes = {k: 1000 + i for i, k in enumerate(keys)}
    read: list[str] = []

    def read_manifest(b: BackupLayout) -> Manifest:
        read.append(b.backup_id)
        if b.backup_id == NEWEST:
            raise PreflightError("manifest.json is not a valid hcmigrate manifest (not a JSON object)")
        return manifest_of(replace(b, name="cesar"))

    entries = found.catalog(sizes, read_manifest)
    layout = BackupLayout(None, "clusters", "cesar", NEWEST)
    assert [(e.layout.name, e.layout.backup_id, e.status) for e in entries] == [
        ("bad", OLD, DAMAGED),
        ("cesar", NEWEST, DAMAGED),
        ("cesar", NEW, INCOMPLETE),
        ("cesar", OLD, COMPLETE),
    ]
    assert NEW not in read  # no manifest to read
    bad, broken, unfinished, done = entries
    assert (
        bad.problem == f"manifest.json at clusters/bad/{OLD}/bundle/manifest.json is of backup {OLD} of clusters/cesar"
    )
    assert broken == Entry(layout, DAMAGED, "2024-04-01T00:00:00Z", sizes[layout.snapshot_key],
                           problem="manifest.json is not a valid hcmigrate manifest (not a JSON object)")  # fmt: skip
    assert (unfinished.created, unfinished.source_context) == ("2024-03-01T00:00:00Z", None)
    assert (done.created, done.snapshot_size, done.source_context) == ("2024-05-01T10:02:03Z", 4096, "mgmt-1")


def test_an_unfinished_backup_without_a_snapshot_has_no_size() -> None:
    def unread(b: BackupLayout) -> Manifest:
        raise AssertionError(f"{b} has no manifest to read")

    keys = keys_of("clusters", "cesar", OLD, snapshot=False, finished=False)
    (entry,) = found.catalog(dict.fromkeys(keys, 1), unread)
    assert (entry.status, entry.snapshot_size) == (INCOMPLETE, None)


def test_rows_and_table() -> None:
    done = Entry(BackupLayout(None, "clusters", "example", NEW), COMPLETE, "2024-03-01T00:00:05Z", 67108896, "source")
    left = Entry(BackupLayout(None, "clusters", "a-much-longer-name", OLD), INCOMPLETE, "2024-01-01T00:00:00Z", None)
    rows = [done.to_dict("s3://b/clusters/example/x/"), left.to_dict("s3://b/y/")]
    assert rows[0] == {
        "namespace": "clusters", "name": "example", "backup_id": NEW, "created": "2024-03-01T00:00:05Z",
        "status": "complete", "complete": True, "snapshot_size": 67108896, "source_context": "source",
        "location": "s3://b/clusters/example/x/", "problem": None,
    }  # fmt: skip
    assert catalog.table(rows).splitlines() == [
        "HOSTEDCLUSTER                 BACKUP ID          CREATED                SNAPSHOT   SOURCE CONTEXT   STATUS",
        "clusters/example              20240301T000000Z   2024-03-01T00:00:05Z   64.0 MiB   source           complete",
        "clusters/a-much-longer-name   20240101T000000Z   2024-01-01T00:00:00Z   -          -                incomplete",
    ]
    assert catalog.table([]) == catalog.table([]).splitlines()[0] + "\n"


def test_an_empty_list_says_where_it_looked(capsys: pytest.CaptureFixture[str]) -> None:
    catalog.show({"where": "s3://b/p/clusters/", "backups": []})
    out, err = capsys.readouterr()
    assert (out, err) == ("", "no backups under s3://b/p/clusters/: check --bucket, --prefix, --hc and -n\n")


def test_wide_and_no_headers() -> None:
    done = Entry(BackupLayout(None, "clusters", "example", NEW), COMPLETE, "2024-03-01T00:00:05Z", 67108896, "source")
    rows = [done.to_dict("s3://b/clusters/example/x/")]
    assert catalog.table(rows, headers=False).splitlines() == [
        "clusters/example   20240301T000000Z   2024-03-01T00:00:05Z   64.0 MiB   source   complete",
    ]
    wide = catalog.table(rows, wide=True).splitlines()
    assert wide[0].endswith("STATUS     LOCATION                     PROBLEM")
    assert wide[1].endswith("complete   s3://b/clusters/example/x/   -")
