"""Brings the whole sandbox up and down: two management clusters, hosted etcd, S3."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.sandbox import hosted_etcd, install, procs, seed
from tests.sandbox.cluster import Cluster, crd_snapshot
from tests.sandbox.config import SandboxConfig, sandbox_bin
from tests.sandbox.hosted_etcd import HostedEtcd
from tests.sandbox.s3 import S3Server
from tests.sandbox.s3_minio import start_minio_s3, to_env
from tests.sandbox.twin import launch


@dataclass
class Sandbox:
    cfg: SandboxConfig
    bin: Path
    clusters: dict[str, Cluster]
    etcd: HostedEtcd
    env: dict[str, str]
    fleet: list[HostedEtcd] = field(default_factory=list)  # the hosted etcd of fleet1, fleet2, ...

    @property
    def kubeconfig(self) -> Path:
        return self.cfg.kubeconfig

    @property
    def source(self) -> Cluster:
        return self.clusters["source"]

    @property
    def destination(self) -> Cluster:
        return self.clusters["destination"]


def down(cfg: SandboxConfig, keep_logs: bool = False) -> list[str]:
    stopped = procs.stop_all(cfg.pids)
    hosted_etcd.remove_mountpoints(cfg.state)
    if cfg.state.exists():
        if keep_logs:
            for p in cfg.state.iterdir():
                if p.name != "logs":
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
        else:
            shutil.rmtree(cfg.state)
    return stopped


def up(cfg: SandboxConfig) -> Sandbox:
    down(cfg)
    t0 = time.monotonic()
    bin_ = sandbox_bin()
    cfg.state.mkdir(parents=True)
    cfg.logs.mkdir()
    _podbin(cfg, bin_)
    mark = _timeline(cfg.logs / "startup.log", t0)
    clusters = {name: Cluster(name, ports, cfg.state / name, cfg, bin_) for name, ports in cfg.clusters.items()}
    etcd = HostedEtcd(cfg, bin_)
    fleet = _fleet_etcd(cfg, bin_)
    crds = crd_snapshot(bin_)
    cached = crds.exists()
    try:
        for c in clusters.values():
            c.make_pki()
            c.start_etcd(seed=crds if cached else None)
        launch.start_cloud(cfg)
        etcd.make_pki()
        for e in (etcd, *fleet):
            e.start()
        s3 = _start_s3(cfg)
        for c in clusters.values():
            c.start_apiserver()
        mark("etcd, cloud twin, hosted etcd, S3 and apiservers started")

        def seed_hosted_etcd() -> None:
            procs.wait_for("hosted etcd", etcd.healthy, 60, cfg.logs / "hosted-etcd-0.log")
            etcd.seed_data(cfg.etcd_mb)
            for e in fleet:  # a few keys each: they are there to be backed up side by side
                procs.wait_for(f"{e.proc}", e.healthy, 60, cfg.logs / f"{e.proc}-0.log")
                e.seed_data(1)
            mark("hosted etcd seeded")

        def prepare(c: Cluster) -> None:
            procs.wait_for(f"{c.name} kube-apiserver", c.ready, 90, c.log("apiserver"))
            mark(f"{c.name}: kube-apiserver ready")
            if cached:
                c.crds_established()
            else:  # before anything else writes to it, so the cache holds the CRDs and nothing more
                c.install_crds()
                if c.name == "source":
                    c.save_etcd(crds)
            mark(f"{c.name}: CRDs established")
            c.start_controller_manager()
            nodes = _start_nodes(c, etcd, cfg, fleet)
            for node in nodes:
                procs.wait_for(f"{c.name} node {node}", lambda n=node: c.node_ready(n), 60, c.log(f"kwok-{node}"))
            mark(f"{c.name}: nodes ready")

        def start_minio() -> S3Server:
            server = _start_minio(cfg, s3)
            mark("MinIO ready")
            return server

        # Independent tracks at once: the seeding of the hosted etcd, each cluster's CRDs and nodes, MinIO.
        with ThreadPoolExecutor(2 + len(clusters)) as pool:
            minio = pool.submit(start_minio)
            tracks = [pool.submit(seed_hosted_etcd), *(pool.submit(prepare, c) for c in clusters.values()), minio]
            for t in tracks:
                t.result()
        _write_kubeconfig(cfg, clusters)
        _seed_source(clusters["source"], cfg, mark)
        for name in cfg.fleet:
            _seed_fleet_hc(clusters["source"], cfg, name)
        if cfg.fleet:
            mark(f"{len(cfg.fleet)} more hosted clusters seeded")
        # HyperShift's install on the destination: its operator and ExternalDNS (what restore and
        # migrate check first), and the priority classes the control plane's pods need.
        clusters["destination"].kubectl().apply(
            [*seed.priority_classes(), *install.operator(seed.dns_owner("destination"))]
        )
        mark("source seeded")
        procs.wait_for("cloud twin", lambda: launch.cloud_ready(cfg), 30, cfg.logs / "cloud-twin.log")
        for c in clusters.values():  # the HyperShift twin of each management cluster
            launch.start_twin(cfg, c, bin_, s3.ca_bundle, etcd)
        for c in clusters.values():
            procs.wait_for(
                f"{c.name} twin", lambda c=c: launch.twin_up(cfg, c.name), 30, cfg.logs / f"{c.name}-twin.log"
            )
        # Its first reconcile adds the CAPI managers (T2): a test must not see them appear mid-way.
        # A thousand Machines (`make bench`) queue a thousand reconciles beside the HC's: a while more.
        settle = 60 + cfg.nodepools * cfg.machines // 5
        procs.wait_for("source twin's first reconcile", lambda: _settled(clusters["source"]), settle,
                       cfg.logs / "source-twin.log")  # fmt: skip
        mark("twins settled")
        k = clusters["destination"].kubectl()  # up long since: this only makes sure
        k.run("wait", "--for=condition=Available", "deployment", "--all", "-n", "hypershift", "--timeout=60s")
        env = _write_env(cfg, bin_, s3, minio.result())
    except BaseException:
        procs.stop_all(cfg.pids)
        hosted_etcd.remove_mountpoints(cfg.state)
        raise
    (cfg.state / "config").write_text(_topology(cfg))
    (cfg.state / "ready").write_text(f"{time.monotonic() - t0:.1f}\n")
    return Sandbox(cfg, bin_, clusters, etcd, env, fleet)


def _fleet_etcd(cfg: SandboxConfig, bin_: Path) -> list[HostedEtcd]:
    return [HostedEtcd(cfg, bin_, k) for k in range(1, cfg.hcs)]


def _timeline(log: Path, t0: float) -> Callable[[str], None]:
    """Where start-up spends its time, kept in the logs: the warm start is meant to stay under a minute."""

    def mark(what: str) -> None:
        with log.open("a") as f:
            f.write(f"{time.monotonic() - t0:6.1f}s  {what}\n")

    return mark


def _settled(source: Cluster) -> bool:
    """Every seeded HC's control-plane namespace holds the twin's CAPI managers, finalizer and all."""
    for ns in ("clusters-example", "clusters-bystander", *(f"clusters-{n}" for n in source.cfg.fleet)):
        out = source.kubectl().run(
            "get", "deployments", "cluster-api", "capi-provider", "-n", ns, "-o", "json", check=False
        )
        items = json.loads(out or "{}").get("items", [])
        if len(items) < 2 or not all(d["metadata"].get("finalizers") for d in items):
            return False
    return True


def _podbin(cfg: SandboxConfig, bin_: Path) -> None:
    """What an etcd container has on PATH besides the usual system tools."""
    podbin = cfg.state / "podbin"
    podbin.mkdir()
    for tool in ("etcdctl", "etcdutl"):
        (podbin / tool).symlink_to(bin_ / tool)


def _start_s3(cfg: SandboxConfig) -> S3Server:
    from tests.sandbox.s3 import start_s3

    # It keeps its pid and log beside the others: state/pids/s3.pid, state/logs/s3.log.
    return start_s3(cfg.state, port=cfg.s3_port, bucket=cfg.bucket, https=True)


def _start_minio(cfg: SandboxConfig, s3: S3Server) -> S3Server:
    """The second S3 server, HTTPS with a certificate of SeaweedFS's CA, which the etcd init
    containers and the tool already trust; a bucket of the same name."""
    assert s3.ca_bundle is not None
    ca = (s3.ca_bundle, s3.ca_bundle.with_suffix(".key"))
    return start_minio_s3(cfg.state, cfg.minio_port, cfg.bucket, ca=ca)


def _start_nodes(c: Cluster, etcd: HostedEtcd, cfg: SandboxConfig, fleet: list[HostedEtcd]) -> list[str]:
    """Each node of `c` with its kwok; returns their names."""
    c.create_node(seed.GENERAL_NODE)
    c.start_kwok(seed.GENERAL_NODE, c.ports.kwok_base)
    nodes = [seed.GENERAL_NODE]
    for i in range(cfg.etcd_members):
        node = seed.etcd_node(i)
        c.create_node(node)
        if c.name == "source":
            c.start_kwok(node, c.ports.kwok_node(i), wrap=etcd.pod_wrapper(i))
        else:  # where the twin puts the destination's etcd pods once it restored their members (T10)
            c.start_kwok(node, c.ports.kwok_node(i), wrap=etcd.pod_wrapper(i, "destination"),
                         init_log=etcd.dest_dir(i) / "etcd-init.log")  # fmt: skip
        nodes.append(node)
    if c.name == "source":  # the other HCs' etcd members, each on a node of its own
        for e in fleet:
            for i in range(cfg.etcd_members):
                node = seed.etcd_node(i, f"fleet{e.hc}")
                c.create_node(node)
                c.start_kwok(node, c.ports.kwok_node(i, e.hc), wrap=e.pod_wrapper(i))
                nodes.append(node)
    return nodes


def _write_kubeconfig(cfg: SandboxConfig, clusters: dict[str, Cluster]) -> None:
    entries = [c.kubeconfig_entries() for c in clusters.values()]
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [e[0] for e in entries],
        "users": [e[1] for e in entries],
        "contexts": [e[2] for e in entries],
        "current-context": "source",
    }
    cfg.kubeconfig.write_text(yaml.safe_dump(doc))
    cfg.kubeconfig.chmod(0o600)


def _seed_source(src: Cluster, cfg: SandboxConfig, mark: Callable[[str], None]) -> None:
    k = src.kubectl()
    ns, name = cfg.hc_namespace, cfg.hc_name
    hcp_ns = f"{ns}-{name}"
    k.apply([seed.namespace(ns), seed.namespace(hcp_ns), seed.namespace(f"{ns}-bystander"),
             *seed.priority_classes(), *install.operator(seed.dns_owner("source")), *seed.service_accounts(hcp_ns)])  # fmt: skip

    hc, hc_objs = seed.hosted_cluster(name, ns, cfg, with_refs=True)
    pools = [seed.nodepool(hc, seed.nodepool_name(name, i), "machineconfig-extra" if i == 0 else None, cfg.machines)
             for i in range(cfg.nodepools)]  # fmt: skip
    by, by_objs = seed.hosted_cluster("bystander", ns, cfg, with_refs=False)
    by_pool = seed.nodepool(by, "bystander-pool", None)
    extra = [
        seed.configmap("machineconfig-extra", ns, {"config": "kind: MachineConfig\n"}),
        seed.secret("unrelated-secret", ns, {"token": "not-ours"}),
    ]
    k.apply([*hc_objs, *by_objs, *extra, hc, by, *pools, by_pool])
    k.apply(seed.hcp_namespace_objects(hc, pools, cfg))
    by_hcp = seed.hcp_namespace_objects(by, [], cfg)[0]
    k.apply([by_hcp])
    hcp_uid = k.get("hostedcontrolplane.hypershift.openshift.io", name, "-n", hcp_ns)["metadata"]["uid"]
    k.apply(seed.workloads(hcp_ns, hcp_uid, cfg))
    mark("source objects applied")
    _bind_etcd_pods(src, hcp_ns, cfg)
    mark("etcd pods bound")
    k.run("wait", "--for=condition=Ready", "pod", "--all", "-n", hcp_ns, "--timeout=90s")
    k.run("wait", "--for=condition=Available", "deployment", "--all", "-n", "hypershift", "--timeout=60s")


def _seed_fleet_hc(src: Cluster, cfg: SandboxConfig, name: str) -> None:
    """One more HC with a control plane of its own, as `example` but without the extras."""
    k8s, ns = src.kubectl(), cfg.hc_namespace
    hcp_ns = f"{ns}-{name}"
    k8s.apply([seed.namespace(hcp_ns), *seed.service_accounts(hcp_ns)])
    hc, hc_objs = seed.hosted_cluster(name, ns, cfg, with_refs=False)
    pools = [seed.nodepool(hc, f"{name}-pool", None)]
    k8s.apply([*hc_objs, hc, *pools])
    k8s.apply(seed.hcp_namespace_objects(hc, pools, cfg))
    hcp_uid = k8s.get("hostedcontrolplane.hypershift.openshift.io", name, "-n", hcp_ns)["metadata"]["uid"]
    k8s.apply(seed.workloads(hcp_ns, hcp_uid, cfg))
    _bind_etcd_pods(src, hcp_ns, cfg, name)
    k8s.run("wait", "--for=condition=Ready", "pod", "--all", "-n", hcp_ns, "--timeout=90s")


def _bind_etcd_pods(src: Cluster, hcp_ns: str, cfg: SandboxConfig, hc: str = "") -> None:
    """No scheduler runs: put each etcd pod on the node whose kwok maps its paths."""
    k = src.kubectl()
    for i in range(cfg.etcd_members):
        pod = f"etcd-{i}"
        procs.wait_for(f"pod {pod}", lambda p=pod: bool(k.get("pod", p, "-n", hcp_ns)), 60,
                       src.log("controller-manager"))  # fmt: skip
        k.run("create", "--raw", f"/api/v1/namespaces/{hcp_ns}/pods/{pod}/binding", "-f", "-",
              input=seed.binding(pod, seed.etcd_node(i, hc)))  # fmt: skip


def _write_env(cfg: SandboxConfig, bin_: Path, s3: S3Server, minio: S3Server) -> dict[str, str]:
    env = {
        "KUBECONFIG": str(cfg.kubeconfig),
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_ENDPOINT_URL_S3": s3.endpoint_url,
        "AWS_DEFAULT_REGION": s3.region,
        "AWS_CA_BUNDLE": str(s3.ca_bundle),
        "HCMIGRATE_SANDBOX_S3_HTTP": s3.plain_url,
        "HCMIGRATE_BUCKET": cfg.bucket,
        "HCMIGRATE_SANDBOX_BIN": str(bin_),
        "SANDBOX_AWS_ENDPOINT": launch.aws_endpoint(cfg),
        **to_env(minio),
    }
    cfg.env_file.write_text("".join(f"export {k}='{v}'\n" for k, v in env.items()))
    cfg.env_file.chmod(0o600)
    return env


def attach(cfg: SandboxConfig) -> Sandbox | None:
    """A sandbox already up (from `make sandbox`) with this topology, or None."""
    if not (cfg.state / "ready").exists() or not cfg.env_file.exists():
        return None
    saved = cfg.state / "config"
    if not saved.exists() or saved.read_text() != _topology(cfg):
        return None
    env = {}
    for line in cfg.env_file.read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value.strip("'")
    bin_ = Path(env["HCMIGRATE_SANDBOX_BIN"])
    clusters = {name: Cluster(name, ports, cfg.state / name, cfg, bin_) for name, ports in cfg.clusters.items()}
    return Sandbox(cfg, bin_, clusters, HostedEtcd(cfg, bin_), env, _fleet_etcd(cfg, bin_))


def _topology(cfg: SandboxConfig) -> str:
    return f"ha={cfg.ha} nodepools={cfg.nodepools} machines={cfg.machines} etcd_mb={cfg.etcd_mb} hcs={cfg.hcs}\n"
