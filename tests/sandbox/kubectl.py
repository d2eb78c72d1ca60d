"""The sandbox talks to its clusters with the real kubectl it built."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

# kubectl fetches the OpenAPI document to validate; on a loaded machine, right after the CRDs were
# installed, building it can outlast kubectl's 32 s ("error validating data"): try again.
_TRANSIENT = (
    "Client.Timeout",
    "context deadline exceeded",
    "Please retry",
    "TLS handshake timeout",
    "error validating data",
)


class Kubectl:
    def __init__(self, binary: Path, kubeconfig: Path, context: str) -> None:
        self.binary, self.kubeconfig, self.context = binary, kubeconfig, context

    def argv(self, *args: str) -> list[str]:
        return [str(self.binary), f"--kubeconfig={self.kubeconfig}", f"--context={self.context}", *args]

    def run(self, *args: str, input: str | None = None, check: bool = True) -> str:
        proc = subprocess.run(self.argv(*args), input=input, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args[:3])} failed: {proc.stderr.strip()}")
        return proc.stdout

    def apply(self, docs: list[dict[str, Any]], *, server_side: bool = True) -> None:
        if not docs:
            return
        payload = json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})
        extra = ["--server-side", "--field-manager=sandbox-seed", "--force-conflicts"]
        # An apply is idempotent: on a loaded machine kubectl's fetch of the OpenAPI schema (to
        # validate) can time out on a healthy apiserver, which failed whole sandbox starts.
        for attempt in range(3):
            try:
                self.run("apply", *(extra if server_side else []), "-f", "-", input=payload)
                return
            except RuntimeError as e:
                if attempt == 2 or not any(t in str(e) for t in _TRANSIENT):
                    raise
                time.sleep(2)

    def get(self, *args: str) -> dict[str, Any]:
        return json.loads(self.run("get", *args, "-o", "json"))

    def patch_status(self, kind: str, name: str, ns: str, patch: dict[str, Any]) -> None:
        self.run(
            "patch", kind, name, "-n", ns, "--subresource=status", "--type=merge",
            "-p", json.dumps(patch),
        )  # fmt: skip
