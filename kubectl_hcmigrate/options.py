"""Resolved options, passed from the CLI into the verbs. Frozen: resolved once."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"


@dataclass(frozen=True)
class KubeTarget:
    """A management cluster as kubectl would pick it: kubeconfig path(s) and context."""

    kubeconfig: str | None = None
    context: str | None = None
