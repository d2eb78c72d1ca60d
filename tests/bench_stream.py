"""One measurement each, on a running sandbox: what `tests.bench` times, interleaves and tabulates.

Every function returns plain numbers and leaves nothing behind in the bucket: objects are deleted
after each upload so a 1 GB run does not fill the disk. The ones that touch S3 take the Store to run
against: the sandbox's SeaweedFS or its MinIO, reached the same way through their AWS_* variables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from tests.e2e.helpers import HC_NAME, HC_NS, HCP_NS, s3
from tests.sandbox import s3_minio
from tests.sandbox.config import REPO
from tests.sandbox.harness import Sandbox

POD, CONTAINER = "etcd-0", "etcd"
SNAPSHOT = "/var/lib/data/bench-snapshot.db"
# The tool's own etcdctl flags (kubectl_hcmigrate/etcd_snapshot.py).
ETCDCTL = [
    "etcdctl", "--endpoints=https://localhost:2379", "--cacert=/etc/etcd/tls/etcd-ca/ca.crt",
    "--cert=/etc/etcd/tls/client/etcd-client.crt", "--key=/etc/etcd/tls/client/etcd-client.key",
]  # fmt: skip


class BenchError(RuntimeError):
    pass


STORES = ("seaweedfs", "minio")
# What points boto3, and the tool with it, at one S3 server: the sandbox's env has SeaweedFS's.
AWS_VARS = ("AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE")


@dataclass(frozen=True)
class Store:
    """One of the sandbox's S3 servers, as the bench's clients and the tool's process reach it."""

    name: str  # "seaweedfs" or "minio"
    pid: int  # its server process, whose CPU time `tool` reads
    bucket: str
    env: dict[str, str]  # AWS_VARS pointing at it

    def client(self, sb: Sandbox) -> Any:  # boto3's S3 client: the e2e tests' own, pointed at this store
        return s3(replace(sb, env={**sb.env, **self.env}))


def store(sb: Sandbox, name: str) -> Store:
    """The sandbox's SeaweedFS (one `weed mini`, pids/s3.pid) or its MinIO (one `minio server`,
    pids/s3-minio.pid, announced in the env file by tests/sandbox/s3_minio.to_env)."""
    if name == "seaweedfs":
        pid = int((sb.cfg.pids / "s3.pid").read_text())
        return Store(name, pid, sb.env["HCMIGRATE_BUCKET"], {k: sb.env[k] for k in AWS_VARS})
    if name == "minio":
        srv = s3_minio.from_env(sb.env)
        values = (srv.endpoint_url, srv.access_key, srv.secret_key, srv.region, str(srv.ca_bundle))
        return Store(name, srv.pid, srv.bucket, dict(zip(AWS_VARS, values, strict=True)))
    raise ValueError(f"no S3 store {name!r} in the sandbox (known: {', '.join(STORES)})")


def _exec_argv(sb: Sandbox, *command: str) -> list[str]:
    kubectl = [str(sb.bin / "kubectl"), f"--kubeconfig={sb.kubeconfig}", "--context=source"]
    return [*kubectl, "exec", "-n", HCP_NS, POD, "-c", CONTAINER, "--", *command]


def _run(argv: list[str], stdout: int | IO[Any] = subprocess.PIPE) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise BenchError(f"{' '.join(argv[-3:])} exited {proc.returncode}: {tail[0]}")
    return proc


def snapshot_save(sb: Sandbox) -> float:
    """Seconds for `etcdctl snapshot save` into the pod's data volume, via kubectl exec."""
    t0 = time.perf_counter()
    _run(_exec_argv(sb, *ETCDCTL, "snapshot", "save", SNAPSHOT))
    return time.perf_counter() - t0


def snapshot_size(sb: Sandbox) -> int:
    return int(_run(_exec_argv(sb, "stat", "-c", "%s", SNAPSHOT)).stdout)


def remove_snapshot(sb: Sandbox) -> None:
    _run(_exec_argv(sb, "rm", "-f", SNAPSHOT))


