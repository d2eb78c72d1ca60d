"""The exec websocket's handshake: on a client of its own, with a timeout the kubernetes client
does not give it, and the reason a refused handshake gives, read out of websocket-client's text."""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from typing import Any

# kubernetes.stream opens its websocket with no timeout at all, so an apiserver that accepts the
# connection and then freezes would hold the handshake forever (with the source paused). Each
# thread has its own value: a fleet's backups may run against clusters with their own timeouts.
_TIMEOUT: ContextVar[float | None] = ContextVar("exec_handshake_timeout", default=None)


def connect(api_client: Any, namespace: str, pod: str, container: str, argv: list[str], timeout: float | None) -> Any:
    """One exec handshake (the websocket, connected), giving up after `timeout` seconds."""
    from kubernetes.client import ApiClient, CoreV1Api
    from kubernetes.stream import stream

    timed_handshake(timeout)
    # A client of its own: `stream` swaps the client's `request` while it connects, and on
    # a shared one the lease renewal thread's PUT went out as a websocket handshake.
    return stream(
        CoreV1Api(ApiClient(api_client.configuration)).connect_get_namespaced_pod_exec,
        pod,
        namespace,
        container=container,
        command=list(argv),
        stdin=False,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
        binary=True,  # otherwise output is decoded as text
    )


def timed_handshake(seconds: float | None) -> None:
    """The next exec handshake of this thread gives up after `seconds`. kubernetes.stream's
    create_websocket() passes connect() no timeout; a subclass of its WebSocket adds this one."""
    from kubernetes.stream import ws_client

    _TIMEOUT.set(seconds)
    if getattr(ws_client.WebSocket, "timed_handshake", False):
        return

    class TimedWebSocket(ws_client.WebSocket):
        timed_handshake = True

        def connect(self, url: str, **options: Any) -> None:
            options.setdefault("timeout", _TIMEOUT.get())
            super().connect(url, **options)

    ws_client.WebSocket = TimedWebSocket


def refusal(e: Exception, namespace: str, timeout: float | None, tries: int) -> str:
    """Why a handshake failed for good, in words for the user."""
    status = getattr(e, "status", None)
    reason = handshake_reason(str(getattr(e, "reason", e))) or (f"HTTP {status}" if status else "")
    if reason.endswith("timed out") and timeout:
        return f"the apiserver did not answer the exec handshake within {timeout:g}s ({tries} tries)"
    if status == 403 or " is forbidden: " in reason:  # its text names the user: say what and where instead
        return (
            f"Forbidden: get and create pods/exec in namespace {namespace}; the ClusterRoles in deploy/rbac/ grant it"
        )
    return reason


def handshake_reason(text: str) -> str:
    # websocket-client puts the response headers and body after " -+-+- ".
    found = re.search(r'"message":\s*("(?:[^"\\]|\\.)*")', text)
    try:
        reason = json.loads(found.group(1)) if found else text.split(" -+-+- ")[0]
    except ValueError:
        reason = text.split(" -+-+- ")[0]
    return str(reason).strip()[:300]
