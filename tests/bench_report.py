"""The streaming bench's figures for one (size, store) and the tables and verdicts `make bench`
prints from them; tests/bench.py's docstring says what each figure means."""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import groupby

from tests import bench_objects

MiB = 1 << 20
RATIO_TARGET = 0.9
PIPE_TARGET = 1.0  # the tool at least as fast as the hand-written pipe
RSS_TARGET_MIB = 150
FLAT_MIB = 16  # the peak RSS may grow this much between sizes and still count as flat


@dataclass(frozen=True)
class Row:
    size: int
    store: str  # the S3 server of the figures that touch S3; save, raw and reader are the same on each
    save: float
    raw: float
    reader: float
    reader_cpu: float
    naive_copy: float
    naive_upload: float
    naive: float
    step: float
    wall: float
    pipe: float
    down: float
    after: float
    tool_size: int
    rss: int
    rss_dry: int
    cpu: float
    s3_cpu: float

    @property
    def stream(self) -> float:
        return max(self.step - self.save, 1e-3)

    def rate(self, seconds: float, size: int | None = None) -> float:
        return (size or self.size) / MiB / seconds

    @property
    def tool_rate(self) -> float:
        return self.rate(self.stream, self.tool_size)

    @property
    def ratio(self) -> float:
        return self.tool_rate / self.rate(self.raw)

    @property
    def pipe_ratio(self) -> float:
        return self.tool_rate / self.rate(self.pipe)

    @property
    def cpu_bound(self) -> float:
        """MiB/s: see `CPU bound` in tests/bench.py's docstring."""
        per_mib = self.reader_cpu / (self.size / MiB) + self.s3_cpu / (self.tool_size / MiB)
        return (os.cpu_count() or 1) / per_mib

    @property
    def ceiling_ratio(self) -> float:
        return self.tool_rate / min(self.rate(self.raw), self.rate(self.naive_upload))


Cell = str | tuple[float, int]  # text, or a number and its decimals


def _table(title: str, columns: str, rows: list[list[Cell]]) -> None:
    names = columns.split("|")
    widths = [max(len(n), 9) for n in names]
    print(f"\n{title}")
    print(" ".join(n.rjust(w) for n, w in zip(names, widths, strict=True)))
    for row in rows:
        cells = [c if isinstance(c, str) else f"{c[0]:.{c[1]}f}" for c in row]
        print(" ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))


def print_tables(rows: list[Row], objects: list[bench_objects.ObjectsRow], repeats: int) -> None:
    _table(
        f"streaming an etcd snapshot, MiB/s (median of {repeats}; MiB = 2^20 bytes)",
        "size MiB|store|raw exec|tool reader|S3 upload|naive 2-step|pipe|tool stream|tool step|tool e2e",
        [
            [(r.size / MiB, 1), r.store, (r.rate(r.raw), 1), (r.rate(r.reader), 1), (r.rate(r.naive_upload), 1),
             (r.rate(r.naive), 1), (r.rate(r.pipe), 1), (r.tool_rate, 1), (r.rate(r.step, r.tool_size), 1),
             (r.rate(r.wall, r.tool_size), 1)]
            for r in rows
        ],
    )  # fmt: skip
    _table(
        f"the tool against its targets (tool/raw >= {RATIO_TARGET}, tool/pipe >= {PIPE_TARGET}, "
        f"peak RSS < {RSS_TARGET_MIB} MiB and flat)",
        "size MiB|store|tool/raw|tool/pipe|tool/ceiling|CPU bound|bound/raw|tool/bound|peak RSS MiB|dry RSS MiB"
        "|tool CPU s|S3 CPU s|exec CPU s",
        [
            [(r.size / MiB, 1), r.store, (r.ratio, 2), (r.pipe_ratio, 2), (r.ceiling_ratio, 2), (r.cpu_bound, 1),
             (r.cpu_bound / r.rate(r.raw), 2), (r.tool_rate / r.cpu_bound, 2), (r.rss / MiB, 0),
             (r.rss_dry / MiB, 0), (r.cpu, 1), (r.s3_cpu, 1), (r.reader_cpu, 1)]
            for r in rows
        ],
    )  # fmt: skip
    downtime: list[list[Cell]] = [
        [(r.size / MiB, 1), r.store, (2, 0), (r.down, 2), (r.down + r.after, 2)] for r in rows
    ]
    downtime += [[(64, 1), "seaweedfs", (o.machines, 0), (o.run.down, 2), (o.run.down + o.run.after, 2)]
                 for o in objects[:1]]  # fmt: skip
    _table(
        "the hosted API's downtime, seconds (scale-down to scale-back of kube-apiserver)",
        "size MiB|store|Machines|tool|runbook order",
        downtime,
    )
    _table(
        "the same runs in seconds (the save is in tool step and wall, not in raw, reader or naive)",
        "size MiB|store|save|raw|reader|naive cp|naive up|naive|tool step|- save|tool wall",
        [
            [(r.size / MiB, 1), r.store, (r.save, 2), (r.raw, 2), (r.reader, 2), (r.naive_copy, 2),
             (r.naive_upload, 2), (r.naive, 2), (r.step, 2), (r.stream, 2), (r.wall, 2)]
            for r in rows
        ],
    )  # fmt: skip


def _meets(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def print_verdicts(rows: list[Row]) -> None:
    print()
    for r in rows:
        print(
            f"{r.size / MiB:.0f} MiB on {r.store}: tool/raw = {r.ratio:.2f} ({_meets(r.ratio >= RATIO_TARGET)} the "
            f">= {RATIO_TARGET} target); tool/pipe = {r.pipe_ratio:.2f} ({_meets(r.pipe_ratio >= PIPE_TARGET)} the "
            f">= {PIPE_TARGET} target); tool/ceiling = {r.ceiling_ratio:.2f}, the ceiling being "
            f"{'S3' if r.naive_upload > r.raw else 'exec'}"
        )
        gib = 1024 / (r.tool_size / MiB)
        print(
            f"  this machine's CPU bound: {r.cpu_bound:.0f} MiB/s on {os.cpu_count()} cores ({r.store} "
            f"{r.s3_cpu * gib:.1f} + exec path {r.reader_cpu * 1024 / (r.size / MiB):.1f} CPU-s/GiB), "
            f"so at best tool/raw = {r.cpu_bound / r.rate(r.raw):.2f}; the tool reaches "
            f"{r.tool_rate / r.cpu_bound:.2f} of that bound"
        )
    peak = max(r.rss for r in rows) / MiB
    print(f"peak RSS: at most {peak:.0f} MiB ({_meets(peak < RSS_TARGET_MIB)} the < {RSS_TARGET_MIB} MiB target)")
    for store, runs in groupby(sorted(rows, key=lambda r: r.store), key=lambda r: r.store):
        same = list(runs)
        if len(same) < 2:
            continue
        small, large = min(same, key=lambda r: r.size), max(same, key=lambda r: r.size)
        grew = (large.rss - small.rss) / MiB
        print(
            f"peak RSS vs size on {store}: {small.rss / MiB:.0f} MiB at {small.size / MiB:.0f} MiB, "
            f"{large.rss / MiB:.0f} MiB at {large.size / MiB:.0f} MiB: "
            f"{'flat' if grew < FLAT_MIB else 'GROWS'} ({grew:+.0f} MiB)"
        )
