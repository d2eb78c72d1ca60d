from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kubectl_hcmigrate.core import layout
from kubectl_hcmigrate.core.layout import BackupLayout, Manifest
from kubectl_hcmigrate.core.report import PreflightError
from tests.unit.hc_fixtures import BACKUP_ID as ID
from tests.unit.hc_fixtures import CREATED as WHEN
from tests.unit.hc_fixtures import SHA, manifest


def test_backup_id_round_trip_in_utc() -> None:
    assert layout.new_backup_id(WHEN) == ID
    cest = timezone(timedelta(hours=2))
    assert layout.new_backup_id(datetime(2024, 5, 1, 12, 2, 3, tzinfo=cest)) == ID
    assert layout.parse_backup_id(ID) == WHEN
    with pytest.raises(ValueError, match="naive"):
        layout.new_backup_id(datetime(2024, 5, 1))


def test_backup_ids_sort_in_time_order() -> None:
    times = [WHEN + timedelta(seconds=s) for s in (86400 * 40, 5, 3600 * 20, 0)]
    ids = [layout.new_backup_id(t) for t in times]
    assert sorted(ids) == [layout.new_backup_id(t) for t in sorted(times)]


@pytest.mark.parametrize("bad", ["", "2024-05-01", "20240501T100203", "20241301T100203Z", "x" * 16])
def test_parse_backup_id_rejects(bad: str) -> None:
    with pytest.raises(PreflightError, match="YYYYMMDDTHHMMSSZ"):
        layout.parse_backup_id(bad)


@pytest.mark.parametrize(
    ("prefix", "root"),
    [
        (None, "clusters/cesar/" + ID),
        ("", "clusters/cesar/" + ID),
        ("/", "clusters/cesar/" + ID),
        ("backups", "backups/clusters/cesar/" + ID),
        ("/team-a//hcp/", "team-a/hcp/clusters/cesar/" + ID),
    ],
)
def test_keys(prefix: str | None, root: str) -> None:
    lay = BackupLayout(prefix, "clusters", "cesar", ID)
    assert lay.backup_root == root
    assert lay.snapshot_key == root + "/etcd-snapshot.db"
    assert lay.manifest_key == root + "/bundle/manifest.json"
    assert lay.bundle_key("clusters/secret-x.yaml") == root + "/bundle/clusters/secret-x.yaml"
    assert lay.relpath_of(lay.bundle_key("clusters/secret-x.yaml")) == "clusters/secret-x.yaml"
    for key in (lay.snapshot_key, lay.manifest_key):
        assert "//" not in key and not key.startswith("/")


def test_hc_prefix_separates_similar_names() -> None:
    a = layout.hc_prefix("p", "clusters", "foo")
    assert a == "p/clusters/foo/"
    assert not BackupLayout("p", "clusters", "foo-bar", ID).manifest_key.startswith(a)


@pytest.mark.parametrize(
    ("prefix", "ns", "name", "backup_id"),
    [
        ("a/../b", "clusters", "cesar", ID),
        (None, "clu/sters", "cesar", ID),
        (None, "clusters", "", ID),
        (None, "clusters", "..", ID),
    ],
)
def test_layout_rejects_unsafe_segments(prefix: str, ns: str, name: str, backup_id: str) -> None:
    with pytest.raises(ValueError):
        BackupLayout(prefix, ns, name, backup_id).snapshot_key  # noqa: B018


def test_layout_rejects_bad_id_and_relpaths() -> None:
    with pytest.raises(PreflightError):
        BackupLayout(None, "clusters", "cesar", "latest")
    lay = BackupLayout(None, "clusters", "cesar", ID)
    for bad in ("../x.yaml", "/abs.yaml", "a//b.yaml", "a/./b.yaml", "", "a\\b.yaml"):
        with pytest.raises(ValueError):
            lay.bundle_key(bad)
    with pytest.raises(ValueError):
        lay.relpath_of("clusters/cesar/other/bundle/x.yaml")


def test_latest_backup_id_skips_backups_without_manifest() -> None:
    root = "p/clusters/cesar/"
    keys = [
        root + "20240101T000000Z/etcd-snapshot.db",
        root + "20240101T000000Z/bundle/manifest.json",
        root + "20240301T000000Z/bundle/manifest.json",
        # Newest, but its manifest was never written: unfinished.
        root + "20240401T000000Z/etcd-snapshot.db",
        root + "20240401T000000Z/bundle/clusters/hostedcluster-cesar.yaml",
        root + "notanid/bundle/manifest.json",
        root + "20240501T000000Z/bundle/sub/manifest.json",
    ]
    assert layout.latest_backup_id(keys) == "20240301T000000Z"
    assert layout.complete_backup_ids(keys) == ["20240101T000000Z", "20240301T000000Z"]
    assert layout.latest_backup_id(keys[3:]) is None
    assert layout.latest_backup_id([]) is None


def test_manifest_round_trip() -> None:
    m = manifest()
    text = m.to_json()
    data = json.loads(text)
    assert list(data) == [
        "schema",
        "tool_version",
        "backup_id",
        "created",
        "source_context",
        "hostedcluster",
        "snapshot",
        "files",
    ]
    assert data["schema"] == "hcmigrate.openshift.io/v1"
    assert data["created"] == "2024-05-01T10:02:03Z"
    assert data["hostedcluster"] == {
        "name": "cesar",
        "namespace": "clusters",
        "uid": "uid-1",
        "infraID": "fakeInfraID",
    }
    assert list(data["files"]) == sorted(data["files"])
    assert Manifest.from_json(text) == m
    assert Manifest.from_json(text.encode()) == m
    none_context = json.dumps({**data, "source_context": None})
    assert Manifest.from_json(none_context).source_context is None


