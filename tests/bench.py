"""`make bench`: how fast and how lean `backup` streams an etcd snapshot, next to the baselines.

What each figure means (MiB = 2^20 bytes; each figure is the median of BENCH_REPEATS runs, with
the methods interleaved so that the machine's noise hits all of them; the snapshot is the real
hosted etcd's, in a sandbox on slot 3 seeded with etcd_mb = 64 and then 1024):

  size          bytes that `etcdctl snapshot save` wrote in pod clusters-example/etcd-0
  save          `etcdctl snapshot save` alone, via `kubectl exec` (in-pod work, no transfer out)
  raw exec      size / time of `kubectl exec ... cat <snapshot> > /dev/null`: what the exec API
                (apiserver + kwok + kubectl's Go client) carries at best; the save is excluded
  naive 2-step  size / (`kubectl exec ... cat > local file` + boto3 `upload_file` with default
                settings); the save is excluded, and it needs local disk as big as the snapshot
  tool stream   size / (the tool's "etcd snapshot" step - save): the tool's own exec stream,
                trailer check and multipart upload, plus that step's five small execs (test -f,
                endpoint status, df, stat, rm). This is the figure to set against raw exec
  tool step     size / the "etcd snapshot" step as the tool reports it (the save included)
  tool e2e      size / the CLI process's wall time: interpreter start, preflight, pause,
                quiesce (waits >= 1 s), save, stream, bundle and resume
  tool/raw      tool stream / raw exec; the target is >= 0.9
  peak RSS      the CLI process's VmHWM (its own rusage from os.wait4), the largest of the runs;
                `dry` is `backup --dry-run` (same imports, clients and preflight, no snapshot).
                The target is < 150 MiB, flat across snapshot sizes

Environment: BENCH_SIZES_MB="64,1024" picks the sizes (BENCH_SIZES_MB=64 for a quick run),
BENCH_REPEATS=3 the runs per figure. Nothing here asserts: it prints figures, then the start-up
bench of tests/bench_startup.py.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests import bench_stream as m
from tests.sandbox.config import SandboxConfig
from tests.sandbox.harness import Sandbox, down, up

SLOT = 3  # slots 0-2 are other people's sandboxes
MiB = 1 << 20
RATIO_TARGET = 0.9
RSS_TARGET_MIB = 150
FLAT_MIB = 16  # the peak RSS may grow this much between sizes and still count as flat


def log(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Row:
    etcd_mb: int
    size: int
    save: float
    raw: float
    naive_copy: float
    naive_upload: float
    naive: float
    step: float
    wall: float
    tool_size: int
    rss: int
    rss_dry: int

    @property
    def stream(self) -> float:
        return max(self.step - self.save, 1e-3)

    def rate(self, seconds: float, size: int | None = None) -> float:
        return (size or self.size) / MiB / seconds

    @property
    def ratio(self) -> float:
        return self.rate(self.stream, self.tool_size) / self.rate(self.raw)


def measure(sb: Sandbox, tmp: Path, repeats: int) -> Row:
    m.snapshot_save(sb)  # warms etcd and the page cache; raw and naive read this file
    size = m.snapshot_size(sb)
    methods: dict[str, Callable[[int], object]] = {
        "save": lambda _: m.snapshot_save(sb),
        "raw": lambda _: m.raw_exec(sb),
        "naive": lambda i: m.naive(sb, tmp, i),
        "tool": lambda i: m.tool(sb, tmp, i),
    }
    names = list(methods)
    runs: dict[str, list] = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)  # a different method goes first each round
        for name in names[k:] + names[:k]:
            runs[name].append(result := methods[name](r))
            shown = f"{result:.2f}s" if isinstance(result, float) else result
            log(f"etcd_mb={sb.cfg.etcd_mb} round {r + 1}/{repeats} {name}: {shown}")
    rss_dry = m.baseline_rss(sb, tmp)
    m.remove_snapshot(sb)
    med = statistics.median
    return Row(
        etcd_mb=sb.cfg.etcd_mb, size=size, save=med(runs["save"]), raw=med(runs["raw"]),
        naive_copy=med(n.copy for n in runs["naive"]), naive_upload=med(n.upload for n in runs["naive"]),
        naive=med(n.total for n in runs["naive"]),
        step=med(t.step for t in runs["tool"]), wall=med(t.wall for t in runs["tool"]),
        tool_size=runs["tool"][0].size, rss=max(t.peak_rss for t in runs["tool"]), rss_dry=rss_dry,
    )  # fmt: skip


def bench_size(etcd_mb: int, repeats: int) -> Row:
    cfg = SandboxConfig(etcd_mb=etcd_mb, slot=SLOT)
    t0 = time.monotonic()
    try:
        log(f"starting a slot-{SLOT} sandbox with etcd_mb={etcd_mb}")
        sb = up(cfg)
        log(f"sandbox up in {time.monotonic() - t0:.0f}s")
        with tempfile.TemporaryDirectory(prefix="hcmigrate-bench-") as tmp:
            return measure(sb, Path(tmp), repeats)
    finally:
        down(cfg)
        log(f"sandbox etcd_mb={etcd_mb} down after {time.monotonic() - t0:.0f}s")


def print_tables(rows: list[Row], repeats: int) -> None:
    print(f"\nstreaming an etcd snapshot to S3 (MiB/s, median of {repeats}; MiB = 2^20 bytes)")
    head = (
        f"{'size MiB':>9} {'raw exec':>9} {'naive 2-step':>13} {'tool stream':>12} {'tool step':>10}"
        f" {'tool e2e':>9} {'tool/raw':>9} {'peak RSS MiB':>13} {'dry RSS':>8}"
    )
    print(head)
    for r in rows:
        print(
            f"{r.size / MiB:9.1f} {r.rate(r.raw):9.1f} {r.rate(r.naive):13.1f}"
            f" {r.rate(r.stream, r.tool_size):12.1f} {r.rate(r.step, r.tool_size):10.1f}"
            f" {r.rate(r.wall, r.tool_size):9.1f} {r.ratio:9.2f} {r.rss / MiB:13.0f} {r.rss_dry / MiB:8.0f}"
        )
    print("\nthe same runs in seconds (save is excluded from raw and naive, included in tool step and wall)")
    print(
        f"{'size MiB':>9} {'save':>7} {'raw':>7} {'naive cp':>9} {'naive up':>9} {'naive':>7}"
        f" {'tool step':>10} {'- save':>7} {'tool wall':>10}"
    )
    for r in rows:
        print(
            f"{r.size / MiB:9.1f} {r.save:7.2f} {r.raw:7.2f} {r.naive_copy:9.2f} {r.naive_upload:9.2f}"
            f" {r.naive:7.2f} {r.step:10.2f} {r.stream:7.2f} {r.wall:10.2f}"
        )


def print_verdicts(rows: list[Row]) -> None:
    print()
    for r in rows:
        ok = "meets" if r.ratio >= RATIO_TARGET else "MISSES"
        print(f"{r.size / MiB:.0f} MiB: tool/raw = {r.ratio:.2f} ({ok} the >= {RATIO_TARGET} target)")
    peak = max(r.rss for r in rows) / MiB
    ok = "meets" if peak < RSS_TARGET_MIB else "MISSES"
    print(f"peak RSS: at most {peak:.0f} MiB ({ok} the < {RSS_TARGET_MIB} MiB target)")
    if len(rows) > 1:
        small, large = min(rows, key=lambda r: r.size), max(rows, key=lambda r: r.size)
        grew = (large.rss - small.rss) / MiB
        shape = "flat" if grew < FLAT_MIB else "GROWS"
        print(
            f"peak RSS vs size: {small.rss / MiB:.0f} MiB at {small.size / MiB:.0f} MiB, "
            f"{large.rss / MiB:.0f} MiB at {large.size / MiB:.0f} MiB: {shape} ({grew:+.0f} MiB)"
        )


def startup() -> None:
    try:
        from tests import bench_startup
    except ModuleNotFoundError as e:
        if e.name != "tests.bench_startup":
            raise
        print("\nstart-up: tests/bench_startup.py is not there yet; skipped")
        return
    print()
    bench_startup.main([])


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES_MB", "64,1024").split(",") if s.strip()]
    repeats = max(1, int(os.environ.get("BENCH_REPEATS", "3")))
    t0 = time.monotonic()
    rows = [bench_size(mb, repeats) for mb in sizes]
    print_tables(rows, repeats)
    print_verdicts(rows)
    print(f"\nstreaming bench: {time.monotonic() - t0:.0f}s for sandbox sizes {sizes} MB")
    startup()


if __name__ == "__main__":
    main()
