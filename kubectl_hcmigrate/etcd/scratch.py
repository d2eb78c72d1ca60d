"""The snapshot's scratch file in an etcd pod: a name only hcmigrate uses, one per run, and the
removal of the files that earlier runs left behind.

`etcdctl snapshot save X` writes `X.part` and renames it to `X` when done, so a run owns both. A
run that was killed (SIGKILL, a lost node) cannot remove its own: the next run does, before it
changes anything. Only names of our pattern are touched, and only in the scratch directories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from kubectl_hcmigrate.core.report import StepFailed
from kubectl_hcmigrate.etcd.pods import CONTAINER, said

if TYPE_CHECKING:
    from kubectl_hcmigrate.core.ports import KubePort

# Next to the live data first (the runbook's place); elsewhere when that volume is short.
SCRATCH_DIRS = ("/var/lib/data", "/tmp")
PREFIX = ".hcmigrate-snapshot-"
PART = ".part"  # etcdctl's file while it saves
_OURS = re.compile(r"\.hcmigrate-snapshot-[A-Za-z0-9_-]+\.db(\.part)?")


def scratch_name(run: str) -> str:
    """The scratch file's name for one run (its backup id): hidden, and ours alone."""
    return f"{PREFIX}{re.sub(r'[^A-Za-z0-9_-]', '-', run) or 'run'}.db"


def own_files(path: str) -> list[str]:
    """Every file a run's scratch path may leave: the snapshot and etcdctl's `.part`."""
    return [path, path + PART]


def is_ours(name: str) -> bool:
    return _OURS.fullmatch(name) is not None


def _kept(path: str, keep: AbstractSet[str]) -> bool:
    """A live run's file (named by path or name), or its `.part`, is not a leftover."""
    base = path.removesuffix(PART)
    return bool({path, base, path.rsplit("/", 1)[-1], base.rsplit("/", 1)[-1]} & keep)


def find_leftovers(
    kube: KubePort, ns: str, pods: Iterable[str], keep: AbstractSet[str] = frozenset()
) -> dict[str, list[str]]:
    """Pod -> paths of our scratch files in it, except a live run's (`keep`). Reads only."""
    found: dict[str, list[str]] = {}
    failed: list[str] = []
    for pod in pods:
        for d in SCRATCH_DIRS:
            try:
                code, out, _ = kube.run_in_pod(ns, pod, CONTAINER, ["ls", "-1a", d])
            except Exception as e:  # a pod that cannot exec is reported once, the others still looked at
                failed.append(f"{ns}/{pod}: {e}")
                break
            if code != 0:
                continue  # no such directory in this image
            for name in out.decode(errors="replace").splitlines():
                path = f"{d}/{name.strip()}"
                if is_ours(name.strip()) and not _kept(path, keep):
                    found.setdefault(pod, []).append(path)
    if failed:
        raise StepFailed(f"could not look for leftover snapshot files in {'; '.join(failed)}")
    return found


def remove_leftovers(kube: KubePort, ns: str, pods: Iterable[str], keep: AbstractSet[str] = frozenset()) -> list[str]:
    """Removes the scratch files earlier runs left in `pods` (etcdctl's `.part` included), except
    the live run's in `keep` (full paths or names). Returns `pod:path` of each file removed."""
    removed: list[str] = []
    for pod, paths in find_leftovers(kube, ns, pods, keep).items():
        code, _, err = kube.run_in_pod(ns, pod, CONTAINER, ["rm", "-f", "--", *paths])
        if code != 0:
            raise StepFailed(f"could not remove {', '.join(paths)} in {ns}/{pod}: {said(err)}")
        removed += [f"{pod}:{p}" for p in paths]
    return removed
