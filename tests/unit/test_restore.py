"""restore's pure parts: what it refuses from a bundle and from the destination, how the HC's
restore URL is set and checked against the real CRD, and the plan's order."""

from __future__ import annotations

import copy
import dataclasses
from functools import cache
from typing import Any

import pytest
import yaml

from kubectl_hcmigrate.core import bundle, marks, restore_url
from kubectl_hcmigrate.core.bundle import BundleObject
from kubectl_hcmigrate.core.options import BucketTarget
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.verbs import restore, restore_checks
from tests.unit import hc_fixtures as fx

M = fx.manifest()
URL = "https://s3.us-east-1.amazonaws.com/bkt/clusters/cesar/x/etcd-snapshot.db?X-Amz-Signature=abc"


def bundle_objects(*, drop: str = "", etcd: dict[str, Any] | None = None) -> list[BundleObject]:
    hc = fx.hostedcluster()
    if etcd is not None:
        hc["spec"]["etcd"] = etcd
    secrets = [fx.secret(n) for n in ("cesar-pull-secret", "cesar-etcd-encryption-key", "old-etcd-key") if n != drop]
    hc_ns = [hc, *fx.nodepools(), *secrets, fx.configmap("corp-proxy-ca")]
    files, _ = bundle.render_bundle({fx.NS: hc_ns, fx.HCP_NS: fx.hcp_objects()}, M)
    return bundle.load_objects(bundle.read_bundle(files))


def test_a_complete_bundle_passes() -> None:
    bundle.check_bundle_objects(bundle_objects(), M)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drop": "old-etcd-key"}, "lacks the etcd encryption key secret old-etcd-key"),
        ({"etcd": {"managementType": "Unmanaged", "unmanaged": {"endpoint": "https://etcd:2379"}}}, "not Managed"),
    ],
    ids=["backup-key-missing", "unmanaged-etcd"],
)
def test_bundles_that_cannot_restore_etcd_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(PreflightError, match=message):
        bundle.check_bundle_objects(bundle_objects(**kwargs), M)


def test_a_bundle_without_its_hostedcluster_is_refused() -> None:
    objs = [o for o in bundle_objects() if o.rule is not restore.HC]
    with pytest.raises(PreflightError, match="holds no HostedCluster cesar"):
        bundle.check_bundle_objects(objs, M)


def annotated(backup_id: str | None, uid: str | None, url: str | None = None) -> dict[str, Any]:
    hc = fx.from_server(fx.hostedcluster())
    ann = {marks.BACKUP_ID: backup_id, marks.SOURCE_UID: uid}
    hc["metadata"]["annotations"].update({k: v for k, v in ann.items() if v})
    return restore_url.set_url(hc, url) if url else hc


def test_no_hc_on_the_destination_is_a_fresh_restore() -> None:
    assert marks.same_backup(None, M, "dest") == (False, None)


def test_an_hc_from_this_backup_is_resumed_keeping_its_url() -> None:
    assert marks.same_backup(annotated(M.backup_id, "uid-1", URL), M, "dest") == (True, URL)
    assert marks.same_backup(annotated(M.backup_id, "uid-1"), M, "dest") == (True, None)


def test_restoring_onto_the_cluster_the_backup_was_taken_from_is_refused() -> None:
    source_hc = {"metadata": {"name": "example", "namespace": "clusters", "uid": M.hostedcluster.uid}}
    with pytest.raises(PreflightError) as e:
        marks.same_backup(source_hc, M, "source")
    assert str(e.value).startswith(f"context 'source' is the cluster backup {M.backup_id} was taken from")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("backup_id", "uid", "message"),
    [
        ("20200101T000000Z", "uid-1", "restored from backup 20200101T000000Z"),
        (M.backup_id, "another-uid", f"restored from backup {M.backup_id}"),
        (None, None, "restored not by hcmigrate"),
    ],
    ids=["other-backup", "other-source", "not-ours"],
)
def test_an_hc_from_anywhere_else_is_refused(backup_id: str | None, uid: str | None, message: str) -> None:
    with pytest.raises(PreflightError, match=message) as e:
        marks.same_backup(annotated(backup_id, uid), M, "dest")
    assert "context 'dest'" in str(e.value) and "\n" not in str(e.value)


def test_the_restore_url_is_exactly_one_item_and_replaces_the_sources() -> None:
    hc = restore_url.set_url(fx.hostedcluster(), "https://old/x")
    hc = restore_url.set_url(hc, URL)
    assert hc["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"] == [URL]
    assert hc["spec"]["etcd"]["managed"]["storage"]["persistentVolume"]  # the rest of storage stays
    assert restore_url.current(hc) == URL
    assert restore_url.current(fx.hostedcluster()) is None


@cache
def hc_crd() -> dict[str, Any]:
    return yaml.safe_load((fx.HYPERSHIFT / "crds" / "hostedclusters-Hypershift-Default.crd.yaml").read_text())