def machine_cpu() -> float:
    """CPU seconds every process on this machine has used so far (all of /proc/stat but idle and iowait)."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ReaderRun:
    seconds: float
    machine_cpu: float  # what the exec path cost the whole machine: apiserver, kwok, `cat` and the reader


def tool_reader(sb: Sandbox) -> ReaderRun:
    """The tool's own exec reader and snapshot verifier draining `cat SNAPSHOT`, in this process."""
    from kubectl_hcmigrate.adapters.kube import Kube
    from kubectl_hcmigrate.adapters.kube_exec import open_exec
    from kubectl_hcmigrate.core.options import KubeTarget
    from kubectl_hcmigrate.etcd.verifier import SnapshotVerifier, VerifyingReader

    api = Kube(KubeTarget(kubeconfig=str(sb.kubeconfig), context="source")).api
    verifier, buf = SnapshotVerifier(), bytearray(1 << 20)
    cpu0, t0 = machine_cpu(), time.perf_counter()
    with open_exec(api, HCP_NS, POD, CONTAINER, ["cat", SNAPSHOT]) as reader:
        stream = VerifyingReader(reader, verifier)
        while stream.readinto(buf):
            pass
        reader.check()
    seconds, cpu = time.perf_counter() - t0, machine_cpu() - cpu0
    verifier.finish()  # raises unless the snapshot arrived whole
    return ReaderRun(seconds, cpu)


