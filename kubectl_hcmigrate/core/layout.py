"""Where a backup lives in the bucket, and the manifest that marks it complete.

One object names every key, so that backup, restore, list and verify cannot disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, astuple, dataclass, field, replace
from datetime import datetime
from typing import Any

from kubectl_hcmigrate.core.backup_ids import (
    TIMESTAMP_FORMAT,
    is_backup_id,
    new_backup_id,
    parse_backup_id,
    run_of_backup_id,
    utc_timestamp,
)
from kubectl_hcmigrate.core.report import PreflightError

# Ids are named with the keys they appear in: callers find both here.
__all__ = ["is_backup_id", "new_backup_id", "parse_backup_id", "run_of_backup_id", "utc_timestamp"]

SCHEMA = "hcmigrate.openshift.io/v1"
MANIFEST = "manifest.json"
SNAPSHOT = "etcd-snapshot.db"
BUNDLE_DIR = "bundle"
# The bundle's files in one object (core/archive.py), beside the manifest in BUNDLE_DIR. Backups
# written before it have each file as its own key there instead; readers take both.
ARCHIVE = "bundle.tar.gz"

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def _segment(value: str, what: str) -> str:
    if not value or "/" in value or value in (".", ".."):
        raise ValueError(f"{what} {value!r} cannot be a bucket key segment")
    return value


def normalise_prefix(prefix: str | None) -> str:
    """`/a//b/` -> `a/b`: no leading, trailing or doubled slashes."""
    parts = [p for p in (prefix or "").split("/") if p]
    for part in parts:
        _segment(part, "prefix part")
    return "/".join(parts)


def check_relpath(relpath: str) -> str:
    """A bundle-relative path that is safe as a file path and a key suffix."""
    parts = relpath.split("/")
    if not relpath or "\\" in relpath or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{relpath!r} is not a plain relative path inside a bundle")
    return relpath


def namespace_prefix(prefix: str | None, namespace: str) -> str:
    """The key prefix (ending in `/`) under which every backup of one namespace's HCs lives."""
    parts = [normalise_prefix(prefix), _segment(namespace, "namespace")]
    return "/".join(p for p in parts if p) + "/"


def hc_prefix(prefix: str | None, namespace: str, name: str) -> str:
    """The key prefix (ending in `/`) under which every backup of one HC lives."""
    return namespace_prefix(prefix, namespace) + _segment(name, "name") + "/"


def scope_prefix(namespace: str | None, name: str | None) -> str:
    """The key prefix of one HC's backups, of one namespace's (no name), or of all (neither);
    a name no HC could have is refused, as it cannot be a key segment either."""
    try:
        if name:
            return hc_prefix("", namespace or "", name)
        return namespace_prefix("", namespace) if namespace else ""
    except ValueError as e:
        raise PreflightError(f"{e}: check --hc and -n") from None


@dataclass(frozen=True)
class BackupLayout:
    prefix: str | None
    namespace: str
    name: str
    backup_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", normalise_prefix(self.prefix))
        parse_backup_id(self.backup_id)

    @property
    def backup_root(self) -> str:
        return hc_prefix(self.prefix, self.namespace, self.name) + self.backup_id

    @property
    def snapshot_key(self) -> str:
        return f"{self.backup_root}/{SNAPSHOT}"

    @property
    def bundle_prefix(self) -> str:
        return f"{self.backup_root}/{BUNDLE_DIR}/"

    def bundle_key(self, relpath: str) -> str:
        return self.bundle_prefix + check_relpath(relpath)

    @property
    def manifest_key(self) -> str:
        return self.bundle_key(MANIFEST)

    @property
    def archive_key(self) -> str:
        return self.bundle_key(ARCHIVE)

    def relpath_of(self, key: str) -> str:
        """Inverse of `bundle_key`, to rebuild a bundle from the bucket's keys."""
        if not key.startswith(self.bundle_prefix):
            raise ValueError(f"{key!r} is not under {self.bundle_prefix!r}")
        return check_relpath(key[len(self.bundle_prefix) :])


def backup_of_key(key: str) -> BackupLayout | None:
    """The backup a key (relative to the prefix) belongs to, or None for a key that
    BackupLayout would never write there: the inverse of BackupLayout, for `list`."""
    parts = key.split("/", 3)
    if len(parts) < 4 or not is_backup_id(parts[2]):
        return None
    try:
        found = BackupLayout(None, *parts[:3])
        if key != found.snapshot_key:
            found.relpath_of(key)  # raises unless it is a bundle file
    except ValueError:
        return None
    return found


def complete_backup_ids(keys: Iterable[str]) -> list[str]:
    """Backup ids, oldest first, that have a manifest (`<id>/bundle/manifest.json`)."""
    found = set()
    for key in keys:
        parts = key.split("/")
        if len(parts) >= 3 and parts[-2:] == [BUNDLE_DIR, MANIFEST] and is_backup_id(parts[-3]):
            found.add(parts[-3])
    return sorted(found)


