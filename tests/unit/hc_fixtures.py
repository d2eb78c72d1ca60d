"""Realistic objects built from upstream's rendered HostedCluster (../shared/hypershift).

`cesar` (the fixture's HC) gets the references a production cluster has; a `bystander` HC
with its own pool and secrets shares the `clusters` namespace.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from functools import cache
from typing import Any

import yaml

from kubectl_hcmigrate.core import layout
from tests.sandbox.config import HYPERSHIFT

NS = "clusters"
HCP_NS = "clusters-cesar"

Obj = dict[str, Any]


@cache
def _rendered() -> tuple[Obj, ...]:
    text = (HYPERSHIFT / "fixtures" / "aws-hostedcluster-render.yaml").read_text()
    return tuple(d for d in yaml.safe_load_all(text) if d)


def rendered(kind: str) -> Obj:
    """A fresh copy of the fixture's object of `kind` (as `hypershift create --render`)."""
    return copy.deepcopy(next(d for d in _rendered() if d["kind"] == kind))


def from_server(obj: Obj, uid: str = "0f4a6d1e-0000-4000-8000-000000000001") -> Obj:
    """`obj` as the API server returns it: server-owned metadata, finalizers, status."""
    out = copy.deepcopy(obj)
    meta = out.setdefault("metadata", {})
    meta.update(
        uid=uid,
        resourceVersion="48213",
        creationTimestamp="2024-05-01T10:00:00Z",
        generation=3,
        finalizers=["hypershift.openshift.io/finalizer"],
        managedFields=[{"manager": "hypershift", "operation": "Apply"}],
        ownerReferences=[{"apiVersion": "v1", "kind": "Namespace", "name": "x", "uid": "y"}],
    )
    meta.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    out.setdefault("status", {"conditions": []})
    return out


def hostedcluster() -> Obj:
    hc = rendered("HostedCluster")
    spec = hc["spec"]
    spec["pausedUntil"] = "true"
    spec["secretEncryption"] = {
        "type": "aescbc",
        "aescbc": {
            "activeKey": {"name": "cesar-etcd-encryption-key"},
            "backupKey": {"name": "old-etcd-key"},
        },
    }
    spec["sshKey"] = {"name": "cesar-ssh-key"}
    spec["auditWebhook"] = {"name": "audit-webhook-kubeconfig"}
    spec["serviceAccountSigningKey"] = {"name": "sa-signing-key"}
    spec["additionalTrustBundle"] = {"name": "extra-trust-bundle"}
    spec["configuration"]["proxy"]["trustedCA"] = {"name": "corp-proxy-ca"}
    spec["configuration"]["oauth"] = {
        "identityProviders": [
            {
                "name": "corp-sso",
                "mappingMethod": "claim",
                "type": "OpenID",
                "openID": {
                    "clientID": "hcp",
                    "clientSecret": {"name": "corp-sso-client-secret"},
                    "ca": {"name": "corp-sso-ca"},
                    "issuer": "https://sso.example.com",
                    "claims": {"preferredUsername": ["email"]},
                },
            }
        ]
    }
    spec["configuration"]["apiServer"] = {
        "servingCerts": {
            "namedCertificates": [{"names": ["api.example.com"], "servingCertificate": {"name": "api-serving-cert"}}]
        }
    }
    return from_server(hc)


def nodepools() -> list[Obj]:
    """cesar's two pools (the second with config and tuning ConfigMaps)."""
    first = rendered("NodePool")
    first["spec"]["pausedUntil"] = "true"
    second = copy.deepcopy(first)
    second["metadata"]["name"] = "cesar-workers-b"
    second["spec"]["config"] = [{"name": "chrony-config"}]
    second["spec"]["tuningConfig"] = [{"name": "perf-tuning"}]
    return [from_server(first), from_server(second)]


