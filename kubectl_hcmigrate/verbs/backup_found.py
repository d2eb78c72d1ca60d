"""What backup works on: its options, and what its preflight found and its steps fill in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubectl_hcmigrate.core import objects
from kubectl_hcmigrate.core.layout import BackupLayout, Manifest
from kubectl_hcmigrate.core.options import HostedClusterBackups
from kubectl_hcmigrate.core.ports import BucketPort, KubePort, Reporter
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.core.source_state import SourceState
from kubectl_hcmigrate.core.timeline import Timeline
from kubectl_hcmigrate.etcd.saving import Saving
from kubectl_hcmigrate.etcd.snapshotter import Saved, SnapshotResult


@dataclass(frozen=True)
class BackupOptions(HostedClusterBackups):
    dir: Path | None = None
    keep_paused: bool = False
    part_size: int = 8 << 20
    run_id: str = ""  # this run's (core/lease.py): part of the backup id and of its upload's key
    destination: str | None = None  # the context a migration hands the source to, when known
    online: bool = False  # no pause, no quiesce: a scheduled DR backup of a running cluster
    dry_run: bool = False  # preflight then lists every precondition's verdict


def check_options(opts: BackupOptions) -> None:
    """Refuses, before anything is contacted, what cannot be combined."""
    if opts.online and opts.keep_paused:
        raise PreflightError(
            "--online cannot be combined with --keep-paused: a migration needs the quiesced source; nothing was changed"
        )


@dataclass
class Backup:
    """What preflight found; the steps act on it."""

    opts: BackupOptions
    kube: KubePort
    bucket: BucketPort
    reporter: Reporter
    hc: dict[str, Any]
    state: SourceState
    etcd_pods: list[str]
    backup_id: str
    layout: BackupLayout
    dir: Path
    saving: Saving | None = None  # the save under way, its content fixed
    saved: Saved | None = None  # the snapshot file in the pod, until streamed out
    found: dict[str, list[dict[str, Any]]] | None = None  # the objects read while the source was quiesced
    snapshot: SnapshotResult | None = None
    manifest: Manifest | None = None
    uploaded: list[str] = field(default_factory=list)
    timeline: Timeline = field(default_factory=Timeline)  # each step's start and end
    warnings: list[str] = field(default_factory=list)

    @property
    def hcp_ns(self) -> str:
        return objects.hcp_namespace(self.hc)