def raw_exec(sb: Sandbox) -> float:
    """Seconds for `kubectl exec ... cat SNAPSHOT > /dev/null`: the exec API's own rate."""
    t0 = time.perf_counter()
    _run(_exec_argv(sb, "cat", SNAPSHOT), stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


@dataclass(frozen=True)
class Naive:
    copy: float  # kubectl exec cat > local file
    upload: float  # boto3 upload_file, default TransferConfig

    @property
    def total(self) -> float:
        return self.copy + self.upload


def naive(sb: Sandbox, st: Store, tmp: Path, n: int) -> Naive:
    """The two steps a person would script: copy the file out, then upload it."""
    local, key = tmp / f"naive-{st.name}-{n}.db", f"bench-naive-{n}/etcd-snapshot.db"
    client, bucket = st.client(sb), st.bucket
    try:
        t0 = time.perf_counter()
        with open(local, "wb") as f:
            _run(_exec_argv(sb, "cat", SNAPSHOT), stdout=f)
        t1 = time.perf_counter()
        client.upload_file(str(local), bucket, key)
        t2 = time.perf_counter()
    finally:
        local.unlink(missing_ok=True)
        client.delete_object(Bucket=bucket, Key=key)
    return Naive(copy=t1 - t0, upload=t2 - t1)


def pipe(sb: Sandbox, st: Store, n: int) -> float:
    """The streaming pipe a careful SRE writes by hand, `kubectl exec ... cat snapshot | aws s3 cp -`:
    boto3's upload_fileobj on the pipe (the transfer manager `aws s3 cp -` uses). Seconds."""
    key, client, bucket = f"bench-pipe-{n}/etcd-snapshot.db", st.client(sb), st.bucket
    t0 = time.perf_counter()
    proc = subprocess.Popen(_exec_argv(sb, "cat", SNAPSHOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        client.upload_fileobj(proc.stdout, bucket, key)
        if proc.wait() != 0:
            raise BenchError(f"pipe: kubectl exec cat exited {proc.returncode}")
        return time.perf_counter() - t0
    finally:
        proc.kill()
        client.delete_object(Bucket=bucket, Key=key)


@dataclass(frozen=True)
class ToolRun:
    wall: float  # the whole CLI process, interpreter start-up included
    step: float  # its "etcd snapshot" (the in-pod save) and "upload snapshot" (the stream) steps
    down: float  # the hosted API's downtime: from the scale-down's start to the scale-back's end
    after: float  # what the tool does once the source is back (stream, bundle): the runbook's order has it inside the downtime
    size: int  # bytes of the snapshot it uploaded
    peak_rss: int  # bytes, the child's VmHWM as the kernel reports it on exit
    cpu: float  # user + system seconds of the CLI process
    s3_cpu: float  # user + system seconds the store's S3 server spent meanwhile


# The tool with its requests `{n}` at a time (bundle uploads and fetches, restore's creates): 1 is
# the tool as it was before they ran together, and `make bench` prints it beside the tool as it is.
IN_FLIGHT_ENTRY = (
    "import sys; from kubectl_hcmigrate.core import bounded; from kubectl_hcmigrate.verbs import readback; "
    "bounded.IN_FLIGHT = readback.FETCHES_IN_FLIGHT = {n}; "
    "from kubectl_hcmigrate.__main__ import main; main()"
)


@dataclass(frozen=True)
class Usage:
    peak_rss: int  # bytes, the CLI process's VmHWM as the kernel reports it on exit
    cpu: float  # user + system seconds of the CLI process


def run_cli(
    sb: Sandbox, tmp: Path, *args: str, in_flight: int | None = None, st: Store | None = None
) -> tuple[dict, float, Usage]:
    """(JSON result, wall seconds, usage) of `python -m kubectl_hcmigrate -o json ...`, against
    `st` when given (the sandbox's env, SeaweedFS, otherwise).

    tests/bench_rusage.py runs it and reaps it with os.wait4 for its own rusage: RUSAGE_CHILDREN
    would mix in kubectl's, and a child of this process would start from this process's peak RSS.
    """
    out, err, measured = tmp / "cli.out", tmp / "cli.err", tmp / "cli.rusage"
    entry = ["-m", "kubectl_hcmigrate"] if in_flight is None else ["-c", IN_FLIGHT_ENTRY.format(n=in_flight)]
    launcher = [sys.executable, str(REPO / "tests" / "bench_rusage.py"), str(measured)]
    env = {**os.environ, **sb.env, **(st.env if st else {})}
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.run([*launcher, sys.executable, *entry, "-o", "json", *args], cwd=REPO, env=env,
                              stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)  # fmt: skip
    if proc.returncode != 0:
        tail = err.read_text(errors="replace").strip().splitlines()[-3:]
        raise BenchError(f"hcmigrate {args[0]} exited {proc.returncode}: {' | '.join(tail)}")
    usage = json.loads(measured.read_text())
    return json.loads(out.read_text()), usage["wall"], Usage(usage["peak_rss"], usage["cpu"])


def process_cpu(pid: int | str) -> float:
    """CPU seconds one process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def s3_server_cpu(st: Store) -> float:
    """CPU seconds the store's S3 server process has used so far."""
    return process_cpu(st.pid)


def tool(sb: Sandbox, st: Store, tmp: Path, n: int) -> ToolRun:
    """The real `backup` verb, as a user runs it, against `st`; its objects are deleted afterwards."""
    prefix = f"bench-{n}"
    s3_cpu = s3_server_cpu(st)
    try:
        res, wall, usage = run_cli(
            sb, tmp, "backup", "--hc", HC_NAME, "-n", HC_NS, "--bucket", st.bucket,
            "--prefix", prefix, "--dir", str(tmp / f"bundle-{st.name}-{n}"), st=st,
        )  # fmt: skip
        s3_cpu = s3_server_cpu(st) - s3_cpu
    finally:
        delete_prefix(sb, st, prefix)
    t, size = {s["name"]: s["seconds"] for s in res["steps"]}, res["snapshot_size"]
    step, after = t["etcd snapshot"] + t["upload snapshot"], t["upload snapshot"] + t["write bundle"]
    return ToolRun(wall, step, res["api_down_seconds"], after, size, peak_rss=usage.peak_rss, cpu=usage.cpu,
                   s3_cpu=s3_cpu)  # fmt: skip


def baseline_rss(sb: Sandbox, st: Store, tmp: Path) -> int:
    """Peak RSS of `backup --dry-run` against `st`: the same imports, clients and preflight, no snapshot."""
    _, _, usage = run_cli(
        sb, tmp, "backup", "--hc", HC_NAME, "-n", HC_NS, "--bucket", st.bucket,
        "--prefix", "bench-dry", "--dir", str(tmp / f"bundle-dry-{st.name}"), "--dry-run", st=st,
    )  # fmt: skip
    return usage.peak_rss


def delete_prefix(sb: Sandbox, st: Store, prefix: str) -> None:
    client, bucket = st.client(sb), st.bucket
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:  # a page is at most 1,000 keys, as one DeleteObjects takes: a bundle of 2,530 files in 3 requests
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
