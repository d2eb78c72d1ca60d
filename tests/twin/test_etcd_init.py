"""T10 at process level: etcd-init's download and checks, on local files (curl reads file://)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sandbox.config import sandbox_bin
from tests.sandbox.twin import etcd_init


def members(tmp_path: Path, bin_: Path | None = None) -> etcd_init.Members:
    ips = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
    return etcd_init.Members(bin_ or tmp_path, tmp_path / "m", tmp_path / "tls", ips, None, tmp_path / "pids",
                             tmp_path / "logs", "test-etcd")  # fmt: skip


def test_an_xml_body_fails_with_the_body_as_its_log(tmp_path: Path) -> None:
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'
    (tmp_path / "err.xml").write_text(body)
    ok, log = etcd_init.run(members(tmp_path), 0, f"file://{tmp_path / 'err.xml'}", 1, fixed=False)
    assert not ok and "Request has expired" in log and log.startswith("<?xml")
    assert not etcd_init.has_data(members(tmp_path), 0)


def test_a_non_empty_data_dir_is_kept(tmp_path: Path) -> None:
    m = members(tmp_path)
    m.data(0).mkdir(parents=True)
    (m.data(0) / "member").mkdir()
    ok, log = etcd_init.run(m, 0, "file:///nonexistent", 1, fixed=False)
    assert ok and "not empty" in log


@pytest.mark.e2e
def test_a_garbage_body_fails_in_etcdutl(tmp_path: Path) -> None:
    (tmp_path / "garbage.db").write_bytes(b"not a snapshot" * 100)
    m = members(tmp_path, sandbox_bin())
    ok, log = etcd_init.run(m, 0, f"file://{tmp_path / 'garbage.db'}", 1, fixed=False)
    assert not ok and log.strip()
    assert not etcd_init.has_data(m, 0)


def test_claim_wipes_a_deleted_hcps_member(tmp_path: Path) -> None:
    m = members(tmp_path)
    etcd_init.claim(m, 0, "uid-old")
    m.data(0).mkdir(parents=True)
    (m.data(0) / "member").mkdir()
    etcd_init.claim(m, 0, "uid-old")
    assert etcd_init.has_data(m, 0)  # its own member: kept
    etcd_init.claim(m, 0, "uid-new")
    assert not etcd_init.has_data(m, 0) and etcd_init.owner(m, 0) == "uid-new"


@pytest.mark.parametrize("fixed", [False, True])
def test_ha_members_restore_with_a_name_only_with_the_fix(tmp_path: Path, fixed: bool) -> None:
    """OCPBUGS-99534: without the fix every member restores as a one-member cluster (no --name,
    no --initial-cluster); with upstream PR #9048 each is restored into one cluster."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "etcdutl").write_text(
        '#!/bin/sh\necho "$@" > "$ARGS_FILE"\nwhile [ "$1" != "--data-dir" ]; do shift; done\n'
        'mkdir -p "$2/member"\n'
    )  # fmt: skip
    (bin_ / "etcdutl").chmod(0o755)
    (tmp_path / "snap.db").write_bytes(b"snapshot")
    args = tmp_path / "args"
    import os

    os.environ["ARGS_FILE"] = str(args)
    try:
        ok, _ = etcd_init.run(members(tmp_path, bin_), 1, f"file://{tmp_path / 'snap.db'}", 3, fixed=fixed)
    finally:
        del os.environ["ARGS_FILE"]
    assert ok and etcd_init.has_data(members(tmp_path, bin_), 1)
    argv = args.read_text()
    if fixed:
        assert "--name=etcd-1" in argv and "--initial-cluster=etcd-0=http://127.0.0.1:2380," in argv
        assert "--bump-revision=1000000000" in argv and "--mark-compacted" in argv
    else:
        assert "--name" not in argv and "--initial-cluster" not in argv
