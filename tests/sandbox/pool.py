"""The sandboxes of one test session: the one in use, and the next one, started ahead.

A start takes 20-60 s, and a session switches sandboxes several times: after every test that tears
the source down, and when the topology changes (HA, a fleet). The tests run in a known order, so
the next sandbox can come up in a spare slot while the current test runs (mostly waiting on
operators and pods); the switch then costs only the claim. Slot N's spare is N + SPARE_OFFSET, so
sandboxes of other slots running side by side are never touched.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import Future, ThreadPoolExecutor

from tests.sandbox.config import SandboxConfig
from tests.sandbox.harness import Sandbox, attach, down, up

SPARE_OFFSET = 10
WORKER_OFFSET, MAX_WORKERS = 20, 2  # pytest -n 2: the second worker of slot N runs on N + 20


def xdist_worker(config: object) -> tuple[int, int]:
    """(this pytest worker's index, how many there are): (0, 1) without -n. Asked of the worker
    itself, not of PYTEST_XDIST_WORKER: a pytest that a test starts inherits that variable."""
    given = getattr(config, "workerinput", None)
    if given is None:
        return 0, 1
    return int(given["workerid"].removeprefix("gw")), int(given["workercount"])


def same_topology(a: SandboxConfig, b: SandboxConfig) -> bool:
    """The same topology and seed, whatever the slot."""
    return dataclasses.replace(a, slot=0) == dataclasses.replace(b, slot=0)


class SandboxPool:
    def __init__(self, base_slot: int) -> None:
        self.base_slot = base_slot
        self.current: Sandbox | None = None
        self.stale = False
        self.failed = False  # a test failed: the logs of the sandbox it ran on are kept
        self._ahead: tuple[SandboxConfig, Future[Sandbox]] | None = None
        # One worker for starts and stops alike: a slot's start then always follows its last stop.
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="sandbox")
        self.reuse = os.environ.get("HCMIGRATE_SANDBOX_REUSE") == "1"

    def _free_slot(self) -> int:
        spare = self.base_slot + SPARE_OFFSET
        return spare if self.current is not None and self.current.cfg.slot == self.base_slot else self.base_slot

    def start_ahead(self, cfg: SandboxConfig) -> None:
        """Bring up the sandbox of `cfg` in the free slot, in the background, for a later get()."""
        if self.reuse or self._ahead is not None:
            return
        cfg = dataclasses.replace(cfg, slot=self._free_slot())
        self._ahead = (cfg, self._worker.submit(up, cfg))

    def get(self, cfg: SandboxConfig) -> Sandbox:
        if self.current is not None and same_topology(self.current.cfg, cfg) and not self.stale:
            return self.current
        self.stale = False
        ready = self._claim(cfg)
        if ready is None and self.current is None and self.reuse:
            ready = attach(dataclasses.replace(cfg, slot=self.base_slot))
        if ready is None:
            slot = self._free_slot()
            self._retire()
            # A start that fails leaves nothing to reuse: the next test tries again rather than run
            # on a half-stopped sandbox.
            ready = self._worker.submit(up, dataclasses.replace(cfg, slot=slot)).result()
        else:
            self._retire()
        self.current = ready
        return ready

    def discard(self) -> None:
        """The current sandbox is no longer as seeded: the next test that needs one gets a new one.
        It runs on until then, for a last test that stops it."""
        self.stale = True

    def _claim(self, cfg: SandboxConfig) -> Sandbox | None:
        """The sandbox started ahead if it is the one wanted (None if it is not, or failed to start:
        the caller starts one itself, and its error is the one reported)."""
        if self._ahead is None:
            return None
        started, future = self._ahead
        self._ahead = None
        try:
            sandbox = future.result()
        except Exception:
            down(started)
            return None
        if same_topology(started, cfg):
            return sandbox
        down(started)
        return None

    def _retire(self) -> None:
        """Stop the sandbox in use, in the background: the next one is in another slot."""
        old, self.current = self.current, None
        if old is not None and not self.reuse:
            self._worker.submit(down, old.cfg, self.failed)

    def close(self) -> None:
        if self._ahead is not None:
            started, future = self._ahead
            self._ahead = None
            future.cancel() or future.exception()  # wait for a start under way before stopping it
            down(started)
        if not self.reuse:
            self._retire()
        self._worker.shutdown(wait=True)
