"""What restore's preflight found, and the options it ran with: the plan's steps (verbs/restore.py)
and the creation of the objects (verbs/restore_apply.py) act on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubectl_hcmigrate.core import objects
from kubectl_hcmigrate.core.bundle import Bundle, BundleObject
from kubectl_hcmigrate.core.kinds import rule_for
from kubectl_hcmigrate.core.layout import Manifest
from kubectl_hcmigrate.core.options import BackupChoice
from kubectl_hcmigrate.core.ports import BucketPort, KubePort, Reporter

HC, HCP = rule_for("HostedCluster", "hc"), rule_for("HostedControlPlane", "hcp")


@dataclass(frozen=True)
class RestoreOptions(BackupChoice):
    with_nodes: bool = False
    url_expiry: int = 6 * 3600
    timeout: int = 30 * 60
    wait: bool = True
    trust_ha_etcd: bool = False  # restore_checks.TRUST_HA_ETCD
    dry_run: bool = False  # preflight then lists every precondition's verdict


@dataclass
class Restore:
    """What preflight found; the steps act on it and fill in what they did."""

    opts: RestoreOptions
    kube: KubePort
    bucket: BucketPort
    reporter: Reporter
    bundle: Bundle
    objects: list[BundleObject]
    snapshot_key: str  # relative to the bucket's prefix
    resumed: bool
    url: str | None  # the HC's restore URL: kept from an earlier run, else presigned at apply time
    etcd_replicas: int  # more than one: the members are checked to form one cluster after the wait
    preflight_seconds: float = 0.0
    created_namespaces: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # already on the destination: left as they were
    replaced: list[str] = field(default_factory=list)  # left by a restore of another backup
    etcd_members: str | None = None  # what the check after the wait found
    not_restored: list[str] = field(default_factory=list)  # in the bundle, left out (no --with-nodes)
    warnings: list[str] = field(default_factory=list)

    @property
    def manifest(self) -> Manifest:
        return self.bundle.manifest

    @property
    def namespaces(self) -> list[str]:
        return [self.opts.namespace, objects.hcp_namespace_of(self.opts.namespace, self.opts.name)]
