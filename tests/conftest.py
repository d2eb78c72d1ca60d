"""Session-wide sandbox: one at a time, switched when a test needs another topology (HA tests
run last so it switches once), stopped at the end. The tests that need no sandbox run first,
while the first sandbox comes up beside them.

A failed test's report says where the sandbox logs are; they are kept after the run.
Set HCMIGRATE_SANDBOX_REUSE=1 to reuse a running `make sandbox` of the same topology.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest

from tests.sandbox.config import CRDS, FIXTURES, SandboxConfig
from tests.sandbox.harness import Sandbox
from tests.sandbox.pool import MAX_WORKERS, SPARE_OFFSET, WORKER_OFFSET, SandboxPool, same_topology, xdist_worker

_NEXT = pytest.StashKey["pytest.Item | None"]()


def pytest_configure(config: pytest.Config) -> None:
    """Every test builds on upstream's CRDs and rendered objects: without them, one line, not 50 errors."""
    _worker_slot(config)
    missing = [p for p in (CRDS, FIXTURES) if not p.is_dir()]
    if missing:
        pytest.exit(
            f"the upstream HyperShift CRDs and fixtures are not at {missing[0].parent} (looked for "
            f"{', '.join(p.name + '/' for p in missing)}): put the shared folder beside the repo, "
            "or set HCMIGRATE_HYPERSHIFT_DIR to the folder that holds crds/ and fixtures/",
            returncode=4,
        )


def _worker_slot(config: pytest.Config) -> None:
    """Under `-n 2` each test worker runs its own sandboxes: the second one of slot N on N + 20
    (its spare N + 30), never on a slot another run may use (0-9) or on their spares (10-19)."""
    index, _ = xdist_worker(config)
    if index == 0:
        return
    slot = SandboxConfig.from_env().slot
    if index >= MAX_WORKERS or slot >= SPARE_OFFSET:
        pytest.exit(
            f"SANDBOX_SLOT 0-9 has room for {MAX_WORKERS} test workers (-n {MAX_WORKERS}); this is worker {index} of slot {slot}",
            returncode=4,
        )
    os.environ["SANDBOX_SLOT"] = str(slot + WORKER_OFFSET * index)


SandboxManager = SandboxPool  # the name the tests' type hints use
_pool: SandboxPool | None = None


def _the_pool() -> SandboxPool:
    global _pool
    if _pool is None:
        _pool = SandboxPool(SandboxConfig.from_env().slot)
    return _pool


@pytest.fixture(scope="session")
def sandbox_manager() -> Iterator[SandboxPool]:
    yield _the_pool()
    _the_pool().close()


def _base_config() -> SandboxConfig:
    return dataclasses.replace(SandboxConfig.from_env(), ha=False, nodepools=1)


def _ha_config() -> SandboxConfig:
    return dataclasses.replace(_base_config(), ha=True, nodepools=2)


def _fleet_config() -> SandboxConfig:
    return dataclasses.replace(_base_config(), hcs=3)


@pytest.fixture
def sandbox(sandbox_manager: SandboxManager) -> Sandbox:
    """SingleReplica, one NodePool (SANDBOX_ETCD_MB still applies)."""
    return sandbox_manager.get(_base_config())


@pytest.fixture(scope="module")
def module_sandbox(sandbox_manager: SandboxManager) -> Sandbox:
    """The same sandbox, for a module-scoped fixture: state that a module's tests share and each
    puts back. Moving on to another module ends that fixture before the next test."""
    return sandbox_manager.get(_base_config())


@pytest.fixture
def ha_sandbox(sandbox_manager: SandboxManager) -> Sandbox:
    """HighlyAvailable (three etcd pods) with two NodePools."""
    return sandbox_manager.get(_ha_config())


@pytest.fixture
def fleet_sandbox(sandbox_manager: SandboxManager) -> Sandbox:
    """`example` and two more HCs with control planes of their own (fleet1, fleet2), each with
    its own etcd pod and hosted etcd: for backups of many HCs at once."""
    return sandbox_manager.get(_fleet_config())


@pytest.fixture
def destroys_source(sandbox_manager: SandboxManager) -> Iterator[None]:
    """For a test that tears the source's `example` down: the sandbox is started anew after it.
    These tests run after the others of their topology, so that costs one start fewer."""
    yield
    sandbox_manager.discard()


def _needs_sandbox(it: pytest.Item) -> bool:
    return bool({"sandbox", "ha_sandbox", "fleet_sandbox", "sandbox_manager"} & set(getattr(it, "fixturenames", ())))


@pytest.hookimpl(trylast=True)  # after -k and -m deselected what will not run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The tests without a sandbox first; then by topology, so the sandbox is switched only once.
    items.sort(
        key=lambda it: (
            it.get_closest_marker("last") is not None,
            _needs_sandbox(it),
            "fleet_sandbox" in getattr(it, "fixturenames", ()),
            "ha_sandbox" in getattr(it, "fixturenames", ()),
            "destroys_source" in getattr(it, "fixturenames", ()),
        )
    )
    first = next((it for it in items if _needs_sandbox(it)), None)
    if first is None or {"ha_sandbox", "fleet_sandbox"} & set(getattr(first, "fixturenames", ())):
        return
    if config.option.collectonly:
        return  # --collect-only runs nothing: starting a sandbox would stop the one of the slot in use
    # Start-up is mostly waiting on processes: it overlaps well with the unit tests.
    _the_pool().start_ahead(_base_config())


def _wants(item: pytest.Item | None) -> SandboxConfig | None:
    """The sandbox a test runs on (None: it needs none)."""
    names = set(getattr(item, "fixturenames", ()))
    if "fleet_sandbox" in names:
        return _fleet_config()
    if "ha_sandbox" in names:
        return _ha_config()
    return _base_config() if item is not None and _needs_sandbox(item) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    item.stash[_NEXT] = nextitem
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # This test's sandbox is up: when the next test needs another one (this one tears the source
    # down, or the topology changes), start that in the spare slot while this one runs.
    now, after = _wants(item), _wants(item.stash.get(_NEXT, None))
    if after is not None and (now is None or not same_topology(now, after) or "destroys_source" in item.fixturenames):
        _the_pool().start_ahead(after)
    yield


def pytest_sessionfinish() -> None:
    if _pool is not None:  # a sandbox started ahead and never used (the run stopped before it)
        _pool.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        _the_pool().failed = True
        names = getattr(item, "fixturenames", ())
        if {"sandbox", "module_sandbox", "ha_sandbox", "fleet_sandbox"} & set(names):
            current = _the_pool().current
            logs = current.cfg.logs if current is not None else SandboxConfig.from_env().logs
            report.sections.append(("sandbox", f"sandbox logs are kept in {logs}"))
