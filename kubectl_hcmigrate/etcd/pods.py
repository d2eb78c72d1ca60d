"""What every exec into a hosted cluster's etcd pod shares: the container, how the pods are found,
and the line a failed command's stderr gives for an error message."""

from __future__ import annotations

CONTAINER = "etcd"
ETCD_PODS = "app=etcd"


def said(err: bytes) -> str:
    """The last line a command wrote on stderr, or `no output`."""
    return (err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"])[0]
