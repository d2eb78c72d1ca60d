"""The HostedCluster's `spec.etcd.managed.storage.restoreSnapshotURL` and HyperShift's rules
for it: a list of at most one `https://` (or `s3://`) URL of bounded length, immutable once set.
The etcd init container downloads it into an empty data directory and restores from it."""

from __future__ import annotations

from typing import Any

from kubectl_hcmigrate.core.redact import safe_url
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.core.units import format_duration

PATH = ("etcd", "managed", "storage", "restoreSnapshotURL")
# HyperShift's limit (the items' maxLength) when the destination's CRD does not say.
DEFAULT_MAX_LENGTH = 1024
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's limit on a presigned URL
# How long the URL must outlive the wait (or, with --no-wait, the apply): etcd-init may first fetch
# it at the wait's last moment, after the objects were created, and the kubelet retries it from there.
EXPIRY_MARGIN_SECONDS = 60


def current(hc: dict[str, Any]) -> str | None:
    """The URL set on an HC (under `spec`), if any."""
    node: Any = hc.get("spec", {})
    for part in PATH:
        node = node.get(part) if isinstance(node, dict) else None
    return node[0] if isinstance(node, list) and node else None


def set_url(hc: dict[str, Any], url: str) -> dict[str, Any]:
    """`hc` with exactly one restore URL: the CRD refuses more than one."""
    node = hc.setdefault("spec", {})
    for part in PATH[:-1]:
        node = node.setdefault(part, {})
    node[PATH[-1]] = [url]
    return hc


def max_length(crd: dict[str, Any] | None, version: str) -> int:
    """The HC CRD's maxLength for the URL at `version`; HyperShift's default when not found."""
    for v in (crd or {}).get("spec", {}).get("versions", []):
        if v.get("name") == version:
            node = v.get("schema", {}).get("openAPIV3Schema", {}).get("properties", {}).get("spec", {})
            for part in PATH:
                node = node.get("properties", {}).get(part, {})
            return int(node.get("items", {}).get("maxLength", DEFAULT_MAX_LENGTH))
    return DEFAULT_MAX_LENGTH


def check(url: str, limit: int) -> None:
    """Refuses a URL the destination would reject, before anything is applied."""
    if not url.startswith("https://"):
        raise PreflightError(
            f"the snapshot URL would be {safe_url(url)}: HyperShift accepts only https:// restore URLs; "
            "reach the bucket through an HTTPS --endpoint-url"
        )
    if len(url) > limit:
        raise PreflightError(
            f"the presigned snapshot URL is {len(url)} characters and the destination accepts at most {limit}: "
            "temporary credentials (a session token) make it longer; use long-term credentials"
        )


def check_expiry(expiry: int, wait: int | None) -> None:
    """Refuses a URL lifetime the restore could outlive: the wait of `wait` seconds (None: no wait)
    plus the margin. HyperShift never replaces an expired URL (T11), so it would crash-loop etcd-init."""
    if not 0 < expiry <= MAX_PRESIGN_SECONDS:
        raise PreflightError(
            "--url-expiry must be more than 0 and at most 7d (the limit of a presigned URL), "
            f"not {format_duration(expiry)}"
        )
    least = (wait or 0) + EXPIRY_MARGIN_SECONDS
    if expiry < least:
        waited = f"the {format_duration(wait)} of --timeout plus " if wait else ""
        raise PreflightError(
            f"--url-expiry {format_duration(expiry)} is shorter than {waited}{format_duration(EXPIRY_MARGIN_SECONDS)} "
            f"for etcd-init to fetch the snapshot: HyperShift never replaces an expired URL, so give --url-expiry "
            f"{format_duration(least)} or more" + (", or a shorter --timeout" if wait else "")
        )