def broken(**changes: Any) -> str:
    data = json.loads(manifest().to_json())
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = data
        for p in parents:
            node = node[p]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        b"\xff\xfe",
        broken(schema="hcmigrate.openshift.io/v2"),
        broken(snapshot=KeyError),
        broken(snapshot__sha256="ABC"),
        broken(snapshot__size=-1),
        broken(snapshot__size=True),
        broken(snapshot__size="1056"),
        broken(hostedcluster__infraID=KeyError),
        broken(hostedcluster__uid=""),
        broken(hostedcluster=[]),
        broken(files=[]),
        broken(files={"../../etc/passwd": SHA}),
        broken(files={"manifest.json": SHA}),
        broken(files={"a.yaml": "xyz"}),
        broken(created="yesterday"),
        broken(backup_id="latest"),
        broken(tool_version=3),
    ],
)
def test_manifest_rejects_garbage_in_one_line(text: str | bytes) -> None:
    with pytest.raises(PreflightError, match=r"^manifest\.json is not a valid") as err:
        Manifest.from_json(text)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("key", "found"),
    [
        (f"clusters/cesar/{ID}/etcd-snapshot.db", ("clusters", "cesar", ID)),
        (f"clusters/cesar/{ID}/bundle/manifest.json", ("clusters", "cesar", ID)),
        (f"clusters/cesar/{ID}/bundle/clusters-cesar/secret-x.yaml", ("clusters", "cesar", ID)),
        (f"clusters/cesar/{ID}/etcd-snapshot.db.part", None),  # not a key backup writes
        (f"clusters/cesar/{ID}/bundle/", None),
        (f"clusters/cesar/{ID}/bundle/a//b.yaml", None),
        (f"clusters/cesar/{ID}", None),
        ("clusters/cesar/latest/etcd-snapshot.db", None),
        (f"team/clusters/cesar/{ID}/etcd-snapshot.db", None),  # under another prefix
        (f"clusters//{ID}/etcd-snapshot.db", None),
        (".hcmigrate-preflight-0123", None),
        ("", None),
    ],
)
def test_backup_of_key_is_the_inverse_of_the_layout(key: str, found: tuple[str, str, str] | None) -> None:
    got = layout.backup_of_key(key)
    assert got == (BackupLayout(None, *found) if found else None)


def test_scope_prefix_narrows_to_a_namespace_or_an_hc() -> None:
    assert layout.scope_prefix(None, None) == ""
    assert layout.scope_prefix("clusters", None) == "clusters/"
    assert layout.scope_prefix("clusters", "cesar") == "clusters/cesar/" == layout.hc_prefix("", "clusters", "cesar")
    for ns, name in (("a/b", None), ("clusters", ".."), ("", "cesar")):
        with pytest.raises(PreflightError, match="cannot be a bucket key segment: check --hc and -n"):
            layout.scope_prefix(ns, name)


def test_the_snapshot_s3_identity_round_trips_and_older_manifests_still_read() -> None:
    from dataclasses import replace

    m = manifest()
    assert "etag" not in json.loads(m.to_json())["snapshot"]  # as older versions wrote it
    assert Manifest.from_json(m.to_json()).snapshot.etag is None
    versioned = replace(m, snapshot=replace(m.snapshot, etag='"abc-2"', version_id="v1"))
    data = json.loads(versioned.to_json())
    assert (data["snapshot"]["etag"], data["snapshot"]["version_id"]) == ('"abc-2"', "v1")
    assert Manifest.from_json(versioned.to_json()) == versioned
    unversioned = replace(m, snapshot=replace(m.snapshot, etag='"abc-2"'))
    assert "version_id" not in json.loads(unversioned.to_json())["snapshot"]
    with pytest.raises(PreflightError):
        Manifest.from_json(broken(snapshot__etag=5))


def test_two_runs_in_the_same_second_get_different_ids_that_still_sort_and_parse() -> None:
    a, b = layout.new_backup_id(WHEN, "aaaa1111"), layout.new_backup_id(WHEN, "bbbb2222")
    assert a != b and a.startswith(ID) and layout.parse_backup_id(a) == layout.parse_backup_id(b) == WHEN
    later = layout.new_backup_id(WHEN + timedelta(seconds=1), "0000ffff")
    assert sorted([later, b, a, ID]) == [ID, a, b, later]
    assert layout.run_of_backup_id(a) == "aaaa1111" and layout.run_of_backup_id(ID) is None
    assert layout.backup_of_key(f"clusters/example/{a}/etcd-snapshot.db") == BackupLayout(
        None, "clusters", "example", a
    )
    assert layout.complete_backup_ids([f"p/clusters/example/{a}/bundle/manifest.json"]) == [a]


def test_manifest_versions_round_trip_and_an_older_manifest_has_none() -> None:
    import dataclasses

    m = dataclasses.replace(manifest(), versions={"NodePool clusters/np1": "generation 3"})
    assert Manifest.from_json(m.to_json()) == m
    old = json.loads(manifest().to_json())
    assert "versions" not in old and Manifest.from_json(json.dumps(old)).versions == {}


def test_an_online_backup_says_so_and_its_revision_round_trips() -> None:
    import dataclasses

    m = dataclasses.replace(manifest(), online=True, etcd_revision=4711)
    assert Manifest.from_json(m.to_json()) == m
    assert m.taken().endswith("online (the control plane kept running) at etcd revision 4711")
    old = json.loads(manifest().to_json())  # an older manifest: quiesced, revision unknown
    assert "online" not in old and "etcd_revision" not in old
    assert Manifest.from_json(json.dumps(old)).taken() == f"taken {old['created']}, quiesced"
    with pytest.raises(PreflightError, match="etcd_revision"):
        Manifest.from_json(json.dumps({**old, "etcd_revision": -1}))
