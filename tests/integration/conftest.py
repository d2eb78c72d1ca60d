"""Three S3 servers for the integration tests, on ports apart from the sandbox's: every test
that takes `s3` runs on SeaweedFS; the tests of the S3 adapter itself run on moto (regions) and
MinIO (signatures, a real STS and KMS) as well. The verbs' tests above the adapter, and the large
uploads, run on SeaweedFS only: elsewhere they prove nothing more (on moto they took ten minutes
under load)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_hcmigrate.adapters.s3store import Bucket
from kubectl_hcmigrate.core.options import BucketTarget
from tests.sandbox.pool import xdist_worker
from tests.sandbox.s3 import (
    MINIO_OFFSET,
    MOTO_OFFSET,
    TEST_S3_BASE,
    S3Server,
    busy_ports,
    owned_ports,
    start_s3,
    stop_s3,
)
from tests.sandbox.s3_minio import owned_ports as minio_ports
from tests.sandbox.s3_minio import start_minio_s3
from tests.sandbox.s3_moto import start_moto_s3


def _free_base(config: pytest.Config) -> int:
    wanted = os.environ.get("HCMIGRATE_TEST_S3_PORT")
    if wanted:
        return int(wanted)
    # Halfway between the sandbox slots' S3 ports (18333 + 100 * slot), so that a
    # sandbox started while the tests run does not find its ports taken; each test worker
    # (pytest -n) looks at blocks of its own, or two could find the same one free at once.
    worker, workers = xdist_worker(config)
    for base in range(TEST_S3_BASE + 100 * worker, TEST_S3_BASE + 1000, 100 * workers):
        if not busy_ports([*owned_ports(base), base + MOTO_OFFSET, *minio_ports(base + MINIO_OFFSET)]):
            return base
    pytest.fail(f"no free port block for the test S3 server at {TEST_S3_BASE} + 100 * n")


# The tests that run on moto and MinIO as well: the adapter's own, without the large uploads.
OTHER_SERVERS = {"moto", "minio"}
ADAPTER_MODULES = {"test_s3store.py", "test_s3_encryption.py"}
SEAWEEDFS_ONLY = {"test_multipart_upload_of_150_mb", "test_memory_stays_near_the_parts_in_flight"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def elsewhere_by_parametrization(it: pytest.Item) -> bool:
        callspec = getattr(it, "callspec", None)
        if callspec is None or callspec.params.get("s3") not in OTHER_SERVERS:
            return False
        return it.path.name not in ADAPTER_MODULES or it.originalname in SEAWEEDFS_ONLY  # type: ignore[attr-defined]

    dropped = [it for it in items if elsewhere_by_parametrization(it)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [it for it in items if it not in dropped]


@pytest.fixture(scope="session")
def _base(request: pytest.FixtureRequest) -> int:
    return _free_base(request.config)


@pytest.fixture(scope="session", params=["seaweedfs", "moto", "minio"])
def s3(request: pytest.FixtureRequest, _base: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    state = tmp_path_factory.mktemp(f"s3state-{request.param}")
    if request.param == "moto":
        server = start_moto_s3(state, port=_base + MOTO_OFFSET, bucket="hcm-test")
    elif request.param == "minio":
        server = start_minio_s3(state, port=_base + MINIO_OFFSET, bucket="hcm-test")
    else:
        server = start_s3(state, port=_base, bucket="hcm-test")
    yield server
    stop_s3(server)


@pytest.fixture(scope="session")
def creds_file(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("aws") / "credentials"
    path.write_text(f"[default]\naws_access_key_id = {s3.access_key}\naws_secret_access_key = {s3.secret_key}\n")
    return path


@pytest.fixture
def target(s3: S3Server, creds_file: Path) -> BucketTarget:
    return BucketTarget(
        bucket=s3.bucket,
        prefix=f"t-{uuid.uuid4().hex[:8]}/",
        region=s3.region,
        endpoint_url=s3.endpoint_url,
        aws_creds_file=str(creds_file),
    )


@pytest.fixture
def bucket(target: BucketTarget) -> Bucket:
    return Bucket(target)
