"""`make bench`: how fast and how lean `backup` streams an etcd snapshot, next to the baselines.

What each figure means (MiB = 2^20 bytes; each figure is the median of BENCH_REPEATS runs, with
the methods interleaved so that the machine's noise hits all of them; the snapshot is the real
hosted etcd's, in a sandbox on slot 3 seeded with etcd_mb = 64 and then 1024). The sandbox runs two
S3 servers, SeaweedFS and MinIO: the methods that touch S3 (S3 upload, naive, pipe, tool) run
against each in the same rounds, and each table has one row per (size, store); save, raw exec and
tool reader touch no S3, run once a round, and repeat on both rows of a size:

  size          bytes that `etcdctl snapshot save` wrote in pod clusters-example/etcd-0
  save          `etcdctl snapshot save` alone, via `kubectl exec` (in-pod work, no transfer out)
  raw exec      size / time of `kubectl exec ... cat <snapshot> > /dev/null`: what the exec API
                (apiserver + kwok + kubectl's Go client) carries; the save is excluded
  tool reader   the same `cat` drained by the tool's own exec reader and snapshot verifier
                (kubectl_hcmigrate.adapters.kube_exec + snapshot, run in the bench process), no upload
  S3 upload     size / boto3 `upload_file` of the local copy, default settings (8 MiB parts, 10
                threads): what the row's store takes in
  naive 2-step  size / (`kubectl exec ... cat > local file` + that upload); the save is excluded,
                and it needs local disk as big as the snapshot (the copy is made again for each store)
  pipe          size / `kubectl exec ... cat <snapshot> | aws s3 cp -` (boto3's upload_fileobj on the
                pipe, the same transfer manager): the peer a careful SRE writes by hand
  tool stream   size / (the tool's "etcd snapshot" + "upload snapshot" steps - save): the tool's own
                exec stream, trailer check and multipart upload, plus the small execs (test -f,
                endpoint status, df, stat, status, rm). This is the figure to set against raw exec
  tool step     size / those two steps as the tool reports them (the save included)
  API down      seconds from the scale-down of kube-apiserver to its scale-back (the tool's
                api_down_seconds); `runbook order` adds what the tool does after the scale-back
                (stream and bundle upload), which the runbook's order of steps does before it
  tool e2e      size / the CLI process's wall time: interpreter start, preflight, pause,
                quiesce (waits >= 1 s), save, stream, bundle and resume
  tool/raw      tool stream / raw exec; the target is >= 0.9
  tool/pipe     tool stream / pipe (neither includes the save); the target is >= 1
  tool/ceiling  tool stream / min(raw exec, S3 upload): a streamer cannot beat the slower end
  CPU bound     the fastest any exec-to-S3 streamer could go on this machine if it cost nothing
                itself and its two ends overlapped perfectly: cores / (CPU-seconds per MiB of
                the exec path, from the whole machine's /proc/stat during `tool reader`, + the
                row's S3 server's CPU-seconds per MiB during `tool`). bound/raw is the best tool/raw
                this machine allows; tool/bound is how much of that the tool reaches
  peak RSS      the CLI process's VmHWM, the largest of the runs: its own rusage from os.wait4 in
                a lean launcher (tests/bench_rusage.py), as a child forked by the bench would start
                from the bench's own peak. `dry RSS` is `backup --dry-run` against the row's store
                (same imports, clients and preflight, no snapshot). The target is < 150 MiB, flat
                across snapshot sizes
  tool CPU      user + system seconds of the CLI process (its rusage), median
  S3 CPU        user + system seconds the row's S3 server process used during a tool run (SeaweedFS:
                its one `weed mini`; MinIO: its one `minio server`, on one drive): on a 2-core
                machine, the sink's own cost bounds the rate as much as the tool's

What differs on MinIO: only the server behind the same HTTPS, CA and boto3 settings (the tool gets
it through AWS_ENDPOINT_URL_S3 and its credentials, as a user points it at any S3). SeaweedFS spends
several times MinIO's CPU-seconds per GiB ingested, which on 2 cores caps every streamer on it, so
there the store is the ceiling (tool/ceiling against S3 upload); on MinIO the exec channel is, and
tool/raw is the figure to approach. The 1,000-Machines part and its downtime row run on SeaweedFS.

Environment: BENCH_SIZES_MB="64,1024" picks the sizes (BENCH_SIZES_MB=64 for a quick run, "" for
none), BENCH_RSS_SIZES_MB="2048" the sizes where one backup per store is run for its peak RSS alone
(2 GiB is too large to repeat every method at; "" for none), BENCH_STORES="seaweedfs,minio" the
stores (one of them alone for a shorter run), BENCH_REPEATS=3 the runs per figure,
BENCH_MACHINES=1000 the Machines of tests/bench_objects.py (0 skips it). Nothing here asserts: it prints figures, then the start-up bench of
tests/bench_startup.py.
"""

