"""How the harness starts the twins: the cloud twin (moto in server mode) once per sandbox,
then one controller process per management cluster, each with a pid file and a log."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from tests.sandbox import procs, seed
from tests.sandbox.config import REPO, SandboxConfig


def aws_endpoint(cfg: SandboxConfig) -> str:
    return f"http://127.0.0.1:{cfg.aws_port}"


def start_cloud(cfg: SandboxConfig) -> str:
    moto = Path(sys.executable).with_name("moto_server")
    procs.start("cloud-twin", [str(moto), "-H", "127.0.0.1", "-p", str(cfg.aws_port)],
                pids=cfg.pids, logs=cfg.logs)  # fmt: skip
    return aws_endpoint(cfg)


def cloud_ready(cfg: SandboxConfig) -> bool:
    with urllib.request.urlopen(aws_endpoint(cfg) + "/moto-api/", timeout=2) as r:
        return r.status == 200


def start_twin(cfg: SandboxConfig, cluster, bin_: Path, s3_ca: Path | None, etcd) -> None:
    """The HyperShift twin of `cluster`; on the destination it runs the restored etcd members."""
    argv = [
        sys.executable, "-m", "tests.sandbox.twin", f"--server={cluster.server}", f"--pki={cluster.dir / 'pki'}",
        f"--aws-endpoint={aws_endpoint(cfg)}", f"--pids={cfg.pids}", f"--logs={cfg.logs}", f"--bin={bin_}",
        f"--dns-owner={seed.dns_owner(cluster.name)}", f"--dns-log={cfg.logs / 'dns.jsonl'}",
        f"--resync={cfg.twin_resync:g}",
    ]  # fmt: skip
    if cluster.name == "destination":
        ips = ",".join(cfg.member_ip(i, "destination") for i in range(3))
        argv += [f"--members-root={etcd.dir / 'destination'}", f"--member-ips={ips}", f"--etcd-tls={etcd.tls}",
                 "--prefix=destination-hosted-etcd"]  # fmt: skip
        if s3_ca is not None:
            argv.append(f"--s3-ca={s3_ca}")
    procs.start(f"{cluster.name}-twin", argv, pids=cfg.pids, logs=cfg.logs, cwd=REPO,
                env={"PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"})  # fmt: skip


def twin_up(cfg: SandboxConfig, name: str) -> bool:
    log = cfg.logs / f"{name}-twin.log"
    return log.exists() and "twin up" in log.read_text()
