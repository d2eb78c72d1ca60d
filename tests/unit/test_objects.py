from __future__ import annotations

import copy
import dataclasses

import pytest

from kubectl_hcmigrate.core import kinds, objects
from kubectl_hcmigrate.core.kinds import rule_for
from kubectl_hcmigrate.core.report import PreflightError
from tests.unit import hc_fixtures as fx

HC_RULE = rule_for("HostedCluster", "hc")
SECRET_RULE = rule_for("Secret", "hc")


def names(objs: list[dict]) -> set[str]:
    return {objects.name_of(o) for o in objs}


def test_clean_drops_server_fields_pause_and_finalizers() -> None:
    hc = fx.hostedcluster()
    hc["metadata"]["annotations"]["keep.example.com/note"] = "yes"
    hc["metadata"]["labels"] = {"team": "a"}
    hc["metadata"].update(selfLink="/x", deletionTimestamp="t", deletionGracePeriodSeconds=0)
    out = objects.clean(hc, HC_RULE)
    assert "status" not in out
    assert out["metadata"] == {
        "annotations": {
            "hypershift.openshift.io/cleanup-cloud-resources": "true",
            "hypershift.openshift.io/control-plane-operator-image": "fakeCPOImage",
            "keep.example.com/note": "yes",
        },
        "name": "cesar",
        "namespace": "clusters",
        "labels": {"team": "a"},
    }
    assert "pausedUntil" not in out["spec"]
    expected_spec = {k: v for k, v in hc["spec"].items() if k != "pausedUntil"}
    assert out["spec"] == expected_spec


def test_clean_without_rule_keeps_spec_and_drops_empty_annotations() -> None:
    pool = fx.nodepools()[0]
    out = objects.clean(pool)
    assert out["spec"]["pausedUntil"] == "true"
    assert "annotations" not in out["metadata"]  # only last-applied was there
    assert objects.clean(pool, rule_for("NodePool", "hc"))["spec"].get("pausedUntil") is None


def test_clean_is_idempotent_and_never_mutates() -> None:
    for obj, rule in [(fx.hostedcluster(), HC_RULE), (fx.secret("s"), SECRET_RULE)]:
        before = copy.deepcopy(obj)
        once = objects.clean(obj, rule)
        assert obj == before
        assert objects.clean(once, rule) == once
        once["metadata"]["name"] = "changed"  # the copy is deep
        assert obj["metadata"]["name"] != "changed"


def test_clean_copies_lists_and_drops_paths_under_a_dropped_one() -> None:
    hc = fx.hostedcluster()
    hc["spec"]["services"] = [{"service": "APIServer", "servicePublishingStrategy": {"type": "Route"}}]
    hc["status"] = {"conditions": [{"type": "Available"}]}
    rule = dataclasses.replace(HC_RULE, strip=(*HC_RULE.strip, "status.conditions"))
    out = objects.clean(hc, rule)
    assert "status" not in out and out["spec"]["services"] == hc["spec"]["services"]
    out["spec"]["services"][0]["servicePublishingStrategy"]["type"] = "LoadBalancer"
    assert hc["spec"]["services"][0]["servicePublishingStrategy"]["type"] == "Route"


def test_clean_tolerates_missing_parents() -> None:
    assert objects.clean({"kind": "Secret"}, HC_RULE) == {"kind": "Secret"}
    assert objects.clean({"metadata": None, "spec": "x"}, HC_RULE) == {
        "metadata": None,
        "spec": "x",
    }


def test_referenced_names_of_the_rendered_fixture() -> None:
    # `trustedCA: {name: ""}` and `sshKey: {}` are no references; the KMS key is an ARN.
    assert objects.referenced_names(fx.rendered("HostedCluster")) == {"cesar-pull-secret"}
    assert objects.referenced_names(fx.rendered("NodePool")) == set()


def test_referenced_names_finds_every_reference_by_shape() -> None:
    assert objects.referenced_names(fx.hostedcluster()) == {
        "cesar-pull-secret",
        "cesar-etcd-encryption-key",
        "old-etcd-key",
        "cesar-ssh-key",
        "audit-webhook-kubeconfig",
        "sa-signing-key",
        "extra-trust-bundle",
        "corp-proxy-ca",
        "corp-sso-client-secret",
        "corp-sso-ca",
        "api-serving-cert",
    }  # and not the identity provider's own name "corp-sso"
    assert objects.referenced_names(fx.nodepools()[1]) == {"chrony-config", "perf-tuning"}
    key_selector = {"spec": {"x": [{"y": {"name": "k", "key": "kubeconfig", "optional": True}}]}}
    assert objects.referenced_names(key_selector) == {"k"}
    assert objects.referenced_names({"metadata": {"name": "not-spec"}}) == set()


def test_nodepools_of() -> None:
    _, bystander_pool = fx.bystander()
    elsewhere = copy.deepcopy(fx.nodepools()[0])
    elsewhere["metadata"]["namespace"] = "other"
    pools = [*fx.nodepools(), bystander_pool, elsewhere]
    assert names(objects.nodepools_of(fx.hostedcluster(), pools)) == {
        "cesar-fakeName",
        "cesar-workers-b",
    }


