"""What the end-to-end tests share: running the real CLI, reading the source's state, S3."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any

from tests.sandbox.config import REPO
from tests.sandbox.harness import Sandbox

HC_NS, HC_NAME = "clusters", "example"
HCP_NS = f"{HC_NS}-{HC_NAME}"
HC_KIND = "hostedcluster.hypershift.openshift.io"
NP_KIND = "nodepools.hypershift.openshift.io"
HCP_KIND = "hostedcontrolplanes.hypershift.openshift.io"
# What HyperShift (the sandbox's twin) reports once a restored control plane runs: kind -> (condition, namespace).
CONDITIONS = {HCP_KIND: ("EtcdSnapshotRestored", HCP_NS), HC_KIND: ("Available", HC_NS)}


# The first line of a verb that reaches a cluster: which one (`restoring clusters/example onto
# context destination (https://...)`); a refusal is the one line after it.
WHERE = re.compile(
    r"^(backing up|restoring|tearing down|migrating|handing off|checking the OIDC identity of|planning the \w+ of|to) "
    r".*context \S+ \(\S+\)$"
)


STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


def said(stderr: str) -> list[str]:
    """stderr's lines past the line naming the cluster(s), blank ones left out, without the
    timestamp a log (not a terminal) gets on each progress line."""
    lines = [STAMP.sub("", line) for line in stderr.splitlines()]
    return [line for line in lines if line.strip() and not WHERE.match(line)]


def hcm(sb: Sandbox, *args: str, env: dict[str, str] | None = None, timeout: float = 600,
        **kw: Any) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """The real command line, as a user runs it, in the sandbox's environment."""
    full_env = {**os.environ, **sb.env, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "kubectl_hcmigrate", *args],
        cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout, **kw,
    )  # fmt: skip
    if "json" in args and proc.stdout.startswith("{"):
        check_schema(json.loads(proc.stdout))  # every real run's JSON holds to the documented schema
    return proc


def check_schema(doc: dict[str, Any]) -> None:
    import jsonschema

    schema = json.loads((REPO / "schema" / "hcmigrate-v1.schema.json").read_text())
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)


