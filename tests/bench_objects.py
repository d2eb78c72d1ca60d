"""`make bench` at 1,000 Machines: the object part of a backup, `restore --with-nodes --no-wait`,
and the hosted API's downtime with the runbook's order of steps, in a sandbox whose `example` HC
has BENCH_MACHINES Machines (BENCH_POOL_MACHINES per NodePool; 100 NodePools of 10 by default),
each with its MachineSet, MachineDeployment, AWSMachine(s), AWSMachineTemplate and user-data.

Each round runs the tool as it is (32 requests in flight) and as it was before session 8 (8), and
with BENCH_ONE_AT_A_TIME=1 with restore's creates made one at a time too
(tests/bench_stream.IN_FLIGHT_ENTRY), in turn, so that the machine's noise hits each; the bundle
goes up and comes back as one archive in each. The source's twin and the cloud twin are held
stopped (SIGSTOP) during each restore, which needs neither: after each backup's resume the source
twin looks up its 1,000 instances in the cloud twin, about 2.5 CPU-s of moto each, which kept moto
at 94% of a core through every restore of session 8's first run (the EC2 calls stay few, so
waiting for them to stop did not help). A real source does that on its own machines:

  objects         files in the bundle (each object one file)
  read objects    backup's "read objects" step: every object of the HC listed off the source
  write bundle    backup's "write bundle" step: the files rendered and written to --dir, the
                  archive uploaded, then the manifest
  object part     read objects + write bundle: the target is < 5 s
  API down        the tool's api_down_seconds (scale-down to scale-back of kube-apiserver); `runbook
                  order` adds the upload and the bundle, which the runbook does before the scale-back
  restore         wall seconds of `restore --with-nodes --no-wait` (interpreter start, preflight:
                  the bundle fetched and checked, the destination read; every create): target < 10 s
  preflight       its preflight; `creates` its create steps
  server CPU      CPU seconds the destination's kube-apiserver and etcd spent during that restore:
                  divided by the machine's cores, the least any client could take for those creates
  tool CPU        CPU seconds of the restore's own process, start-up included
  CPU probe       CPU seconds of a fixed piece of work just before the restore: how fast this
                  machine was then (the same work took 0.30 to 0.58 s on an idle machine)

BENCH_MACHINES=0 skips this part; BENCH_MACHINES=100 makes a quick run. The destination's HyperShift
twin is held stopped (SIGSTOP) meanwhile: `--no-wait` waits for nothing of it, and on 2 cores it
would adopt a thousand Machines through the cloud twin at about one a second, then take them away
again on each delete, inside the next run's figures. So the restored objects (restore strips their
finalizers) go with their namespaces between runs. The source's twin runs on: a backup needs it.
It adopts the seeded Machines through the cloud twin for some minutes after the start, so the
runs wait for the machine to settle first; its resync is CAPA's ten minutes at this size
(SandboxConfig.twin_resync). The load is printed beside the figures.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests import bench_stream as m
from tests.e2e.helpers import HC_NAME, HC_NS, HCP_NS, operator_stopped
from tests.sandbox.config import SandboxConfig
from tests.sandbox.harness import Sandbox, down, up

OBJECT_PART_TARGET, RESTORE_TARGET = 5.0, 10.0
# Requests in flight of each variant: as the tool is (32 since session 8), and as it was (8);
# BENCH_ONE_AT_A_TIME=1 adds none together (1), as it was before session 7.
VARIANTS: dict[str, int | None] = {"now": None, "8 in flight": 8} | (
    {"one at a time": 1} if os.environ.get("BENCH_ONE_AT_A_TIME") == "1" else {}
)


@dataclass(frozen=True)
class ObjectRun:
    files: int
    read: float
    bundle: float
    down: float
    after: float
    backup_wall: float
    restore: float
    preflight: float
    creates: float
    created: int
    server_cpu: float
    tool_cpu: float
    probe: float

    @property
    def object_part(self) -> float:
        return self.read + self.bundle


@dataclass(frozen=True)
class ObjectsRow:
    machines: int
    variant: str
    run: ObjectRun  # each field the median of the rounds


def log(text: str) -> None:
    print(f"bench: {text}", flush=True, file=sys.stderr)


def delete_restored(sb: Sandbox) -> None:
    """What a restore made on the destination (no finalizers: its twin is stopped, see above)."""
    sb.destination.kubectl().run("delete", "namespace", HC_NS, HCP_NS, "--ignore-not-found", "--timeout=900s")


def settle(sb: Sandbox, limit: float = 1200.0) -> None:
    """Until the source twin has adopted every seeded Machine: CAPA has recorded its instance on each
    AWSMachine (spec.instanceID), which backup then carries as a real one would. Counting the cloud
    twin's EC2 calls instead ended early: its calls slow as it holds more instances (it scans them
    all for each), and a backup of 740 adopted Machines of 1,000 paused the other 260 till resync."""
    t0, kubectl = time.monotonic(), sb.source.kubectl()

    def left() -> int:
        ids = kubectl.run("get", "awsmachines.infrastructure.cluster.x-k8s.io", "-n", HCP_NS,
                          "-o", "jsonpath={range .items[*]}{.spec.instanceID}{'\\n'}{end}")  # fmt: skip
        return sum(1 for line in ids.splitlines() if not line.strip())

    while (n := left()) and time.monotonic() - t0 < limit:
        time.sleep(5)
    what = f"{n} AWSMachines still without an instance" if n else "every AWSMachine has its instance"
    log(f"the source twin settled after {time.monotonic() - t0:.0f}s ({what}); load {os.getloadavg()[0]:.1f}")


def quiet(busy: float = 0.3, limit: float = 120.0) -> None:
    """Until the whole machine uses less than `busy` of a core for 2 s in a row (`limit` at most):
    the last run's namespaces are gone when `kubectl delete` returns, but their garbage collection
    and etcd's compaction run on for a while, as does the source apiserver's answer to the backup.
    A destination would not be deleting 2,500 objects of its own while a restore runs. (In
    session 9's first run it found the machine quiet within 3 s each time, and the restores still
    took 10.1 to 13.8 s: that spread is the machine's own, see cpu_probe.)"""
    t0, calm, last = time.monotonic(), 0, m.machine_cpu()
    while calm < 2 and time.monotonic() - t0 < limit:
        time.sleep(1)
        now = m.machine_cpu()
        calm, last = (calm + 1 if now - last < busy else 0), now
    log(f"quiet after {time.monotonic() - t0:.0f}s (load {os.getloadavg()[0]:.1f})")


def cpu_probe() -> float:
    """CPU seconds of a fixed piece of work (hashing 64 MiB, counting to 3 million): on this
    machine the same work took 0.30 to 0.58 s minutes apart, with the machine otherwise idle and no
    steal time, so a figure set beside it reads for what it is."""
    data, t0 = bytes(64 << 20), time.thread_time()
    hashlib.sha256(data).digest()
    sum(range(3_000_000))
    return time.thread_time() - t0


def destination_server_cpu(sb: Sandbox) -> float:
    return sum(m.process_cpu((sb.cfg.pids / f"destination-{p}.pid").read_text().strip()) for p in ("apiserver", "etcd"))


def one_run(sb: Sandbox, tmp: Path, n: int, in_flight: int | None) -> ObjectRun:
    prefix, bucket = f"bench-objects-{n}", sb.env["HCMIGRATE_BUCKET"]
    try:
        res, backup_wall, _ = m.run_cli(
            sb, tmp, "backup", "--hc", HC_NAME, "-n", HC_NS, "--bucket", bucket, "--prefix", prefix,
            "--dir", str(tmp / f"objects-{n}"), in_flight=in_flight,
        )  # fmt: skip
        t = {s["name"]: s["seconds"] for s in res["steps"]}
        # The source's answer to the backup's resume runs on its own machines in real life, not
        # on the destination's 2 cores: see the docstring.
        with operator_stopped(sb, "source"), operator_stopped(sb, "cloud"):
            quiet()
            probe = cpu_probe()
            server_cpu = destination_server_cpu(sb)
            out, restore_wall, used = m.run_cli(
                sb, tmp, "restore", "--hc", HC_NAME, "-n", HC_NS, "--bucket", bucket, "--prefix", prefix,
                "--backup-id", res["backup_id"], "--to-context", "destination", "--with-nodes", "--no-wait",
                in_flight=in_flight,
            )  # fmt: skip
            server_cpu = destination_server_cpu(sb) - server_cpu
    finally:
        m.delete_prefix(sb, m.store(sb, "seaweedfs"), prefix)
        t0 = time.monotonic()
        delete_restored(sb)
        log(f"restored objects deleted in {time.monotonic() - t0:.0f}s; load {os.getloadavg()[0]:.1f}")
    steps = {s["name"]: s["seconds"] for s in out["steps"]}
    return ObjectRun(
        files=sum(1 for f in Path(res["bundle_dir"]).rglob("*.yaml") if f.is_file()),
        read=t["read objects"], bundle=t["write bundle"], down=res["api_down_seconds"],
        after=t["upload snapshot"] + t["write bundle"], backup_wall=backup_wall, restore=restore_wall,
        preflight=steps["preflight"], creates=sum(v for k, v in steps.items() if k.startswith("create ")),
        created=out["objects_created"], server_cpu=server_cpu, tool_cpu=used.cpu, probe=probe,
    )  # fmt: skip


def _retried(sb: Sandbox, tmp: Path, n: int, in_flight: int | None, attempts: int = 3) -> ObjectRun:
    """Again with a fresh prefix: other people's e2e tests on this host SIGKILL exec'd `cat`s they match."""
    for attempt in range(attempts):
        try:
            return one_run(sb, tmp, n + 100 * attempt, in_flight)
        except m.BenchError as e:
            if attempt == attempts - 1:
                raise
            log(f"objects run {n} failed (attempt {attempt + 1}/{attempts}), retrying: {e}")
    raise AssertionError("unreachable")


def bench_objects(slot: int, repeats: int) -> list[ObjectsRow]:
    machines = int(os.environ.get("BENCH_MACHINES", "1000"))
    per_pool = max(1, int(os.environ.get("BENCH_POOL_MACHINES", "10")))
    if machines <= 0:
        return []
    cfg = SandboxConfig(slot=slot, nodepools=max(1, machines // per_pool), machines=per_pool, etcd_mb=64)
    t0 = time.monotonic()
    runs: dict[str, list[ObjectRun]] = {v: [] for v in VARIANTS}
    try:
        log(f"starting a slot-{slot} sandbox with {cfg.nodepools} NodePools of {per_pool} Machines")
        sb = up(cfg)
        log(f"sandbox up in {time.monotonic() - t0:.0f}s")
        settle(sb)
        with operator_stopped(sb, "destination"), tempfile.TemporaryDirectory(prefix="hcmigrate-bench-") as tmp:
            names = list(VARIANTS)
            for r in range(repeats):
                for k, name in enumerate(names[r % len(names) :] + names[: r % len(names)]):
                    run = _retried(sb, Path(tmp), 10 * r + k, VARIANTS[name])
                    runs[name].append(run)
                    log(f"machines={machines} round {r + 1}/{repeats} {name}: {run}")
    finally:
        down(cfg)
        log(f"sandbox with {machines} Machines down after {time.monotonic() - t0:.0f}s")
    return [ObjectsRow(cfg.nodepools * per_pool, name, _median(rs)) for name, rs in runs.items()]


def _median(runs: list[ObjectRun]) -> ObjectRun:
    fields = ObjectRun.__dataclass_fields__
    return ObjectRun(**{f: type(getattr(runs[0], f))(statistics.median(getattr(r, f) for r in runs)) for f in fields})


def print_objects(rows: list[ObjectsRow], repeats: int) -> None:
    if not rows:
        return
    names = "Machines|variant|objects|read objects|write bundle|object part|API down|runbook order|backup wall|restore|preflight|creates|server CPU|tool CPU|CPU probe"
    widths = [max(len(n), 8) for n in names.split("|")]
    widths[1] = 14
    print(
        f"\n{rows[0].machines} Machines: backup's object part and restore --with-nodes --no-wait, seconds (median of {repeats})"
    )
    print(" ".join(n.rjust(w) for n, w in zip(names.split("|"), widths, strict=True)))
    for row in rows:
        r = row.run
        cells = [f"{row.machines}", row.variant, f"{r.files}"] + [
            f"{v:.2f}" for v in (r.read, r.bundle, r.object_part, r.down, r.down + r.after, r.backup_wall,
                                 r.restore, r.preflight, r.creates, r.server_cpu, r.tool_cpu, r.probe)
        ]  # fmt: skip
        print(" ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
    now = next(row.run for row in rows if row.variant == "now")
    for what, value, target in (("object part of a backup", now.object_part, OBJECT_PART_TARGET),
                                ("restore --with-nodes --no-wait", now.restore, RESTORE_TARGET)):  # fmt: skip
        ok = "meets" if value < target else "MISSES"
        print(f"{rows[0].machines} Machines: {what} = {value:.2f}s ({ok} the < {target:.0f} s target)")
    cores = os.cpu_count() or 1
    print(
        f"  the destination's kube-apiserver and etcd spent {now.server_cpu:.1f} CPU-s on its {now.created} creates: "
        f"{now.server_cpu / cores:.1f} s on {cores} cores before any client work"
    )
