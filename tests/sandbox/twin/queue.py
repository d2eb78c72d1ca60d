"""Watches feeding work queues, as controller-runtime does: each watched object maps to the
keys of the controllers it concerns; each controller reconciles one key at a time on its own
thread, again after an error (with a back-off) and again on a periodic resync."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from tests.sandbox.twin.api import Obj, Res
from tests.sandbox.twin.cache import CachedApi, inform

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


# What a watched object means: the controllers and keys to reconcile.
Mapper = Callable[[Obj], Iterable[tuple[Controller, Key]]]


class Manager:
    """Runs the controllers once every watched kind's store is filled (controller-runtime's
    WaitForCacheSync), one watch thread per kind, and a resync every `resync` seconds."""

    def __init__(self, api: CachedApi, resync: float = 5.0) -> None:
        self.api, self.resync = api, resync
        self.controllers: list[Controller] = []
        self.mappers: dict[Res, list[Mapper]] = {}
        self.stop = threading.Event()

    def watch(self, res: Res, mapper: Mapper = lambda o: ()) -> None:
        self.api.inform(res)
        self.mappers.setdefault(res, []).append(mapper)

    def _enqueue(self, res: Res) -> Callable[[Obj], None]:
        def on(obj: Obj) -> None:
            for mapper in self.mappers[res]:
                for ctrl, key in mapper(obj):
                    ctrl.queue.add(key)

        return on

    def run(self) -> None:
        for res in self.mappers:
            args = (self.api, res, self.api.stores[res], self._enqueue(res), self.stop)
            threading.Thread(target=inform, args=args, daemon=True, name=f"watch-{res.plural}").start()
        for res, store in self.api.stores.items():
            if not store.synced.wait(60):
                log.warning("no listing of %s after 60 s: starting without it", res.plural)
        for c in self.controllers:
            threading.Thread(target=c.run, args=(self.stop,), daemon=True, name=c.name).start()
        while not self.stop.wait(self.resync):
            for c in self.controllers:
                try:
                    c.resync()
                except Exception as e:
                    log.debug("resync %s: %s", c.name, e)
