"""Faults a test causes the way they happen, where the sandbox has no real component to break."""

from __future__ import annotations

from tests.sandbox.cluster import Cluster


def kubelet_reports_ready(cluster: Cluster, ns: str, pod: str, ready: bool) -> None:
    """What the kubelet reports of a pod's readiness (kwok sets it once and never again)."""
    value = "True" if ready else "False"
    cluster.kubectl().patch_status("pod", pod, ns, {"status": {"conditions": [{"type": "Ready", "status": value}]}})


def stop_control_plane(cluster: Cluster, hcp_ns: str) -> None:
    """The control-plane operator and the kube-apiserver at 0: the HC's Available goes False (T9, T12)."""
    k = cluster.kubectl()
    k.run("scale", "deployment", "control-plane-operator", "-n", hcp_ns, "--replicas=0")
    k.run("scale", "deployment", "kube-apiserver", "-n", hcp_ns, "--replicas=0")


def start_control_plane(cluster: Cluster, hcp_ns: str) -> None:
    """The control-plane operator back: it scales the kube-apiserver back up itself (T12)."""
    cluster.kubectl().run("scale", "deployment", "control-plane-operator", "-n", hcp_ns, "--replicas=1")
