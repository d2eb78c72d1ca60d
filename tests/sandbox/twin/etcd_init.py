"""T10: what the etcd StatefulSet's `etcd-init` container does (CPO/v2/etcd/etcd-init.sh),
run by the twin for a member of a twin-run cluster, then the member's etcd started from it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.sandbox import procs


@dataclass(frozen=True)
class Members:
    """Where the hosted etcd members of one management cluster live on this machine."""

    bin: Path
    root: Path  # <root>/etcd-<i>/{data,etcd-init.log}
    tls: Path
    ips: tuple[str, ...]
    s3_ca: Path | None
    pids: Path
    logs: Path
    prefix: str  # pid/log name prefix of the member processes

    def data(self, i: int) -> Path:
        return self.root / f"etcd-{i}" / "data"

    def init_log(self, i: int) -> Path:
        return self.root / f"etcd-{i}" / "etcd-init.log"

    def cluster(self, n: int) -> str:
        return ",".join(f"etcd-{j}=http://{self.ips[j]}:2380" for j in range(n))


def has_data(m: Members, i: int) -> bool:
    d = m.data(i)
    return d.is_dir() and any(d.iterdir())


def run(m: Members, i: int, url: str, replicas: int, fixed: bool) -> tuple[bool, str]:
    """(ok, log) of one etcd-init run into member i's data directory."""
    if has_data(m, i):  # exit 0 if /var/lib/data is not empty
        return True, "data directory is not empty, skipping restore\n"
    with tempfile.TemporaryDirectory(prefix="etcd-init-") as tmp:
        snap, restore = Path(tmp) / "snapshot", Path(tmp) / "restore"
        curl = ["curl", "-sS", "-o", str(snap), url]  # no --fail, no retry
        if m.s3_ca is not None:
            curl[1:1] = ["--cacert", str(m.s3_ca)]
        p = subprocess.run(curl, capture_output=True, text=True)
        if p.returncode != 0:
            return False, p.stderr
        head = snap.read_bytes()[:5]
        if head == b"<?xml":
            return False, snap.read_text(errors="replace") + "\n"
        argv = [str(m.bin / "etcdutl"), "snapshot", "restore", str(snap), "--data-dir", str(restore)]
        if fixed and replicas > 1:  # upstream PR #9048
            argv += [f"--name=etcd-{i}", f"--initial-cluster={m.cluster(replicas)}",
                     f"--initial-advertise-peer-urls=http://{m.ips[i]}:2380", "--initial-cluster-token=etcd-cluster",
                     "--bump-revision=1000000000", "--mark-compacted"]  # fmt: skip
        p = subprocess.run(argv, capture_output=True, text=True)
        if p.returncode != 0:
            return False, p.stdout + p.stderr
        data = m.data(i)
        data.mkdir(parents=True, exist_ok=True)
        data.chmod(0o700)
        for child in restore.iterdir():  # mv /var/lib/restore/* /var/lib/data/
            shutil.move(str(child), data / child.name)
        return True, p.stdout + p.stderr


def running(m: Members, i: int) -> bool:
    pid = m.pids / f"{m.prefix}-{i}.pid"
    try:
        return procs.alive(int(pid.read_text()))
    except (OSError, ValueError):
        return False


def start(m: Members, i: int, replicas: int) -> None:
    """The member's etcd container: serves what its data directory holds."""
    if running(m, i):
        return
    ip, srv = m.ips[i], m.tls / "server"
    m.data(i).mkdir(parents=True, exist_ok=True)
    m.data(i).chmod(0o700)
    procs.start(f"{m.prefix}-{i}", [
        str(m.bin / "etcd"), f"--name=etcd-{i}", f"--data-dir={m.data(i)}",
        f"--listen-client-urls=https://{ip}:2379", f"--advertise-client-urls=https://{ip}:2379",
        f"--listen-peer-urls=http://{ip}:2380", f"--initial-advertise-peer-urls=http://{ip}:2380",
        f"--initial-cluster={m.cluster(replicas)}", "--initial-cluster-state=new",
        "--initial-cluster-token=etcd-cluster",
        f"--cert-file={srv / 'server.crt'}", f"--key-file={srv / 'server.key'}",
        f"--trusted-ca-file={m.tls / 'etcd-ca' / 'ca.crt'}", "--client-cert-auth",
        "--quota-backend-bytes=8589934592", "--unsafe-no-fsync", "--log-level=warn",
    ], pids=m.pids, logs=m.logs)  # fmt: skip


def owner(m: Members, i: int) -> str | None:
    """The uid of the HCP whose member i this is (the sandbox has one set of member slots)."""
    f = m.root / f"etcd-{i}" / "owner"
    return f.read_text().strip() if f.exists() else None


def claim(m: Members, i: int, uid: str) -> None:
    """Member i now belongs to the HCP `uid`; an earlier, deleted HCP's member is stopped and wiped."""
    if owner(m, i) == uid:
        return
    pid = m.pids / f"{m.prefix}-{i}.pid"
    if pid.exists():
        procs.stop_pid(int(pid.read_text()))
        pid.unlink()
    if m.data(i).exists():
        for child in m.data(i).iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    m.init_log(i).parent.mkdir(parents=True, exist_ok=True)
    m.init_log(i).write_text("")
    (m.root / f"etcd-{i}" / "owner").write_text(uid)
