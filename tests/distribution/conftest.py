"""Fixtures for the distribution tests: one real build of the tree, run the way users run it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.distribution.tools import build_once


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: builds or drives real tools; part of make test")


@pytest.fixture(scope="session")
def dist(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the zipapp under both names, the krew archive and its manifest: one build
    for the run, which the tests only read."""
    return build_once(request.config, tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def zipapp_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment to run the zipapp in; it unpacks into a throwaway SHIV_ROOT."""
    env = {**os.environ, "SHIV_ROOT": str(tmp_path_factory.mktemp("shiv"))}
    # Cache bytecode there as a user's Python would, or every run compiles its imports anew.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