def bystander() -> tuple[Obj, Obj]:
    """Another HC in the same namespace, and its pool."""
    hc = rendered("HostedCluster")
    hc["metadata"]["name"] = "bystander"
    hc["spec"]["pullSecret"] = {"name": "bystander-pull-secret"}
    hc["spec"]["sshKey"] = {"name": "bystander-ssh-key"}
    hc["spec"]["infraID"] = "bystander-infra"
    pool = rendered("NodePool")
    pool["metadata"]["name"] = "bystander-pool"
    pool["spec"]["clusterName"] = "bystander"
    pool["spec"]["config"] = [{"name": "bystander-config"}]
    return from_server(hc), from_server(pool)


def secret(name: str, namespace: str = NS, **extra: Any) -> Obj:
    obj: Obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {"key": "ZmFrZQ=="},
    }
    obj.update(extra)
    return from_server(obj, uid=f"uid-{name}")


def configmap(name: str, namespace: str = NS) -> Obj:
    obj: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"ca-bundle.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
    }
    return from_server(obj, uid=f"uid-{name}")


CESAR_SECRETS = {
    "cesar-pull-secret",  # from the fixture
    "cesar-etcd-encryption-key",
    "old-etcd-key",
    "cesar-ssh-key",
    "audit-webhook-kubeconfig",
    "sa-signing-key",
    "corp-sso-client-secret",
    "api-serving-cert",
    "cesar-admin-kubeconfig",  # only by the `<name>-*` rule
}
CESAR_CONFIGMAPS = {"corp-proxy-ca", "extra-trust-bundle", "corp-sso-ca", "chrony-config",
                    "perf-tuning"}  # fmt: skip
BYSTANDER_SECRETS = {"bystander-pull-secret", "bystander-ssh-key", "bystander-admin-kubeconfig"}


def hc_namespace_secrets() -> list[Obj]:
    names = CESAR_SECRETS | BYSTANDER_SECRETS | {"unrelated-secret"}
    return [secret(n) for n in sorted(names)]


def hc_namespace_configmaps() -> list[Obj]:
    names = CESAR_CONFIGMAPS | {"bystander-config", "kube-root-ca.crt"}
    return [configmap(n) for n in sorted(names)]


def _capi(api_version: str, kind: str, name: str, spec: Obj | None = None) -> Obj:
    obj: Obj = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": HCP_NS},
        "spec": spec or {},
    }
    return from_server(obj, uid=f"uid-{kind}-{name}")


def hcp_objects() -> list[Obj]:
    """What a backup lists in the HCP namespace (generated secrets already filtered out)."""
    capi, capa = "cluster.x-k8s.io/v1beta2", "infrastructure.cluster.x-k8s.io/v1beta2"
    return [
        _capi("hypershift.openshift.io/v1beta1", "HostedControlPlane", "cesar",
              {"pausedUntil": "true", "infraID": "fakeInfraID"}),
        _capi(capi, "Cluster", "fakeInfraID", {"paused": True}),
        _capi(capa, "AWSCluster", "cesar"),
        _capi(capa, "AWSMachineTemplate", "cesar-fakename-1a2b3c4d"),
        _capi(capa, "AWSMachine", "cesar-fakename-1a2b3c4d-x7k2p"),
        _capi(capi, "MachineDeployment", "cesar-fakename"),
        _capi(capi, "MachineSet", "cesar-fakename-6c9d8"),
        _capi(capi, "Machine", "cesar-fakename-6c9d8-x7k2p"),
        secret("root-ca", HCP_NS),
        secret("kas-server-crt", HCP_NS),
    ]  # fmt: skip


CREATED = datetime(2024, 5, 1, 10, 2, 3, tzinfo=timezone.utc)
BACKUP_ID = "20240501T100203Z"
SHA = "a" * 64


def manifest() -> layout.Manifest:
    """A complete manifest of cesar's backup (with two made-up files)."""
    return layout.Manifest(
        tool_version="0.1.0",
        backup_id=BACKUP_ID,
        created=layout.utc_timestamp(CREATED),
        source_context="mgmt-1",
        hostedcluster=layout.HostedClusterRef("cesar", NS, "uid-1", "fakeInfraID"),
        snapshot=layout.SnapshotRef("bkt", "clusters/cesar/x/etcd-snapshot.db", 1056, SHA, "etcd-0"),
        files={"clusters/secret-b.yaml": SHA, "clusters/kustomization.yaml": "b" * 64},
    )
