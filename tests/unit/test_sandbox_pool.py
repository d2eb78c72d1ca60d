"""The test session's sandboxes: the next one starts ahead in the slot's spare, is claimed by the
next test, and the old one stops after it; a slot's start never overtakes its stop."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.sandbox import pool as pool_module
from tests.sandbox.config import SandboxConfig
from tests.sandbox.pool import SPARE_OFFSET, SandboxPool
from tests.sandbox.s3 import MINIO_OFFSET, MOTO_OFFSET, TEST_S3_BASE
from tests.sandbox.s3 import owned_ports as s3_ports
from tests.sandbox.s3_minio import owned_ports as minio_ports


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    busy = threading.Lock()

    def up(cfg: SandboxConfig) -> Any:
        assert busy.acquire(blocking=False), "two starts or stops at once"
        seen.append(("up", cfg.slot))
        busy.release()
        return SimpleNamespace(cfg=cfg)

    def down(cfg: SandboxConfig, keep_logs: bool = False) -> list[str]:
        assert busy.acquire(blocking=False), "two starts or stops at once"
        seen.append(("down", cfg.slot))
        busy.release()
        return []

    monkeypatch.setattr(pool_module, "up", up)
    monkeypatch.setattr(pool_module, "down", down)
    monkeypatch.delenv("HCMIGRATE_SANDBOX_REUSE", raising=False)
    return seen


def test_the_next_sandbox_comes_up_in_the_spare_slot_and_the_old_one_stops(calls: list[tuple[str, int]]) -> None:
    base = SandboxConfig(slot=3)
    pool = SandboxPool(3)
    pool.start_ahead(base)  # at collection: the first sandbox, in the base slot
    first = pool.get(base)
    assert first.cfg.slot == 3 and pool.get(base) is first
    pool.start_ahead(base)  # a test that tears the source down runs on it
    pool.discard()
    second = pool.get(base)
    assert second.cfg.slot == 3 + SPARE_OFFSET
    ha = dataclasses.replace(base, ha=True, nodepools=2)
    pool.start_ahead(ha)  # the last test of this topology: HA comes up in the base slot again
    third = pool.get(ha)
    assert third.cfg.slot == 3 and third.cfg.ha
    pool.close()
    assert calls == [("up", 3), ("up", 13), ("down", 3), ("up", 3), ("down", 13), ("down", 3)]


def test_a_sandbox_started_for_another_topology_is_stopped_and_the_right_one_started(
    calls: list[tuple[str, int]],
) -> None:
    base = SandboxConfig(slot=0)
    pool = SandboxPool(0)
    pool.get(base)
    pool.start_ahead(dataclasses.replace(base, hcs=3))
    got = pool.get(dataclasses.replace(base, ha=True))  # not what was started ahead
    assert got.cfg.ha and got.cfg.slot == SPARE_OFFSET
    pool.close()
    assert calls == [("up", 0), ("up", 10), ("down", 10), ("down", 0), ("up", 10), ("down", 10)]


def _tcp_ports(cfg: SandboxConfig) -> list[int]:
    """Every TCP port on 127.0.0.1 a sandbox of `cfg` listens on (hosted etcd members listen on
    addresses of their own slot)."""
    ports = [cfg.aws_port, *s3_ports(cfg.s3_port), *minio_ports(cfg.minio_port)]
    for name, c in cfg.clusters.items():
        ports += [c.etcd, c.etcd_peer, c.apiserver, c.controller_manager, c.kwok_base]
        hcs = cfg.hcs if name == "source" else 1  # the other HCs' members run on the source only
        ports += [c.kwok_node(i, hc) for hc in range(hcs) for i in range(cfg.etcd_members)]
    return ports


def test_no_two_slots_share_a_port_and_none_is_in_the_ephemeral_range() -> None:
    """Slots 0-39 (a second test worker's run on N + 20 and N + 30), each as large as a sandbox
    gets (three etcd members, nine HCs), beside the integration tests' S3 blocks."""
    owner: dict[int, str] = {}
    biggest = SandboxConfig(ha=True, hcs=9)
    for slot in range(40):
        for port in _tcp_ports(dataclasses.replace(biggest, slot=slot)):
            assert owner.setdefault(port, f"slot {slot}") == f"slot {slot}", f"{port}: {owner[port]} and slot {slot}"
    for n in range(10):
        base = TEST_S3_BASE + 100 * n
        for port in [*s3_ports(base), base + MOTO_OFFSET, *minio_ports(base + MINIO_OFFSET)]:
            assert owner.setdefault(port, f"block {n}") == f"block {n}", f"{port}: {owner[port]} and block {n}"
    low, _ = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert max(owner) < low
