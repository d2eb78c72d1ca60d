"""restore's preflight checks of the destination, shared with migrate's early checks: what it
serves, what it holds already, and that a failure to ask it is a refusal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kubectl_hcmigrate.core import objects, restore_url
from kubectl_hcmigrate.core.bundle import BundleObject
from kubectl_hcmigrate.core.kinds import restore_order, rule_for
from kubectl_hcmigrate.core.layout import Manifest
from kubectl_hcmigrate.core.marks import BACKUP_ID, annotations_of
from kubectl_hcmigrate.core.ports import KubeError, KubePort
from kubectl_hcmigrate.core.redact import scrub
from kubectl_hcmigrate.core.report import PreflightError, nothing_changed

HC, SECRET = rule_for("HostedCluster", "hc"), rule_for("Secret", "hc")


@contextmanager
def refusing(kube: KubePort) -> Iterator[None]:
    """Nothing has changed during preflight, so whatever fails there is a refusal."""
    try:
        with nothing_changed():
            yield
    except KubeError as e:
        raise PreflightError(f"reading the destination (context '{kube.context}') failed: {scrub(str(e))}") from None


def url_of_kept_hcp(hcp: dict[str, Any] | None, m: Manifest) -> str | None:
    """An earlier run of this backup created the HCP but not the HC: the HC must get the HCP's URL,
    which the HCP CRD keeps as it is."""
    return restore_url.current(hcp) if hcp and annotations_of(hcp).get(BACKUP_ID) == m.backup_id else None


def check_crds(kube: KubePort, with_nodes: bool) -> None:
    needed = sorted({r.qualified for r in restore_order(with_nodes) if r.group})
    missing = [crd for crd in needed if kube.crd(crd) is None]
    if missing:
        raise PreflightError(
            f"the destination (context '{kube.context}') lacks the CRDs {', '.join(missing)}: "
            "install HyperShift (and CAPI/CAPA for --with-nodes) there first"
        )


def check_encryption_keys(kube: KubePort, found: list[BundleObject], m: Manifest) -> None:
    """An encryption key secret already on the destination would be kept, so it must be the backup's:
    with any other key the restored etcd cannot be decrypted."""
    hc = next(o.obj for o in found if o.rule == HC and objects.name_of(o.obj) == m.hostedcluster.name)
    ours = {objects.name_of(o.obj): o.obj for o in found if o.rule == SECRET}
    for name in objects.encryption_key_names(hc):
        theirs = kube.get(SECRET, m.hostedcluster.namespace, name)
        if theirs is not None and theirs.get("data") != ours[name].get("data"):
            raise PreflightError(
                f"Secret {m.hostedcluster.namespace}/{name} on context '{kube.context}' holds another etcd "
                f"encryption key than backup {m.backup_id}: the snapshot would not decrypt with it. "
                "Delete that secret if it is a leftover, or restore into another namespace"
            )
