"""restore's preflight checks of the destination, shared with migrate's early checks: what it
serves, whether it can take the HC at all, what it holds already, whether its HyperShift restores the HC's etcd as one cluster, and
that a failure to ask it is a refusal; and the check of the restored etcd after the wait."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kubectl_hcmigrate.core import objects, releases, restore_url
from kubectl_hcmigrate.core.bundle import BundleObject
from kubectl_hcmigrate.core.kinds import restore_order, rule_for
from kubectl_hcmigrate.core.layout import Manifest
from kubectl_hcmigrate.core.marks import BACKUP_ID, annotations_of
from kubectl_hcmigrate.core.ports import KubeError, KubePort
from kubectl_hcmigrate.core.redact import scrub
from kubectl_hcmigrate.core.report import PreflightError, nothing_changed
from kubectl_hcmigrate.core.units import format_duration
from kubectl_hcmigrate.etcd.members import EtcdNotOneCluster, check_one_cluster
from kubectl_hcmigrate.verbs import preconditions

if TYPE_CHECKING:
    from kubectl_hcmigrate.core.ports import Reporter

HC, SECRET = rule_for("HostedCluster", "hc"), rule_for("Secret", "hc")
# For an HA control plane whose release the tool does not know to carry the fix of T10 (a patched
# control-plane operator image, a release named by digest): the check after the restore still runs.
TRUST_HA_ETCD = "--trust-ha-etcd-restore"


@contextmanager
def refusing(kube: KubePort) -> Iterator[None]:
    """Nothing has changed during preflight, so whatever fails there is a refusal."""
    try:
        with nothing_changed():
            yield
    except KubeError as e:
        raise PreflightError(f"reading the destination (context '{kube.context}') failed: {scrub(str(e))}") from None


def check_options(url_expiry: int, timeout: int, wait: bool) -> None:
    """restore's options on their own, before anything is read: migrate checks them before its backup."""
    if timeout <= 0:
        raise PreflightError(f"--timeout must be more than 0, not {format_duration(timeout)}")
    restore_url.check_expiry(url_expiry, timeout if wait else None)


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


def check_destination(
    kube: KubePort, found: list[BundleObject], m: Manifest, with_nodes: bool, reporter: Reporter, *, show: bool
) -> list[str]:
    """What must hold on the destination before the snapshot is looked at (verbs/preconditions.py):
    its CRDs, its HyperShift operator and ExternalDNS for the HC. A restore may be a disaster
    recovery with the source gone, so unfixed hostnames only warn (backup --keep-paused refuses)."""
    check_crds(kube, with_nodes)
    hc = bundle_hc(found, m)
    verdicts = [
        preconditions.fixed_hostnames(hc, migration=False),
        *preconditions.destination_install(hc, kube),
        preconditions.destination_crds(kube, objects=[o.obj for o in found]),
    ]
    return preconditions.settle(verdicts, reporter, show=show)


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


def bundle_hc(found: list[BundleObject], m: Manifest) -> dict[str, Any]:
    return next(o.obj for o in found if o.rule == HC and objects.name_of(o.obj) == m.hostedcluster.name)


def check_ha_etcd_release(hc: dict[str, Any], trusted: bool, reporter: Reporter) -> None:
    """T10: refuses an HA HC whose release would restore its etcd as separate one-member clusters;
    `trusted` (the flag) turns the refusal into a warning, and the members are checked after the wait."""
    why = releases.ha_restore_refusal(hc, TRUST_HA_ETCD)
    if why and not trusted:
        raise PreflightError(why)
    if why:
        image = hc["spec"]["release"].get("image", "")
        reporter.line(
            f"warning: {TRUST_HA_ETCD}: release {image!r} is not known to restore HA etcd as one cluster; "
            "its members are checked after the wait"
        )


def check_etcd_one_cluster(kube: KubePort, ns: str, name: str, replicas: int, reporter: Reporter) -> str:
    """After the wait: HyperShift reports a split etcd as restored and Available (T10), so ask the members."""
    hcp_ns = objects.hcp_namespace_of(ns, name)
    try:
        found = check_one_cluster(kube, hcp_ns, replicas, reporter)
    except EtcdNotOneCluster as e:
        raise EtcdNotOneCluster(
            f"the restored etcd of {ns}/{name} on context '{kube.context}' was not found to be one cluster: {e} "
            f"(HA members restored apart, {releases.BUG}). Do not use this control plane: delete HostedCluster "
            f"{ns}/{name} and namespace {hcp_ns} there, then restore again on a release with "
            f"{releases.FIX} ({releases.fixed_releases()})"
        ) from None
    reporter.line(found)
    return found
