"""Watches feeding work queues, as controller-runtime does: each watched object maps to the
keys of the controllers it concerns; each controller reconciles one key at a time on its own
thread, again after an error (with a back-off) and again on a periodic resync."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from tests.sandbox.twin.api import Api, Obj, Res

log = logging.getLogger("twin")
Key = tuple[str, str]  # (namespace, name)


class WorkQueue:
    def __init__(self) -> None:
        self._pending: dict[Key, float] = {}  # key -> not before (monotonic)
        self._cv = threading.Condition()

    def add(self, key: Key, after: float = 0.0) -> None:
        with self._cv:
            at = time.monotonic() + after
            self._pending[key] = min(self._pending.get(key, at), at)
            self._cv.notify()

    def get(self, stop: threading.Event) -> Key | None:
        with self._cv:
            while not stop.is_set():
                now = time.monotonic()
                due = [k for k, t in self._pending.items() if t <= now]
                if due:
                    key = min(due, key=self._pending.__getitem__)
                    del self._pending[key]
                    return key
                wait = min((t - now for t in self._pending.values()), default=0.5)
                self._cv.wait(min(max(wait, 0.01), 0.5))
        return None


class Controller:
    """One reconcile function over one queue; reconcile returns seconds to requeue after, or None."""

    def __init__(self, name: str, reconcile: Callable[[Key], float | None],
                 keys: Callable[[], Iterable[Key]]) -> None:  # fmt: skip
        self.name, self.reconcile, self.keys = name, reconcile, keys
        self.queue = WorkQueue()
        self.failures: dict[Key, int] = {}

    def run(self, stop: threading.Event) -> None:
        while (key := self.queue.get(stop)) is not None:
            try:
                again = self.reconcile(key)
                self.failures.pop(key, None)
                if again is not None:
                    self.queue.add(key, again)
            except Exception as e:
                n = self.failures[key] = self.failures.get(key, 0) + 1
                log.warning("%s %s/%s: %s (retry %d)", self.name, *key, e, n)
                self.queue.add(key, min(0.2 * 2**n, 5.0))

    def resync(self) -> None:
        for key in self.keys():
            self.queue.add(key)


class Manager:
    """Runs the controllers, one watch thread per resource and a resync every `resync` seconds."""

    def __init__(self, api: Api, resync: float = 5.0) -> None:
        self.api, self.resync = api, resync
        self.controllers: list[Controller] = []
        self.watches: list[tuple[Res, Callable[[Obj], Iterable[tuple[Controller, Key]]]]] = []
        self.stop = threading.Event()

    def watch(self, res: Res, mapper: Callable[[Obj], Iterable[tuple[Controller, Key]]]) -> None:
        self.watches.append((res, mapper))

    def _watch_loop(self, res: Res, mapper: Callable[[Obj], Iterable[tuple[Controller, Key]]]) -> None:
        while not self.stop.is_set():
            try:
                for obj in self.api.watch(res):
                    for ctrl, key in mapper(obj):
                        ctrl.queue.add(key)
                    if self.stop.is_set():
                        return
            except Exception as e:
                log.debug("watch %s: %s", res.plural, e)
                time.sleep(1)

    def run(self) -> None:
        threads = [threading.Thread(target=c.run, args=(self.stop,), daemon=True, name=c.name)
                   for c in self.controllers]  # fmt: skip
        threads += [threading.Thread(target=self._watch_loop, args=w, daemon=True, name=f"watch-{w[0].plural}")
                    for w in self.watches]  # fmt: skip
        for t in threads:
            t.start()
        while not self.stop.wait(self.resync):
            for c in self.controllers:
                try:
                    c.resync()
                except Exception as e:
                    log.debug("resync %s: %s", c.name, e)
