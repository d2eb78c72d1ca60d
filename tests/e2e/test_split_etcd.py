"""T10 on the HA sandbox (three etcd members): the twin restores them as one cluster only on a
release with upstream's fix, as HyperShift does. A release without it is refused before any
change; forced past that (--trust-ha-etcd-restore, as for a patched control-plane operator), the
split the twin then makes is found after the wait and fails the run with the source held; on a
fixed release the migrate completes with one three-member etcd holding the source's keys.

Collected after test_sandbox.py's HA test: the last test here moves the HC off the source."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from kubectl_hcmigrate.core import releases
from kubectl_hcmigrate.core.source_state import recorded
from tests.e2e.etcd_check import hosted_digest
from tests.e2e.helpers import (
    HC_KIND,
    HC_NAME,
    HC_NS,
    HCP_NS,
    clear_destination,
    etcd_exec,
    hcm,
    keys,
    migrate,
    source_state,
)
from tests.sandbox.harness import Sandbox
from tests.sandbox.hosted_etcd import SEED_KEY

pytestmark = pytest.mark.e2e
RELEASE = "quay.io/openshift-release-dev/ocp-release:{}-x86_64"
WITHOUT_FIX, WITH_FIX = RELEASE.format("4.21.2"), RELEASE.format("4.21.3")


def set_release(sb: Sandbox, image: str) -> None:
    """The user's own field: the release the HC runs, which decides the control-plane operator."""
    patch = json.dumps({"spec": {"release": {"image": image}}})
    sb.source.kubectl().run("patch", HC_KIND, HC_NAME, "-n", HC_NS, "--type=merge", "-p", patch)


def destination_namespaces(sb: Sandbox) -> str:
    return sb.destination.kubectl().run("get", "namespace", HC_NS, HCP_NS, "--ignore-not-found", "-o", "name").strip()


def members(sb: Sandbox, pod: str) -> dict[str, Any]:
    """`etcdctl member list` in a destination etcd pod, as a user would check it."""
    return json.loads(etcd_exec(sb, "destination", "member", "list", "-w", "json", pod=pod))


def test_a_release_without_the_fix_is_refused_before_any_change(ha_sandbox: Sandbox, tmp_path: Path) -> None:
    sb = ha_sandbox
    clear_destination(sb)
    set_release(sb, WITHOUT_FIX)
    before, etcd_before = source_state(sb), hosted_digest(sb.etcd)
    t0 = time.monotonic()
    code, out, err = migrate(sb, "ha-refused", tmp_path)
    print(f"\nrefused migrate: {time.monotonic() - t0:.1f}s")
    assert code == 3, err
    assert out["outcome"] == "REFUSED" and "\n" not in out["error"]
    for part in (releases.BUG, releases.FIX, "4.20.9+, 4.21.3+, 4.22 and later", "4.21.2", "Nothing was changed"):
        assert part in out["error"]
    assert source_state(sb) == before and hosted_digest(sb.etcd) == etcd_before
    assert keys(sb, "ha-refused") == [] and not destination_namespaces(sb)

    # restore of a backup of it (a plain backup: the source is put back) is refused alike.
    backup = hcm(sb, "-o", "json", "backup", "--hc", HC_NAME, "-n", HC_NS, "--prefix", "ha-restore",
                 "--dir", str(tmp_path / "bundle"))  # fmt: skip
    assert backup.returncode == 0, backup.stderr
    before = source_state(sb)
    proc = hcm(sb, "-o", "json", "restore", "--hc", HC_NAME, "-n", HC_NS, "--prefix", "ha-restore",
               "--to-context", "destination")  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert releases.BUG in json.loads(proc.stdout)["error"]
    assert source_state(sb) == before and not destination_namespaces(sb)


def test_a_split_etcd_found_after_the_restore_fails_with_the_source_held(ha_sandbox: Sandbox, tmp_path: Path) -> None:
    sb = ha_sandbox
    clear_destination(sb)
    set_release(sb, WITHOUT_FIX)
    etcd_before = hosted_digest(sb.etcd)
    t0 = time.monotonic()
    code, out, err = migrate(sb, "ha-split", tmp_path, "--trust-ha-etcd-restore", timeout="4m")
    print(f"\nmigrate onto a split etcd: {time.monotonic() - t0:.1f}s")
    assert code == 1, err
    assert out["outcome"] == "FAILED_NEEDS_ATTENTION"
    for part in ("was not found to be one cluster", "etcd-0 lists 1 member(s)", releases.BUG,
                 f"delete HostedCluster {HC_NS}/{HC_NAME} and namespace {HCP_NS}", "source stays paused and held"):  # fmt: skip
        assert part in out["error"]
    assert "warning: --trust-ha-etcd-restore" in err
    # The split is real: each member is a cluster of its own (what HyperShift's Available hides).
    assert [len(members(sb, f"etcd-{i}")["members"]) for i in range(3)] == [1, 1, 1]
    # The source stays as the backup left it: paused, held for the migration, its etcd untouched.
    hc = sb.source.kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)
    state = recorded(hc)
    assert hc["spec"]["pausedUntil"] == "true" and state is not None and state.held is not None
    assert hosted_digest(sb.etcd) == etcd_before


def test_on_a_release_with_the_fix_migrate_ends_with_one_three_member_etcd(
    ha_sandbox: Sandbox, destroys_source: None, tmp_path: Path
) -> None:
    sb = ha_sandbox
    clear_destination(sb)  # a split copy left by the test before, as its message says
    set_release(sb, WITH_FIX)
    source_etcd = hosted_digest(sb.etcd)
    t0 = time.monotonic()
    code, out, err = migrate(sb, "ha-fixed", tmp_path, timeout="4m")
    print(f"\nHA migrate: {time.monotonic() - t0:.1f}s, restore steps {out.get('restore', {}).get('steps')}")
    assert code == 0, err
    assert out["restore"]["etcd_members"].startswith("3 etcd members form one cluster")
    views = [members(sb, f"etcd-{i}") for i in range(3)]
    assert len({v["header"]["cluster_id"] for v in views}) == 1
    assert len({v["header"]["member_id"] for v in views}) == 3
    assert all(sorted(m["name"] for m in v["members"]) == ["etcd-0", "etcd-1", "etcd-2"] for v in views)
    for i in range(3):  # every member holds the source's keys and values
        assert hosted_digest(sb.etcd, i, "destination") == source_etcd
    assert SEED_KEY in etcd_exec(sb, "destination", "get", "--prefix", "/registry/", "--keys-only", pod="etcd-2")
