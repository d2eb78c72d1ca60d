"""Rows T1-T14 at handler level: each test fails if the twin lacked its row."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.sandbox import seed
from tests.sandbox.config import SandboxConfig
from tests.sandbox.twin import capi, cpo, hostedcluster, nodepool, releases
from tests.sandbox.twin.api import (
    AWSEPS,
    AWSMACHINE,
    CLUSTER,
    DEPLOY,
    HC,
    HCP,
    MACHINE,
    MD,
    MS,
    NAMESPACE,
    NODEPOOL,
    POD,
    STS,
)  # fmt: skip
from tests.sandbox.twin.meta import CAPI_PAUSED, COMPONENT_FINALIZER, HC_FINALIZER, is_true
from tests.sandbox.twin.pause import is_paused
from tests.twin.fake import FakeApi, FakeCloud

NS, NAME, HCP_NS = "clusters", "example", "clusters-example"
URL = "https://s3.example.com/bucket/snapshot.db?X-Amz-Signature=x"
RES = {"HostedControlPlane": HCP, "Cluster": CLUSTER, "MachineDeployment": MD, "MachineSet": MS, "Machine": MACHINE,
       "AWSMachine": AWSMACHINE}  # fmt: skip


def world(paused: str | None = None, url: str | None = None, seeded_hcp: bool = True):
    api, cloud = FakeApi(), FakeCloud()
    cfg = SandboxConfig()
    hc, _ = seed.hosted_cluster(NAME, NS, cfg, with_refs=False)
    pool = seed.nodepool(hc, "example-pool", None)
    if paused:
        hc["spec"]["pausedUntil"] = paused
    if url:
        hc["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"] = [url]
    api.put(HC, hc)
    api.put(NODEPOOL, pool)
    api.put(NAMESPACE, {"metadata": {"name": HCP_NS}})
    if seeded_hcp:
        for o in seed.hcp_namespace_objects(hc, [pool], cfg):
            if o["kind"] in RES:
                api.put(RES[o["kind"]], o)
    return api, cloud


def hc_reconcile(api, cloud):
    return hostedcluster.reconcile(api, cloud, NS, NAME)


def test_t1_finalizer_is_put_back_even_on_a_paused_hc():
    api, cloud = world(paused="true")
    api.patch(HC, NS, NAME, {"metadata": {"finalizers": None}})
    hc_reconcile(api, cloud)
    assert HC_FINALIZER in api.get(HC, NS, NAME)["metadata"]["finalizers"]


def test_t2_component_finalizers_before_the_pause_check_and_deployments_seeded():
    api, cloud = world(paused="true")
    api.put(DEPLOY, {"metadata": {"name": "cluster-api", "namespace": HCP_NS}, "spec": {"replicas": 1}})
    hc_reconcile(api, cloud)
    assert api.get(DEPLOY, HCP_NS, "cluster-api")["metadata"]["finalizers"] == [COMPONENT_FINALIZER]
    api, cloud = world()
    hc_reconcile(api, cloud)
    for d in ("cluster-api", "capi-provider"):
        assert COMPONENT_FINALIZER in api.get(DEPLOY, HCP_NS, d)["metadata"]["finalizers"]


def test_t3_deletion_of_a_paused_hc_runs_the_whole_delete_path():
    api, cloud = world(paused="true")
    api.delete(HC, NS, NAME)
    for _ in range(10):
        again = hc_reconcile(api, cloud)
        for m in api.list(MACHINE, HCP_NS):  # CAPI's part
            capi.reconcile_machine(api, cloud, HCP_NS, m["metadata"]["name"])
        for np in api.list(NODEPOOL, NS):
            nodepool.reconcile(api, cloud, NS, np["metadata"]["name"])
        for res in (MD, MS, CLUSTER):
            for o in api.list(res, HCP_NS):
                capi.reconcile_owner(api, res, HCP_NS, o["metadata"]["name"])
        if again is None:
            break
    assert api.get(HC, NS, NAME) is None
    assert api.list(NODEPOOL, NS) == [] and api.list(CLUSTER, HCP_NS) == []
    assert api.get(NAMESPACE, None, HCP_NS) is None
    assert ("delete_oidc", "https://oidc.example.com/" + seed.hosted_cluster(NAME, NS, SandboxConfig(), False)[0]
            ["spec"]["infraID"], seed.hosted_cluster(NAME, NS, SandboxConfig(), False)[0]["spec"]["infraID"]) in cloud.calls  # fmt: skip
    # The service records go with the Routes and Services, through each cluster's ExternalDNS (T16, T21).
    assert not any(c[0] == "delete_records" for c in cloud.calls)
    assert "terminated" in cloud.instances.values()


@pytest.mark.parametrize(("value", "paused"), [
    ("true", True), ("True", True), ("1", True), ("t", True), ("false", False), ("0", False), ("", False),
    (None, False), ("yes", False), ("2020-01-01T00:00:00Z", False), ("2999-01-01T00:00:00Z", True),
    ("2999-01-01T00:00:00", False), ("2999-01-01", False),
])  # fmt: skip
def test_t4_pause_parses_as_pausereconcile(value, paused):
    assert is_paused(value) is paused


def test_t4_paused_hc_copies_pause_pauses_capi_and_stops():
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    api, cloud = world(paused=soon)
    hc_reconcile(api, cloud)
    assert api.get(HCP, HCP_NS, NAME)["spec"]["pausedUntil"] == soon
    infra = api.get(HC, NS, NAME)["spec"]["infraID"]
    assert api.get(CLUSTER, HCP_NS, infra)["spec"]["paused"] is True
    assert api.get(DEPLOY, HCP_NS, "control-plane-operator") is None
    assert not cloud.calls


def test_t5_hcp_spec_from_hc_with_etcd_deep_copied_and_pause():
    api, cloud = world(url=URL)
    hc_reconcile(api, cloud)
    hcp = api.get(HCP, HCP_NS, NAME)
    assert hcp["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"] == [URL]
    assert "pausedUntil" not in hcp["spec"]
    assert api.get(DEPLOY, HCP_NS, "control-plane-operator") is not None
    api, cloud = world(url=URL, seeded_hcp=False)
    hc_reconcile(api, cloud)
    assert api.get(HCP, HCP_NS, NAME)["spec"]["etcd"]["managed"]["storage"]["restoreSnapshotURL"] == [URL]


def test_t7_capi_cluster_created_once_then_only_unpaused():
    api, cloud = world(seeded_hcp=False)
    hc_reconcile(api, cloud)
    infra = api.get(HC, NS, NAME)["spec"]["infraID"]
    api.patch(CLUSTER, HCP_NS, infra, {"spec": {"paused": True, "controlPlaneRef": {"name": "changed"}}})
    hc_reconcile(api, cloud)
    c = api.get(CLUSTER, HCP_NS, infra)
    assert c["spec"]["paused"] is False and c["spec"]["controlPlaneRef"]["name"] == "changed"


def test_t8_restored_from_backup_annotation_gives_the_condition():
    api, cloud = world()
    hc_reconcile(api, cloud)
    assert not is_true(api.get(HC, NS, NAME), "HostedClusterRestoredFromBackup")
    api.patch(HC, NS, NAME, {"metadata": {"annotations": {hostedcluster.RESTORED_FROM_BACKUP: ""}}})
    hc_reconcile(api, cloud)
    assert is_true(api.get(HC, NS, NAME), "HostedClusterRestoredFromBackup")


def test_t9_available_follows_the_kube_apiserver():
    api, cloud = world()
    hc_reconcile(api, cloud)
    assert not is_true(api.get(HC, NS, NAME), "Available")
    api.put(DEPLOY, {"metadata": {"name": "kube-apiserver", "namespace": HCP_NS}, "spec": {"replicas": 1},
                     "status": {"availableReplicas": 1, "conditions": [{"type": "Available", "status": "True"}]}})  # fmt: skip
    hc_reconcile(api, cloud)
    assert is_true(api.get(HC, NS, NAME), "Available")
    assert not is_true(api.get(HC, NS, NAME), "EtcdSnapshotRestored")


def cpo_world(paused: str | None = None, cpo_replicas: int = 1, url: str | None = None):
    api, cloud = world(url=url)
    hc_reconcile(api, cloud)
    api.patch(DEPLOY, HCP_NS, "control-plane-operator", {"spec": {"replicas": cpo_replicas}})
    if paused:
        api.patch(HCP, HCP_NS, NAME, {"spec": {"pausedUntil": paused}})
    return api, cloud


def test_t10_hcp_with_url_gets_the_etcd_init_container():
    api, cloud = cpo_world(url=URL)
    cpo.reconcile(api, cloud, None, HCP_NS, NAME)
    init = api.get(STS, HCP_NS, "etcd")["spec"]["template"]["spec"]["initContainers"][0]
    assert init["name"] == "etcd-init" and init["env"][0]["value"] == URL


def test_t10_release_table_picks_bug_or_fix():
    assert not releases.restores_ha_as_one_cluster("quay.io/openshift-release-dev/ocp-release:4.16.10-x86_64")
    assert not releases.restores_ha_as_one_cluster("fakeReleaseImage")
    assert not releases.restores_ha_as_one_cluster("x/ocp-release:4.21.2-x86_64")
    assert releases.restores_ha_as_one_cluster("x/ocp-release:4.21.3-x86_64")
    assert releases.restores_ha_as_one_cluster("x/ocp-release:4.22.0-x86_64")


def test_t12_cpo_scales_back_only_while_unpaused_and_running():
    api, cloud = cpo_world()
    api.put(DEPLOY, {"metadata": {"name": "kube-apiserver", "namespace": HCP_NS}, "spec": {"replicas": 0}})
    cpo.reconcile(api, cloud, None, HCP_NS, NAME)
    assert api.get(DEPLOY, HCP_NS, "kube-apiserver")["spec"]["replicas"] == 1
    for paused, running in (("true", 1), (None, 0)):
        api, cloud = cpo_world(paused=paused, cpo_replicas=running)
        api.put(DEPLOY, {"metadata": {"name": "kube-apiserver", "namespace": HCP_NS}, "spec": {"replicas": 0}})
        cpo.reconcile(api, cloud, None, HCP_NS, NAME)
        assert api.get(DEPLOY, HCP_NS, "kube-apiserver")["spec"]["replicas"] == 0


def test_t13_endpoint_service_finalizer_and_delete_path():
    api, cloud = cpo_world()
    api.put(AWSEPS, {"metadata": {"name": "kube-apiserver-private", "namespace": HCP_NS}, "spec": {}})
    cpo.reconcile(api, cloud, None, HCP_NS, NAME)
    assert api.get(AWSEPS, HCP_NS, "kube-apiserver-private")["metadata"]["finalizers"] == [cpo.CPO_FINALIZER]
    assert ("ensure_endpoint", "kube-apiserver-private") in cloud.calls
    api.delete(AWSEPS, HCP_NS, "kube-apiserver-private")
    cpo.reconcile(api, cloud, None, HCP_NS, NAME)
    assert api.get(AWSEPS, HCP_NS, "kube-apiserver-private") is None
    assert ("delete_endpoint", "kube-apiserver-private") in cloud.calls
    assert ("delete_records", "hypershift.local", "['api.example.hypershift.local']") in cloud.calls


def test_t14_nodepool_finalizer_pause_and_new_machines():
    api, cloud = world()
    api.patch(NODEPOOL, NS, "example-pool", {"metadata": {"finalizers": None}, "spec": {"pausedUntil": "true"}})
    nodepool.reconcile(api, cloud, NS, "example-pool")
    assert HC_FINALIZER in api.get(NODEPOOL, NS, "example-pool")["metadata"]["finalizers"]
    for res in (MD, MS):
        for o in api.list(res, HCP_NS):
            assert CAPI_PAUSED in o["metadata"]["annotations"]
    api, cloud = world(seeded_hcp=False)
    nodepool.reconcile(api, cloud, NS, "example-pool")
    machines = api.list(MACHINE, HCP_NS)
    assert api.get(MD, HCP_NS, "example-pool") and len(machines) == 2
    for m in machines:
        capi.reconcile_machine(api, cloud, HCP_NS, m["metadata"]["name"])
    assert sorted(cloud.instances) == sorted(m["metadata"]["name"] for m in machines)


def test_t14_capa_records_each_instance_and_a_restored_machine_keeps_it():
    """CAPA writes the instance it found or launched on the AWSMachine, CAPI copies its providerID onto
    the Machine; an AWSMachine that names its instance (restored with it) never gets another."""
    api, cloud = world(paused=None)
    machines = api.list(MACHINE, HCP_NS)
    for m in machines:
        capi.reconcile_machine(api, cloud, HCP_NS, m["metadata"]["name"])
    for m in machines:
        name = m["metadata"]["name"]
        aws = api.get(AWSMACHINE, HCP_NS, name)["spec"]
        assert aws["providerID"] == f"aws:///us-east-1a/{name}" and aws["instanceID"] == name
        assert api.get(MACHINE, HCP_NS, name)["spec"]["providerID"] == aws["providerID"]
    gone = machines[0]["metadata"]["name"]
    cloud.terminate("", gone)
    capi.reconcile_machine(api, cloud, HCP_NS, gone)
    assert cloud.instances[gone] == "terminated"  # CAPA reports it not found; it launches no other


def test_t14_nodepool_deletion_deletes_machines_and_terminates_instances():
    api, cloud = world(paused=None)
    for m in api.list(MACHINE, HCP_NS):
        capi.reconcile_machine(api, cloud, HCP_NS, m["metadata"]["name"])
    api.delete(NODEPOOL, NS, "example-pool")
    for _ in range(5):
        nodepool.reconcile(api, cloud, NS, "example-pool")
        for m in api.list(MACHINE, HCP_NS):
            capi.reconcile_machine(api, cloud, HCP_NS, m["metadata"]["name"])
        for res in (MD, MS):
            for o in api.list(res, HCP_NS):
                capi.reconcile_owner(api, res, HCP_NS, o["metadata"]["name"])
    assert api.get(NODEPOOL, NS, "example-pool") is None
    assert api.list(MACHINE, HCP_NS) == [] and api.list(MD, HCP_NS) == []
    assert set(cloud.instances.values()) == {"terminated"}


def test_pod_listing_is_by_label():
    api, _ = world()
    api.put(POD, {"metadata": {"name": "etcd-0", "namespace": HCP_NS, "labels": {"app": "etcd"}}, "spec": {}})
    assert len(api.list(POD, HCP_NS, "app=etcd")) == 1
