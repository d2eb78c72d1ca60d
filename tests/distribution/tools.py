"""The real tools the distribution tests drive: the build itself, krew built from its Go module,
the sandbox's kubectl, and every CPython this machine has.

Built tools are cached outside the repo, keyed by version, beside the sandbox's binaries, so only
the first run on a machine pays for the build.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.build_dist import COMPLETERS, ROOT
from tests.sandbox.pool import xdist_worker

# The newest v0.4.x that the Go module proxy serves (it refuses v0.4.5).
KREW_VERSION = os.environ.get("KREW_VERSION", "v0.4.4")
KREW_MODULE = "sigs.k8s.io/krew"
KREW_TOOLS = ("krew", "validate-krew-manifest")


def sandbox_cache() -> Path:
    """The cache tests/sandbox/build-bins.sh uses, so one variable moves both."""
    if "HCMIGRATE_SANDBOX_CACHE" in os.environ:
        return Path(os.environ["HCMIGRATE_SANDBOX_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "hcmigrate-sandbox"


# `go install krew@version` fails here: it asks the proxy for the module's version list, which the
# proxy refuses. A throwaway module that requires the version builds without asking.
_GO_MOD = f"module hcmigrate.local/krewbins\n\ngo 1.20\n\nrequire {KREW_MODULE} {KREW_VERSION}\n"
_TOOLS_GO = (
    "//go:build tools\n\npackage tools\n\nimport (\n"
    + "".join(f'\t_ "{KREW_MODULE}/cmd/{tool}"\n' for tool in KREW_TOOLS)
    + ")\n"
)


def _go(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    done = subprocess.run(["go", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"building krew failed: go {' '.join(args)}\n{done.stderr}")


def krew_dir() -> Path:
    """A directory holding `kubectl-krew` and `validate-krew-manifest`, built on first use."""
    bin_dir = sandbox_cache() / f"krew-{KREW_VERSION}"
    if (bin_dir / "kubectl-krew").is_file():
        return bin_dir
    if shutil.which("go") is None:
        raise RuntimeError("go is not installed; the krew tests build krew from its Go module")
    bin_dir.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the cache and renamed into place, so an interrupted build never looks done.
    tmp = Path(tempfile.mkdtemp(dir=bin_dir.parent, prefix=".krew-build-"))
    try:
        work, out = tmp / "module", tmp / "bin"
        work.mkdir()
        (work / "go.mod").write_text(_GO_MOD)
        (work / "tools.go").write_text(_TOOLS_GO)
        _go(["mod", "tidy"], work)
        ldflags = f"-s -w -X {KREW_MODULE}/internal/version.gitTag={KREW_VERSION}"
        packages = [f"{KREW_MODULE}/cmd/{tool}" for tool in KREW_TOOLS]
        _go(["build", "-trimpath", "-ldflags", ldflags, "-o", f"{out}/", *packages], work)
        # kubectl finds krew as a plugin by this name, the one krew installs itself under.
        (out / "krew").rename(out / "kubectl-krew")
        if not bin_dir.exists():  # else a concurrent run finished first
            out.rename(bin_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return bin_dir


def kubectl_dir() -> Path:
    """The directory of the sandbox's kubectl, which tests/sandbox/build-bins.sh builds from source."""
    done = run(["bash", ROOT / "tests" / "sandbox" / "build-bins.sh"])
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True, order=True)
class Python:
    minor: tuple[int, int]
    executable: str


_PROBE = "import platform, sys; print(platform.python_implementation(), *sys.version_info[:2])"


def _probe(executable: str) -> Python | None:
    try:
        done = subprocess.run([executable, "-c", _PROBE], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    fields = done.stdout.split()
    if done.returncode != 0 or len(fields) != 3 or fields[0] != "CPython":
        return None
    return Python((int(fields[1]), int(fields[2])), executable)


def _candidates() -> list[Path]:
    """Plain installations first; this test run's own venv only if nothing else has its minor."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(pyenv.glob("3.*/bin/python3"))
    for path_dir in os.environ.get("PATH", "").split(os.pathsep):
        # pyenv's shims answer only for the selected version; the versions are globbed above.
        if path_dir and "shims" not in Path(path_dir).parts:
            found += sorted(p for p in Path(path_dir).glob("python3.*") if p.name[8:].isdigit())
    return [*found, Path("/usr/bin/python3"), Path(sys._base_executable), Path(sys.executable)]


def cpythons() -> list[Python]:
    """One interpreter per CPython minor found on this machine, oldest first."""
    by_minor: dict[tuple[int, int], Python] = {}
    for candidate in _candidates():
        if candidate.is_file() and (python := _probe(str(candidate))):
            by_minor.setdefault(python.minor, python)
    return sorted(by_minor.values())


def run(
    cmd: list[str | Path],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    expect: int = 0,
    umask: int = -1,
) -> subprocess.CompletedProcess[str]:
    """Runs `cmd` to completion and checks its exit code, showing its output when that is off."""
    argv = [str(c) for c in cmd]
    done = subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        umask=umask,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == expect, (
        f"`{' '.join(argv)}` exited {done.returncode}, not {expect}\n"
        f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )
    return done


def build_zipapp(out: Path, *, umask: int = -1) -> Path:
    """`make dist` into `out` instead of the repo's dist/: the zipapp under both names."""
    run([sys.executable, "-m", "tests.build_dist", "dist", "--out", out], cwd=ROOT, umask=umask)
    return out


def build(out: Path, *, umask: int = -1) -> Path:
    """`make dist` and `make krew`, into `out` instead of the repo's dist/ and krew/."""
    build_zipapp(out, umask=umask)
    krew = ["krew", "--manifest-out", out / "hcmigrate.yaml", "--out", out]
    run([sys.executable, "-m", "tests.build_dist", *krew], cwd=ROOT, umask=umask)
    return out


def build_once(config: object, basetemp: Path) -> Path:
    """`build` once for the whole test run, whichever of the workers asks first; the others wait
    for it and use it (a build took 36-55 s beside the other worker). With workers, their temp
    folders share a parent of this run's own; alone, the run's folder is its own."""
    root = basetemp.parent if xdist_worker(config)[1] > 1 else basetemp
    out, done = root / "dist-once", root / "dist-once.done"
    with (root / "dist-once.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # let go when the file closes, whatever happened
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)  # a build that failed part way
            build(out)
            done.touch()
    return out


def plugin_bin(where: Path) -> Path:
    """A PATH entry with the plugin (this checkout, under both installed names) and the shipped
    completers, as krew installs them."""
    bin_dir = where / "bin"
    bin_dir.mkdir()
    for tool in ("kubectl", "oc"):
        plugin = bin_dir / f"{tool}-hcmigrate"
        plugin.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "import sys; sys.argv[0] = \'{plugin}\'; '
                          f'from kubectl_hcmigrate.__main__ import main; main()" "$@"\n')  # fmt: skip
        plugin.chmod(0o755)
    for name in COMPLETERS:
        (bin_dir / name).symlink_to(ROOT / "krew" / name)
    return bin_dir
