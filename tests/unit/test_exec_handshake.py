"""The exec handshake has a timeout: kubernetes.stream gives its websocket none, so an apiserver
that accepts the connection and then freezes (SIGSTOP, a hung proxy) held it forever."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from kubernetes.client import ApiClient, Configuration

from kubectl_hcmigrate.adapters import kube_exec
from kubectl_hcmigrate.adapters.exec_handshake import handshake_reason
from kubectl_hcmigrate.adapters.kube_exec import HANDSHAKE_ATTEMPTS, ExecFailed, open_exec


def test_a_frozen_apiserver_ends_the_handshake_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_exec.time, "sleep", lambda _: None)
    with socket.socket() as frozen:  # the kernel accepts the connection; nobody ever answers
        frozen.bind(("127.0.0.1", 0))
        frozen.listen(8)
        config = Configuration(host=f"http://127.0.0.1:{frozen.getsockname()[1]}")
        failed: list[BaseException] = []

        def run() -> None:
            try:
                open_exec(ApiClient(config), "ns", "etcd-0", "etcd", ["true"], handshake_timeout=0.3)
            except BaseException as e:
                failed.append(e)

        began = time.monotonic()
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(20)
        assert not worker.is_alive(), "the exec handshake still waits on a frozen apiserver"
    assert time.monotonic() - began < 10
    assert isinstance(failed[0], ExecFailed)
    assert f"did not answer the exec handshake within 0.3s ({HANDSHAKE_ATTEMPTS} tries)" in str(failed[0])


def test_handshake_failure_reason() -> None:
    text = (
        "Handshake status 404 Not Found -+-+- {'content-type': 'application/json'} -+-+- "
        'b\'{"kind":"Status","message":"pods \\"nope\\" not found","reason":"NotFound"}\''
    )
    assert handshake_reason(text) == 'pods "nope" not found'
    assert handshake_reason("[Errno 111] Connection refused") == "[Errno 111] Connection refused"
