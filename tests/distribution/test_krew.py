"""The krew manifest and archive: real krew installs the plugin, real kubectl runs it."""

from __future__ import annotations

import os
import re
import tarfile
from pathlib import Path

import pytest
import yaml

from kubectl_hcmigrate import __version__
from kubectl_hcmigrate.__main__ import MIN_PYTHON
from tests.build_dist import ARCHIVE, COMPLETERS, MANIFEST, OC_ZIPAPP, ZIPAPP, sha256_of
from tests.distribution.tools import krew_dir, kubectl_dir, run

RELEASE = f"https://github.com/hcmigrate/hcmigrate/releases/download/v{__version__}/{ARCHIVE}"
SEMVER = re.compile(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")


def test_manifest_is_the_plugin_at_this_version() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert manifest["kind"] == "Plugin"
    assert manifest["metadata"]["name"] == MANIFEST.stem == "hcmigrate"
    spec = manifest["spec"]
    assert SEMVER.fullmatch(spec["version"]) and spec["version"] == f"v{__version__}"
    assert spec["shortDescription"] and "\n" not in spec["shortDescription"]
    assert f"python3 >= {MIN_PYTHON[0]}.{MIN_PYTHON[1]}" in spec["caveats"]
    (platform,) = spec["platforms"]
    (expression,) = platform["selector"]["matchExpressions"]
    # Every arch: the zipapp is pure Python.
    assert expression == {"key": "os", "operator": "In", "values": ["linux", "darwin"]}
    assert platform["uri"] == RELEASE
    assert re.fullmatch(r"[0-9a-f]{64}", platform["sha256"])
    assert platform["files"] == [{"from": f, "to": "."} for f in (ZIPAPP, "LICENSE", *COMPLETERS)]
    assert len(spec["shortDescription"]) <= 50, "krew's guideline"
    assert "kubectl_complete-hcmigrate" in spec["caveats"] and "S3" in spec["caveats"]
    assert platform["bin"] == ZIPAPP


@pytest.mark.slow
def test_archive_holds_regular_files_and_the_manifest_its_checksum(dist: Path) -> None:
    with tarfile.open(dist / ARCHIVE) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == sorted(["LICENSE", ZIPAPP, *COMPLETERS])
    assert all(m.isreg() and m.uid == m.gid == 0 for m in members.values())
    assert members[ZIPAPP].mode == members[COMPLETERS[0]].mode == 0o755
    assert (dist / ARCHIVE).read_bytes()[4:8] == b"\0\0\0\0", "gzip header time must be 0"
    built = yaml.safe_load((dist / "hcmigrate.yaml").read_text())
    assert built["spec"]["platforms"][0]["sha256"] == sha256_of(dist / ARCHIVE)
    # Only the checksum may differ from the committed manifest.
    committed = re.sub(r"sha256: \S+", "", MANIFEST.read_text())
    assert re.sub(r"sha256: \S+", "", (dist / "hcmigrate.yaml").read_text()) == committed


@pytest.mark.slow
def test_krew_validates_the_manifest(dist: Path) -> None:
    validate = krew_dir() / "validate-krew-manifest"
    for manifest in (MANIFEST, dist / "hcmigrate.yaml"):
        # -skip-install: it would download the release; the next test installs the archive.
        done = run([validate, "-manifest", manifest, "-skip-install"])
        assert "structural validation OK" in done.stderr


@pytest.mark.slow
def test_krew_installs_it_and_kubectl_runs_it(dist: Path, zipapp_env: dict[str, str], tmp_path: Path) -> None:
    kubectl = kubectl_dir() / "kubectl"
    krew_root = tmp_path / "krew"
    env = {
        **zipapp_env,
        "KREW_ROOT": str(krew_root),
        "KREW_NO_UPGRADE_CHECK": "1",
        "PATH": os.pathsep.join([str(krew_dir()), str(krew_root / "bin"), zipapp_env["PATH"]]),
    }
    manifest, archive = dist / "hcmigrate.yaml", dist / ARCHIVE
    installed = run([kubectl, "krew", "install", f"--manifest={manifest}", f"--archive={archive}"], env=env)
    assert "Installed plugin: hcmigrate" in installed.stderr
    plugin = krew_root / "bin" / ZIPAPP
    assert (plugin.resolve()).read_bytes() == (dist / ZIPAPP).read_bytes()
    assert (krew_root / "store" / "hcmigrate" / f"v{__version__}" / "LICENSE").is_file()
    # What `krew list` reads; list and uninstall want a clone of the public index, out of reach.
    assert (krew_root / "receipts" / "hcmigrate.yaml").is_file()

    assert str(plugin) in run([kubectl, "plugin", "list"], env=env).stdout.splitlines()
    version = run([kubectl, "hcmigrate", "version"], env=env).stdout
    assert version == f"kubectl hcmigrate {__version__}\n"
    assert "Usage: kubectl hcmigrate" in run([kubectl, "hcmigrate", "--help"], env=env).stdout
    # Completion, once the completer is linked onto PATH as the caveats say.
    store = krew_root / "store" / "hcmigrate" / f"v{__version__}"
    (krew_root / "bin" / COMPLETERS[0]).symlink_to(store / COMPLETERS[0])
    completed = run([kubectl, "__complete", "hcmigrate", "rest"], env=env).stdout.splitlines()
    assert completed[0].startswith("restore\t") and completed[-1] == ":4"

    # The installed zipapp under oc's plugin name says so.
    oc_plugin = tmp_path / OC_ZIPAPP
    oc_plugin.symlink_to(plugin)
    assert run([oc_plugin, "version"], env=env).stdout == f"oc hcmigrate {__version__}\n"
