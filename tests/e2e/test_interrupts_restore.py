"""Safe at any instant, restore: a signal at every step boundary, inside a batch of creates and
inside the wait touches nothing but the destination; what is there is marked with the backup and
listed by `-o json`; an HC whose restore was cut short is not one teardown takes for a finished
restore; and the next run carries on to the end, a SIGKILLed one included."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import SandboxManager
from tests.e2e.faults import (
    Cut,
    Run,
    bucket_problems,
    hc_condition,
    restored_objects,
    run_and_cut,
    said_changed,
    wait_until,
)
from tests.e2e.helpers import (
    HC_NAME,
    HC_NS,
    HCP_NS,
    bystander,
    delete_restored,
    hcm,
    keys,
    operator_stopped,
    source_state,
)
from tests.sandbox.harness import Sandbox

pytestmark = pytest.mark.e2e

PREFIX = "cut-restore"
# With the nodes: without them restore leaves the NodePools out (T14), and the cut before them is the one
# teardown must not take for a finished restore.
RESTORE = ["-o", "json", "restore", "--hc", HC_NAME, "-n", HC_NS, "--prefix", PREFIX, "--to-context", "destination",
           "--with-nodes"]  # fmt: skip
# In the order restore runs them, each a run of its own: the run before was cut at the step before,
# so the cut lands on a step no earlier run reached. One SIGKILL: the next run takes its lease over.
CHAIN = [
    Cut("create namespaces"),
    Cut(f"create ConfigMap, Secret in {HC_NS}", 0.05),  # half of the batch created
    Cut(f"create Secret in {HCP_NS}", sig=signal.SIGTERM),
    Cut(f"create HostedControlPlane in {HCP_NS}", 0.02, signal.SIGKILL),
    Cut(f"create Cluster in {HCP_NS}"),
    Cut(f"create HostedCluster in {HC_NS}", sig=signal.SIGTERM),
    Cut(f"create NodePool in {HC_NS}"),
]
TEARDOWN = ["teardown", "--hc", HC_NAME, "-n", HC_NS, "--context", "source", "--to-context", "destination"]


@pytest.fixture
def backup_id(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One backup for the module, taken once per sandbox (a test elsewhere may have made a new one)."""
    if not keys(sandbox, PREFIX):
        where = tmp_path_factory.mktemp("bundle") / "b"
        proc = hcm(sandbox, "-o", "json", "backup", "--hc", HC_NAME, "--prefix", PREFIX, "--dir", str(where))
        assert proc.returncode == 0, proc.stderr
    listed = hcm(sandbox, "-o", "json", "list", "--prefix", PREFIX)
    return str(json.loads(listed.stdout)["items"][0]["backup_id"])


@pytest.fixture(autouse=True)
def empty_destination(sandbox: Sandbox, sandbox_manager: SandboxManager) -> Iterator[None]:
    delete_restored(sandbox)
    yield
    if sandbox_manager.current is not None:
        delete_restored(sandbox_manager.current)


def check_cut(sb: Sandbox, cut: Cut, run: Run, backup_id: str, source: dict[str, Any], known: set[str]) -> None:
    """What a user finds after the cut; `known`: what earlier runs of the chain may have created."""
    assert run.returncode == cut.expected_code(run), run.stderr
    assert source_state(sb) == source  # restore never touches the source
    there = restored_objects(sb)
    assert set(there.values()) <= {backup_id}, there
    if run.returncode == 130:
        out = json.loads(run.stdout)
        assert out["outcome"] == "INTERRUPTED" and "interrupted during" in out["error"], run.stdout
        # It says what it created: nothing new on the destination goes unlisted.
        assert set(there) - known <= said_changed(out), (set(there) - known, out["changed"])
    known |= set(there)


def untouched(sb: Sandbox, seen: dict[str, Any]) -> None:
    """Nor the bystander or the bucket: no object more or less, no upload left running."""
    assert bystander(sb) == seen["bystander"]
    assert keys(sb, PREFIX) == seen["keys"] and bucket_problems(sb, PREFIX) == []


def test_an_interrupted_restore_changes_only_the_destination_and_a_rerun_completes(
    sandbox: Sandbox, backup_id: str
) -> None:
    seen = {"source": source_state(sandbox), "bystander": bystander(sandbox), "keys": keys(sandbox, PREFIX)}
    known: set[str] = set()
    for cut in CHAIN:
        run = run_and_cut(sandbox, [*RESTORE, "--no-wait"], cut)
        print(run.show(cut))
        check_cut(sandbox, cut, run, backup_id, seen["source"], known)
    # Cut before its NodePool: the HC alone comes up Available, yet it is no finished restore and
    # teardown must not take the source's NodePool away for it. A signal lets a create already sent
    # finish, and the NodePool's one create may be sent before the signal lands: then the last two
    # cuts are made again on an emptied destination until one lands before it.
    for _ in range(3):
        if f"NodePool {HC_NS}/example-us-east-2a" not in restored_objects(sandbox):
            break
        delete_restored(sandbox)
        for cut in CHAIN[-2:]:
            run = run_and_cut(sandbox, [*RESTORE, "--no-wait"], cut)
            print("again:", run.show(cut))
            check_cut(sandbox, cut, run, backup_id, seen["source"], known)
    there = restored_objects(sandbox)
    assert f"HostedCluster {HC_NS}/{HC_NAME}" in there and f"NodePool {HC_NS}/example-us-east-2a" not in there
    wait_until(lambda: hc_condition(sandbox, "destination") == "True", "the cut-short HC Available")
    refused = hcm(sandbox, *TEARDOWN, "--dry-run")  # the guard is in preflight: a dry run meets it too
    assert refused.returncode == 3, refused.stderr
    assert "NodePool" in refused.stderr and source_state(sandbox) == seen["source"]
    rerun = hcm(sandbox, *RESTORE, "--no-wait")
    assert rerun.returncode == 0, rerun.stderr
    out = json.loads(rerun.stdout)
    assert out["resumed"] is True and out["created"] == [f"NodePool {HC_NS}/example-us-east-2a"], out
    assert set(restored_objects(sandbox).values()) == {backup_id}
    assert source_state(sandbox) == seen["source"]
    untouched(sandbox, seen)


@pytest.mark.parametrize("cut", [Cut("wait for the restored control plane", 1.0)], ids=lambda c: c.id)
def test_an_interrupted_wait_leaves_the_restore_applied_and_a_rerun_waits(
    sandbox: Sandbox, backup_id: str, cut: Cut
) -> None:
    seen = {"source": source_state(sandbox), "bystander": bystander(sandbox), "keys": keys(sandbox, PREFIX)}
    # The destination's HyperShift stuck: the control plane cannot come up before the cut.
    with operator_stopped(sandbox, "destination"):
        run = run_and_cut(sandbox, RESTORE, cut)
    print(run.show(cut))
    check_cut(sandbox, cut, run, backup_id, seen["source"], set())
    untouched(sandbox, seen)
    assert f"HostedCluster {HC_NS}/{HC_NAME}" in restored_objects(sandbox)
    rerun = hcm(sandbox, *RESTORE)
    assert rerun.returncode == 0, rerun.stderr
    out = json.loads(rerun.stdout)
    assert out["resumed"] is True and out["objects_created"] == 0 and out["waited"], out
    assert hc_condition(sandbox, "destination") == "True"
