"""backup --all on a management cluster with several HCs (SANDBOX_HCS): each HC backed up by its
own run, two at a time; one whose etcd member is down ends with its own line and outcome while
the others complete, and every source ends as it began."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from tests.e2e.helpers import HC_KIND, HC_NS, NP_KIND, bystander, hcm, keys
from tests.sandbox import faults
from tests.sandbox.harness import Sandbox


def hc_state(sb: Sandbox, name: str) -> dict[str, Any]:
    """What backup may touch of one HC: its pause, its record, its pools', its control plane's replicas."""
    k = sb.source.kubectl()
    hc = k.get(HC_KIND, name, "-n", HC_NS)
    pools = [p for p in k.get(NP_KIND, "-n", HC_NS)["items"] if p["spec"]["clusterName"] == name]
    deps = k.get("deployments", "-n", f"{HC_NS}-{name}")["items"]
    return {
        "paused": hc["spec"].get("pausedUntil"),
        "annotations": hc["metadata"].get("annotations"),
        "pools": {p["metadata"]["name"]: p["spec"].get("pausedUntil") for p in pools},
        "replicas": {d["metadata"]["name"]: d["spec"]["replicas"] for d in deps},
    }


def test_backup_all_gives_each_hc_its_own_outcome(fleet_sandbox: Sandbox, tmp_path: Path) -> None:
    sb, prefix = fleet_sandbox, "fleet"
    names = ["example", *sb.cfg.fleet]
    assert len(names) >= 3
    before, others = {n: hc_state(sb, n) for n in names}, bystander(sb)
    # fleet1's etcd member is down, as after a crash: its process stopped, and its pod's readiness
    # probe failing (what the kubelet then reports; kwok does not probe).
    down = sb.cfg.fleet[0]
    pid = int((sb.cfg.pids / f"{sb.fleet[0].proc}-0.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        faults.kubelet_reports_ready(sb.source, f"{HC_NS}-{down}", "etcd-0", False)
        proc = hcm(sb, "-o", "json", "backup", "--all", "--parallel", "2", "--prefix", prefix,
                   "--dir", str(tmp_path / "bundles"))  # fmt: skip
    finally:
        os.kill(pid, signal.SIGCONT)
        faults.kubelet_reports_ready(sb.source, f"{HC_NS}-{down}", "etcd-0", True)
    summary = json.loads(proc.stdout)
    by = {r["hostedcluster"]: r for r in summary["results"]}
    print(f"\nbackup --all: {[(h, r['outcome'], r.get('api_down_seconds')) for h, r in by.items()]}")
    # bystander is an HC without a control plane in the sandbox: refused, like the one that is down.
    assert sorted(by) == sorted(f"{HC_NS}/{n}" for n in [*names, "bystander"])
    for name in names:
        if name != down:
            assert by[f"{HC_NS}/{name}"]["outcome"] == "SUCCEEDED", by[f"{HC_NS}/{name}"]
    failed = by[f"{HC_NS}/{down}"]
    assert failed["outcome"] == "REFUSED" and f"no Ready etcd pod in {HC_NS}-{down}" in failed["error"]
    assert f"[{HC_NS}/{down}] error: no Ready etcd pod in {HC_NS}-{down}" in proc.stderr
    assert summary["outcome"] == "REFUSED" and proc.returncode == 3, proc.stderr
    assert {n: hc_state(sb, n) for n in names} == before
    assert bystander(sb) == others
    manifests = [k for k in keys(sb, f"{prefix}/") if k.endswith("manifest.json")]
    assert sorted(m.split("/")[2] for m in manifests) == sorted(n for n in names if n != down)
    # Each HC's bundle in its own folder under --dir.
    assert len(list((tmp_path / "bundles").glob("*/manifest.json"))) == len(names) - 1