from __future__ import annotations

import functools
import os
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from tests import bench_objects
from tests import bench_stream as m
from tests.bench_report import Row, print_tables, print_verdicts
from tests.sandbox.config import SandboxConfig
from tests.sandbox.harness import Sandbox, down, up

SLOT = int(os.environ.get("SANDBOX_SLOT") or 3)  # slots 0-2 are other people's sandboxes
RETRIES: list[str] = []  # runs that failed once, printed with the figures
STORE_METHODS = ("naive", "tool", "pipe")  # the ones that touch S3: run on each store, in the same rounds


def log(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def _shown(result: object) -> str:
    fields = vars(result) if hasattr(result, "__dataclass_fields__") else {"seconds": result}
    return " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items())


def _retried(run: Callable[[int], object], n: int, what: str, attempts: int = 3) -> object:
    """Retries with fresh names: other people's e2e tests on this host SIGKILL exec'd `cat`s they match."""
    for attempt in range(attempts - 1):
        try:
            return run(n + 100 * attempt)
        except m.BenchError as e:
            log(f"{what} failed (attempt {attempt + 1}/{attempts}), retrying: {e}")
            RETRIES.append(f"{what}: {e}")
            time.sleep(10)
    return run(n + 100 * (attempts - 1))


def measure(sb: Sandbox, stores: list[m.Store], tmp: Path, repeats: int) -> list[Row]:
    """One row per store; save, raw and reader (no S3) are run once a round and shared by the rows."""
    m.snapshot_save(sb)  # warms etcd and the page cache; raw and naive read this file
    size = m.snapshot_size(sb)
    methods: dict[str, Callable[[int], object]] = {
        "save": lambda _: m.snapshot_save(sb),
        "raw": lambda _: m.raw_exec(sb),
        "reader": lambda _: m.tool_reader(sb),
    }
    on_store: dict[str, Callable[[m.Store, int], object]] = {
        "naive": lambda st, i: m.naive(sb, st, tmp, i),
        "tool": lambda st, i: m.tool(sb, st, tmp, i),
        "pipe": lambda st, i: m.pipe(sb, st, i),
    }
    for name in STORE_METHODS:  # each method's stores side by side, so they run under the same noise
        methods |= {f"{name} {st.name}": functools.partial(on_store[name], st) for st in stores}
    names = list(methods)
    runs: dict[str, list] = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)  # a different method goes first each round
        for name in names[k:] + names[:k]:
            runs[name].append(result := _retried(methods[name], r, f"{name} round {r + 1}"))
            log(f"etcd_mb={sb.cfg.etcd_mb} round {r + 1}/{repeats} {name}: {_shown(result)}")
    rss_dry = {st.name: m.baseline_rss(sb, st, tmp) for st in stores}
    m.remove_snapshot(sb)
    med = statistics.median
    rows = []
    for st in stores:
        naive, tool = runs[f"naive {st.name}"], runs[f"tool {st.name}"]
        rows.append(Row(
            size=size, store=st.name, save=med(runs["save"]), raw=med(runs["raw"]),
            reader=med(r.seconds for r in runs["reader"]), reader_cpu=med(r.machine_cpu for r in runs["reader"]),
            naive_copy=med(n.copy for n in naive), naive_upload=med(n.upload for n in naive),
            naive=med(n.total for n in naive), step=med(t.step for t in tool), wall=med(t.wall for t in tool),
            pipe=med(runs[f"pipe {st.name}"]), down=med(t.down for t in tool), after=med(t.after for t in tool),
            tool_size=tool[0].size, rss=max(t.peak_rss for t in tool), rss_dry=rss_dry[st.name],
            cpu=med(t.cpu for t in tool), s3_cpu=med(t.s3_cpu for t in tool),
        ))  # fmt: skip
    return rows


