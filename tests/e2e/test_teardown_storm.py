"""teardown while HyperShift puts its finalizers back as fast as the API takes them (the twin's
storm, `tests/sandbox/twin/storm.py`, beside the twin): it removes `example` from the source or
fails saying why, and never starts a delete path: the cloud twin loses nothing, the destination
is untouched."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.e2e.helpers import HC_KIND, HC_NAME, HC_NS, HCP_NS, NP_KIND, bystander, cloud_state, hcm
from tests.e2e.test_handoff import wait_owned, zone_flags
from tests.e2e.test_teardown import TEARDOWN, Migrated, assert_torn_down
from tests.e2e.test_teardown import doomed as doomed  # the fixtures this module uses, by name
from tests.e2e.test_teardown import migrated as migrated
from tests.sandbox.config import REPO
from tests.sandbox.harness import Sandbox

pytestmark = pytest.mark.e2e

EPS_KIND = "awsendpointservices.hypershift.openshift.io"
# What the HyperShift operator makes for a cluster with a private API (T13); the seed is Public.
ENDPOINT_SERVICE = {
    "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "AWSEndpointService",
    "metadata": {"name": "kube-apiserver-private", "namespace": HCP_NS}, "spec": {},
}  # fmt: skip


def wait(what: str, done: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout:.0f}s"
        time.sleep(0.5)


@pytest.fixture
def private_link(sandbox: Sandbox) -> None:
    """An AWSEndpointService on the source before its backup: the running control-plane operator
    (the twin's) puts its finalizer on it and makes the VPC endpoint and the hypershift.local record."""
    k = sandbox.source.kubectl()
    k.apply([ENDPOINT_SERVICE])
    wait("the control-plane operator's finalizer (T13)",
         lambda: k.get(EPS_KIND, "kube-apiserver-private", "-n", HCP_NS)["metadata"].get("finalizers"))  # fmt: skip
    wait("the VPC endpoint", lambda: cloud_state(sandbox)["endpoints"])


@contextmanager
def storm(sb: Sandbox) -> Iterator[dict[str, Any]]:
    """The storm against the source for the block; what it put back and lost, by row, once it stopped."""
    pki = sb.source.dir / "pki"
    argv = [sys.executable, "-m", "tests.sandbox.twin.storm", f"--server={sb.source.server}", f"--pki={pki}",
            f"--namespace={HC_NS}"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, text=True)
    counts: dict[str, Any] = {}
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "storm up"
        yield counts
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        counts.update(json.loads(out.strip().splitlines()[-1]))


def destination(m: Migrated) -> dict[str, Any]:
    """What the destination runs `example` from: each object's uid, spec and annotations."""
    k = m.dest()
    objs = [k.get(HC_KIND, HC_NAME, "-n", HC_NS), *k.get(NP_KIND, "-n", HC_NS)["items"],
            k.get("hostedcontrolplanes.hypershift.openshift.io", HC_NAME, "-n", HCP_NS)]  # fmt: skip
    return {
        f"{o['kind']} {o['metadata']['name']}": (o["metadata"]["uid"], o["spec"], o["metadata"].get("annotations"))
        for o in objs
    }


def test_teardown_under_a_finalizer_storm_starts_no_delete_path(private_link: None, doomed: Migrated) -> None:
    sb, others = doomed.sb, bystander(doomed.sb)
    # The hostnames handed over first (T16), as a migration does: else the source's ExternalDNS drops
    # its records once the teardown deletes their Routes, and the destination's takes them after.
    handed = hcm(sb, "handoff", "--hc", HC_NAME, "-n", HC_NS, "--context", "source", *zone_flags(sb))
    assert handed.returncode == 0, handed.stderr
    wait_owned(sb, "destination")
    cloud, dest = cloud_state(sb), destination(doomed)
    assert cloud["endpoints"] and cloud["instances"] and cloud["oidc"] and cloud["records"], cloud
    t0 = time.monotonic()
    with storm(sb) as stats:
        proc = hcm(sb, "-o", "json", *TEARDOWN)
    seconds = time.monotonic() - t0
    print(f"\nteardown under the storm: {seconds:.1f}s, exit {proc.returncode}, storm {stats}")
    # The storm saw every strip of the HC and the NodePool (their events) and answered at once; whether
    # it won a race (put_back) is up to timing: the tool's delete names the stripped version either way.
    assert stats["answered"].get("T1") and stats["answered"].get("T14"), stats
    # Whatever the race: no delete path ran (T3, T13, T14), so nothing the destination uses was destroyed.
    assert cloud_state(sb) == cloud
    assert destination(doomed) == dest
    assert bystander(sb) == others
    if proc.returncode != 0:  # it may lose the race every time: then it says so, and has deleted nothing live
        assert proc.returncode == 1, proc.stderr
        error = json.loads(proc.stdout)["error"]
        assert "a controller still reconciles it" in error, error
        return
    res = json.loads(proc.stdout)
    assert res["outcome"] == "SUCCEEDED", res
    assert_torn_down(doomed, others)
