"""The sizes the free-space and upload checks rest on are read or the step fails: never 0."""

from __future__ import annotations

import pytest

from kubectl_hcmigrate.core.report import StepFailed
from kubectl_hcmigrate.etcd.snapshotter import EtcdSnapshotter
from tests.fakes import NullReporter


class _Pod:
    def __init__(self, answer: tuple[int, bytes, bytes]) -> None:
        self.answer = answer

    def run_in_pod(self, namespace: str, pod: str, container: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        return self.answer


def _snap(answer: tuple[int, bytes, bytes]) -> EtcdSnapshotter:
    return EtcdSnapshotter(_Pod(answer), "clusters-example", NullReporter())  # type: ignore[arg-type]


def test_db_size_is_read() -> None:
    assert _snap((0, b'[{"Status": {"dbSize": 1234}}]', b"")).db_size("etcd-0", "ca") == 1234


@pytest.mark.parametrize("answer", [(1, b"", b"context deadline exceeded"), (0, b"[]", b""), (0, b"not json", b"")])
def test_an_unknown_db_size_fails_the_step(answer: tuple[int, bytes, bytes]) -> None:
    with pytest.raises(StepFailed, match="etcdctl endpoint status"):
        _snap(answer).db_size("etcd-0", "ca")


@pytest.mark.parametrize("answer", [(1, b"", b"No such file"), (0, b"", b"")])
def test_an_unknown_file_size_fails_the_step(answer: tuple[int, bytes, bytes]) -> None:
    with pytest.raises(StepFailed, match="cannot read the size"):
        _snap(answer)._file_size("etcd-0", "/var/lib/data/x.db")
