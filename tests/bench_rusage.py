"""Runs a command as the grandchild of a lean interpreter and writes its wall seconds and rusage.

Linux carries a process's peak RSS across fork and exec: a child the bench forks starts with the
bench's own peak (its boto3 and kubernetes clients), so os.wait4 in the bench would report at least
that for any command. Forked from this small process instead, the peak is the command's own.

Usage: python tests/bench_rusage.py RESULT_JSON ARGV... ; exits with the command's exit code.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(result: str, argv: list[str]) -> int:
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    with open(result, "w") as f:
        json.dump({"wall": wall, "peak_rss": usage.ru_maxrss * 1024, "cpu": usage.ru_utime + usage.ru_stime}, f)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