def bench_size(etcd_mb: int, store_names: list[str], repeats: int) -> list[Row]:
    cfg = SandboxConfig(etcd_mb=etcd_mb, slot=SLOT)
    t0 = time.monotonic()
    try:
        log(f"starting a slot-{SLOT} sandbox with etcd_mb={etcd_mb}")
        sb = up(cfg)
        log(f"sandbox up in {time.monotonic() - t0:.0f}s")
        stores = [m.store(sb, name) for name in store_names]
        with tempfile.TemporaryDirectory(prefix="hcmigrate-bench-") as tmp:
            return measure(sb, stores, Path(tmp), repeats)
    finally:
        down(cfg)
        log(f"sandbox etcd_mb={etcd_mb} down after {time.monotonic() - t0:.0f}s")


def rss_at(etcd_mb: int, store_names: list[str]) -> list[str]:
    """Peak RSS of one backup per store at a size too large to repeat every method at: the
    target says flat from 64 MiB to 2 GiB. The save takes the pod's disk, the stream none."""
    cfg = SandboxConfig(etcd_mb=etcd_mb, slot=SLOT)
    try:
        log(f"starting a slot-{SLOT} sandbox with etcd_mb={etcd_mb} for peak RSS")
        sb = up(cfg)
        lines = []
        with tempfile.TemporaryDirectory(prefix="hcmigrate-bench-") as tmp:
            for st in (m.store(sb, name) for name in store_names):
                run = m.tool(sb, st, Path(tmp), 0)
                lines.append(f"peak RSS at {run.size / 2**20:.0f} MiB on {st.name}: {run.peak_rss / 2**20:.0f} MiB "
                             f"(one backup: {run.step:.1f} s for save and stream, {run.cpu:.1f} CPU-s)")  # fmt: skip
                log(lines[-1])
        return lines
    finally:
        down(cfg)


def startup() -> int:
    """Runs the start-up bench when tests/bench_startup.py exists; 1 if it failed."""
    try:
        from tests import bench_startup
    except ModuleNotFoundError as e:
        if e.name != "tests.bench_startup":
            raise
        print("\nstart-up: tests/bench_startup.py is not there yet; skipped")
        return 0
    print(flush=True)
    try:
        bench_startup.main([])
    except Exception:  # its failure must not hide the streaming figures printed above
        traceback.print_exc()
        print("start-up bench FAILED (traceback on stderr)")
        return 1
    return 0


def main() -> int:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES_MB", "64,1024").split(",") if s.strip()]
    repeats = max(1, int(os.environ.get("BENCH_REPEATS", "3")))
    stores = [s.strip() for s in os.environ.get("BENCH_STORES", ",".join(m.STORES)).split(",") if s.strip()]
    if unknown := sorted(set(stores) - set(m.STORES)):  # before a sandbox starts for nothing
        sys.exit(f"bench: BENCH_STORES names no such store: {', '.join(unknown)} (known: {', '.join(m.STORES)})")
    t0 = time.monotonic()
    objects = bench_objects.bench_objects(SLOT, repeats)  # BENCH_MACHINES=0 skips it
    bench_objects.print_objects(objects, repeats)  # at once: the sizes' part takes longer
    rows = [row for mb in sizes for row in bench_size(mb, stores, repeats)]
    print_tables(rows, objects, repeats)
    if rows:
        print_verdicts(rows)
    rss_sizes = [int(s) for s in os.environ.get("BENCH_RSS_SIZES_MB", "2048").split(",") if s.strip()]
    for line in [line for mb in rss_sizes for line in rss_at(mb, stores)]:
        print(line)
    for failure in RETRIES:
        print(f"note: retried after a failed run ({failure})")
    took = time.monotonic() - t0
    print(f"\nstreaming bench: {took:.0f}s for sandbox sizes {sizes} MB on {', '.join(stores)}", flush=True)
    return startup()


if __name__ == "__main__":
    sys.exit(main())
