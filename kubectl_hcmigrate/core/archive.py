"""The bundle as one object in the bucket: a gzipped tar of its files, beside manifest.json.

A thousand Machines make 2,500 bundle files; one request each kept the backup's object part at
tens of seconds on a slow store. One archive is one PUT at backup and one GET at restore, whatever
the object count. The manifest stays a separate object, written after the archive: it is the
commit marker, and it lists every file's sha256, which the reader checks after unpacking, so an
archive is trusted only as far as the manifest vouches for it.

`tar xzf bundle.tar.gz` gives the kustomize-ready directory by hand: folders 0700, files 0600.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import time
from collections.abc import Mapping

from kubectl_hcmigrate.core.layout import MANIFEST, check_relpath
from kubectl_hcmigrate.core.report import PreflightError

# Far above any bundle (2,500 objects unpack to about 4 MiB), far below what a 2-core machine's
# memory would miss: an archive that claims more is damaged or hostile, not a bundle.
MAX_UNPACKED = 512 << 20
_AGAIN = "fetch it again or take a new backup"


def pack(files: Mapping[str, bytes]) -> bytes:
    """The bundle's files (not manifest.json) as a .tar.gz, each folder before its files."""
    out = io.BytesIO()
    now = int(time.time())
    # Level 6, gzip's default: YAML shrinks about 10x, in a tenth of a second for 2,500 files.
    with (
        gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=now) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        folders: set[str] = set()
        for relpath in sorted(files):
            if relpath == MANIFEST:
                continue
            check_relpath(relpath)
            parts = relpath.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                if folder not in folders:
                    folders.add(folder)
                    tar.addfile(_info(folder, tarfile.DIRTYPE, 0o700, 0, now))
            data = files[relpath]
            tar.addfile(_info(relpath, tarfile.REGTYPE, 0o600, len(data), now), io.BytesIO(data))
    return out.getvalue()


def _info(name: str, kind: bytes, mode: int, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, mtime
    return info


def unpack(data: bytes, where: str) -> dict[str, bytes]:
    """The archive's files by relative path; folders are implied. Refuses anything but plain
    files at plain relative paths, and more than MAX_UNPACKED bytes."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                name = member.name.removeprefix("./")
                if not member.isfile() or name == MANIFEST or name in files:
                    raise PreflightError(f"{where} holds {member.name!r}, which no bundle has; {_AGAIN}")
                total += member.size
                if total > MAX_UNPACKED:
                    raise PreflightError(f"{where} unpacks to more than {MAX_UNPACKED >> 20} MiB; {_AGAIN}")
                stream = tar.extractfile(member)
                assert stream is not None  # a regular file always has one
                files[check_relpath(name)] = stream.read()
    except (tarfile.TarError, EOFError, OSError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise PreflightError(f"{where} is not a readable bundle archive ({reason}); {_AGAIN}") from None
    return files
