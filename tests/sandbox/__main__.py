"""`python -m tests.sandbox up|down`: what `make sandbox` and `make sandbox-down` run."""

from __future__ import annotations

import sys
import time

from tests.sandbox.config import SandboxConfig
from tests.sandbox.harness import down, up
from tests.sandbox.procs import SandboxError


def main(argv: list[str]) -> int:
    cfg = SandboxConfig.from_env()
    if argv[:1] == ["up"]:
        t0 = time.monotonic()
        try:
            up(cfg)
        except SandboxError as e:
            print(e, file=sys.stderr)
            return 1
        rel = cfg.env_file.relative_to(cfg.state.parent)
        print(f"sandbox ready in {time.monotonic() - t0:.1f}s; to use it: . {rel}")
        return 0
    if argv[:1] == ["down"]:
        stopped = down(cfg)
        print(f"sandbox down ({len(stopped)} processes stopped)")
        return 0
    print("usage: python -m tests.sandbox up|down", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
