"""teardown on the sandbox: it removes every object of `example` from the source, finalizers
and all, only when the destination runs the HC restored from this very source; it never
touches bystander, the HyperShift operator or the backup; a killed run completes when run again.

The destination is set up as restore leaves it: the bundle of a real `backup --keep-paused`
applied there, the backup's identity annotations on the HC, and its Available condition set.
Tests that tear `example` down rebuild the sandbox afterwards for whoever comes next.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubectl_hcmigrate.core.marks import BACKUP_ID, SOURCE_UID
from tests.e2e.helpers import (
    HC_KIND,
    HC_NAME,
    HC_NS,
    HCP_NS,
    NP_KIND,
    bystander,
    full_objects,
    hcm,
    hcm_popen,
    keys,
    put_back,
    source_state,
)
from tests.sandbox import faults
from tests.sandbox.harness import Sandbox

pytestmark = pytest.mark.e2e

TEARDOWN = ("teardown", "--hc", HC_NAME, "-n", HC_NS, "--context", "source", "--to-context", "destination")
HCP_KINDS = ",".join([
    "hostedcontrolplanes.hypershift.openshift.io", "clusters.cluster.x-k8s.io",
    "machinedeployments.cluster.x-k8s.io", "machinesets.cluster.x-k8s.io", "machines.cluster.x-k8s.io",
    "awsclusters.infrastructure.cluster.x-k8s.io", "awsmachinetemplates.infrastructure.cluster.x-k8s.io",
    "awsmachines.infrastructure.cluster.x-k8s.io", "deployments", "statefulsets", "secrets", "configmaps",
])  # fmt: skip


@dataclass
class Migrated:
    sb: Sandbox
    backup: dict[str, Any]
    prefix: str
    backup_keys: list[str]
    bundle: Path
    source_uid: str
    torn_down: bool = False

    def dest(self) -> Any:
        return self.sb.destination.kubectl()

    def marks(self) -> dict[str, str | None]:
        """The identity annotations restore puts on the destination's HC."""
        return {BACKUP_ID: self.backup["backup_id"], SOURCE_UID: self.source_uid}

    def mark(self, annotations: dict[str, str | None]) -> None:
        self.dest().run("patch", HC_KIND, HC_NAME, "-n", HC_NS, "--type=merge",
                        "-p", json.dumps({"metadata": {"annotations": annotations}}))  # fmt: skip

    def available(self, status: str, timeout: float = 90) -> None:
        """Brings the destination's control plane up or down, and waits for the twin to report it (T9)."""
        if status == "True":
            faults.start_control_plane(self.sb.destination, HCP_NS)
        else:
            faults.stop_control_plane(self.sb.destination, HCP_NS)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hc = self.dest().get(HC_KIND, HC_NAME, "-n", HC_NS)
            conds = {c["type"]: c["status"] for c in hc.get("status", {}).get("conditions", [])}
            if conds.get("Available") == status:
                return
            if status == "False" and self.dest().get("deployment", "kube-apiserver", "-n", HCP_NS)["spec"]["replicas"]:
                # A CPO reconcile already under way when its Deployment went to 0 put the
                # kube-apiserver back (T12), as a real one can in its grace period: stop it again.
                faults.stop_control_plane(self.sb.destination, HCP_NS)
            time.sleep(0.5)
        raise AssertionError(f"the destination HC never became Available={status}")


def example_on_source(sb: Sandbox) -> list[dict[str, Any]]:
    """Every object of `example` on the source, to prove a refused teardown changed nothing."""
    k = sb.source.kubectl()
    if not k.run("get", "namespace", HCP_NS, "--ignore-not-found", "-o", "name"):
        return []
    return full_objects(
        sb, "source", (HC_KIND, HC_NAME, "-n", HC_NS), (NP_KIND, "example-us-east-2a", "-n", HC_NS),
        (HCP_KINDS, "-n", HCP_NS), ("namespace", HCP_NS), ("namespace", HC_NS),
    )  # fmt: skip


def gone(sb: Sandbox, *query: str) -> bool:
    return sb.source.kubectl().run("get", *query, "--ignore-not-found", "-o", "name").strip() == ""


