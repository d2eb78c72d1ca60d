"""Start-up benchmark of the zipapp: its size, first-run and warm `--help`, and a verb's start.

`python -m tests.bench_startup` builds a fresh zipapp from the tree (or takes `--zipapp PATH`) and
runs it with this interpreter, so a launcher such as a pyenv shim does not count. The target is a
warm `--help` under 0.25 s. CPU time is shown beside wall time: on a busy machine it still says
what the program itself costs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests import build_dist

WARM_HELP_TARGET_S = 0.25


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall:6.3f} s  ({self.cpu:.3f} s cpu)"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed_run(argv: Sequence[str], shiv_root: Path) -> Timing:
    env = {**os.environ, "SHIV_ROOT": str(shiv_root)}
    # A user's Python caches bytecode next to the extracted sources; measure that, not a CI knob.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return Timing(time.perf_counter() - start, _children_cpu() - cpu)


def _median(runs: int, once: Callable[[], Timing]) -> Timing:
    timings = [once() for _ in range(runs)]
    return Timing(statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings))


@dataclass(frozen=True)
class Startup:
    size: int
    interpreter: Timing
    cold_help: Timing
    warm_help: Timing
    warm_version: Timing


def measure(zipapp: Path, runs: int) -> Startup:
    """Medians over `runs`; each cold run extracts into a fresh SHIV_ROOT."""
    with tempfile.TemporaryDirectory(prefix="hcmigrate-bench-") as tmp:
        fresh_roots = iter(Path(tmp, f"cold{i}") for i in range(runs))
        warm_root = Path(tmp, "warm")

        def run(*args: str, root: Path = warm_root) -> Timing:
            return _timed_run([sys.executable, *args], root)

        cold_help = _median(runs, lambda: run(str(zipapp), "--help", root=next(fresh_roots)))
        run(str(zipapp), "--help")  # unpacks and caches bytecode for the warm runs
        return Startup(
            size=zipapp.stat().st_size,
            interpreter=_median(runs, lambda: run("-c", "pass")),
            cold_help=cold_help,
            warm_help=_median(runs, lambda: run(str(zipapp), "--help")),
            warm_version=_median(runs, lambda: run(str(zipapp), "version")),
        )


def report(label: str, s: Startup) -> None:
    verdict = "meets" if s.warm_help.wall < WARM_HELP_TARGET_S else "MISSES"
    print(f"{label}:")
    print(f"  size               {s.size / 1e6:6.2f} MB")
    print(f"  python -c pass     {s.interpreter}  the interpreter alone")
    print(f"  --help, first run  {s.cold_help}  unpacks into a fresh SHIV_ROOT")
    print(f"  --help, warm       {s.warm_help}  {verdict} the {WARM_HELP_TARGET_S} s target")
    print(f"  version, warm      {s.warm_version}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_startup", description=__doc__)
    parser.add_argument("--zipapp", type=Path, help="measure this zipapp instead of building one")
    parser.add_argument("--runs", type=int, default=7, help="runs per median (default 7)")
    parser.add_argument(
        "--compare-trim", action="store_true", help="also measure a zipapp that keeps every botocore model"
    )
    args = parser.parse_args(argv)
    print(f"zipapp start-up with {sys.executable} (Python {sys.version.split()[0]}), medians of {args.runs}")
    if args.zipapp:
        report(str(args.zipapp), measure(args.zipapp, args.runs))
        return
    variants = [("botocore trimmed to the services used (as shipped)", True)]
    if args.compare_trim:
        variants.append(("every botocore model kept", False))
    with tempfile.TemporaryDirectory(prefix="hcmigrate-bench-dist-") as tmp:
        for label, trim in variants:
            zipapp = build_dist.build_zipapp(Path(tmp, str(trim)), trim=trim)
            report(label, measure(zipapp, args.runs))


if __name__ == "__main__":
    main()
