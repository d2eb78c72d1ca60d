"""One management cluster: etcd, kube-apiserver, kube-controller-manager, kwok nodes."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import ssl
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.sandbox import pki, procs
from tests.sandbox.config import CRDS, OPENSHIFT_CRDS, ClusterPorts, SandboxConfig
from tests.sandbox.kubectl import Kubectl

SERVICE_CIDR = "10.96.0.0/16"
TWIN_CRDS = Path(__file__).parent / "twin" / "crds"


def crd_files() -> list[Path]:
    # OpenShift's Route: the control-plane operator publishes services through it (T21).
    return [*sorted(CRDS.glob("*.yaml")), *sorted(OPENSHIFT_CRDS.glob("*.yaml")), *sorted(TWIN_CRDS.glob("*.yaml"))]


def crd_snapshot(bin_: Path) -> Path:
    """Where a management etcd with every CRD installed is cached, beside the binaries: creating
    the CRDs (2 MB of schemas and CEL rules) was most of a warm start; an apiserver that finds
    them in etcd is ready in seconds. Keyed by the CRDs and the binaries' versions."""
    h = hashlib.sha256(bin_.name.encode())
    for f in crd_files():
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return bin_.parent / f"management-etcd-crds-{h.hexdigest()[:16]}.db"


@dataclass
class Cluster:
    name: str
    ports: ClusterPorts
    dir: Path
    cfg: SandboxConfig
    bin: Path

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.dir / "admin.kubeconfig"

    def kubectl(self) -> Kubectl:
        return Kubectl(self.bin / "kubectl", self.admin_kubeconfig, self.name)

    # -- pki -------------------------------------------------------------------

    def _pair(self, name: str) -> tuple[Path, Path]:
        return self.dir / "pki" / f"{name}.crt", self.dir / "pki" / f"{name}.key"

    @property
    def ca(self) -> tuple[Path, Path]:
        return self._pair("ca")

    @property
    def admin(self) -> tuple[Path, Path]:
        return self._pair("admin")

    def make_pki(self) -> None:
        d = self.dir / "pki"
        pki.make_ca(d, "ca")
        pki.make_cert(
            d, "apiserver", self.ca, cn="kube-apiserver",
            dns=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"),
            ips=("127.0.0.1", "10.96.0.1"),
        )  # fmt: skip
        pki.make_cert(d, "admin", self.ca, cn="admin", org="system:masters")
        pki.make_cert(d, "kwok", self.ca, cn="kwok", ips=("127.0.0.1",))
        pki.make_keypair(d, "sa")
        self.admin_kubeconfig.write_text(yaml.safe_dump(self.kubeconfig_doc()))

    def kubeconfig_entries(self) -> tuple[dict, dict, dict]:
        def b64(p: Path) -> str:
            return base64.b64encode(p.read_bytes()).decode()

        cluster = {
            "name": self.name,
            "cluster": {"server": self.server, "certificate-authority-data": b64(self.ca[0])},
        }
        user = {
            "name": f"{self.name}-admin",
            "user": {
                "client-certificate-data": b64(self.admin[0]),
                "client-key-data": b64(self.admin[1]),
            },
        }
        context = {"name": self.name, "context": {"cluster": self.name, "user": f"{self.name}-admin"}}
        return cluster, user, context

    def kubeconfig_doc(self) -> dict:
        cluster, user, context = self.kubeconfig_entries()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [cluster],
            "users": [user],
            "contexts": [context],
            "current-context": self.name,
        }

    # -- processes ---------------------------------------------------------------

    def _start(self, what: str, argv: list[str], **kw: object) -> None:
        procs.start(f"{self.name}-{what}", argv, pids=self.cfg.pids, logs=self.cfg.logs, **kw)

    def log(self, what: str) -> Path:
        return self.cfg.logs / f"{self.name}-{what}.log"

    def start_etcd(self, seed: Path | None = None) -> None:
        """Its etcd, starting from the snapshot `seed` when given."""
        p, peer = self.ports.etcd, self.ports.etcd_peer
        member = ["--name=default", f"--initial-cluster=default=http://127.0.0.1:{peer}",
                  f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}"]  # fmt: skip
        if seed is not None:
            subprocess.run([str(self.bin / "etcdutl"), "snapshot", "restore", str(seed),
                            f"--data-dir={self.dir / 'etcd'}", *member],
                           check=True, capture_output=True)  # fmt: skip
        self._start("etcd", [
            str(self.bin / "etcd"), *member, f"--data-dir={self.dir / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{p}",
            f"--advertise-client-urls=http://127.0.0.1:{p}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync", "--quota-backend-bytes=4294967296", "--log-level=warn",
        ])  # fmt: skip

    def save_etcd(self, to: Path) -> None:
        """A snapshot of its etcd at `to`, written whole or not at all (slots may race to it)."""
        part = to.with_name(f"{to.name}.{os.getpid()}.{self.name}.part")
        subprocess.run([str(self.bin / "etcdctl"), f"--endpoints=http://127.0.0.1:{self.ports.etcd}",
                        "snapshot", "save", str(part)], check=True, capture_output=True)  # fmt: skip
        part.replace(to)

    def start_apiserver(self) -> None:
        pk = self.dir / "pki"
        self._start("apiserver", [
            str(self.bin / "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{self.ports.etcd}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.ports.apiserver}",
            f"--tls-cert-file={pk / 'apiserver.crt'}", f"--tls-private-key-file={pk / 'apiserver.key'}",
            f"--client-ca-file={self.ca[0]}",
            f"--service-account-key-file={pk / 'sa.pub'}",
            f"--service-account-signing-key-file={pk / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC", "--allow-privileged=true",
            # kwok nodes report their name as Hostname, which nothing resolves.
            "--kubelet-preferred-address-types=InternalIP",
            f"--kubelet-client-certificate={self.admin[0]}",
            f"--kubelet-client-key={self.admin[1]}",
            "--profiling=false", "--enable-priority-and-fairness=false", "--v=1",
        ])  # fmt: skip

    def start_controller_manager(self) -> None:
        pk = self.dir / "pki"
        self._start("controller-manager", [
            str(self.bin / "kube-controller-manager"),
            f"--kubeconfig={self.admin_kubeconfig}",
            f"--authentication-kubeconfig={self.admin_kubeconfig}",
            f"--authorization-kubeconfig={self.admin_kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={self.ports.controller_manager}",
            f"--service-account-private-key-file={pk / 'sa.key'}",
            f"--root-ca-file={self.ca[0]}",
            f"--cluster-signing-cert-file={self.ca[0]}", f"--cluster-signing-key-file={self.ca[1]}",
            "--leader-elect=false", "--use-service-account-credentials=false",
            "--concurrent-namespace-syncs=5", "--v=1",
            # kwok heartbeats can lag on a busy 2-core machine; a node marked NotReady would
            # mark its pods NotReady for good (kwok does not set pod readiness again).
            "--node-monitor-grace-period=10m",
        ])  # fmt: skip

    def start_kwok(self, node: str, port: int, wrap: list[str] | None = None, init_log: Path | None = None) -> None:
        """kwok as the kubelet of one node; exec into its pods runs a local process, and
        `kubectl logs -c etcd-init` of its pods reads `init_log` (written by the twin)."""
        conf = self.dir / f"kwok-{node}.yaml"
        text = (
            "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterExec\n"
            "metadata: {name: local}\nspec:\n  execs:\n  - local: {workDir: /}\n"
        )
        if init_log is not None:
            init_log.touch()
            text += (
                "---\napiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\nmetadata: {name: etcd-init}\n"
                f"spec:\n  logs:\n  - containers: [etcd-init]\n    logsFile: {init_log}\n"
            )
        conf.write_text(text)
        argv = [
            str(self.bin / "kwok"), f"--config={conf}",
            f"--kubeconfig={self.admin_kubeconfig}", f"--manage-single-node={node}",
            "--node-ip=127.0.0.1", f"--node-port={port}", "--node-lease-duration-seconds=40",
            f"--server-address=127.0.0.1:{port}",
            f"--tls-cert-file={self._pair('kwok')[0]}", f"--tls-private-key-file={self._pair('kwok')[1]}",
        ]  # fmt: skip
        podbin = self.cfg.state / "podbin"
        path = f"{podbin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        self._start(f"kwok-{node}", [*(wrap or []), *argv], env={"PATH": path})

    # -- readiness ---------------------------------------------------------------

    def ready(self) -> bool:
        ctx = ssl.create_default_context(cafile=str(self.ca[0]))
        ctx.load_cert_chain(str(self.admin[0]), str(self.admin[1]))
        with urllib.request.urlopen(f"{self.server}/readyz", context=ctx, timeout=2) as r:
            return r.status == 200 and r.read() == b"ok"

    def install_crds(self) -> None:
        k = self.kubectl()
        docs = []
        for f in crd_files():
            docs.extend(d for d in yaml.safe_load_all(f.read_text()) if d)
        # kubectl's own schema check rejects the Route CRD's `enum: [null]`; the apiserver takes it.
        payload = json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})
        k.run("apply", "--server-side", "--field-manager=sandbox-seed", "--force-conflicts", "--validate=false",
              "-f", "-", input=payload)  # fmt: skip
        self.crds_established()

    def crds_established(self) -> None:
        self.kubectl().run("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")

    def create_node(self, node: str) -> None:
        self.kubectl().apply([{
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": node,
                "labels": {"kubernetes.io/hostname": node, "type": "kwok"},
                "annotations": {"kwok.x-k8s.io/node": "fake"},
            },
        }])  # fmt: skip

    def node_ready(self, node: str) -> bool:
        conds = self.kubectl().get("node", node)["status"].get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)
