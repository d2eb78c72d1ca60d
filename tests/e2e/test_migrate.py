"""migrate on the sandbox: one command backs up, restores (waiting for the control plane that the
sandbox's HyperShift twin reports) and tears the source down, as the ServiceAccounts bound to the
roles of deploy/rbac/ (not cluster-admin); a re-run after that changes nothing; a restore that fails
before the destination has the HC puts the source back as it was."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_hcmigrate.core.marks import BACKUP_ID, SOURCE_UID
from tests.e2e.etcd_check import hosted_digest
from tests.e2e.helpers import (
    HC_KIND,
    HC_NAME,
    HC_NS,
    HCP_NS,
    NP_KIND,
    assert_no_secrets,
    bystander,
    clear_destination,
    cloud_state,
    etcd_exec,
    hcm,
    instances,
    keys,
    migrate,
    operator_stopped,
    source_state,
)
from tests.e2e.rbac import service_account_env
from tests.sandbox.harness import Sandbox
from tests.sandbox.hosted_etcd import SEED_KEY

pytestmark = pytest.mark.e2e
POOL = "example-us-east-2a"


def dig(node: Any, path: list[str]) -> Any:
    for p in path:
        node = node.get(p, {}) if isinstance(node, dict) else {}
    return node


@pytest.fixture
def destination_cleared(sandbox: Sandbox) -> Iterator[None]:
    clear_destination(sandbox)
    yield
    clear_destination(sandbox)


def test_dry_run_lists_the_backup_and_changes_nothing(
    sandbox: Sandbox, destination_cleared: None, tmp_path: Path
) -> None:
    before = source_state(sandbox)
    code, out, err = migrate(sandbox, "migrate-dry", tmp_path, "--dry-run")
    assert code == 0, err
    changes = out["changes"]
    assert f"backup: pause: set spec.pausedUntil='true' on HostedCluster {HC_NS}/{HC_NAME}" in changes
    assert [c.split(":")[0] for c in changes[-2:]] == ["restore", "teardown"]
    assert "resume source" not in " ".join(changes)  # a migration keeps the source paused
    assert source_state(sandbox) == before and not (tmp_path / "bundle").exists()
    assert keys(sandbox, "migrate-dry") == []
    assert not sandbox.destination.kubectl().run("get", "namespace", HC_NS, "--ignore-not-found", "-o", "name")


def test_a_refused_restore_puts_the_source_back(sandbox: Sandbox, destination_cleared: None, tmp_path: Path) -> None:
    before, others = source_state(sandbox), bystander(sandbox)
    dest = sandbox.destination.kubectl()
    dest.run("create", "namespace", HC_NS)  # a leftover key that would not decrypt the snapshot
    dest.run("create", "secret", "generic", "example-etcd-encryption-key", "-n", HC_NS, "--from-literal=key=b3RoZXI=")
    code, out, err = migrate(sandbox, "migrate-refused", tmp_path)
    assert code == 4, err
    assert out["outcome"] == "FAILED_SOURCE_RESTORED" and "restore failed: " in out["error"]
    assert "holds another etcd encryption key" in out["error"]
    assert "the source cluster was put back as it was before the command" in err
    assert source_state(sandbox) == before and bystander(sandbox) == others
    assert not dest.run("get", HC_KIND, "-n", HC_NS, "--ignore-not-found", "-o", "name").strip()


def test_migrate_moves_the_hc_and_a_rerun_changes_nothing(
    sandbox: Sandbox, destroys_source: None, tmp_path: Path
) -> None:
    clear_destination(sandbox)
    others, cloud_before = bystander(sandbox), cloud_state(sandbox)
    hc = sandbox.source.kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)
    uid, infra = hc["metadata"]["uid"], hc["spec"]["infraID"]
    source_etcd = hosted_digest(sandbox.etcd)
    workers = instances(sandbox, infra)
    sa = service_account_env(sandbox, tmp_path)  # every command below runs under deploy/rbac/'s roles
    code, out, err = migrate(sandbox, "migrate", tmp_path, sa=sa)
    assert code == 0, err
    # The twin restored the snapshot into the destination's etcd: the source's keys and values.
    assert hosted_digest(sandbox.etcd, 0, "destination") == source_etcd
    assert SEED_KEY in etcd_exec(sandbox, "destination", "get", "--prefix", "/registry/", "--keys-only")
    # Nothing the destination now uses was destroyed in the cloud by the source's teardown.
    cloud_after = cloud_state(sandbox)
    for what, items in cloud_before.items():
        assert set(items) <= set(cloud_after[what]), what
    print(f"\nmigrate: steps of each stage {[out[s]['steps'] for s in ('backup', 'restore', 'teardown')]}")
    assert out["resumed"] is False and out["backup"]["source"] == "paused (--keep-paused)"
    assert out["restore"]["backup_id"] == out["backup_id"] and out["restore"]["resumed"] is False
    assert out["teardown"]["guard"] == "passed"
    for stage in ("stage 1/3: back up", "stage 2/3: restore", "stage 3/3: tear"):
        assert stage in err
    src = sandbox.source.kubectl()
    assert not src.run("get", HC_KIND, HC_NAME, "-n", HC_NS, "--ignore-not-found", "-o", "name").strip()
    assert not src.run("get", "namespace", HCP_NS, "--ignore-not-found", "-o", "name").strip()
    assert bystander(sandbox) == others
    hc = sandbox.destination.kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)
    ann = hc["metadata"]["annotations"]
    assert ann[BACKUP_ID] == out["backup_id"] and ann[SOURCE_UID] == uid
    assert "pausedUntil" not in hc["spec"]
    hcp = sandbox.destination.kubectl().get("hostedcontrolplane", HC_NAME, "-n", HCP_NS)
    url = ["etcd", "managed", "storage", "restoreSnapshotURL"]
    assert len(dig(hc["spec"], url)) == 1 and dig(hcp["spec"], url) == dig(hc["spec"], url)  # T6
    conds = {c["type"]: c["status"] for c in hc["status"]["conditions"]}
    assert conds.get("HostedClusterRestoredFromBackup") == "True", conds  # T8

    # Run again (as a runbook retried after a lost connection): nothing left to do.
    code, again, err = migrate(sandbox, "migrate", tmp_path, sa=sa)
    assert code == 0, err
    assert again["resumed"] is True and "backup" not in again and again["backup_id"] == out["backup_id"]
    assert again["restore"]["objects_created"] == 0 and again["restore"]["resumed"] is True
    assert again["teardown"]["removed"] == []
    assert "stage 1/3: done before" in err
    assert_no_secrets(sandbox, json.dumps(out), json.dumps(again), err)
    assert_nodes_adopted(sandbox, out, infra, workers, sa)


def assert_nodes_adopted(sb: Sandbox, out: dict[str, Any], infra: str, workers: dict[str, str],
                         sa: dict[str, str]) -> None:  # fmt: skip
    """Without --with-nodes the NodePool is left out and said so, and no worker is launched beside the
    running ones (T14); restore again with --with-nodes, as the warning says, and they are adopted."""
    dest, pool = sb.destination.kubectl(), f"NodePool {HC_NS}/{POOL}"
    assert len(workers) == 2, workers
    assert out["outcome"] == "SUCCEEDED_WITH_WARNINGS" and pool in out["restore"]["not_restored"]
    restore_said, teardown_said = out["warnings"]  # T14: the NodePool was left out there, so it stays here
    assert "run restore again with --with-nodes to adopt them" in restore_said
    assert f"NodePool {HC_NS}/{POOL} stays on the source, paused" in teardown_said
    assert not dest.run("get", NP_KIND, "-n", HC_NS, "-o", "name").strip()
    assert instances(sb, infra) == workers
    t0 = time.monotonic()
    proc = hcm(sb, "-o", "json", "restore", "--hc", HC_NAME, "-n", HC_NS, "--prefix", "migrate",
               "--to-context", "destination-sa", "--with-nodes", "--timeout", "2m", env=sa)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["outcome"] == "SUCCEEDED" and pool in res["created"] and res["not_restored"] == []
    assert len([o for o in res["created"] if o.startswith("Machine ")]) == 2
    # The twin reconciles the NodePool (its finalizer, T14) and the Machines: the same instances, no new one.
    deadline = time.monotonic() + 30
    while not dest.get(NP_KIND, POOL, "-n", HC_NS)["metadata"].get("finalizers"):
        assert time.monotonic() < deadline, "the destination's twin never reconciled the NodePool"
        time.sleep(0.5)
    time.sleep(3)
    mds = dest.get("machinedeployments.cluster.x-k8s.io", "-n", HCP_NS)["items"]
    assert [BACKUP_ID in m["metadata"].get("annotations", {}) for m in mds] == [True]
    assert instances(sb, infra) == workers
    # Each AWSMachine came with the instance CAPA recorded on the source, by which it is found here.
    aws = dest.get("awsmachines.infrastructure.cluster.x-k8s.io", "-n", HCP_NS)["items"]
    assert {a["metadata"]["name"]: a["spec"].get("instanceID") for a in aws} == workers
    print(f"\nrestore --with-nodes after a migrate without: {time.monotonic() - t0:.1f}s, workers adopted")
    # The source kept its NodePool, paused, while the destination lacked it; now teardown removes it.
    assert sb.source.kubectl().get(NP_KIND, POOL, "-n", HC_NS)["spec"]["pausedUntil"] == "true"
    proc = hcm(sb, "-o", "json", "teardown", "--hc", HC_NAME, "-n", HC_NS, "--context", "source-sa",
               "--to-context", "destination-sa", env=sa)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"NodePool {HC_NS}/{POOL}" in json.loads(proc.stdout)["removed"]
    assert instances(sb, infra) == workers


def remove_bystander(sb: Sandbox) -> None:
    """Leaves `example` alone in its namespace (bystander and the unrelated secret go), so
    teardown may delete the namespace too."""
    k = sb.source.kubectl()
    # Deleted as a user would: HyperShift's delete path (T3, the twin's) takes its NodePool and
    # control-plane namespace, then drops its own finalizer.
    k.run("delete", HC_KIND, "bystander", "-n", HC_NS, "--wait=true", "--timeout=180s")
    k.run("delete", NP_KIND, "bystander-pool", "-n", HC_NS, "--ignore-not-found", "--wait=true", "--timeout=60s")
    for name in ("pull-secret", "ssh-key", "etcd-encryption-key", "admin-kubeconfig", "kubeadmin-password"):
        k.run("delete", "secret", f"bystander-{name}", "-n", HC_NS, "--ignore-not-found")
    k.run("delete", "secret", "unrelated-secret", "-n", HC_NS, "--ignore-not-found")


def test_a_timed_out_wait_keeps_the_source_paused_and_a_rerun_finishes(
    sandbox: Sandbox, destroys_source: None, tmp_path: Path
) -> None:
    clear_destination(sandbox)
    remove_bystander(sandbox)
    sa = service_account_env(sandbox, tmp_path)
    # The destination's HyperShift operator is stuck (its twin stopped, SIGSTOP): the restored control
    # plane cannot come up in 3s. The destination has the HC, so the source must not resume.
    with operator_stopped(sandbox, "destination"):
        code, out, err = migrate(sandbox, "migrate-wait", tmp_path, "--timeout", "3s", "--with-nodes", sa=sa)
        assert code == 5, err
        assert out["outcome"] == "TIMED_OUT" and "the source stays paused" in out["error"]
        assert "run migrate again" in err.strip().splitlines()[-1]
        hc = sandbox.source.kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)
        assert hc["spec"]["pausedUntil"] == "true"
        assert sandbox.destination.kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)["metadata"]["annotations"]

        # A dry run now shows the restore carrying on, and a teardown that waits for its guard.
        code, dry, err = migrate(sandbox, "migrate-wait", tmp_path, "--dry-run", "--with-nodes", sa=sa)
        assert code == 0, err
        assert dry["changes"][-1].startswith("teardown: once the guard passes: ")
        assert any(c.startswith("restore: ") and "keep HostedCluster" in c for c in dry["changes"])
    # The operator comes back: the re-run finishes.

    code, again, err = migrate(sandbox, "migrate-wait", tmp_path, "--with-nodes", sa=sa)
    assert code == 0, err
    assert again["resumed"] is True and "backup" not in again and again["restore"]["resumed"] is True
    assert again["restore"]["objects_created"] == 0 and again["teardown"]["removed"]
    # Nothing else lived in the HC namespace: it went too, with only what the destination has.
    assert f"Namespace {HC_NS}" in again["teardown"]["removed"], again["teardown"]
    assert not sandbox.source.kubectl().run("get", "namespace", HC_NS, "--ignore-not-found", "-o", "name")
