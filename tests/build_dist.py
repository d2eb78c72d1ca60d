"""Builds the release artifacts, reproducibly: `dist` makes the zipapp, `krew` the krew archive.

The Makefile runs `python -m tests.build_dist dist` and `python -m tests.build_dist krew`; the same
commit gives the same bytes. The zipapp holds pure Python only, so one file serves every CPython
>= 3.10 on Linux and macOS.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from kubectl_hcmigrate.__main__ import MIN_PYTHON

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
PACKAGE = ROOT / "kubectl_hcmigrate"
LICENSE = ROOT / "LICENSE"
MANIFEST = ROOT / "krew" / "hcmigrate.yaml"

ZIPAPP = "kubectl-hcmigrate"
OC_ZIPAPP = "oc-hcmigrate"
ARCHIVE = "hcmigrate.tar.gz"
# kubectl's and oc's plugin completion (`kubectl hcmigrate <TAB>`): shipped beside the zipapp.
# Removes older builds' unpacked copies from ~/.shiv (shiv never does).
PREAMBLE = ROOT / "krew" / "shiv_preamble.py"
COMPLETERS = ("kubectl_complete-hcmigrate", "oc_complete-hcmigrate")
ENTRY_POINT = "kubectl_hcmigrate.__main__:main"
SHEBANG = "/usr/bin/env python3"

# A constant rather than the commit time: the manifest holds the archive's sha256 and is committed
# too, so an archive stamped with its commit's time could never match the manifest in that commit.
DEFAULT_SOURCE_DATE_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest a zip entry can hold

FLOOR = f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]}"
FLOOR_ABI = f"cp{MIN_PYTHON[0]}{MIN_PYTHON[1]}"
# PyYAML publishes no pure wheel. One fixed platform wheel gives the same bytes on any build host
# and needs no compiler (an sdist build would pull unpinned setuptools and Cython, and link
# libyaml where present); its C accelerator is then dropped, and PyYAML runs its pure code.
PURE_FALLBACK_WHEELS = {"pyyaml": "manylinux2014_x86_64"}
# Compiled modules that their package imports in a try/except, falling back to pure Python.
DROPPABLE_EXTENSIONS = ("yaml/_yaml.",)
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib")
# Install-time bookkeeping that pip fills with host paths and hashes; nothing reads it in a zipapp.
INSTALLER_FILES = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")
# The AWS services the verbs call (s3) and the ones botocore's credential providers call for
# assume-role, web identity, SSO and `aws login` profiles. Models of the other ~440 are dropped.
BOTOCORE_SERVICES = ("s3", "sts", "sso", "sso-oidc", "signin")


class BuildError(Exception):
    """A build step failed; the message says which and why."""


def source_date_epoch() -> int:
    return int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_SOURCE_DATE_EPOCH))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(path: Path) -> list[str]:
    """The pinned `name==version` lines, without comments."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def _requirement_name(line: str) -> str:
    return _canonical(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0])


def _pip_install(target: Path, requirements: Sequence[str], platform: str, abi: str) -> None:
    # Pinned and complete, so no resolver. Wheels are picked for our floor, not the build host's
    # interpreter. A pin whose Requires-Python excludes the floor would stop pip without saying
    # whether its code runs there; tests/distribution names such pins and runs the code on 3.10.
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-compile", "--only-binary=:all:", "--target", str(target),
        "--platform", platform, "--abi", abi, "--python-version", FLOOR,
        "--implementation", "py" if abi == "none" else "cp", "--ignore-requires-python",
        *requirements,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"pip could not install {' '.join(requirements)}:\n{done.stderr.strip()}")


def install_requirements(site: Path) -> None:
    """Installs the runtime pins into `site`, each from a pure wheel wherever one exists."""
    pins = read_requirements(REQUIREMENTS)
    special = {pin for pin in pins if _requirement_name(pin) in PURE_FALLBACK_WHEELS}
    # Asking for platform "any" makes pip refuse any compiled wheel, so a new pin that needs one
    # (pydantic-core, say) fails here instead of in a user's shell on another OS.
    _pip_install(site, [pin for pin in pins if pin not in special], platform="any", abi="none")
    for pin in sorted(special):
        _pip_install(site, [pin], PURE_FALLBACK_WHEELS[_requirement_name(pin)], FLOOR_ABI)


