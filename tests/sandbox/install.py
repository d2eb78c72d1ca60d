"""HyperShift's install on a management cluster, as `hypershift install` renders it: what the
tool's preconditions look for (T19). Tests may patch these Deployments as a user would reinstall."""

from __future__ import annotations

from typing import Any

from tests.sandbox.seed import GENERAL_NODE, SERVICE_DOMAIN, namespace

Obj = dict[str, Any]
NAMESPACE = "hypershift"
REGION = "us-east-2"  # the rendered HC's (hypershift/fixtures/aws-hostedcluster-render.yaml)


def operator(owner_id: str, region: str = REGION, domain: str = SERVICE_DOMAIN) -> list[Obj]:
    """HyperShift's install as `hypershift install --private-platform=AWS --aws-private-region=<region>
    --external-dns-provider=aws --external-dns-domain-filter=<domain>` renders it
    (cmd/install/assets/hypershift_operator.go): the operator runs `hypershift-operator run` with
    --private-platform and the region in AWS_REGION; ExternalDNS gets the domain filter and an owner
    id of its own per install. Trimmed to what identifies them (no probes, RBAC, volumes)."""
    ns = NAMESPACE
    operator_args = [
        "run", "--namespace=$(MY_NAMESPACE)", "--pod-name=$(MY_NAME)", "--metrics-addr=:9000",
        "--enable-dedicated-request-serving-isolation=false", "--enable-ocp-cluster-monitoring=false",
        "--enable-ci-debug-output=false", "--private-platform=AWS",
        "--oidc-storage-provider-s3-bucket-name=hcmigrate-sandbox-oidc", "--oidc-storage-provider-s3-region=us-east-1",
        "--oidc-storage-provider-s3-credentials=/etc/oidc-storage-provider-s3-creds/credentials",
    ]  # fmt: skip
    dns_args = [
        "--source=service", "--source=openshift-route", f"--domain-filter={domain}", "--provider=aws",
        "--registry=txt", "--txt-suffix=-external-dns", f"--txt-owner-id={owner_id}",
        "--label-filter=hypershift.openshift.io/route-visibility!=private", "--interval=1m",
        "--txt-cache-interval=1h", "--aws-zone-type=public", "--aws-batch-change-interval=10s",
        "--aws-zones-cache-duration=1h",
    ]  # fmt: skip
    env = [{"name": "AWS_SHARED_CREDENTIALS_FILE", "value": "/etc/provider/credentials"},
           {"name": "AWS_REGION", "value": region}, {"name": "AWS_SDK_LOAD_CONFIG", "value": "1"}]  # fmt: skip
    return [
        namespace(ns),
        _deployment("operator", ns, 2, {"name": "operator", "image": "quay.io/hypershift/hypershift:fake",
                                        "command": ["/usr/bin/hypershift-operator"], "args": operator_args,
                                        "env": env}),
        _deployment("external-dns", ns, 1, {"name": "external-dns", "image": "registry.k8s.io/external-dns:fake",
                                            "command": ["/external-dns"], "args": dns_args}),
    ]  # fmt: skip


def _deployment(name: str, ns: str, replicas: int, container: Obj) -> Obj:
    labels = {"name": name, "app": name, "hypershift.openshift.io/operator-component": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"name": name}},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"nodeName": GENERAL_NODE, "containers": [container]}}},
    }  # fmt: skip
