"""Rows the real sandbox judges: T6 (the HCP CRD's CEL rule refuses the twin's update) and
T10/T11 with a bad URL (etcd-init crash-loops with the body in its log, no condition)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.sandbox import seed
from tests.sandbox.harness import Sandbox

pytestmark = pytest.mark.e2e
NS = "clusters"


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """Each test its own HC: a deleted one's namespace may still be going."""
    return f"twin-{request.node.name.split('_')[1]}-{int(time.time()) % 100000}"


def apply_hc(sb: Sandbox, name: str, hc_url: str | None, hcp_url: str | None) -> None:
    NAME, HCP_NS = name, f"{NS}-{name}"
    hc, _ = seed.hosted_cluster(NAME, NS, sb.cfg, with_refs=False)
    hcp = seed.hcp_namespace_objects(hc, [], sb.cfg)[0]
    for obj, url in ((hc, hc_url), (hcp, hcp_url)):
        if url:
            obj["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"] = [url]
    k = sb.destination.kubectl()
    k.apply([seed.namespace(NS), seed.namespace(HCP_NS)])
    k.apply([hcp])
    k.apply([hc])


@pytest.fixture
def cleanup(sandbox: Sandbox, name: str) -> Iterator[None]:
    NAME, HCP_NS = name, f"{NS}-{name}"
    yield
    k = sandbox.destination.kubectl()
    k.run(
        "patch", "hostedcluster", NAME, "-n", NS, "--type=merge", "-p", '{"metadata":{"finalizers":null}}', check=False
    )
    k.run("delete", "hostedcluster", NAME, "-n", NS, "--ignore-not-found", "--wait=false")
    for o in json.loads(k.run("get", "deploy,hcp", "-n", HCP_NS, "-o", "json"))["items"]:
        k.run("patch", o["kind"].lower(), o["metadata"]["name"], "-n", HCP_NS, "--type=merge",
              "-p", '{"metadata":{"finalizers":null}}', check=False)  # fmt: skip
    k.run("delete", "namespace", HCP_NS, "--ignore-not-found", "--wait=false")


def wait(check, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except RuntimeError:  # not there yet
            pass
        time.sleep(0.5)
    return False


def test_t6_hcp_without_url_refuses_the_update_and_nothing_runs(sandbox: Sandbox, name: str, cleanup: None) -> None:
    NAME, HCP_NS = name, f"{NS}-{name}"
    url = "https://127.0.0.1:1/bucket/snapshot.db"
    apply_hc(sandbox, name, hc_url=url, hcp_url=None)
    log = sandbox.cfg.logs / "destination-twin.log"
    assert wait(lambda: "restoreSnapshotURL cannot be added or removed after creation" in log.read_text())
    k = sandbox.destination.kubectl()
    hcp = k.get("hostedcontrolplane", NAME, "-n", HCP_NS)
    assert "restoreSnapshotURL" not in hcp["spec"]["etcd"]["managed"]["storage"]
    assert not k.run("get", "deploy", "control-plane-operator", "-n", HCP_NS, "--ignore-not-found", "-o", "name")


def test_t10_t11_bad_url_crash_loops_with_the_body_in_the_log(sandbox: Sandbox, name: str, cleanup: None) -> None:
    NAME, HCP_NS = name, f"{NS}-{name}"
    import boto3
    from botocore.config import Config

    env = sandbox.env
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"], region_name=env["AWS_DEFAULT_REGION"],
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                      verify=env["AWS_CA_BUNDLE"], config=Config(s3={"addressing_style": "path"}))  # fmt: skip
    url = s3.generate_presigned_url("get_object", Params={"Bucket": env["HCMIGRATE_BUCKET"], "Key": "no/such.db"})
    apply_hc(sandbox, name, hc_url=url, hcp_url=url)
    k = sandbox.destination.kubectl()

    def crash_looping() -> bool:
        pod = k.get("pod", "etcd-0", "-n", HCP_NS)
        states = [s["state"] for s in pod.get("status", {}).get("initContainerStatuses", [])]
        return any(s.get("waiting", {}).get("reason") == "CrashLoopBackOff" for s in states)

    assert wait(crash_looping, 90)
    out = k.run("logs", "etcd-0", "-n", HCP_NS, "-c", "etcd-init")
    assert out.startswith("<?xml") and "NoSuchKey" in out
    hcp = k.get("hostedcontrolplane", NAME, "-n", HCP_NS)
    assert not [c for c in hcp.get("status", {}).get("conditions", []) if c["type"] == "EtcdSnapshotRestored"]