def copy_package(site: Path) -> None:
    # Copied, not pip-installed: a local install leaves the checkout's absolute path behind.
    shutil.copytree(PACKAGE, site / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def drop_compiled(site: Path) -> None:
    """Removes compiled modules that have a pure fallback; fails on any that has none."""
    stranded = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in COMPILED_SUFFIXES:
            continue
        rel = path.relative_to(site).as_posix()
        if rel.startswith(DROPPABLE_EXTENSIONS):
            path.unlink()
        else:
            stranded.append(rel)
    if stranded:
        raise BuildError(f"compiled modules without a pure-Python fallback: {', '.join(stranded)}")


def trim_botocore(site: Path) -> None:
    """Keeps botocore's models only for the services in BOTOCORE_SERVICES."""
    data = site / "botocore" / "data"
    missing = [name for name in BOTOCORE_SERVICES if not (data / name).is_dir()]
    if missing:
        raise BuildError(f"botocore has no model for {', '.join(missing)}")
    for entry in data.iterdir():
        if entry.is_dir() and entry.name not in BOTOCORE_SERVICES:
            shutil.rmtree(entry)


def normalize(site: Path) -> None:
    """Leaves only what runs: no scripts, caches or installer records; one mode for every file."""
    # pip's console scripts carry the build host's interpreter path in their shebang.
    shutil.rmtree(site / "bin", ignore_errors=True)
    for cache in list(site.rglob("__pycache__")):
        shutil.rmtree(cache)
    for dist_info in site.glob("*.dist-info"):
        for name in INSTALLER_FILES:
            (dist_info / name).unlink(missing_ok=True)
    for path in site.rglob("*"):
        if path.suffix == ".pyc":
            path.unlink()
        else:
            path.chmod(0o755 if path.is_dir() else 0o644)


def stage(site: Path, *, trim: bool = True) -> None:
    install_requirements(site)
    copy_package(site)
    drop_compiled(site)
    if trim:
        trim_botocore(site)
    normalize(site)


def _rewrite_sorted(src: Path, dst: Path) -> None:
    """Copies shiv's zipapp with its entries in name order."""
    # shiv sorts site-packages but adds its own bootstrap files in directory order, which
    # differs between file systems.
    with zipfile.ZipFile(src) as zin, dst.open("wb") as out:
        out.write(f"#!{SHEBANG}\n".encode())
        with zipfile.ZipFile(out, "w") as zout:
            for info in sorted(zin.infolist(), key=lambda i: i.filename):
                zout.writestr(info, zin.read(info))


def build_zipapp(out_dir: Path, *, trim: bool = True) -> Path:
    """Builds `out_dir/kubectl-hcmigrate` and its copy `out_dir/oc-hcmigrate`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / ZIPAPP
    with tempfile.TemporaryDirectory(prefix="hcmigrate-dist-") as tmp:
        site = Path(tmp, "site-packages")
        site.mkdir()
        stage(site, trim=trim)
        unsorted = Path(tmp, ZIPAPP)
        cmd = [
            sys.executable, "-m", "shiv", "--reproducible", "--compressed",
            "--site-packages", str(site), "--entry-point", ENTRY_POINT,
            "--python", SHEBANG, "--output-file", str(unsorted), "--preamble", str(PREAMBLE),
        ]  # fmt: skip
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(source_date_epoch())}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise BuildError(f"shiv failed:\n{done.stdout}{done.stderr}".strip())
        _rewrite_sorted(unsorted, target)
    target.chmod(0o755)
    # A copy, not a link: each name must survive being copied or archived on its own.
    shutil.copyfile(target, out_dir / OC_ZIPAPP)
    (out_dir / OC_ZIPAPP).chmod(0o755)
    return target


def _tar_member(path: Path, name: str, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mode = mode
    info.mtime = source_date_epoch()
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def build_archive(dist_dir: Path) -> Path:
    """Packs the zipapp and LICENSE into `dist_dir/hcmigrate.tar.gz`, as krew installs it."""
    zipapp_path = dist_dir / ZIPAPP
    if not zipapp_path.is_file():
        raise BuildError(f"{zipapp_path} is missing; build it first (make dist)")
    archive = dist_dir / ARCHIVE
    # Regular files only (krew refuses links), in a fixed order, with fixed times and owners;
    # the gzip header gets time 0 and no file name.
    members = [(zipapp_path, ZIPAPP, 0o755), (LICENSE, LICENSE.name, 0o644)]
    members += [(ROOT / "krew" / name, name, 0o755) for name in COMPLETERS]
    with (
        archive.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        for path, name, mode in sorted(members, key=lambda m: m[1]):
            with path.open("rb") as f:
                tar.addfile(_tar_member(path, name, mode), f)
    return archive


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def render_manifest(text: str, version: str, sha256: str) -> str:
    """The manifest with its version, release URI and archive checksum brought up to date."""
    fields = [
        (r"^(\s*version:\s*)\S+$", rf"\g<1>v{version}"),
        (r"^(\s*uri:\s*\S+/download/)v[^/]+/", rf"\g<1>v{version}/"),
        (r"^(\s*sha256:\s*)\S+$", rf"\g<1>{sha256}"),
    ]
    for pattern, replacement in fields:
        text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        if count != 1:
            raise BuildError(f"the manifest must have exactly one line matching {pattern!r}")
    return text


def build_krew(dist_dir: Path, manifest_out: Path) -> Path:
    from kubectl_hcmigrate import __version__

    archive = build_archive(dist_dir)
    rendered = render_manifest(MANIFEST.read_text(), __version__, sha256_of(archive))
    manifest_out.parent.mkdir(parents=True, exist_ok=True)
    manifest_out.write_text(rendered)
    return archive


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.build_dist", description=__doc__)
    parser.add_argument("what", choices=["dist", "krew"])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output directory")
    parser.add_argument("--manifest-out", type=Path, default=MANIFEST, help="where krew writes the manifest")
    parser.add_argument("--no-trim", action="store_true", help="keep every botocore model (for measurements)")
    args = parser.parse_args(argv)
    try:
        if args.what == "dist":
            built = build_zipapp(args.out, trim=not args.no_trim)
            size = built.stat().st_size / 1e6
            print(f"built {_shown(built)} and {OC_ZIPAPP} beside it ({size:.1f} MB)")
        else:
            archive = build_krew(args.out, args.manifest_out)
            print(f"built {_shown(archive)} (sha256 {sha256_of(archive)})")
            print(f"wrote its checksum into {_shown(args.manifest_out)}")
    except BuildError as e:
        sys.exit(f"build_dist: {e}")


if __name__ == "__main__":
    main()
