"""The preconditions of a move on the sandbox (issue 13): a HostedCluster whose APIServer is a
LoadBalancer without a hostname, a destination without a HyperShift operator, and one whose
operator was installed for another region, are refused by migrate before anything is read of the
source's etcd or the bucket: one line, exit 3, nothing changed on either cluster or in the bucket.
Each case is made as it happens in production: the user's HC spec and HyperShift's install (the
Deployments `hypershift install` renders) are edited, never a controller's status."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import (
    HC_KIND,
    HC_NAME,
    HC_NS,
    clear_destination,
    full_objects,
    hcm,
    incomplete_uploads,
    keys,
    operator_stopped,
    said,
    source_state,
)
from tests.sandbox import install, seed
from tests.sandbox.harness import Sandbox

pytestmark = pytest.mark.e2e
OPERATOR = ("deployment", "operator", "-n", install.NAMESPACE)


def _one_line(stderr: str) -> str:
    """The refusal: one error line, after the lines that say which clusters the verb reached."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr
    assert all(" context " in line for line in lines[:-1]), stderr
    return errors[0]


def everything(sb: Sandbox, ns: str = HC_NS, name: str = HC_NAME) -> dict[str, Any]:
    """What a refused migrate must leave as it was: the seeded HC and what backup would touch, the
    HC moved, the destination's namespaces (none of the HC's) and its HyperShift install."""
    dest = sb.destination.kubectl()
    return {
        "source": source_state(sb),
        "hc": full_objects(sb, "source", (HC_KIND, name, "-n", ns)),
        "destination_namespaces": dest.run("get", "namespace", ns, f"{ns}-{name}", "--ignore-not-found", "-o", "name"),
        "destination_install": dest.run("get", "deployments", "-n", install.NAMESPACE, "-o", "name"),
    }


def refused(sb: Sandbox, tmp: Path, *extra: str, ns: str = HC_NS, name: str = HC_NAME) -> tuple[str, str]:
    """Runs migrate, expects the refusal with nothing changed; its error line and its stderr."""
    clear_destination(sb)
    before, prefix = everything(sb, ns, name), f"pre-{uuid.uuid4().hex[:8]}"
    proc = hcm(sb, "migrate", "-o", "json", "--hc", name, "-n", ns, "--prefix", prefix, "--context", "source",
               "--to-context", "destination", "--dir", str(tmp / "bundle"), *extra)  # fmt: skip
    out = json.loads(proc.stdout or "{}")
    assert proc.returncode == 3 and out["outcome"] == "REFUSED", proc.stderr
    assert everything(sb, ns, name) == before
    assert keys(sb, f"{prefix}/") == [] and incomplete_uploads(sb, f"{prefix}/") == []
    assert not (tmp / "bundle").exists()
    return out["error"], proc.stderr


@pytest.fixture
def apiserver_without_hostname(sandbox: Sandbox) -> Iterator[tuple[str, str]]:
    """A second HC, created as `hypershift create cluster` without --external-dns-domain makes it:
    its APIServer a LoadBalancer without a hostname (spec.services is immutable, so only a new HC
    has it). Made and removed while the source's HyperShift twin is held, so that no operator
    reconciles it in between (nothing of it but the objects themselves exists to clean up)."""
    ns, name = "preconditions", "ephemeral"
    hc, secrets = seed.hosted_cluster(name, ns, sandbox.cfg, with_refs=False)
    for s in hc["spec"]["services"]:
        if s["service"] == "APIServer":
            s["servicePublishingStrategy"] = {"type": "LoadBalancer"}
    hc["metadata"].pop("finalizers", None)  # HyperShift's, which the held twin never adds
    k = sandbox.source.kubectl()
    with operator_stopped(sandbox, "source"):
        k.apply([seed.namespace(ns), *secrets, hc])
        try:
            yield ns, name
        finally:
            k.run("delete", "namespace", ns, "--timeout=120s")


def test_an_apiserver_without_a_hostname_is_refused_with_nothing_changed(
    sandbox: Sandbox, apiserver_without_hostname: tuple[str, str], tmp_path: Path
) -> None:
    ns, name = apiserver_without_hostname
    error, err = refused(sandbox, tmp_path, ns=ns, name=name)
    assert error.startswith(f"HostedCluster {ns}/{name} cannot be migrated"), error
    assert "APIServer is a LoadBalancer without a hostname (spec.services[APIServer]" in error
    assert _one_line(err) == f"error: {error}"


@pytest.fixture
def operator_saved(sandbox: Sandbox) -> Iterator[dict[str, Any]]:
    """The destination's operator Deployment as seeded, put back (and Available) afterwards."""
    k = sandbox.destination.kubectl()
    saved = k.get(*OPERATOR)
    yield saved
    spec = {"apiVersion": "apps/v1", "kind": "Deployment", "spec": saved["spec"],
            "metadata": {"name": "operator", "namespace": install.NAMESPACE}}  # fmt: skip
    k.run("delete", *OPERATOR, "--ignore-not-found", "--timeout=60s")
    k.apply([spec])
    k.run("wait", "--for=condition=Available", *OPERATOR, "--timeout=60s")


def test_a_destination_without_an_operator_or_set_up_for_another_region_is_refused(
    sandbox: Sandbox, operator_saved: dict[str, Any], tmp_path: Path
) -> None:
    k = sandbox.destination.kubectl()
    k.run("delete", *OPERATOR, "--timeout=60s")  # HyperShift not installed there (yet)
    error, _ = refused(sandbox, tmp_path)
    assert "context 'destination' runs no HyperShift operator" in error and "install HyperShift there" in error

    # Installed again, for us-west-2: `hypershift install --aws-private-region` sets the operator's AWS_REGION.
    k.apply([{"apiVersion": "apps/v1", "kind": "Deployment", "spec": operator_saved["spec"],
              "metadata": {"name": "operator", "namespace": install.NAMESPACE}}])  # fmt: skip
    k.run("set", "env", *OPERATOR[:2], "-n", install.NAMESPACE, "-c", "operator", "AWS_REGION=us-west-2")
    k.run("wait", "--for=condition=Available", *OPERATOR, "--timeout=60s")
    error, err = refused(sandbox, tmp_path)
    assert "was installed for AWS region us-west-2, the HC runs in us-east-2" in error
    assert _one_line(err) == f"error: {error}"
    # The dry run lists each check with its verdict before the same refusal.
    _, err = refused(sandbox, tmp_path, "--dry-run")
    verdicts = [line.split(": ")[:2] for line in said(err) if line.startswith("precondition ")]
    assert verdicts == [["precondition fixed hostnames", "ok"], ["precondition destination operator", "refused"],
                    ["precondition destination ExternalDNS", "ok"], ["precondition destination CRDs", "ok"]], err  # fmt: skip
