"""Exec as a checked stream against the sandbox's real apiserver and kwok-run processes.

The etcd pod's processes share the host's /tmp, so a file written under pytest's tmp_path
is what `cat` reads inside the pod.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from kubectl_hcmigrate.adapters.kube_exec import ExecFailed, open_exec, run_exec
from kubectl_hcmigrate.etcd.verifier import SnapshotVerifier, VerifyingReader

pytestmark = pytest.mark.e2e

NS, POD, CONTAINER = "clusters-example", "etcd-0", "etcd"
MiB = 1024 * 1024
ETCDCTL = [
    "etcdctl",
    "--endpoints=https://localhost:2379",
    "--cacert=/etc/etcd/tls/etcd-ca/ca.crt",
    "--cert=/etc/etcd/tls/client/etcd-client.crt",
    "--key=/etc/etcd/tls/client/etcd-client.key",
]


@pytest.fixture
def api(sandbox: Any) -> Any:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(sandbox.kubeconfig), context="source")


def stream_digest(reader: Any, chunk: int = 4 * MiB) -> tuple[int, str]:
    h, size, buf = hashlib.sha256(), 0, bytearray(chunk)
    while n := reader.readinto(buf):
        h.update(memoryview(buf)[:n])
        size += n
    return size, h.hexdigest()


def test_cat_streams_every_byte(api: Any, tmp_path: Path) -> None:
    data = os.urandom(48 * MiB)  # every byte value, no text decoding may touch it
    (tmp_path / "blob.bin").write_bytes(data)
    t = time.monotonic()
    with open_exec(api, NS, POD, CONTAINER, ["cat", str(tmp_path / "blob.bin")]) as reader:
        assert stream_digest(reader) == (len(data), hashlib.sha256(data).hexdigest())
        reader.check()
        assert reader.exit_code == 0
    print(f"\nexec cat: {len(data) / MiB / (time.monotonic() - t):.0f} MiB/s")


def test_non_zero_exit_fails_the_stream(api: Any, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.db")
    reader = open_exec(api, NS, POD, CONTAINER, ["cat", missing])
    with pytest.raises(ExecFailed) as err:
        reader.read(1024)
    assert err.value.exit_code == 1
    assert str(err.value).startswith("cat in pod etcd-0 exited with code 1: cat: ")
    assert "No such file or directory" in str(err.value)


def test_run_exec_returns_code_and_both_streams(api: Any) -> None:
    code, out, err = run_exec(api, NS, POD, CONTAINER, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (code, out, err) == (3, b"out\n", b"err\n")


def test_command_that_cannot_start(api: Any) -> None:
    with pytest.raises(ExecFailed, match=r"gave no exit status: .*not found"):
        run_exec(api, NS, POD, CONTAINER, ["no-such-binary-here"])


def test_closing_early_does_not_hang(api: Any) -> None:
    reader = open_exec(api, NS, POD, CONTAINER, ["head", "-c", str(512 * MiB), "/dev/zero"])
    assert len(reader.read(MiB)) == MiB
    t = time.monotonic()
    reader.close()
    assert time.monotonic() - t < 5


def test_snapshot_saved_in_the_pod_streams_out_verified(api: Any, tmp_path: Path) -> None:
    scratch = str(tmp_path / "snapshot.db")
    code, _, err = run_exec(api, NS, POD, CONTAINER, [*ETCDCTL, "snapshot", "save", scratch])
    assert code == 0, err
    verifier = SnapshotVerifier()
    with open_exec(api, NS, POD, CONTAINER, ["cat", scratch]) as reader:
        size, sha = stream_digest(VerifyingReader(reader, verifier))
    digest = verifier.finish()
    assert (digest.size, digest.sha256) == (size, sha)
    assert digest.sha256 == hashlib.sha256(Path(scratch).read_bytes()).hexdigest()
