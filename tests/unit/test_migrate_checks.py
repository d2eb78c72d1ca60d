"""migrate checks every stage's options before the first change (issue 11, finding 6): a bad
restore option, a destination without the CRDs they need, or a restore URL the destination would
refuse, end the run and its dry run alike as a refusal, with nothing written anywhere."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest

from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.report import EXIT_CODES, PreflightError
from kubectl_hcmigrate.verbs import migrate
from tests.fakes import NullReporter
from tests.unit.install_fixtures import installed, published

HC_OBJ = published({
    "apiVersion": "hypershift.openshift.io/v1beta1", "kind": "HostedCluster",
    "metadata": {"name": "example", "namespace": "clusters", "uid": "u1", "annotations": {}},
    "spec": {"infraID": "example-x", "secretEncryption": {"aescbc": {"activeKey": {"name": "example-etcd-encryption-key"}}}},
})  # fmt: skip
WRITES = ("merge_patch", "create", "replace", "delete", "remove_finalizers", "scale", "patch_workload",
          "create_namespace", "delete_namespace", "annotate_namespace", "run_in_pod", "stream_from_pod")  # fmt: skip
BUCKET_WRITES = ("upload_stream", "put_bytes", "delete", "abort_incomplete_uploads")


def clusters(*, crds: bool = True) -> tuple[Any, Any, Any]:
    source, destination, bucket = MagicMock(), MagicMock(), MagicMock()
    source.context, destination.context, bucket.name = "source", "destination", "b"
    source.get.side_effect = lambda rule, ns, name: HC_OBJ if rule.kind == "HostedCluster" else None
    destination.get.return_value = None
    destination.crd.side_effect = lambda name: {"spec": {"versions": []}} if crds else None
    source.crd.side_effect = lambda name: {"spec": {"versions": []}}
    destination.workloads.side_effect = lambda kind, ns: installed() if kind == "deployments" and not ns else []
    destination.version_of.return_value = "v1beta1"
    bucket.presign_get.return_value = "https://s3.example/b/k?X-Amz-Signature=x"
    return source, destination, bucket


def opts(**kw: Any) -> migrate.MigrateOptions:
    return migrate.MigrateOptions("example", "clusters", BucketTarget(bucket="b"), **kw)


def assert_nothing_written(source: Any, destination: Any, bucket: Any) -> None:
    for kube in (source, destination):
        for method in WRITES:
            assert not getattr(kube, method).called, method
    for method in BUCKET_WRITES:
        assert not getattr(bucket, method).called, method
    assert not bucket.preflight.called  # the backup stage never began


@pytest.mark.parametrize("run", [migrate.migrate, migrate.plan], ids=["run", "dry-run"])
@pytest.mark.parametrize(
    ("options", "crds", "url", "message"),
    [
        ({"url_expiry": 8 * 24 * 3600}, True, None, "--url-expiry must be more than 0 and at most 7d"),
        ({"url_expiry": 1800, "timeout": 1800}, True, None, "--url-expiry 30m is shorter than the 30m of --timeout"),
        ({"timeout": 0}, True, None, "--timeout must be more than 0"),
        ({"with_nodes": True}, False, None, "lacks the CRDs"),
        ({}, True, "http://s3.example/b/k", "HyperShift accepts only https:// restore URLs"),
        ({}, True, "https://s3.example/" + "k" * 2000, "the presigned snapshot URL is"),
    ],
    ids=["url-expiry", "url-expiry-under-timeout", "timeout", "with-nodes-crds", "http-url", "long-url"],
)
def test_a_later_stage_refuses_before_the_backup(
    run: Any, options: dict[str, Any], crds: bool, url: str | None, message: str
) -> None:
    source, destination, bucket = clusters(crds=crds)
    if url:
        bucket.presign_get.return_value = url
    with pytest.raises(PreflightError, match=message) as err:
        run(opts(**options), source, destination, bucket, NullReporter())
    assert EXIT_CODES[err.value.outcome] == 3
    assert_nothing_written(source, destination, bucket)


def test_a_destination_that_fails_to_answer_is_a_refusal_too() -> None:
    from kubectl_hcmigrate.core.ports import KubeError

    source, destination, bucket = clusters()
    destination.crd.side_effect = KubeError(403, "Forbidden", "customresourcedefinitions is forbidden")
    with pytest.raises(PreflightError, match=r"reading the destination .* failed: customresourcedefinitions"):
        migrate.migrate(opts(), source, destination, bucket, NullReporter())
    assert_nothing_written(source, destination, bucket)
