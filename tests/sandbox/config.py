"""Where the sandbox lives and which ports it pins, from the SANDBOX_* knobs."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
# The upstream CRDs and rendered objects every test builds on; HCMIGRATE_HYPERSHIFT_DIR points elsewhere.
HYPERSHIFT = Path(os.environ.get("HCMIGRATE_HYPERSHIFT_DIR") or SHARED / "hypershift")
CRDS = HYPERSHIFT / "crds"
FIXTURES = HYPERSHIFT / "fixtures"
OPENSHIFT_CRDS = HYPERSHIFT.parent / "openshift" / "crds"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


@dataclass(frozen=True)
class ClusterPorts:
    etcd: int
    apiserver: int
    controller_manager: int
    kwok_base: int  # general node; etcd member nodes take kwok_base + 1 + i

    @property
    def etcd_peer(self) -> int:
        return self.etcd + 1

    def kwok_node(self, i: int, hc: int = 0) -> int:
        """The kwok of etcd member i's node (the source's HC `hc` >= 1: the fleet's members)."""
        return self.kwok_base + 10 * hc + 1 + i


@dataclass(frozen=True)
class SandboxConfig:
    ha: bool = False
    nodepools: int = 1
    machines: int = 2  # per NodePool: 100 NodePools of 10 make the 1,000 Machines of `make bench`
    etcd_mb: int = 64
    # Several sandboxes can run side by side, each in its own slot (ports +100, own state).
    slot: int = 0
    bucket: str = "hcmigrate-sandbox"
    hc_name: str = "example"
    hc_namespace: str = "clusters"
    # Hosted clusters with a control plane of their own (etcd pods, hosted etcd): `example`, then
    # `fleet1`, `fleet2`, ... (names that share no prefix with `example`'s secrets).
    hcs: int = 1

    @classmethod
    def from_env(cls) -> SandboxConfig:
        return cls(
            ha=os.environ.get("SANDBOX_HA", "") in ("1", "true", "yes"),
            nodepools=max(1, _int_env("SANDBOX_NODEPOOLS", 1)),
            machines=max(1, _int_env("SANDBOX_MACHINES", 2)),
            etcd_mb=max(0, _int_env("SANDBOX_ETCD_MB", 64)),
            # 0-9; slot N + 10 is N's spare, where a test session starts its next sandbox ahead;
            # a second test worker of slot N runs on N + 20 (spare N + 30): see tests/conftest.py
            slot=max(0, min(39, _int_env("SANDBOX_SLOT", 0))),
            hcs=max(1, min(9, _int_env("SANDBOX_HCS", 1))),
        )

    @property
    def twin_resync(self) -> float:
        """Seconds between the twins' resyncs of every object they watch. Five keeps a small sandbox
        quick to notice what no watch event says; CAPA's own default (--sync-period) is ten
        minutes, and at 1,000 Machines a 5 s resync keeps two cores busy with nothing to do
        (the source twin, its apiserver and the cloud twin, measured at 1.9 cores idle)."""
        return 5.0 if self.nodepools * self.machines < 100 else 600.0

    @property
    def fleet(self) -> list[str]:
        """The HCs seeded beside `example`, each with its own control plane."""
        return [f"fleet{k}" for k in range(1, self.hcs)]

    @property
    def state(self) -> Path:
        return REPO / (".sandbox" if self.slot == 0 else f".sandbox-{self.slot}")

    @property
    def s3_port(self) -> int:
        return 18333 + 100 * self.slot

    @property
    def clusters(self) -> dict[str, ClusterPorts]:
        o = 100 * self.slot
        return {
            "source": ClusterPorts(12379 + o, 16443 + o, 12257 + o, 11250 + o),
            "destination": ClusterPorts(22379 + o, 26443 + o, 22257 + o, 21250 + o),
        }

    @property
    def minio_port(self) -> int:
        """MinIO's S3 API, beside SeaweedFS's ports (s3_port .. s3_port + 5)."""
        return self.s3_port + 6

    @property
    def aws_port(self) -> int:
        """The cloud twin (moto in server mode)."""
        return 14566 + 100 * self.slot

    def member_ip(self, i: int, cluster: str = "source", hc: int = 0) -> str:
        """Each hosted etcd member listens on its own loopback address, port 2379; the
        destination's members (run by the twin after a restore) on others, and the members of
        the source's other HCs (`hc` >= 1) on others again."""
        if hc:
            return f"127.0.{1 + self.slot}.{20 + 10 * hc + i}"
        return f"127.0.{1 + self.slot}.{i + (1 if cluster == 'source' else 11)}"

    @property
    def etcd_members(self) -> int:
        return 3 if self.ha else 1

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    @property
    def env_file(self) -> Path:
        return self.state / "env"


def _build_bins(*args: str) -> Path:
    out = subprocess.run(
        ["bash", str(REPO / "tests" / "sandbox" / "build-bins.sh"), *args],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout.strip()
    return Path(out.splitlines()[-1])


def sandbox_bin() -> Path:
    """The cached cluster binaries; builds them (and MinIO) on first use."""
    return _build_bins()


def minio_bin() -> Path:
    """The cached MinIO server binary; builds it on first use."""
    return _build_bins("minio")
