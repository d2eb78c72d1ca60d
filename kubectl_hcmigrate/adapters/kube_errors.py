"""An apiserver's error answer as a KubeError: its status, reason and message (from the Status body)."""

from __future__ import annotations

import json
from typing import Any

from kubectl_hcmigrate.core.ports import KubeError


def kube_error(e: Any) -> KubeError:
    reason, message = "", str(e.reason)
    try:
        status = json.loads(e.body)
        reason, message = status.get("reason", ""), status.get("message", message)
    except (TypeError, ValueError):
        pass
    return KubeError(int(e.status or 0), reason, message)