def latest_backup_id(keys: Iterable[str]) -> str | None:
    """The newest complete backup; one without a manifest is unfinished and never picked."""
    ids = complete_backup_ids(keys)
    return ids[-1] if ids else None


# `hostedcluster` in the JSON, in field order; HyperShift spells it `infraID`.
_HC_KEYS = ("name", "namespace", "uid", "infraID")


@dataclass(frozen=True)
class HostedClusterRef:
    name: str
    namespace: str
    uid: str
    infra_id: str


@dataclass(frozen=True)
class SnapshotRef:
    bucket: str
    key: str
    size: int
    sha256: str
    etcd_pod: str
    # What S3 computed for the object backup wrote, to tell it from any object put there since;
    # None in manifests older than these fields, and version_id on a bucket without versioning.
    etag: str | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class Manifest:
    """The commit marker of a backup: written last, listing every bundle file's sha256."""

    tool_version: str
    backup_id: str
    created: str
    source_context: str | None
    hostedcluster: HostedClusterRef
    snapshot: SnapshotRef
    files: Mapping[str, str] = field(default_factory=dict)
    schema: str = SCHEMA
    # What each backed-up object was at backup time (core/staleness.py); none in older manifests.
    versions: Mapping[str, str] = field(default_factory=dict)
    # Taken without pausing or quiescing (backup --online), and the etcd revision the snapshot
    # holds; older manifests have neither (quiesced, revision unknown).
    online: bool = False
    etcd_revision: int | None = None

    def taken(self) -> str:
        """How the backup was taken, for the line restore and verify say about it."""
        at = f" at etcd revision {self.etcd_revision}" if self.etcd_revision is not None else ""
        how = "online (the control plane kept running)" if self.online else "quiesced"
        return f"taken {self.created}, {how}{at}"

    def with_files(self, files: Mapping[str, str]) -> Manifest:
        return replace(self, files=dict(sorted(files.items())))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "tool_version": self.tool_version,
            "backup_id": self.backup_id,
            "created": self.created,
            "source_context": self.source_context,
            "hostedcluster": dict(zip(_HC_KEYS, astuple(self.hostedcluster), strict=True)),
            "snapshot": {k: v for k, v in asdict(self.snapshot).items() if v is not None},
            "files": dict(sorted(self.files.items())),
            **({"versions": dict(sorted(self.versions.items()))} if self.versions else {}),
            **({"online": True} if self.online else {}),
            **({"etcd_revision": self.etcd_revision} if self.etcd_revision is not None else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        try:
            return _parse_manifest(json.loads(text))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            reason = f"missing field {e}" if isinstance(e, KeyError) else str(e)
            raise PreflightError(
                f"manifest.json is not a valid hcmigrate manifest ({reason}); "
                "the backup is damaged or not from this tool: take a new backup"
            ) from None


def _str(data: Mapping[str, Any], key: str, optional: bool = False) -> Any:
    value = data[key]
    if not (isinstance(value, str) and value) and not (optional and value is None):
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _sha(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _SHA256_RE.match(value):
        raise ValueError(f"{what} is not a lowercase hex sha256")
    return value


def _parse_manifest(data: Any) -> Manifest:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("schema") != SCHEMA:
        raise ValueError(f"schema is {data.get('schema')!r}, expected {SCHEMA!r}")
    hc, snap, files = data["hostedcluster"], data["snapshot"], data["files"]
    size = snap["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError("snapshot.size must be a non-negative integer")
    if not isinstance(files, dict):
        raise ValueError("files must be an object")
    for relpath, digest in files.items():
        if check_relpath(relpath) == MANIFEST:
            raise ValueError("files must not list manifest.json itself")
        _sha(digest, f"files[{relpath!r}]")
    datetime.strptime(_str(data, "created"), TIMESTAMP_FORMAT)
    if not is_backup_id(_str(data, "backup_id")):
        raise ValueError(f"backup_id {data['backup_id']!r} is not YYYYMMDDTHHMMSSZ[-RUN]")
    return Manifest(
        tool_version=_str(data, "tool_version"),
        backup_id=data["backup_id"],
        created=data["created"],
        source_context=_str(data, "source_context", optional=True),
        hostedcluster=HostedClusterRef(*(_str(hc, k) for k in _HC_KEYS)),
        snapshot=SnapshotRef(
            bucket=_str(snap, "bucket"),
            key=_str(snap, "key"),
            size=size,
            sha256=_sha(snap["sha256"], "snapshot.sha256"),
            etcd_pod=_str(snap, "etcd_pod"),
            etag=_str(snap, "etag", optional=True) if "etag" in snap else None,
            version_id=_str(snap, "version_id", optional=True) if "version_id" in snap else None,
        ),
        files=dict(files),
        versions={str(k): str(v) for k, v in dict(data.get("versions") or {}).items()},
        online=data.get("online") is True,
        etcd_revision=_revision(data.get("etcd_revision")),
    )


def _revision(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("etcd_revision must be a non-negative integer")
    return value
