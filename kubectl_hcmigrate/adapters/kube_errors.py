"""What a failed request to an apiserver says: its error answer as a KubeError (status, reason and
message from the Status body), or, with no answer, a ClusterUnreachable naming the cluster."""

from __future__ import annotations

import json
from http import HTTPStatus

from kubectl_hcmigrate.core.ports import KubeError
from kubectl_hcmigrate.core.report import StepFailed


class ClusterUnreachable(StepFailed):
    """The apiserver did not answer in time or dropped the connection. A failure of the step (exit 1
    or 4) once something changed; preflight turns it into a refusal (exit 3)."""


def kube_error(status: int, body: bytes | str | None, said: str = "") -> KubeError:
    """`said`: the answer's own reason phrase, when the caller has it."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = f"HTTP {status}"
    reason, message = "", said or phrase
    try:
        answer = json.loads(body or b"")
        reason, message = answer.get("reason", ""), answer.get("message", message)
    except (TypeError, ValueError, AttributeError):
        pass
    return KubeError(status, reason, message)


def unreachable(
    role: str, context: str, host: str, timeout: float, request: str, e: BaseException
) -> ClusterUnreachable:
    cause = getattr(e, "reason", None) or e  # urllib3 wraps the timeout in MaxRetryError
    timed_out = "Timeout" in type(e).__name__ or "Timeout" in type(cause).__name__
    what = f"did not answer within {timeout:g}s" if timed_out else f"failed ({type(cause).__name__})"
    return ClusterUnreachable(
        f"the {role} cluster at {host} (context '{context}') {what} on {request.split('?')[0]}: "
        "check that its apiserver is up, or raise --request-timeout"
    )
