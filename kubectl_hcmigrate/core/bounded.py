"""A step's independent writes run a few at a time: at 1,000 Machines a restore makes some 2,500
creates, and one after another each waits out its own round trip to the apiserver.

What the pipeline needs of a step still holds. Each write runs in a copy of the step's context, so
the `changed()` it records lands in the run's log as if the step had made it itself. On a failure
or an interrupt nothing more starts and the writes in flight end (done or failed) before the
step ends, so no write lands after the run reported what it changed. A second Ctrl-C meanwhile
is held: waiting a request's timeout at most is better than a write nobody knows about.
Restore's bundle fetches run the same way, and the S3 multipart upload waits on its parts and
drains them with the same care for a signal (result_of, drain).
"""

from __future__ import annotations

import contextvars
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from itertools import islice
from queue import Empty, SimpleQueue
from typing import Any, TypeVar

from kubectl_hcmigrate.core.pipeline import interrupts_to

T = TypeVar("T")
R = TypeVar("R")

# Writes in flight at once; the Kubernetes adapter keeps that many connections open
# (adapters/kubeconfig.py). An apiserver spends less CPU on each create the more arrive together
# (it and etcd batch them): creating 500 AWSMachines on the sandbox's 2 cores, its CPU per create
# went 6.3 / 5.1 / 3.4 ms and the rate 210 / 260 / 330 a second at 8 / 16 / 32 in flight (median
# of 4 rounds each, interleaved). 32 is a sixth of an apiserver's default 200 mutating requests
# in flight; one refused with 429 (too many) is tried again (adapters/kube.py).
IN_FLIGHT = 32


def run_bounded(
    items: Sequence[T],
    work: Callable[[T], R],
    *,
    done: Callable[[int, R], None] = lambda index, result: None,
    in_flight: int | None = None,
    name: str = "write",
) -> None:
    """Calls `work` on each item, at most `in_flight` at once. `done(index, result)` is called on
    the calling thread as each one ends well, even while a failure or an interrupt drains the
    rest, so that the caller counts exactly what was done. The first failure by position among
    those that failed is raised once the writes in flight have ended."""
    in_flight = in_flight or IN_FLIGHT  # read at the call: `make bench` sets it to 1 for the figure before
    if in_flight <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            done(i, work(item))
        return
    pool = ThreadPoolExecutor(min(in_flight, len(items)), thread_name_prefix=name)
    queued = iter(enumerate(items))
    futures: dict[Future[R], int] = {}
    ended_q: SimpleQueue[Future[R] | None] = SimpleQueue()  # each future as it ends; None: a signal
    signals = _Deferral(ended_q)
    failed: dict[int, BaseException] = {}
    seen: set[Future[R]] = set()  # taken account of; an interrupt can land between two of a batch
    try:
        while True:
            with signals.noted():
                while not failed and not signals.came:
                    # Submitted as slots free up, not all at once: a few futures in flight, not thousands.
                    for i, item in islice(queued, in_flight - (len(futures) - len(seen))):
                        # Each its own copy of the step's context: one Context cannot be entered by two threads at once.
                        future = pool.submit(contextvars.copy_context().run, work, item)
                        futures[future] = i
                        future.add_done_callback(ended_q.put)
                    if len(futures) == len(seen):  # none in the pool: all taken account of
                        break
                    failed.update(_harvest(_ended(ended_q), futures, seen, done))
            if not signals.act():
                break
    finally:
        # Reached on a failure, and on an interrupt from anywhere above: drain, then account.
        drain(pool)
        ended = {f for f in futures if f.done() and not f.cancelled()} - seen
        failed.update(_harvest(ended, futures, seen, done))
    if failed:
        raise failed[min(failed)]


def map_bounded(items: Sequence[T], work: Callable[[T], R], *, in_flight: int | None = None,
                name: str = "work") -> list[R]:  # fmt: skip
    """`work` on each item as run_bounded runs it; the results in the items' order."""
    results: dict[int, R] = {}
    run_bounded(items, work, done=results.__setitem__, in_flight=in_flight, name=name)
    return [results[i] for i in range(len(items))]


def result_of(future: Future[R]) -> R:
    """`future.result()` on the calling thread, with Ctrl-C and SIGTERM acted on after the wait,
    never inside its locking (see _Deferral)."""
    ended_q: SimpleQueue[Future[R] | None] = SimpleQueue()
    future.add_done_callback(ended_q.put)
    signals = _Deferral(ended_q)
    while True:
        with signals.noted():
            ended = bool(_ended(ended_q))
        signals.act()  # also one that came as it ended
        if ended:
            return future.result()  # no wait: it ended


def drain(pool: ThreadPoolExecutor) -> None:
    """Lets the work in flight end and starts no more, a Ctrl-C or SIGTERM meanwhile held: waiting
    a request's timeout at most is better than a write nobody knows about."""
    with interrupts_to(lambda signum, frame: None):
        pool.shutdown(wait=True, cancel_futures=True)


class _Deferral:
    """Ctrl-C or SIGTERM raised inside the executor's or a Condition's own locking left a lock
    released twice ("RuntimeError: release unlocked lock", an interrupted restore's exit 1 in a
    full run). So while the calling thread waits, a signal is only noted and wakes it; it is acted
    on between two waits, with the step's own handler back."""

    def __init__(self, wake: SimpleQueue[Any]) -> None:
        self.wake, self.came = wake, list[int]()

    def _note(self, signum: int, frame: object) -> None:
        self.came.append(signum)
        self.wake.put(None)  # SimpleQueue.put is reentrant: it may interrupt this thread's own get

    def noted(self) -> AbstractContextManager[None]:
        return interrupts_to(self._note)

    def act(self) -> bool:
        """Raises the signal that came again, for the step's handler: most often it raises
        KeyboardInterrupt; one that holds it lets the wait go on (True). False: none came."""
        if not self.came:
            return False
        signum = self.came[0]
        self.came.clear()
        signal.raise_signal(signum)
        return True


def _ended(ended_q: SimpleQueue[Future[R] | None]) -> set[Future[R]]:
    """The futures that ended since the last call, at least one unless a signal came. Waited for a
    second at a time: a signal's handler then runs within that, whatever a lock's wait does with it."""
    while True:
        try:
            first = ended_q.get(timeout=1.0)
            break
        except Empty:
            continue
    got = [first]
    while not ended_q.empty():
        got.append(ended_q.get())
    return {f for f in got if f is not None}


def _harvest(
    finished: set[Future[R]], futures: dict[Future[R], int], seen: set[Future[R]], done: Callable[[int, R], None]
) -> dict[int, BaseException]:
    failed: dict[int, BaseException] = {}
    for f in sorted(finished, key=futures.__getitem__):
        seen.add(f)  # before `done`: a write is counted at most once, the run's log says the rest
        exc = f.exception()
        if exc is not None:
            failed[futures[f]] = exc
        else:
            done(futures[f], f.result())
    return failed