def hcm_popen(sb: Sandbox, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kubectl_hcmigrate", *args],
        cwd=REPO, env={**os.environ, **sb.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def source_state(sb: Sandbox) -> dict[str, Any]:
    """Everything backup may touch on the source, to compare before and after."""
    k = sb.source.kubectl()
    hc = k.get(HC_KIND, HC_NAME, "-n", HC_NS)
    pools = k.get(NP_KIND, "-n", HC_NS)["items"]
    deps = k.get("deployments", "-n", HCP_NS)["items"]
    return {
        "hc_paused": hc["spec"].get("pausedUntil"),
        "hc_annotations": hc["metadata"].get("annotations"),
        "pools": {p["metadata"]["name"]: p["spec"].get("pausedUntil") for p in pools},
        "replicas": {d["metadata"]["name"]: d["spec"]["replicas"] for d in deps},
        "operator": k.get("deployment", "operator", "-n", "hypershift")["spec"]["replicas"],
    }


def _ours(obj: dict[str, Any]) -> dict[str, Any]:
    """The object minus what its own controllers write (status, and the version that bumps)."""
    meta = dict(obj["metadata"])
    meta.pop("resourceVersion", None)
    meta["managedFields"] = [m for m in meta.get("managedFields", []) if m.get("subresource") != "status"]
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def full_objects(sb: Sandbox, context: str, *queries: tuple[str, ...]) -> list[dict[str, Any]]:
    """Full objects (bystander's, the operator's) to prove the tool left them alone."""
    k = sb.clusters[context].kubectl()
    out = []
    for q in queries:
        obj = k.get(*q)
        out.extend(obj["items"] if obj.get("kind", "").endswith("List") else [obj])
    return [_ours(o) for o in out]


def bystander(sb: Sandbox) -> list[dict[str, Any]]:
    return full_objects(
        sb, "source",
        (HC_KIND, "bystander", "-n", HC_NS), (NP_KIND, "bystander-pool", "-n", HC_NS),
        ("secret", "bystander-pull-secret", "-n", HC_NS), ("secret", "bystander-ssh-key", "-n", HC_NS),
        ("secret", "bystander-etcd-encryption-key", "-n", HC_NS),
        ("deployment", "operator", "-n", "hypershift"),
        ("hostedcontrolplanes.hypershift.openshift.io", "bystander", "-n", "clusters-bystander"),
    )  # fmt: skip


def s3(sb: Sandbox):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=sb.env["AWS_ENDPOINT_URL_S3"], region_name=sb.env["AWS_DEFAULT_REGION"],
        aws_access_key_id=sb.env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=sb.env["AWS_SECRET_ACCESS_KEY"],
        verify=sb.env["AWS_CA_BUNDLE"], config=Config(s3={"addressing_style": "path"}),
    )  # fmt: skip


def keys(sb: Sandbox, prefix: str) -> list[str]:
    client, bucket = s3(sb), sb.env["HCMIGRATE_BUCKET"]
    out: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def incomplete_uploads(sb: Sandbox, prefix: str) -> list[str]:
    resp = s3(sb).list_multipart_uploads(Bucket=sb.env["HCMIGRATE_BUCKET"], Prefix=prefix)
    return [u["Key"] for u in resp.get("Uploads", [])]


def assert_no_secrets(sb: Sandbox, *texts: str) -> None:
    for text in texts:
        assert sb.env["AWS_SECRET_ACCESS_KEY"] not in text
        assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text
        assert "client-key-data" not in text


def put_back(sb: Sandbox, before: dict[str, Any]) -> None:
    """Restores the source to `before` by hand, for tests that leave it paused on purpose."""
    k = sb.source.kubectl()
    k.run("patch", HC_KIND, HC_NAME, "-n", HC_NS, "--type=merge", "-p", json.dumps(
        {"spec": {"pausedUntil": before["hc_paused"]},
         "metadata": {"annotations": {"hcmigrate.openshift.io/source-state": None}}}))  # fmt: skip
    for pool, value in before["pools"].items():
        k.run("patch", NP_KIND, pool, "-n", HC_NS, "--type=merge", "-p", json.dumps({"spec": {"pausedUntil": value}}))
    for dep, n in before["replicas"].items():
        k.run("scale", "deployment", dep, "-n", HCP_NS, f"--replicas={n}")


def delete_restored(sb: Sandbox) -> None:
    """What a restore left on the destination. The HC first, as a user deletes one: HyperShift's
    delete path (T3) releases the HCP namespace's component finalizers (T2), which would hold the
    namespace forever."""
    k = sb.destination.kubectl()
    k.run("delete", HC_KIND, HC_NAME, "-n", HC_NS, "--ignore-not-found", "--timeout=120s")
    k.run("delete", "namespace", HC_NS, HCP_NS, "--ignore-not-found", "--timeout=180s")


def find_pids(needle: str) -> list[int]:
    """Processes whose command line contains `needle` (the exec'd ones run on this host)."""
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if needle in cmd:
                pids.append(int(p.name))
    return pids


SCRATCH_PREFIXES = ("/var/lib/data/.hcmigrate-snapshot-", "/tmp/.hcmigrate-snapshot-")
SNAPSHOT_CAT = tuple(f"cat {d}" for d in SCRATCH_PREFIXES)


def _mid_file(pid: int) -> bool:
    """Whether the process has read part, not all, of the snapshot it streams."""
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
            if ".hcmigrate-snapshot-" in target and target.endswith(".db"):
                info = (Path(f"/proc/{pid}/fdinfo") / fd.name).read_text()
                pos = int(next(line.split()[1] for line in info.splitlines() if line.startswith("pos:")))
                return 0 < pos < fd.stat().st_size
        except OSError:
            continue
    return False


def scratch_files(sb: Sandbox, pod: str = "etcd-0") -> list[str]:
    """Files of the tool in the etcd pod's data volume, whatever their name, seen through exec."""
    out = sb.source.kubectl().run("exec", "-n", HCP_NS, pod, "-c", "etcd", "--", "ls", "-1a", "/var/lib/data")
    return [name for name in out.split() if "hcmigrate" in name]


def _mount_ns(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return ""


def stop_mid_stream(sb: Sandbox, proc: subprocess.Popen[str], timeout: float = 120) -> int | None:
    """Freezes (SIGSTOP) the exec'd `cat` of the tool's snapshot once it is part-way through
    the file, and returns its pid; None if the tool ended first. The caller decides what to
    cut (the cat, or the tool itself) and must SIGCONT or SIGKILL the cat."""
    return _stop_first(sb, proc, SNAPSHOT_CAT, _mid_file, timeout)


SNAPSHOT_SAVE = tuple(f"snapshot save {d}" for d in SCRATCH_PREFIXES)


def stop_snapshot_save(sb: Sandbox, proc: subprocess.Popen[str], timeout: float = 120) -> int | None:
    """Freezes the exec'd `etcdctl snapshot save` as it starts (a big etcd's save takes minutes,
    the sandbox's a moment), and returns its pid; the caller must SIGCONT it."""
    return _stop_first(sb, proc, SNAPSHOT_SAVE, lambda pid: True, timeout)


def stop_mid_save(
    sb: Sandbox, proc: subprocess.Popen[str], timeout: float = 120, *, bytes_in: bool = True
) -> int | None:
    """Freezes the exec'd `etcdctl snapshot save` once etcd has sent it bytes (its `.part` file is
    not empty; with bytes_in=False, once the file exists), and returns its pid; the caller must
    SIGCONT it."""
    return _stop_first(sb, proc, SNAPSHOT_SAVE, partial(_part_written, least=1 if bytes_in else 0), timeout)


def _part_written(pid: int, least: int) -> bool:
    for prefix in SCRATCH_PREFIXES:
        folder = Path(f"/proc/{pid}/root{prefix.rsplit('/', 1)[0]}")
        with suppress(OSError):
            if any(
                p.name.endswith(".part") and p.stat().st_size >= least for p in folder.glob(".hcmigrate-snapshot-*")
            ):
                return True
    return False


def _stop_first(
    sb: Sandbox, proc: subprocess.Popen[str], needles: tuple[str, ...], ready: Callable[[int], bool], timeout: float
) -> int | None:
    # Only processes run by this sandbox's etcd kwok (its mount namespace): other sandboxes run them too.
    kwok = int((sb.cfg.pids / "source-kwok-kwok-etcd-0.pid").read_text())
    ours = _mount_ns(kwok)

    def found() -> set[int]:
        return {p for needle in needles for p in find_pids(needle) if _mount_ns(p) == ours}

    # One left by an earlier killed run (its stream gone, blocked on a full pipe) is not ours.
    stale, deadline = found(), time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        for pid in found() - stale:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            if ready(pid):
                return pid
            os.kill(pid, signal.SIGCONT)  # not started or already through: look again
        time.sleep(0.001)
    return None


def cloud_state(sb: Sandbox) -> dict[str, Any]:
    """What the cloud twin holds: running instances by name, OIDC documents, DNS records, VPC endpoints."""
    import boto3

    kw = {"endpoint_url": sb.env["SANDBOX_AWS_ENDPOINT"], "region_name": "us-east-1",
          "aws_access_key_id": "twin", "aws_secret_access_key": "twin"}  # fmt: skip
    ec2, s3c, r53 = (boto3.client(s, **kw) for s in ("ec2", "s3", "route53"))
    running = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
               if i["State"]["Name"] in ("pending", "running")]  # fmt: skip
    names = sorted(next(t["Value"] for t in i["Tags"] if t["Key"] == "Name") for i in running)
    docs = sorted(f"{b['Name']}/{o['Key']}" for b in s3c.list_buckets()["Buckets"]
                  for o in s3c.list_objects_v2(Bucket=b["Name"]).get("Contents", []))  # fmt: skip
    records = sorted(x["Name"] for z in r53.list_hosted_zones()["HostedZones"]
                     for x in r53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]
                     if x["Type"] == "CNAME")  # fmt: skip
    endpoints = sorted(e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
                       if e["State"].lower() not in ("deleted", "deleting"))  # fmt: skip
    return {"instances": names, "oidc": docs, "records": records, "endpoints": endpoints}