def test_select_hc_namespace_objects_takes_only_this_hc() -> None:
    bystander, bystander_pool = fx.bystander()
    secrets, configmaps = objects.select_hc_namespace_objects(
        fx.hostedcluster(),
        [*fx.nodepools(), bystander_pool],
        fx.hc_namespace_secrets(),
        fx.hc_namespace_configmaps(),
        [bystander, fx.hostedcluster()],
    )
    assert names(secrets) == fx.CESAR_SECRETS
    assert names(configmaps) == fx.CESAR_CONFIGMAPS
    assert [objects.name_of(s) for s in secrets] == sorted(fx.CESAR_SECRETS)


def test_select_for_the_bystander() -> None:
    bystander, bystander_pool = fx.bystander()
    secrets, configmaps = objects.select_hc_namespace_objects(
        bystander, [*fx.nodepools(), bystander_pool], fx.hc_namespace_secrets(),
        fx.hc_namespace_configmaps(),
    )  # fmt: skip
    assert names(secrets) == fx.BYSTANDER_SECRETS
    assert names(configmaps) == {"bystander-config"}


def test_prefix_of_a_longer_named_hc_is_not_taken() -> None:
    # HC `cesar` must not take `cesar-east-*`, and a secret another HC references is its own.
    east = copy.deepcopy(fx.bystander()[0])
    east["metadata"]["name"] = "cesar-east"
    east["spec"]["pullSecret"] = {"name": "cesar-shared-by-east"}
    pool = {"metadata": {"name": "p", "namespace": "clusters"}, "spec": {"clusterName": "west"}}
    candidates = [fx.secret(n) for n in ("cesar-east-pull-secret", "cesar-west-x", "cesar-shared-by-east", "cesar-own")]
    secrets, _ = objects.select_hc_namespace_objects(fx.rendered("HostedCluster"), [pool], candidates, [], [east])
    assert names(secrets) == {"cesar-west-x", "cesar-own"}  # `west` is not `cesar-west`
    # Without knowing the other HC, the prefix rule alone decides.
    secrets, _ = objects.select_hc_namespace_objects(fx.rendered("HostedCluster"), [], candidates, [])
    assert len(secrets) == 4


GENERATED = [
    ("builder-token-x7k2p", "kubernetes.io/service-account-token", {}),
    ("anything", "kubernetes.io/service-account-token", {}),
    ("builder-dockercfg-q9z8w", "kubernetes.io/dockercfg", {}),
    ("pull", "kubernetes.io/dockerconfigjson", {"kubernetes.io/service-account.name": "b"}),
    ("pull", "kubernetes.io/dockercfg", {"openshift.io/token-secret.name": "b-token-abcde"}),
    ("legacy-token-abcde", "Opaque", {}),
]
KEPT = [
    ("root-ca", "Opaque", {}),
    ("kas-server-crt", "kubernetes.io/tls", {}),
    ("pull-secret", "kubernetes.io/dockerconfigjson", {}),
    ("token-cesar-fakename-4f9c2a1b", "Opaque", {}),  # NodePool ignition token
    ("my-token-signing-key", "Opaque", {}),
    ("etcd-client-tls", "kubernetes.io/tls", {"kubernetes.io/service-account.name": "x"}),
]


@pytest.mark.parametrize(("name", "type_", "annotations"), GENERATED)
def test_generated_secrets_are_skipped(name: str, type_: str, annotations: dict) -> None:
    s = fx.secret(name, fx.HCP_NS, type=type_)
    s["metadata"]["annotations"].update(annotations)
    assert kinds.is_generated_secret(s)


@pytest.mark.parametrize(("name", "type_", "annotations"), KEPT)
def test_real_secrets_are_kept(name: str, type_: str, annotations: dict) -> None:
    s = fx.secret(name, fx.HCP_NS, type=type_)
    s["metadata"]["annotations"].update(annotations)
    assert not kinds.is_generated_secret(s)


def test_every_generated_rule_explains_itself() -> None:
    assert all(len(rule.why) > 20 for rule in kinds.GENERATED_SECRETS)


def test_encryption_key_names() -> None:
    assert objects.encryption_key_names(fx.hostedcluster()) == [
        "cesar-etcd-encryption-key",
        "old-etcd-key",
    ]
    assert objects.encryption_key_names(fx.rendered("HostedCluster")) == []  # KMS
    hc = fx.hostedcluster()
    del hc["spec"]["secretEncryption"]["aescbc"]["backupKey"]
    assert objects.encryption_key_names(hc) == ["cesar-etcd-encryption-key"]


def test_namespaces_and_infra_id() -> None:
    hc = fx.hostedcluster()
    assert objects.hcp_namespace(hc) == fx.HCP_NS
    assert objects.infra_id(hc) == "fakeInfraID"
    del hc["spec"]["infraID"]
    with pytest.raises(PreflightError, match=r"clusters/cesar has no spec\.infraID"):
        objects.infra_id(hc)
