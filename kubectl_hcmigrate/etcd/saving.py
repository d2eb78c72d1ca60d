"""An `etcdctl snapshot save` under way, and the moment its content is fixed.

etcd serves a snapshot from one read transaction of its database, opened before the first byte
is sent (server/etcdserver/api/v3rpc/maintenance.go: Snapshot, then the backend's Snapshot()):
from then on the file holds the database as it was at that instant, whatever is written to etcd
while the rest arrives. So once etcdctl's `.part` file has its first bytes, backup can bring the
hosted kube-apiserver back, and the downtime no longer grows with the size of etcd.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kubectl_hcmigrate.core.wait import poll_until

Run = Callable[[list[str]], tuple[int, bytes, bytes]]

POLL_SECONDS = 0.2


@dataclass
class Saving:
    """The save's exec, running on a thread of its own while the caller goes on."""

    pod: str
    path: str
    started: float = field(default_factory=time.monotonic)
    _thread: threading.Thread | None = None
    _outcome: tuple[int, bytes, bytes] | None = None
    _error: BaseException | None = None

    def start(self, run: Run, argv: list[str]) -> Saving:
        def body() -> None:
            try:
                self._outcome = run(argv)
            except BaseException as e:  # handed to whoever waits
                self._error = e

        # The exec's handshake timeout is a context variable: the thread runs in a copy of ours.
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(body,), name="etcd-save", daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """True once the exec has ended, however it ended."""
        assert self._thread is not None
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> tuple[int, bytes, bytes] | None:
        """etcdctl's (exit code, stdout, stderr), or what the exec raised; None while it still runs
        after `timeout`."""
        if not self.join(timeout):
            return None
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome

    def wait_until_fixed(self, run: Run) -> None:
        """Returns once the snapshot's content is fixed (bytes in `.part` or the file), or the save
        ended, well or not; one `stat` exec per poll. No timeout of its own: etcdctl's decides."""

        def fixed() -> bool:
            if not self.running:
                return True
            _, out, _ = run(["stat", "-c", "%s", f"{self.path}.part", self.path])
            # stat exits 1 when one of the two is missing, and still prints the other's size.
            return any(line.strip().isdigit() and int(line) > 0 for line in out.decode(errors="replace").splitlines())

        poll_until(fixed, float("inf"), every=POLL_SECONDS)
