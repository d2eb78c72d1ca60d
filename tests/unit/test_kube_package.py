"""A command reaches a cluster without loading the kubernetes package's generated models (its
__init__ imports all of them), and every name of the package still resolves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: source, context: {cluster: c, user: u}}]
current-context: source
"""

PROBE = """
import json, sys
from kubectl_hcmigrate.adapters.kube import Kube
from kubectl_hcmigrate.adapters import exec_handshake, kube_exec, kube_logs  # noqa: F401
from kubectl_hcmigrate.core.options import KubeTarget
kube = Kube(KubeTarget(kubeconfig=sys.argv[1]))
from kubernetes.client import ApiClient, CoreV1Api
from kubernetes.stream import stream
loaded = sorted(m for m in sys.modules if m.startswith("kubernetes."))
import kubernetes.client
pod = kubernetes.client.V1Pod.__name__  # kubernetes.client's own __init__ runs here
# What the generated client does with an answer once that __init__ has run (it reads client.models).
answer = type("Answer", (), {"data": json.dumps({"items": [{"metadata": {"name": "ns1"}}]})})()
listed = ApiClient().deserialize(answer, "V1NamespaceList")
print(json.dumps({"server": kube.server, "models": [m for m in loaded if ".models." in m or ".api." in m],
                  "pod": pod, "listed": listed.items[0].metadata.name,
                  "version": __import__("kubernetes").__version__}))
"""


def test_a_client_is_had_without_the_generated_models_and_any_other_name_still_resolves(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(KUBECONFIG)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(config)], cwd=REPO, capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout)
    assert seen["server"] == "https://127.0.0.1:6443"
    assert seen["models"] == ["kubernetes.client.api.core_v1_api"]  # the one API class the adapters use
    assert seen["pod"] == "V1Pod" and seen["version"]  # a name the adapters never use: the package's __init__, then
    assert seen["listed"] == "ns1"  # and kubernetes.client.models is still there after it ran