@contextmanager
def migrated_pair(sandbox: Sandbox, bundle: Path, prefix: str) -> Iterator[Migrated]:
    """`example` as a migration leaves it before teardown: backed up `--keep-paused` from the
    source, its bundle applied on the destination and Available there; then as it was."""
    before = source_state(sandbox)
    proc = hcm(sandbox, "-o", "json", "backup", "--hc", HC_NAME, "-n", HC_NS, "--keep-paused",
               "--prefix", prefix, "--dir", str(bundle))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    dest = sandbox.destination.kubectl()
    dest.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in (HC_NS, HCP_NS)])
    dest.run("apply", "--server-side", "--force-conflicts", "--field-manager=restore-stand-in", "-k", str(bundle))
    uid = sandbox.source.kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)["metadata"]["uid"]
    m = Migrated(sandbox, json.loads(proc.stdout), prefix, keys(sandbox, prefix), bundle, uid)
    m.mark(m.marks())
    m.available("True")
    yield m
    if not m.torn_down:  # as it was: source resumed, nothing on the destination
        put_back(sandbox, before)
        dest.run("delete", "namespace", HC_NS, HCP_NS, "--ignore-not-found", "--wait=true")


@pytest.fixture
def migrated(sandbox: Sandbox, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Migrated]:
    with migrated_pair(sandbox, tmp_path / "bundle", f"teardown-{request.node.name}") as m:
        yield m


@pytest.fixture
def doomed(migrated: Migrated, destroys_source: None) -> Migrated:
    """For tests that tear `example` down: the next test gets a new sandbox."""
    migrated.torn_down = True
    return migrated


def assert_torn_down(m: Migrated, others: list[dict[str, Any]]) -> None:
    sb = m.sb
    assert gone(sb, HC_KIND, HC_NAME, "-n", HC_NS)
    assert gone(sb, NP_KIND, "example-us-east-2a", "-n", HC_NS)
    assert gone(sb, "namespace", HCP_NS), "the control-plane namespace is still there"
    # bystander lives in `clusters` (and so do secrets that are no one's): it stays.
    assert not gone(sb, "namespace", HC_NS)
    # example's own Secrets and ConfigMaps there go (the destination has them); no one else's.
    items = sb.source.kubectl().get("secrets,configmaps", "-n", HC_NS)["items"]
    left = {(o["kind"], o["metadata"]["name"]) for o in items}
    ours = {("Secret", "example-pull-secret"), ("Secret", "example-ssh-key"), ("Secret", "audit-webhook"),
            ("Secret", "example-etcd-encryption-key"), ("ConfigMap", "user-ca-bundle"),
            ("ConfigMap", "machineconfig-extra")}  # fmt: skip
    assert not left & ours
    assert {("Secret", "unrelated-secret"), ("Secret", "bystander-pull-secret")} <= left
    assert bystander(sb) == others
    assert keys(sb, m.prefix) == m.backup_keys
    assert (m.bundle / "manifest.json").is_file()
    # The destination's HC is untouched.
    assert m.dest().get(HC_KIND, HC_NAME, "-n", HC_NS)["metadata"]["annotations"][SOURCE_UID] == m.source_uid


def run_teardown(sb: Sandbox, *extra: str) -> dict[str, Any]:
    proc = hcm(sb, "-o", "json", *TEARDOWN, *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_refused(m: Migrated, message: str, *extra: str, **kw: Any) -> None:
    before, others = example_on_source(m.sb), bystander(m.sb)
    proc = hcm(m.sb, *TEARDOWN, *extra, stdin=kw.pop("stdin", subprocess.DEVNULL), **kw)
    assert proc.returncode == 3, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0], proc.stderr
    assert example_on_source(m.sb) == before
    assert bystander(m.sb) == others


def test_refused_when_the_destination_has_no_such_hc(migrated: Migrated) -> None:
    migrated.dest().run("delete", HC_KIND, HC_NAME, "-n", HC_NS)
    assert_refused(migrated, "HostedCluster clusters/example on the destination (context 'destination') not found")


