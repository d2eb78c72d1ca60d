"""The bundle on local disk: `--dir` written private (0700 folders, 0600 files, the manifest
last and synced), and a directory read back as the `{relpath: bytes}` mapping bundle.py checks."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from kubectl_hcmigrate.core.layout import MANIFEST
from kubectl_hcmigrate.core.report import PreflightError

YAML_SUFFIXES = (".yaml", ".yml")


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, exist_ok=True)
    # mkdir's mode is cut by the umask, and the folder may predate us: set it exactly,
    # while it holds nothing of ours yet.
    path.chmod(0o700)


def _write_private(path: Path, data: bytes, durable: bool = False) -> None:
    # Created 0600 in one call: no moment where a secret is readable by others.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # a file left by an earlier run keeps its old mode
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def check_bundle_dir(root: str | os.PathLike[str], overwrite: bool = False) -> None:
    """For preflight: `write_bundle` will refuse a used directory unless `overwrite`."""
    top = Path(root)
    if top.exists() and (not top.is_dir() or any(top.iterdir())) and not overwrite:
        raise PreflightError(f"{top} exists and is not an empty directory; choose another --dir")


def write_files(root: str | os.PathLike[str], files: Mapping[str, bytes], overwrite: bool = False) -> None:
    """Write rendered bundle files under `root` (0700 folders, 0600 files), manifest.json last.

    `overwrite` replaces a bundle left there by an earlier run of the same backup.
    """
    check_bundle_dir(root, overwrite)
    top = Path(root)
    top.parent.mkdir(parents=True, exist_ok=True)
    _private_dir(top)
    # Uncommit first: a half-rewritten bundle must not look complete.
    (top / MANIFEST).unlink(missing_ok=True)
    # Each folder made private once, not once per file (2,521 files, 3 folders).
    for folder in sorted({(top / relpath).parent for relpath in files}):
        _private_dir(folder)
    for relpath, data in files.items():
        if relpath != MANIFEST:
            _write_private(top / relpath, data)
    for stale in set(DirFiles(top)) - set(files):
        if stale.endswith(YAML_SUFFIXES):
            (top / stale).unlink()
    # Only the manifest is synced: 2,500 fsyncs took 4 s on a busy disk, and the bucket gets the
    # bundle from memory, not from here. A crash can leave this copy with a manifest over files
    # the disk lost, which `verify --from` reports file by file; it never makes them look right.
    tmp = top / f".{MANIFEST}.tmp"
    _write_private(tmp, files[MANIFEST], durable=True)
    os.replace(tmp, top / MANIFEST)


class DirFiles(Mapping[str, bytes]):
    """A directory as `{relpath: bytes}`; lists names up front, reads a file when asked."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._names: dict[str, None] = {}  # an ordered set
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            rel = Path(folder).relative_to(root).as_posix()
            for name in sorted(names):
                if not os.path.islink(os.path.join(folder, name)):
                    self._names[name if rel == "." else f"{rel}/{name}"] = None

    def __getitem__(self, relpath: str) -> bytes:
        if relpath not in self._names:
            raise KeyError(relpath)
        return (self._root / relpath).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def as_files(source: str | os.PathLike[str] | Mapping[str, bytes]) -> Mapping[str, bytes]:
    if isinstance(source, Mapping):
        return source
    root = Path(source)
    if not root.is_dir():
        raise PreflightError(f"bundle directory {root} does not exist; check --dir")
    return DirFiles(root)
