"""The hosted cluster's real etcd, and the file system its pods' exec'd commands see.

Each etcd pod sits on its own kwok node, and that node's kwok runs in a private mount
namespace where the member's TLS and data directories are bind-mounted on the paths of a
real HyperShift etcd container, and /etc/hosts points `localhost` at the member's own
loopback address. So the tool's exact production command line works unchanged.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from tests.sandbox import pki, procs
from tests.sandbox.config import SandboxConfig

SEED_KEY = "/registry/hcmigrate-sandbox/seed"


@dataclass
class HostedEtcd:
    cfg: SandboxConfig
    bin: Path
    hc: int = 0  # 0: example's; k: the etcd of the source's HC fleet<k> (SANDBOX_HCS)

    @property
    def dir(self) -> Path:
        return self.cfg.state / ("hosted-etcd" if not self.hc else f"hosted-etcd-fleet{self.hc}")

    @property
    def tls(self) -> Path:  # one PKI for every hosted etcd: its server certificate names them all
        return self.cfg.state / "hosted-etcd" / "tls"

    def ip(self, i: int, cluster: str = "source") -> str:
        return self.cfg.member_ip(i, cluster, self.hc if cluster == "source" else 0)

    @property
    def proc(self) -> str:
        """The name its members' pid and log files start with."""
        return "hosted-etcd" if not self.hc else f"hosted-etcd-fleet{self.hc}"

    def data_dir(self, i: int) -> Path:
        return self.dir / f"etcd-{i}" / "data"

    @property
    def client_cert(self) -> tuple[Path, Path]:
        c = self.tls / "client"
        return c / "etcd-client.crt", c / "etcd-client.key"

    @property
    def ca_cert(self) -> Path:
        return self.tls / "etcd-ca" / "ca.crt"

    def make_pki(self) -> None:
        ca_dir = self.tls / "etcd-ca"
        ca = pki.make_ca(ca_dir, "ca")
        ips = (*tuple(self.cfg.member_ip(i, c) for c in ("source", "destination") for i in range(3)),
               *tuple(self.cfg.member_ip(i, "source", k) for k in range(1, self.cfg.hcs) for i in range(3)),
               "127.0.0.1")  # fmt: skip
        pki.make_cert(self.tls / "server", "server", ca, cn="etcd-server", dns=("localhost",), ips=ips)
        pki.make_cert(self.tls / "client", "etcd-client", ca, cn="etcd-client")
        # A real container never sees the CA key.
        ca[1].unlink()
        (ca_dir / "ca.srl").unlink(missing_ok=True)
        for f in self.tls.rglob("*"):
            if f.is_file():
                f.chmod(0o644)

    def start(self) -> None:
        n = self.cfg.etcd_members
        cluster = ",".join(f"etcd-{i}=http://{self.ip(i)}:2380" for i in range(n))
        srv = self.tls / "server"
        for i in range(n):
            ip = self.ip(i)
            self.data_dir(i).mkdir(parents=True, exist_ok=True)
            self.data_dir(i).chmod(0o700)
            procs.start(f"{self.proc}-{i}", [
                str(self.bin / "etcd"), f"--name=etcd-{i}", f"--data-dir={self.data_dir(i)}",
                f"--listen-client-urls=https://{ip}:2379", f"--advertise-client-urls=https://{ip}:2379",
                f"--listen-peer-urls=http://{ip}:2380", f"--initial-advertise-peer-urls=http://{ip}:2380",
                f"--initial-cluster={cluster}", "--initial-cluster-state=new",
                f"--cert-file={srv / 'server.crt'}", f"--key-file={srv / 'server.key'}",
                f"--trusted-ca-file={self.ca_cert}", "--client-cert-auth",
                "--quota-backend-bytes=8589934592", "--max-request-bytes=4194304",
                "--unsafe-no-fsync", "--log-level=warn",
            ], pids=self.cfg.pids, logs=self.cfg.logs)  # fmt: skip

    def _conn(self, i: int = 0) -> http.client.HTTPSConnection:
        ctx = ssl.create_default_context(cafile=str(self.ca_cert))
        ctx.load_cert_chain(*map(str, self.client_cert))
        return http.client.HTTPSConnection(self.ip(i), 2379, context=ctx, timeout=30)

    def call(self, path: str, body: dict, conn: http.client.HTTPSConnection | None = None) -> dict:
        """etcd's JSON gateway: good enough to seed and read keys without a Go client."""
        own = conn is None
        conn = conn or self._conn()
        try:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"etcd {path}: HTTP {resp.status}: {data[:200]!r}")
            return json.loads(data)
        finally:
            if own:
                conn.close()

    def healthy(self) -> bool:
        for i in range(self.cfg.etcd_members):
            self.call("/v3/kv/range", {"key": _b64(b"/health-probe")}, self._conn(i))
        return True

    def seed_data(self, megabytes: int) -> None:
        """Registry-shaped keys whose values add up to about `megabytes` MB."""
        value_size = 8192 if megabytes <= 256 else 65536
        count = max(1, megabytes * 1024 * 1024 // value_size)
        kinds = ["secrets", "configmaps", "pods", "deployments", "events", "leases"]
        errors: list[BaseException] = []

        # A transaction of puts per request: etcd takes up to 128 ops in one (--max-txn-ops), and
        # one request per key made seeding the longest step of a warm start.
        batch = max(1, min(128, (2 << 20) // value_size))
        batches = [range(b, min(b + batch, count)) for b in range(0, count, batch)]

        def worker(start: int) -> None:
            conn = self._conn(0)
            try:
                for keys in batches[start::4]:
                    puts = [{"request_put": {"key": _b64(self._seed_key(k, kinds).encode()),
                                             "value": _b64(os.urandom(value_size))}} for k in keys]  # fmt: skip
                    # Incompressible values, so the snapshot really is that large.
                    self.call("/v3/kv/txn", {"success": puts}, conn)
            except BaseException as e:
                errors.append(e)
            finally:
                conn.close()

        threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        marker = json.dumps({"keys": count, "value_size": value_size}).encode()
        self.call("/v3/kv/put", {"key": _b64(SEED_KEY.encode()), "value": _b64(marker)})

    @staticmethod
    def _seed_key(k: int, kinds: list[str]) -> str:
        return f"/registry/{kinds[k % len(kinds)]}/ns-{k % 97}/object-{k:07d}"

    def dest_dir(self, i: int) -> Path:
        """A destination member's directory: the twin restores `data` there (T10) and writes
        `etcd-init.log`, which that node's kwok serves as the init container's log."""
        return self.dir / "destination" / f"etcd-{i}"

    def pod_wrapper(self, i: int, cluster: str = "source") -> list[str]:
        """argv prefix that runs kwok in a mount namespace mapping the container's paths."""
        base = self.dir / f"etcd-{i}" if cluster == "source" else self.dest_dir(i)
        data = base / "data"
        data.mkdir(parents=True, exist_ok=True)
        data.chmod(0o700)
        hosts = base / "hosts"
        hosts.write_text(f"{self.ip(i, cluster)} localhost\n::1 ip6-localhost\n")
        scratch = base / "mnt"
        scratch.mkdir(exist_ok=True)
        # /etc and /var/lib get a private overlay first, so the mount points exist in this
        # namespace only: nothing on the host to create or remove, and no other slot's removal
        # of a host directory can detach these mounts.
        script = (
            'set -e; mount -t tmpfs tmpfs "$4"; '
            'for d in etc var/lib; do mkdir -p "$4/$d/u" "$4/$d/w"; '
            'mount -t overlay overlay -o "lowerdir=/$d,upperdir=$4/$d/u,workdir=$4/$d/w" "/$d"; done; '
            "mkdir -p /etc/etcd/tls /var/lib/data; "
            'mount --bind "$1" /etc/etcd/tls; mount --bind "$2" /var/lib/data; '
            'mount --bind "$3" /etc/hosts; shift 4; exec "$@"'
        )
        return [
            "unshare", "--mount", "--propagation", "private", "--",
            "sh", "-c", script, "sh", str(self.tls), str(data), str(hosts), str(scratch),
        ]  # fmt: skip


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def remove_mountpoints(state: Path) -> None:
    """Forgets the host mount points an older harness made. They are left in place: another
    sandbox (of any checkout) may still mount onto them, and removing a directory on the host
    detaches every mount on it in every namespace."""
    (state / "mountpoints").unlink(missing_ok=True)
