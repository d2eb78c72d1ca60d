"""Ctrl-C while requests are in flight, no server needed: during an S3 multipart upload
(adapters/s3multipart.py) the parts in flight land before the upload is aborted, and during
preflight's access reviews (adapters/kube_rbac.py) the reviews in flight end first, a second
Ctrl-C meanwhile included; the interrupt is what the caller sees."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from kubectl_hcmigrate.adapters import kube_rbac, s3multipart
from kubectl_hcmigrate.adapters.s3multipart import MIN_PART_SIZE, upload
from kubectl_hcmigrate.core.bounded import result_of


class SlowParts:
    """A client whose parts take `seconds` each; it notes when each ended and when the abort came."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.lock = seconds, threading.Lock()
        self.started = self.ended = 0
        self.aborted_with_in_flight: int | None = None

    def create_multipart_upload(self, **kw: Any) -> dict[str, str]:
        return {"UploadId": "u"}

    def upload_part(self, **kw: Any) -> dict[str, str]:
        with self.lock:
            self.started += 1
        time.sleep(self.seconds)
        with self.lock:
            self.ended += 1
        return {"ETag": f"e{kw['PartNumber']}"}

    def abort_multipart_upload(self, **kw: Any) -> None:
        with self.lock:
            self.aborted_with_in_flight = self.started - self.ended

    def complete_multipart_upload(self, **kw: Any) -> dict[str, str]:
        return {"ETag": "done"}


def _signals_at(*seconds: float) -> None:
    start = time.monotonic()

    def send() -> None:
        for at in seconds:
            time.sleep(max(0.0, start + at - time.monotonic()))
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=send, daemon=True).start()


def test_a_second_ctrl_c_while_the_parts_land_is_held_and_the_abort_comes_after_them() -> None:
    """The first Ctrl-C lands while the reader waits on the first of four parts in flight, the
    second while those land. Before, the second broke off that wait: the abort ran with parts still
    uploading, and S3 keeps a part that lands after the abort (its storage billed, unlisted)."""
    client = SlowParts(seconds=1.0)
    data = io.BytesIO(bytes(6 * MIN_PART_SIZE))
    _signals_at(0.3, 0.6)
    with pytest.raises(KeyboardInterrupt):
        upload(client, "b", "k", data, part_size=MIN_PART_SIZE, errors=contextlib.nullcontext)
    assert client.started == s3multipart.IN_FLIGHT
    assert client.aborted_with_in_flight == 0


def test_a_ctrl_c_that_comes_as_the_part_ends_is_not_lost() -> None:
    """The part's end and the signal wake the waiting thread together, in either order."""
    outcomes = []
    with ThreadPoolExecutor(1) as pool:
        for _ in range(200):
            try:
                result_of(pool.submit(os.kill, os.getpid(), signal.SIGINT))
                outcomes.append("lost")
            except KeyboardInterrupt:
                outcomes.append("interrupted")
    assert set(outcomes) == {"interrupted"}, outcomes.count("lost")


def test_a_second_ctrl_c_during_the_access_reviews_is_held_until_they_end() -> None:
    """Preflight's reviews run as restore's creates do (run_bounded): before, the second Ctrl-C
    broke off the executor's shutdown and the run went on with reviews still in flight."""
    in_flight, at_raise = [0], []
    lock = threading.Lock()

    class SlowKube:
        def request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
            with lock:
                in_flight[0] += 1
            time.sleep(1.0)
            with lock:
                in_flight[0] -= 1
            return {"status": {"allowed": True}}

    checks = [("get", "", "pods", "ns")] * (2 * kube_rbac.PARALLEL)
    _signals_at(0.3, 0.6)
    with pytest.raises(KeyboardInterrupt):
        try:
            kube_rbac.allowed(SlowKube(), checks)  # type: ignore[arg-type]
        finally:
            at_raise.append(in_flight[0])
    assert at_raise == [0]
