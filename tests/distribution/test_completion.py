"""`kubectl hcmigrate <TAB>` through kubectl's own plugin completion (kubectl 1.34 of the sandbox):
kubectl runs the shipped `kubectl_complete-hcmigrate __complete <words>`, which asks the plugin.
Verbs and flags complete, and --context/--to-context offer the kubeconfig's contexts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.build_dist import ROOT
from tests.distribution.tools import kubectl_dir, plugin_bin, run

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://127.0.0.1:1"}}
contexts:
- {name: source, context: {cluster: a, user: u}}
- {name: destination, context: {cluster: a, user: u}}
- {name: staging, context: {cluster: a, user: u}}
current-context: source
users:
- {name: u, user: {token: not-a-real-token}}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """PATH with the plugin (this checkout, under its installed name) and the shipped completers."""
    bin_dir = plugin_bin(tmp_path)
    (tmp_path / "config").write_text(KUBECONFIG)
    return {
        **os.environ,
        "PATH": os.pathsep.join([str(bin_dir), str(kubectl_dir()), os.environ["PATH"]]),
        "PYTHONPATH": str(ROOT),
        "KUBECONFIG": str(tmp_path / "config"),
    }


def complete(env: dict[str, str], *words: str) -> list[str]:
    done = run([kubectl_dir() / "kubectl", "__complete", "hcmigrate", *words], env=env)
    return done.stdout.splitlines()


def test_verbs_flags_and_contexts_complete_through_kubectl(env: dict[str, str]) -> None:
    verbs = [line.split("\t")[0] for line in complete(env, "")]
    assert {"backup", "restore", "teardown", "migrate", "list", "verify", "version"} <= set(verbs)
    assert verbs[-1] == ":4", "no file names among the verbs"
    assert "--to-context" in [line.split("\t")[0] for line in complete(env, "restore", "--to")]
    assert complete(env, "restore", "--context", "")[:-1] == ["destination", "source", "staging"]
    assert complete(env, "--context", "st")[:-1] == ["staging"]
    assert complete(env, "migrate", "--to-context", "d")[:-1] == ["destination"]


def test_oc_completer_asks_the_oc_plugin(env: dict[str, str]) -> None:
    done = run([Path(env["PATH"].split(os.pathsep)[0]) / "oc_complete-hcmigrate", "ver"], env=env)
    assert done.stdout.splitlines()[0].split("\t")[0] in ("version", "verify")
