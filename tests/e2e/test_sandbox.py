"""The sandbox itself: real apiservers with live CRD rules, real exec, real etcd, real S3."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.etcd_check import hosted_digest, restored_etcd, trailer_ok
from tests.sandbox import procs
from tests.sandbox.config import REPO
from tests.sandbox.harness import Sandbox

HCP_NS = "clusters-example"
ETCDCTL = [
    "etcdctl", "--endpoints=https://localhost:2379",
    "--cacert=/etc/etcd/tls/etcd-ca/ca.crt",
    "--cert=/etc/etcd/tls/client/etcd-client.crt",
    "--key=/etc/etcd/tls/client/etcd-client.key",
]  # fmt: skip


def kubectl(sb: Sandbox, *args: str, context: str = "source", **kw) -> subprocess.CompletedProcess:
    argv = [str(sb.bin / "kubectl"), f"--kubeconfig={sb.kubeconfig}", f"--context={context}", *args]
    return subprocess.run(argv, capture_output=True, **kw)


@pytest.mark.parametrize("context", ["source", "destination"])
def test_apiservers_serve_hypershift_kinds(sandbox: Sandbox, context: str) -> None:
    out = kubectl(sandbox, "api-resources", "-o", "name", context=context, text=True, check=True).stdout
    for res in ("hostedclusters.hypershift.openshift.io", "nodepools.hypershift.openshift.io",
                "hostedcontrolplanes.hypershift.openshift.io", "machines.cluster.x-k8s.io",
                "awsmachinetemplates.infrastructure.cluster.x-k8s.io"):  # fmt: skip
        assert res in out.split(), f"{res} not served on {context}"


def test_destination_enforces_restore_snapshot_url_rules(sandbox: Sandbox) -> None:
    hc = sandbox.source.kubectl().get("hostedcluster.hypershift.openshift.io", "example", "-n", "clusters")
    for k in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "finalizers"):
        hc["metadata"].pop(k, None)
    hc.pop("status", None)
    hc["metadata"]["name"] = "two-urls"
    hc["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"] = [
        "https://bucket.s3.amazonaws.com/a", "https://bucket.s3.amazonaws.com/b",
    ]  # fmt: skip
    kubectl(sandbox, "create", "namespace", "clusters", context="destination")
    proc = kubectl(sandbox, "create", "-f", "-", context="destination", input=json.dumps(hc), text=True)
    assert proc.returncode != 0
    assert "restoreSnapshotURL" in proc.stderr
    hc["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"] = ["https://bucket.s3.amazonaws.com/a"]
    hc["metadata"]["name"] = "one-url"
    ok = kubectl(
        sandbox, "create", "--dry-run=server", "-f", "-", context="destination", input=json.dumps(hc), text=True
    )
    assert ok.returncode == 0, ok.stderr


def _snapshot_through_exec(sb: Sandbox, pod: str, dest: Path) -> bytes:
    save = kubectl(sb, "exec", "-n", HCP_NS, pod, "-c", "etcd", "--", *ETCDCTL,
                   "snapshot", "save", "/var/lib/data/snapshot.db", text=True)  # fmt: skip
    assert save.returncode == 0, save.stderr
    data = kubectl(sb, "exec", "-n", HCP_NS, pod, "-c", "etcd", "--", "cat", "/var/lib/data/snapshot.db").stdout
    kubectl(sb, "exec", "-n", HCP_NS, pod, "-c", "etcd", "--", "rm", "-f", "/var/lib/data/snapshot.db")
    dest.write_bytes(data)
    return data


def test_snapshot_through_exec_restores_the_generated_keys(sandbox: Sandbox, tmp_path: Path) -> None:
    data = _snapshot_through_exec(sandbox, "etcd-0", tmp_path / "snap.db")
    assert len(data) > sandbox.cfg.etcd_mb * 1024 * 1024 * 0.9
    assert trailer_ok(data)
    expected = hosted_digest(sandbox.etcd)
    with restored_etcd(sandbox.bin, tmp_path / "snap.db", tmp_path) as conn:
        from tests.e2e.etcd_check import digest

        assert digest(conn) == expected
    assert expected[0] > 1000


def test_exec_reports_exit_codes(sandbox: Sandbox) -> None:
    proc = kubectl(sandbox, "exec", "-n", HCP_NS, "etcd-0", "-c", "etcd", "--", "test", "-f", "/nope")
    assert proc.returncode == 1
    proc = kubectl(sandbox, "exec", "-n", HCP_NS, "etcd-0", "-c", "etcd", "--",
                   "test", "-f", "/etc/etcd/tls/etcd-ca/ca.crt")  # fmt: skip
    assert proc.returncode == 0


def test_namespace_deletion_completes_on_destination(sandbox: Sandbox) -> None:
    kubectl(sandbox, "create", "namespace", "doomed", context="destination", check=True)
    kubectl(sandbox, "create", "configmap", "x", "-n", "doomed", context="destination", check=True)
    kubectl(sandbox, "delete", "namespace", "doomed", "--wait=true", "--timeout=60s", context="destination", check=True)
    gone = kubectl(sandbox, "get", "namespace", "doomed", context="destination", text=True)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_scaling_a_deployment_to_zero_removes_its_pods(sandbox: Sandbox) -> None:
    k = sandbox.destination.kubectl()
    k.run("create", "deployment", "scaler", "--image=fake", "--replicas=2", "-n", "default")
    k.run("patch", "deployment", "scaler", "-n", "default", "-p",
          json.dumps({"spec": {"template": {"spec": {"nodeName": "kwok-node"}}}}))  # fmt: skip
    k.run("rollout", "status", "deployment/scaler", "-n", "default", "--timeout=60s")
    k.run("scale", "deployment", "scaler", "--replicas=0", "-n", "default")
    deadline = time.monotonic() + 60
    while k.get("pods", "-n", "default", "-l", "app=scaler")["items"]:
        assert time.monotonic() < deadline, "pods of a deployment scaled to 0 remain"
        time.sleep(0.5)
    k.run("delete", "deployment", "scaler", "-n", "default")


def test_s3_enforces_credentials(sandbox: Sandbox) -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    env = sandbox.env

    def client(secret: str):
        return boto3.client(
            "s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"], region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=secret, verify=env["AWS_CA_BUNDLE"],
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )  # fmt: skip

    with pytest.raises(ClientError) as refused:
        client("wrong-" + env["AWS_SECRET_ACCESS_KEY"]).list_objects_v2(Bucket=env["HCMIGRATE_BUCKET"])
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    ok = client(env["AWS_SECRET_ACCESS_KEY"])
    ok.put_object(Bucket=env["HCMIGRATE_BUCKET"], Key="probe", Body=b"x")
    assert ok.get_object(Bucket=env["HCMIGRATE_BUCKET"], Key="probe")["Body"].read() == b"x"
    ok.delete_object(Bucket=env["HCMIGRATE_BUCKET"], Key="probe")


def test_seeded_hosted_cluster(sandbox: Sandbox) -> None:
    k = sandbox.source.kubectl()
    hc = k.get("hostedcluster.hypershift.openshift.io", "example", "-n", "clusters")
    assert hc["spec"]["platform"]["aws"]["endpointAccess"] == "Public"
    assert hc["spec"]["secretEncryption"]["aescbc"]["activeKey"]["name"] == "example-etcd-encryption-key"
    assert hc["metadata"]["finalizers"]
    pods = k.get("pods", "-n", HCP_NS)["items"]
    running = {p["metadata"]["name"].rsplit("-", 2)[0] if "etcd" not in p["metadata"]["name"] else p["metadata"]["name"]
               for p in pods if p["status"].get("phase") == "Running"}  # fmt: skip
    assert {
        "kube-apiserver",
        "openshift-apiserver",
        "openshift-oauth-apiserver",
        "control-plane-operator",
        "etcd-0",
    } <= running
    assert k.get("deployment", "operator", "-n", "hypershift")["status"].get("readyReplicas") == 2


def test_ha_and_two_nodepools(ha_sandbox: Sandbox, tmp_path: Path) -> None:
    k = ha_sandbox.source.kubectl()
    pods = {
        p["metadata"]["name"]: p["status"].get("phase") for p in k.get("pods", "-n", HCP_NS, "-l", "app=etcd")["items"]
    }
    assert pods == {"etcd-0": "Running", "etcd-1": "Running", "etcd-2": "Running"}
    pools = [np["metadata"]["name"] for np in k.get("nodepools.hypershift.openshift.io", "-n", "clusters")["items"]
             if np["spec"]["clusterName"] == "example"]  # fmt: skip
    assert len(pools) == 2
    mds = {md["metadata"]["name"] for md in k.get("machinedeployments.cluster.x-k8s.io", "-n", HCP_NS)["items"]}
    assert mds == set(pools)
    templates = [
        t["metadata"]["name"]
        for t in k.get("awsmachinetemplates.infrastructure.cluster.x-k8s.io", "-n", HCP_NS)["items"]
    ]
    assert sorted(t.rsplit("-", 1)[0] for t in templates) == sorted(pools)
    # Each member answers on its own pod: a snapshot from etcd-2 is valid too.
    assert trailer_ok(_snapshot_through_exec(ha_sandbox, "etcd-2", tmp_path / "snap.db"))


@pytest.mark.last
def test_sandbox_down_stops_every_process(sandbox_manager) -> None:
    sb = sandbox_manager.current or sandbox_manager.get(sandbox_manager_default())
    pids = [int(p.read_text()) for p in sb.cfg.pids.glob("*.pid")]
    assert len(pids) >= 9
    env = {**os.environ, "SANDBOX_SLOT": str(sb.cfg.slot)}  # the run may be on its slot's spare
    subprocess.run(["make", "-s", "sandbox-down"], cwd=REPO, env=env, check=True, capture_output=True)
    sandbox_manager.current = None
    assert [p for p in pids if procs.alive(p)] == []
    assert not sb.cfg.state.exists()


def sandbox_manager_default():
    from tests.conftest import _base_config

    return _base_config()