def test_teardown_removes_example_and_only_example(doomed: Migrated) -> None:
    others = bystander(doomed.sb)
    t0 = time.monotonic()
    res = run_teardown(doomed.sb)
    print(f"\nteardown of the seeded cluster: {time.monotonic() - t0:.1f}s {res['steps']}")
    assert res["outcome"] == "SUCCEEDED" and res["guard"] == "passed"
    assert "HostedCluster clusters/example" in res["removed"] and f"Namespace {HCP_NS}" in res["removed"]
    assert len([r for r in res["removed"] if r.startswith("Machine ")]) == 2
    assert res["kept"] and res["kept"][0].startswith("Namespace clusters: it also holds HostedCluster bystander")
    assert_torn_down(doomed, others)
    # Done is done: a second run finds nothing left and changes nothing.
    again = run_teardown(doomed.sb)
    assert again["removed"] == [] and bystander(doomed.sb) == others


def _kill_when(sb: Sandbox, what: str, seen: Callable[[str, dict[str, Any]], bool]) -> None:
    """Starts teardown and SIGKILLs it the moment the source shows `seen` (a watch: no polling lag)."""
    from kubernetes import client, config, watch

    api = config.new_client_from_config(config_file=str(sb.kubeconfig), context="source")
    # A bound API method, not a wrapper: the watch reads its docstring for the type to return.
    lister, args = (
        (client.CoreV1Api(api).list_namespace, ()) if what == "namespaces"
        else (client.CustomObjectsApi(api).list_namespaced_custom_object,
              ("hypershift.openshift.io", "v1beta1", HC_NS, what))
    )  # fmt: skip
    # Watching from before the start, so that nothing can slip by before the watch is open.
    since = api.sanitize_for_serialization(lister(*args))["metadata"]["resourceVersion"]
    proc, w = hcm_popen(sb, *TEARDOWN), watch.Watch()
    try:
        for event in w.stream(lister, *args, resource_version=since, timeout_seconds=120):
            if seen(event["type"], event["raw_object"]):
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        w.stop()
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "teardown ended before it could be killed"


def deleted(name: str) -> Callable[[str, dict[str, Any]], bool]:
    return lambda kind, obj: kind == "DELETED" and obj["metadata"]["name"] == name


def test_killed_teardown_completes_when_run_again(doomed: Migrated) -> None:
    sb, others = doomed.sb, bystander(doomed.sb)
    # Killed once the first NodePool is gone: the HC and its control plane are still there.
    _kill_when(sb, "nodepools", deleted("example-us-east-2a"))
    assert gone(sb, NP_KIND, "example-us-east-2a", "-n", HC_NS)
    assert not gone(sb, HC_KIND, HC_NAME, "-n", HC_NS)
    # Killed again once the HC is gone: only the record on its namespace still names it.
    _kill_when(sb, "hostedclusters", deleted(HC_NAME))
    assert gone(sb, HC_KIND, HC_NAME, "-n", HC_NS)
    ns = sb.source.kubectl().get("namespace", HCP_NS)
    assert ns["metadata"]["annotations"][SOURCE_UID] == doomed.source_uid
    # With the source HC gone, the record still tells another backup's HC apart. (Its control
    # plane may be going already, the kill racing the namespace's deletion: no full comparison.)
    doomed.mark({SOURCE_UID: "00000000-0000-0000-0000-000000000000"})
    proc = hcm(sb, *TEARDOWN, stdin=subprocess.DEVNULL)
    assert proc.returncode == 3 and "comes from another backup" in proc.stderr, proc.stderr
    assert sb.source.kubectl().get("namespace", HCP_NS)["metadata"]["annotations"][SOURCE_UID] == doomed.source_uid
    assert bystander(sb) == others
    doomed.mark({SOURCE_UID: doomed.source_uid})
    # Killed once more while the control-plane namespace terminates.
    _kill_when(sb, "namespaces", lambda _, o: o["metadata"]["name"] == HCP_NS and "deletionTimestamp" in o["metadata"])
    res = run_teardown(sb)
    assert res["outcome"] == "SUCCEEDED", res
    assert_torn_down(doomed, others)
