"""Start-up benchmark of the zipapp: its size, first-run and warm `--help`, and a verb's start.

`python -m tests.bench_startup` builds a fresh zipapp from the tree (or takes `--zipapp PATH`) and
runs it with this interpreter, so a launcher such as a pyenv shim does not count. The target is a
warm `--help` under 0.25 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests import build_dist

WARM_HELP_TARGET_S = 0.25


def _timed_run(argv: Sequence[str], shiv_root: Path) -> float:
    env = {**os.environ, "SHIV_ROOT": str(shiv_root)}
    # A user's Python caches bytecode next to the extracted sources; measure that, not a CI knob.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


@dataclass(frozen=True)
class Startup:
    size: int
    interpreter: float
    cold_help: float
    warm_help: float
    warm_version: float


def measure(zipapp: Path, runs: int) -> Startup:
    """Medians over `runs`; cold runs extract into a fresh SHIV_ROOT each time."""
    py = [sys.executable]
    with tempfile.TemporaryDirectory(prefix="hcmigrate-bench-") as tmp:
        roots = [Path(tmp, f"cold{i}") for i in range(max(3, runs // 2))]
        cold = [_timed_run([*py, str(zipapp), "--help"], root) for root in roots]
        warm_root = roots[0]
        return Startup(
            size=zipapp.stat().st_size,
            interpreter=statistics.median(_timed_run([*py, "-c", "pass"], warm_root) for _ in range(runs)),
            cold_help=statistics.median(cold),
            warm_help=statistics.median(_timed_run([*py, str(zipapp), "--help"], warm_root) for _ in range(runs)),
            warm_version=statistics.median(_timed_run([*py, str(zipapp), "version"], warm_root) for _ in range(runs)),
        )


def report(label: str, s: Startup) -> None:
    verdict = "meets" if s.warm_help < WARM_HELP_TARGET_S else "MISSES"
    print(f"{label}:")
    print(f"  size                 {s.size / 1e6:8.2f} MB")
    print(f"  python -c pass       {s.interpreter:8.3f} s  (the interpreter alone)")
    print(f"  --help, first run    {s.cold_help:8.3f} s  (extracts into a fresh SHIV_ROOT)")
    print(f"  --help, warm         {s.warm_help:8.3f} s  ({verdict} the {WARM_HELP_TARGET_S} s target)")
    print(f"  version, warm        {s.warm_version:8.3f} s")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_startup", description=__doc__)
    parser.add_argument("--zipapp", type=Path, help="measure this zipapp instead of building one")
    parser.add_argument("--runs", type=int, default=7, help="runs per median (default 7)")
    parser.add_argument(
        "--compare-trim",
        action="store_true",
        help="also build and measure a zipapp that keeps every botocore model",
    )
    args = parser.parse_args(argv)
    print(f"start-up of the zipapp with {sys.executable} ({sys.version.split()[0]})")
    if args.zipapp:
        report(str(args.zipapp), measure(args.zipapp, args.runs))
        return
    variants = [("botocore trimmed (as shipped)", True)]
    if args.compare_trim:
        variants.append(("every botocore model kept", False))
    with tempfile.TemporaryDirectory(prefix="hcmigrate-bench-dist-") as tmp:
        for label, trim in variants:
            zipapp = build_dist.build_zipapp(Path(tmp, str(trim)), trim=trim)
            report(label, measure(zipapp, args.runs))


if __name__ == "__main__":
    main()
