"""The records hcmigrate leaves on the clusters, and the one rule that reads them back: which
destination HostedCluster was restored from which source HostedCluster.

Each key is named once, here. A JSON record carries a schema version like the manifest does
(`"v": 2`); a record written before versions existed has none and is read as version 1. Each
version only adds optional fields (2: the source state's `held`), so an older record is read
as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from kubectl_hcmigrate.core import restore_url
from kubectl_hcmigrate.core.layout import Manifest
from kubectl_hcmigrate.core.report import PreflightError

PREFIX = "hcmigrate.openshift.io/"
# On a restored object: the backup it came from (every object), and the source HC's uid (the HC).
BACKUP_ID = PREFIX + "backup-id"
SOURCE_UID = PREFIX + "source-uid"
# On the source HC while backup has changed it: what to put back (source_state.SourceState).
SOURCE_STATE = PREFIX + "source-state"
# On the source's HCP namespace during teardown: the names of the HC's own config in a shared namespace.
TEARDOWN_CONFIG = PREFIX + "hc-namespace-config"
# On a restored HC: its NodePools that restore left out (no --with-nodes, T14), comma-separated;
# teardown keeps those on the source rather than delete what the destination does not have.
NODEPOOLS_LEFT_OUT = PREFIX + "nodepools-left-out"
# HyperShift's own (T8): the restored HC recovers monitoring and gets HostedClusterRestoredFromBackup.
RESTORED_FROM_BACKUP = "hypershift.openshift.io/restored-from-backup"

RECORD_VERSION = 2

Obj = dict[str, Any]


def pools_left_out(not_restored: list[str]) -> dict[str, str]:
    """The mark for a restored HC whose NodePools restore left out (`NodePool <ns>/<name>` labels)."""
    names = [label.partition("/")[2] for label in not_restored if label.startswith("NodePool ")]
    return {NODEPOOLS_LEFT_OUT: ",".join(names)} if names else {}


def annotations_of(obj: Obj | None) -> dict[str, str]:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def restored_from(dst_hc: Obj | None, source_uid: str | None) -> str | None:
    """The backup id a destination HC was restored from, when it was restored from the source HC
    of that uid (None: the source HC is gone, so only the backup id is left to go on)."""
    marks = annotations_of(dst_hc)
    if not marks.get(BACKUP_ID) or not marks.get(SOURCE_UID):
        return None
    if source_uid is not None and marks[SOURCE_UID] != source_uid:
        return None
    return marks[BACKUP_ID]


def same_backup(existing: Obj | None, m: Manifest, context: str) -> tuple[bool, str | None]:
    """(exists from this same backup, its restore URL); refuses an HC from anywhere else."""
    if existing is None:
        return False, None
    hc = m.hostedcluster
    if (existing.get("metadata") or {}).get("uid") == hc.uid:  # the very HC the backup was taken of
        raise PreflightError(
            f"context '{context}' is the cluster backup {m.backup_id} was taken from (HostedCluster "
            f"{hc.namespace}/{hc.name} there has its uid {hc.uid}): restore onto another cluster (--context)"
        )
    ann = annotations_of(existing)
    if ann.get(BACKUP_ID) == m.backup_id and restored_from(existing, m.hostedcluster.uid) == m.backup_id:
        return True, restore_url.current(existing)
    theirs = f"from backup {ann[BACKUP_ID]}" if ann.get(BACKUP_ID) else "not by hcmigrate"
    raise PreflightError(
        f"HostedCluster {hc.namespace}/{hc.name} already exists on context '{context}' (restored {theirs}), "
        f"not from backup {m.backup_id} of uid {hc.uid}: refusing to touch it"
    )


def dump_record(fields: dict[str, Any]) -> str:
    return json.dumps({"v": RECORD_VERSION, **fields}, sort_keys=True, separators=(",", ":"))


def load_record(raw: str, what: str) -> dict[str, Any]:
    """A record's fields; a malformed or newer one is a refusal that says what to do."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except ValueError as e:
        raise PreflightError(
            f"the {what} record is malformed ({e}): remove it by hand once the cluster is checked"
        ) from None
    version = data.pop("v", 1)
    if not isinstance(version, int) or not 1 <= version <= RECORD_VERSION:
        raise PreflightError(f"the {what} record is version {version}, newer than this tool reads: upgrade hcmigrate")
    return data


def config_names(hcp_namespace: Obj | None) -> list[str]:
    """The HC's own config names teardown recorded; before records had versions, a bare list."""
    raw = annotations_of(hcp_namespace).get(TEARDOWN_CONFIG)
    if not raw:
        return []
    if raw.lstrip().startswith("["):
        return [str(n) for n in json.loads(raw)]
    return [str(n) for n in load_record(raw, f"teardown ({TEARDOWN_CONFIG})").get("names", [])]


def config_record(names: Iterable[str]) -> str:
    return dump_record({"names": sorted(names)})
