"""teardown's refusals and its dry run, on one migrated pair for the module: each of these tests
changes nothing on the source (it proves that), and puts back what it changed on the destination
(its identity annotations, its control plane), so the next one starts from the same pair. A pair
costs a `backup --keep-paused`, and after it the source resumed and two namespaces deleted on the
destination: 35-40 s each, when every test had its own."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from collections.abc import Iterator

import pytest

from kubectl_hcmigrate.core.marks import BACKUP_ID, SOURCE_UID
from tests.e2e.helpers import HCP_NS, bystander, hcm
from tests.e2e.test_teardown import TEARDOWN, Migrated, assert_refused, example_on_source, migrated_pair
from tests.sandbox.harness import Sandbox

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared_pair(module_sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Migrated]:
    with migrated_pair(module_sandbox, tmp_path_factory.mktemp("bundle"), "teardown-refusals") as m:
        yield m


@pytest.fixture
def pair(shared_pair: Migrated) -> Iterator[Migrated]:
    yield shared_pair
    shared_pair.mark(shared_pair.marks())
    shared_pair.available("True")


def test_refused_when_the_destination_hc_is_not_available(pair: Migrated) -> None:
    pair.available("False")
    assert_refused(
        pair, "is not Available (False (WaitingForAvailable: Waiting for hosted control plane to be healthy))"
    )


def test_refused_when_the_destination_hc_comes_from_another_backup(pair: Migrated) -> None:
    pair.mark({SOURCE_UID: "00000000-0000-0000-0000-000000000000"})
    assert_refused(pair, "comes from another backup")


def test_refused_when_the_destination_hc_was_not_restored_by_hcmigrate(pair: Migrated) -> None:
    pair.mark({BACKUP_ID: None, SOURCE_UID: None})
    assert_refused(pair, "it was not restored by hcmigrate")


def test_refused_when_the_destination_is_the_source(pair: Migrated) -> None:
    proc = hcm(pair.sb, *TEARDOWN[:-1], "source", stdin=subprocess.DEVNULL)
    assert proc.returncode == 3 and "is the source's own: point --to-context at" in proc.stderr, proc.stderr


def test_force_needs_yes_without_a_terminal(pair: Migrated) -> None:
    pair.available("False")
    assert_refused(pair, "--force needs --yes when there is no terminal", "--force")


def test_force_on_a_terminal_needs_the_name_typed(pair: Migrated) -> None:
    pair.available("False")
    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"exemple\n")
        assert_refused(pair, "the name typed does not match", "--force", stdin=terminal)
    finally:
        os.close(controller)
        os.close(terminal)


def test_dry_run_lists_every_object_and_changes_nothing(pair: Migrated) -> None:
    before, others = example_on_source(pair.sb), bystander(pair.sb)
    proc = hcm(pair.sb, "-o", "json", *TEARDOWN, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    changes = json.loads(proc.stdout)["changes"]
    names = {f"{o['kind']} {o['metadata'].get('namespace', '')}/{o['metadata']['name']}" for o in before}
    for kind in ("NodePool", "Machine", "MachineSet", "MachineDeployment", "Cluster", "AWSMachine",
                 "AWSMachineTemplate", "AWSCluster", "HostedControlPlane", "HostedCluster"):  # fmt: skip
        listed = [n for n in names if n.startswith(f"{kind} ")]
        assert listed, kind
        for name in listed:
            assert any(f"delete {name}" in c for c in changes), name
    assert any("scale statefulset clusters-example/etcd from 1 to 0" in c for c in changes)
    assert any("whenScaled=Retain on statefulset clusters-example/etcd" in c for c in changes)
    assert any(c.endswith(f"delete Namespace {HCP_NS} with all left in it") for c in changes)
    assert any("keep Namespace clusters: it also holds HostedCluster bystander" in c for c in changes)
    assert not any("bystander" in c and "keep" not in c for c in changes)
    pool = "remove NodePools: delete NodePool clusters/example-us-east-2a"  # after its finalizers, if it has any
    assert any(c.startswith(pool) for c in changes) and "would " not in proc.stderr
    assert example_on_source(pair.sb) == before
    assert bystander(pair.sb) == others
