"""The roles of deploy/rbac/ on the sandbox's clusters, and a kubeconfig whose contexts
`source-sa` and `destination-sa` use their ServiceAccounts' tokens (the README's recipe)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.sandbox.config import REPO
from tests.sandbox.harness import Sandbox

RBAC = REPO / "deploy" / "rbac"


def service_account_kubeconfig(sb: Sandbox, path: Path) -> Path:
    """A copy of the sandbox's kubeconfig plus a token context per cluster, bound to its role only."""
    path.write_bytes(sb.cfg.kubeconfig.read_bytes())
    path.chmod(0o600)
    for side in ("source", "destination"):
        k = sb.clusters[side].kubectl()
        k.run("apply", "-f", str(RBAC / f"{side}.yaml"))
        token = k.run("create", "token", "hcmigrate", "-n", "hcmigrate", "--duration=2h").strip()
        config = [str(k.binary), f"--kubeconfig={path}", "config"]
        # The two lines of README's recipe.
        subprocess.run([*config, "set-credentials", f"hcmigrate-{side}", f"--token={token}"], check=True,
                       capture_output=True)  # fmt: skip
        subprocess.run([*config, "set-context", f"{side}-sa", f"--cluster={side}", f"--user=hcmigrate-{side}"],
                       check=True, capture_output=True)  # fmt: skip
    return path


def service_account_env(sb: Sandbox, tmp: Path) -> dict[str, str]:
    """The environment of a command run with `--context source-sa` / `--to-context destination-sa`."""
    return {"KUBECONFIG": str(service_account_kubeconfig(sb, tmp / "sa-kubeconfig"))}
