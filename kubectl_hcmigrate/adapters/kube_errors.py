"""What went wrong with a request to an apiserver: its error answer as a KubeError (status, reason
and message, from the Status body), or no answer at all (ClusterUnreachable)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kubectl_hcmigrate.core.ports import KubeError
from kubectl_hcmigrate.core.report import StepFailed

if TYPE_CHECKING:
    from kubectl_hcmigrate.adapters.kube import Kube


class ClusterUnreachable(StepFailed):
    """The apiserver did not answer in time or dropped the connection. A failure of the step (exit 1
    or 4) once something changed; preflight turns it into a refusal (exit 3)."""


def kube_error(e: Any) -> KubeError:
    reason, message = "", str(e.reason)
    try:
        status = json.loads(e.body)
        reason, message = status.get("reason", ""), status.get("message", message)
    except (TypeError, ValueError):
        pass
    return KubeError(int(e.status or 0), reason, message)


def unreachable(kube: Kube, method: str, path: str, e: BaseException) -> ClusterUnreachable:
    host, timeout = kube.api.configuration.host, kube.target.request_timeout
    cause = getattr(e, "reason", None) or e  # urllib3 wraps the timeout in MaxRetryError
    timed_out = "Timeout" in type(e).__name__ or "Timeout" in type(cause).__name__
    what = f"did not answer within {timeout:g}s" if timed_out else f"failed ({type(cause).__name__})"
    return ClusterUnreachable(
        f"the {kube.role} cluster at {host} (context '{kube.context}') {what} on {method} {path.split('?')[0]}: "
        "check that its apiserver is up, or raise --request-timeout"
    )
