"""The restored etcd's side of restore's wait: an `etcd-init` that crash-loops, which HyperShift
does not report.

A bad restore URL (expired, refused, a body that is no snapshot) sets no condition on the HCP:
the etcd pod's init container fails and the kubelet restarts it with a growing back-off, for
ever, since the URL is immutable (T10, T11). Without this watch the wait would run its whole
--timeout and then say only that EtcdSnapshotRestored is missing; with it, the run ends within a
minute of the first failed fetch, with the init container's own last line.
"""

from __future__ import annotations

import re
from typing import Any

from kubectl_hcmigrate.core.ports import KubeError, KubePort
from kubectl_hcmigrate.core.redact import scrub
from kubectl_hcmigrate.core.report import HcmigrateError, StepFailed
from kubectl_hcmigrate.etcd.pods import ETCD_PODS

INIT_CONTAINER = "etcd-init"
# Restarted at least twice, its last run failed: the kubelet's back-off (10 s, then 20 s) puts that
# about half a minute after the first failure, while a single failed fetch that the next try could
# still get past (a dropped connection) is no reason to end the run.
MIN_RESTARTS = 2
MAX_LINE = 300
# An S3 error body: only its code and message are shown; the rest may echo the request's
# signed parts (StringToSign, CanonicalRequest, the access key id).
_S3_ERROR = re.compile(r"(<Code>[^<]*</Code>)\s*(<Message>[^<]*</Message>)?")
# What the last line says, and what to do about it. The URL is immutable on the HC and the HCP (T11):
# a fresh one comes only with a new HC, so every way out goes through taking the destination's copy down.
FRESH_URL = "take the destination's copy of the HC down and run restore (or migrate) again, which presigns a fresh URL"
ADVICE: tuple[tuple[str, str], ...] = (
    ("Request has expired", f"the snapshot URL expired before etcd-init fetched it: {FRESH_URL} "
                            "(with a longer --url-expiry if HyperShift is slow to get to it)"),
    ("<Code>", f"S3 refused the snapshot URL: {FRESH_URL}"),
    ("", "the snapshot did not restore: check the backup with `verify --deep`, then " + FRESH_URL),
)  # fmt: skip


class EtcdInitCrashLooping(StepFailed):
    """The restore URL's fetch or restore fails on every try: the wait cannot end well (exit 1)."""


def crash_looping(pod: dict[str, Any]) -> dict[str, Any] | None:
    """The pod's `etcd-init` status when it keeps failing, else None."""
    statuses = (pod.get("status") or {}).get("initContainerStatuses") or []
    status = next((s for s in statuses if s.get("name") == INIT_CONTAINER), None)
    if status is None or status.get("restartCount", 0) < MIN_RESTARTS:
        return None
    last = (status.get("lastState") or {}).get("terminated") or {}
    return status if last.get("exitCode", 0) != 0 else None


def shown(line: str) -> str:
    """What may be printed of a log line: an S3 error's code and message, any URL without its query."""
    if found := _S3_ERROR.search(line):
        return "".join(g for g in found.groups() if g)
    text = scrub(line.strip())
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 3] + "..."


def last_line(kube: KubePort, namespace: str, pod: str, status: dict[str, Any]) -> str:
    """The failed run's last log line; the kubelet's termination message if the log is gone."""
    for previous in (True, False):  # a runtime that keeps no previous log still has the current
        try:
            lines = [s for s in kube.pod_log(namespace, pod, INIT_CONTAINER, previous=previous).splitlines() if s]
        except (KubeError, HcmigrateError):
            continue
        if lines:
            return lines[-1]
    message = ((status.get("lastState") or {}).get("terminated") or {}).get("message") or ""
    return (message.strip().splitlines() or ["(it wrote nothing)"])[-1]


def check_etcd_init(kube: KubePort, namespace: str) -> None:
    """Raises EtcdInitCrashLooping when an etcd pod's init container keeps failing."""
    try:
        pods = kube.pods(namespace, ETCD_PODS)
    except (KubeError, HcmigrateError):
        return  # one failed read must not end the wait; the next poll looks again
    for pod in pods:
        if (status := crash_looping(pod)) is None:
            continue
        name = pod["metadata"]["name"]
        line = shown(last_line(kube, namespace, name, status))
        advice = next(what for needle, what in ADVICE if needle in line)
        raise EtcdInitCrashLooping(
            f"etcd-init in pod {namespace}/{name} on context '{kube.context}' is crash-looping (restarted "
            f"{status.get('restartCount')} times), so etcd is never restored; its last log line: {line}. "
            f"HyperShift reports no condition for this and never replaces the URL: {advice}"
        )