def test_the_url_limit_is_read_from_the_real_crd() -> None:
    crd = copy.deepcopy(hc_crd())
    assert restore_url.max_length(crd, "v1beta1") == 1024
    node = next(v for v in crd["spec"]["versions"] if v["name"] == "v1beta1")["schema"]["openAPIV3Schema"]
    for part in ("spec", *restore_url.PATH):
        node = node["properties"][part]
    node["items"]["maxLength"] = 2048  # a later HyperShift may allow more: the CRD's word counts
    assert restore_url.max_length(crd, "v1beta1") == 2048
    assert restore_url.max_length(None, "v1beta1") == restore_url.DEFAULT_MAX_LENGTH
    assert restore_url.max_length(crd, "v9") == restore_url.DEFAULT_MAX_LENGTH


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8333/bkt/key?X-Amz-Signature=abc", "accepts only https://"),
        ("https://h/k?X-Amz-Security-Token=" + "t" * 1100, "is 11.. characters and the destination accepts at most"),
    ],
    ids=["http", "too-long"],
)
def test_urls_the_destination_would_reject_are_refused_without_their_query(url: str, message: str) -> None:
    with pytest.raises(PreflightError, match=message) as e:
        restore_url.check(url, 1024)
    assert "X-Amz" not in str(e.value)


def test_a_good_url_passes() -> None:
    restore_url.check(URL, 1024)


def plan_names(with_nodes: bool, wait: bool, etcd_replicas: int = 1) -> list[str]:
    opts = restore.RestoreOptions("cesar", fx.NS, BucketTarget("bkt"), with_nodes=with_nodes, wait=wait)
    objs = bundle.restore_sequence(bundle_objects(), with_nodes)
    r = restore.Restore(opts, None, None, None, None, objs, "k", False, None, etcd_replicas)  # type: ignore[arg-type]
    return [s.name for s in restore.build_plan(r).steps]


def test_the_plan_applies_in_dependency_order() -> None:
    assert plan_names(with_nodes=False, wait=True) == [
        "create namespaces",
        "create ConfigMap, Secret in clusters",
        "create Secret in clusters-cesar",
        "create HostedControlPlane in clusters-cesar",
        "create Cluster in clusters-cesar",
        "create HostedCluster in clusters",
        "wait for the restored control plane",
    ]  # no NodePool without its machine objects (T14)


def test_an_ha_etcd_is_checked_to_be_one_cluster_after_the_wait_and_only_then() -> None:
    assert plan_names(with_nodes=False, wait=True, etcd_replicas=3)[-2:] == [
        "wait for the restored control plane",
        "check the etcd members form one cluster",
    ]
    assert "check the etcd members form one cluster" not in plan_names(with_nodes=False, wait=False, etcd_replicas=3)


def test_with_nodes_the_machine_objects_come_between_cluster_and_hostedcluster() -> None:
    names = plan_names(with_nodes=True, wait=False)
    between = names[
        names.index("create Cluster in clusters-cesar") + 1 : names.index("create HostedCluster in clusters")
    ]
    assert between == [
        "create AWSCluster in clusters-cesar",
        "create AWSMachineTemplate in clusters-cesar",
        "create AWSMachine in clusters-cesar",
        "create MachineDeployment in clusters-cesar",
        "create MachineSet in clusters-cesar",
        "create Machine in clusters-cesar",
    ]
    assert names[-1] == "create NodePool in clusters"


def test_url_expiry_and_timeout_out_of_range_are_refused_before_anything_is_read() -> None:
    for change, message in [
        ({"url_expiry": 8 * 86400}, "at most 7d .*not 8d"),
        ({"url_expiry": 0}, "more than 0"),
        ({"timeout": -5}, "--timeout must be more than 0"),
    ]:
        opts = dataclasses.replace(restore.RestoreOptions("cesar", fx.NS, BucketTarget("bkt")), **change)
        with pytest.raises(PreflightError, match=message):
            restore.preflight(opts, None, None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url_expiry": 1800}, r"--url-expiry 30m is shorter than the 30m of --timeout plus 1m .* give --url-expiry "
                               r"31m or more, or a shorter --timeout"),
        ({"url_expiry": 3600, "timeout": 3600}, "shorter than the 1h of --timeout plus 1m"),
        ({"url_expiry": 59, "wait": False}, r"--url-expiry 59s is shorter than 1m for etcd-init .* give --url-expiry "
                                            r"1m or more$"),
    ],
    ids=["timeout-equal", "timeout-longer", "no-wait-under-the-margin"],
)  # fmt: skip
def test_a_url_that_could_expire_during_the_wait_is_refused_before_anything_is_read(
    change: dict[str, Any], message: str
) -> None:
    opts = dataclasses.replace(restore.RestoreOptions("cesar", fx.NS, BucketTarget("bkt")), **change)
    with pytest.raises(PreflightError, match=message):
        restore.preflight(opts, None, None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change", [{"url_expiry": 1860}, {"url_expiry": 60, "wait": False}, {}], ids=["margin", "no-wait", "defaults"]
)
def test_a_url_that_outlives_the_wait_passes(change: dict[str, Any]) -> None:
    opts = dataclasses.replace(restore.RestoreOptions("cesar", fx.NS, BucketTarget("bkt")), **change)
    restore_checks.check_options(opts.url_expiry, opts.timeout, opts.wait)
