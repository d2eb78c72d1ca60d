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
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tests.sandbox.config import CRDS, FIXTURES, SandboxConfig
from tests.sandbox.harness import Sandbox, down, up

_failed = False
_early: Future[Sandbox] | None = None  # the first sandbox, started at collection


def pytest_configure(config: pytest.Config) -> None:
    """Every test builds on upstream's CRDs and rendered objects: without them, one line, not 50 errors."""
    missing = [p for p in (CRDS, FIXTURES) if not p.is_dir()]
    if missing:
        pytest.exit(
            f"the upstream HyperShift CRDs and fixtures are not at {missing[0].parent} (looked for "
            f"{', '.join(p.name + '/' for p in missing)}): put the shared folder beside the repo, "
            "or set HCMIGRATE_HYPERSHIFT_DIR to the folder that holds crds/ and fixtures/",
            returncode=4,
        )


class SandboxManager:
    def __init__(self) -> None:
        self.current: Sandbox | None = None
        self.stale = False

    def get(self, cfg: SandboxConfig) -> Sandbox:
        if self.current is not None and self.current.cfg == cfg and not self.stale:
            return self.current
        self.stale = False
        early = _claim_early()
        if early is not None and early.cfg == cfg:
            self.current = early
            return early
        if self.current is None and os.environ.get("HCMIGRATE_SANDBOX_REUSE") == "1":
            from tests.sandbox.harness import attach

            self.current = attach(cfg)
            if self.current is not None:
                return self.current
        # A start that fails leaves nothing to reuse: the next test tries again rather than run on a
        # half-stopped sandbox.
        self.current = None
        self.current = up(cfg)
        return self.current

    def discard(self) -> None:
        """The current sandbox is no longer as seeded: the next test that needs one gets a new one
        (up() stops this one first). It runs on until then, for a last test that stops it."""
        self.stale = True

    def close(self) -> None:
        if self.current is not None and os.environ.get("HCMIGRATE_SANDBOX_REUSE") != "1":
            down(self.current.cfg, keep_logs=_failed)
        self.current = None


@pytest.fixture(scope="session")
def sandbox_manager() -> Iterator[SandboxManager]:
    mgr = SandboxManager()
    yield mgr
    mgr.close()


def _base_config() -> SandboxConfig:
    return dataclasses.replace(SandboxConfig.from_env(), ha=False, nodepools=1)


@pytest.fixture
def sandbox(sandbox_manager: SandboxManager) -> Sandbox:
    """SingleReplica, one NodePool (SANDBOX_ETCD_MB still applies)."""
    return sandbox_manager.get(_base_config())


@pytest.fixture
def ha_sandbox(sandbox_manager: SandboxManager) -> Sandbox:
    """HighlyAvailable (three etcd pods) with two NodePools."""
    return sandbox_manager.get(dataclasses.replace(_base_config(), ha=True, nodepools=2))


@pytest.fixture
def fleet_sandbox(sandbox_manager: SandboxManager) -> Sandbox:
    """`example` and two more HCs with control planes of their own (fleet1, fleet2), each with
    its own etcd pod and hosted etcd: for backups of many HCs at once."""
    return sandbox_manager.get(dataclasses.replace(_base_config(), hcs=3))


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
    global _early
    first = next((it for it in items if _needs_sandbox(it)), None)
    if first is None or {"ha_sandbox", "fleet_sandbox"} & set(getattr(first, "fixturenames", ())) or _early is not None:
        return
    if os.environ.get("HCMIGRATE_SANDBOX_REUSE") == "1" or config.option.collectonly:
        return  # --collect-only runs nothing: starting a sandbox would stop the one of the slot in use
    # Start-up is mostly waiting on processes: it overlaps well with the unit tests.
    _early = ThreadPoolExecutor(1, thread_name_prefix="sandbox-up").submit(up, _base_config())


def _claim_early() -> Sandbox | None:
    """The sandbox started at collection, once (None if none was started or it failed to start:
    the caller then starts one itself, and its error is the one reported)."""
    global _early
    early, _early = _early, None
    if early is None:
        return None
    try:
        return early.result()
    except Exception:
        return None


def pytest_sessionfinish() -> None:
    early = _claim_early()  # started, never used (the run stopped before the first e2e test)
    if early is not None:
        down(early.cfg)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    global _failed
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        _failed = True
        names = getattr(item, "fixturenames", ())
        if {"sandbox", "ha_sandbox", "fleet_sandbox"} & set(names):
            logs = SandboxConfig.from_env().logs
            report.sections.append(("sandbox", f"sandbox logs are kept in {logs}"))