def instances(sb: Sandbox, infra: str) -> dict[str, str]:
    """The cloud twin's running instances of one hosted cluster (tagged as CAPA tags them): name -> id."""
    import boto3

    ec2 = boto3.client("ec2", endpoint_url=sb.env["SANDBOX_AWS_ENDPOINT"], region_name="us-east-1",
                       aws_access_key_id="twin", aws_secret_access_key="twin")  # fmt: skip
    flt = [{"Name": f"tag:kubernetes.io/cluster/{infra}", "Values": ["owned"]},
           {"Name": "instance-state-name", "Values": ["pending", "running"]}]  # fmt: skip
    found = [i for r in ec2.describe_instances(Filters=flt)["Reservations"] for i in r["Instances"]]
    return {next(t["Value"] for t in i["Tags"] if t["Key"] == "Name"): i["InstanceId"] for i in found}


def etcd_exec(sb: Sandbox, context: str, *args: str, pod: str = "etcd-0") -> str:
    """etcdctl run in an etcd pod through `kubectl exec`, as a user would."""
    tls = "/etc/etcd/tls"
    return sb.clusters[context].kubectl().run(
        "exec", "-n", HCP_NS, pod, "-c", "etcd", "--", "etcdctl", f"--cacert={tls}/etcd-ca/ca.crt",
        f"--cert={tls}/client/etcd-client.crt", f"--key={tls}/client/etcd-client.key",
        "--endpoints=https://localhost:2379", *args,
    )  # fmt: skip


@contextmanager
def operator_stopped(sb: Sandbox, cluster: str) -> Iterator[None]:
    """`cluster`'s HyperShift operator (its twin) stuck for the block (SIGSTOP), as a hung operator
    would be; it carries on (SIGCONT) when the block ends, whatever happened."""
    pid = int((sb.cfg.pids / f"{cluster}-twin.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def migrate(
    sb: Sandbox, prefix: str, tmp: Path, *extra: str, timeout: str = "2m", sa: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    """The real migrate; with `sa` (tests/e2e/rbac.py's env), as the ServiceAccounts of deploy/rbac/."""
    src, dst = ("source-sa", "destination-sa") if sa else ("source", "destination")
    # `-o json` after the verb, where a kubectl user puts it.
    proc = hcm(sb, "migrate", "-o", "json", "--hc", HC_NAME, "-n", HC_NS, "--prefix", prefix,
               "--context", src, "--to-context", dst, "--dir", str(tmp / "bundle"),
               "--timeout", timeout, *extra, env=sa)  # fmt: skip
    return proc.returncode, json.loads(proc.stdout or "{}"), proc.stderr


def clear_destination(sb: Sandbox) -> None:
    sb.destination.kubectl().run("delete", "namespace", HC_NS, HCP_NS, "--ignore-not-found", "--timeout=180s")
