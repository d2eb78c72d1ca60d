"""The zipapp as `make dist` builds it: its form, its names, its start-up and its completion."""

from __future__ import annotations

import json
import os
import re
import sys
import zipfile
from pathlib import Path

import pytest

from kubectl_hcmigrate import __version__
from tests.build_dist import ARCHIVE, BOTOCORE_SERVICES, COMPILED_SUFFIXES, OC_ZIPAPP, PACKAGE, ZIPAPP
from tests.distribution.tools import build, run

NAMES = {ZIPAPP: "kubectl hcmigrate", OC_ZIPAPP: "oc hcmigrate"}
# Imported only inside the verbs that talk to clusters or S3: they cost most of a second.
HEAVY = {"kubernetes", "boto3", "botocore"}


def in_zipapp(dist: Path, env: dict[str, str], code: str) -> str:
    """Runs Python `code` inside the zipapp's environment (shiv's interpreter mode)."""
    shiv_env = {**env, "SHIV_INTERPRETER": "1"}
    return run([sys.executable, dist / ZIPAPP, "-c", code], env=shiv_env).stdout


def test_the_zipapp_keeps_the_model_of_every_aws_service_the_code_calls() -> None:
    calls = re.compile(r"""\.(?:client|resource)\(\s*["']([a-z0-9-]+)["']""")
    called = {name for path in PACKAGE.rglob("*.py") for name in calls.findall(path.read_text())}
    assert "s3" in called
    assert called <= set(BOTOCORE_SERVICES), "add the service to BOTOCORE_SERVICES in tests/build_dist.py"


@pytest.mark.slow
def test_both_names_are_the_same_executable_zipapp(dist: Path) -> None:
    kubectl, oc = dist / ZIPAPP, dist / OC_ZIPAPP
    assert kubectl.read_bytes() == oc.read_bytes()
    for path in (kubectl, oc):
        assert not path.is_symlink()
        assert path.stat().st_mode & 0o777 == 0o755
        assert path.read_bytes().startswith(b"#!/usr/bin/env python3\n")
        assert zipfile.is_zipfile(path)


@pytest.mark.slow
def test_two_builds_of_the_same_tree_are_byte_identical(
    dist: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another umask and temporary directory: neither may leak into the bytes.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    again = build(tmp_path / "again", umask=0o077)
    for name in (ZIPAPP, OC_ZIPAPP, ARCHIVE, "hcmigrate.yaml"):
        assert (again / name).read_bytes() == (dist / name).read_bytes(), name


@pytest.mark.slow
def test_holds_only_sources_and_metadata(dist: Path) -> None:
    names = zipfile.ZipFile(dist / ZIPAPP).namelist()
    assert names == sorted(names)
    compiled = [n for n in names if n.endswith(COMPILED_SUFFIXES)]
    assert not compiled, f"compiled modules make the zipapp platform-specific: {compiled}"
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    # bin/ holds only shiv's preamble (it cleans older builds out of ~/.shiv), no console scripts.
    assert [n for n in names if n.startswith("site-packages/bin/")] == ["site-packages/bin/shiv_preamble.py"]
    assert not [n for n in names if n.endswith(("/RECORD", "/direct_url.json"))]
    assert "site-packages/kubectl_hcmigrate/__main__.py" in names


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_help_version_and_errors_name_the_way_it_was_started(dist: Path, zipapp_env: dict[str, str], name: str) -> None:
    prog = NAMES[name]
    # Started through its shebang, as kubectl and oc start plugins; wide, so examples don't wrap.
    env = {**zipapp_env, "COLUMNS": "200"}
    help_text = run([dist / name, "--help"], env=env).stdout
    assert f"Usage: {prog} [OPTIONS] COMMAND" in help_text
    for example in (
        "backup --hc example -n clusters --bucket my-bucket",
        "restore --hc example -n clusters --bucket my-bucket --context destination",
        "teardown --hc example -n clusters --context source --to-context destination",
    ):
        assert f"{prog} {example}" in help_text
    assert run([dist / name, "version"], env=env).stdout == f"{prog} {__version__}\n"
    as_json = run([dist / name, "-o", "json", "version"], env=env).stdout
    doc = json.loads(as_json)
    assert (doc["apiVersion"], doc["kind"], doc["version"]) == ("hcmigrate.openshift.io/v1", "Version", __version__)
    wrong = run([dist / name, "no-such-verb"], env=env, expect=2)
    assert f"Try '{prog} -h' for help" in wrong.stderr


def _imported_packages(importtime_log: str) -> set[str]:
    """Top-level packages named in `python -X importtime` output."""
    names = set()
    for line in importtime_log.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.slow
def test_help_and_version_do_not_import_kubernetes_or_boto3(dist: Path, zipapp_env: dict[str, str]) -> None:
    commands = in_zipapp(
        dist,
        zipapp_env,
        "import typer.main\nfrom kubectl_hcmigrate.cli import app\nprint(*typer.main.get_command(app).commands)",
    ).split()
    assert "version" in commands
    runs = [["--help"], ["version"], ["-o", "json", "version"]]
    runs += [[command, "--help"] for command in commands]
    for args in runs:
        done = run([sys.executable, "-X", "importtime", dist / ZIPAPP, *args], env=zipapp_env)
        imported = _imported_packages(done.stderr)
        assert "typer" in imported, "the import log is empty; is -X importtime honoured?"
        assert not HEAVY & imported, f"`{' '.join(args)}` imported {sorted(HEAVY & imported)}"


@pytest.mark.slow
def test_bash_completion_completes_verbs_and_shells(dist: Path, zipapp_env: dict[str, str]) -> None:
    env = {**zipapp_env, "PATH": f"{dist}{os.pathsep}{zipapp_env['PATH']}"}
    script = run([ZIPAPP, "completion", "bash"], env=env).stdout
    assert f"complete -o default -F _kubectl_hcmigrate_completion {ZIPAPP}" in script
    # What bash does on <TAB>: set COMP_WORDS and COMP_CWORD, call the registered function.
    probe = (
        "source <(kubectl-hcmigrate completion bash)\n"
        'complete() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
        '_kubectl_hcmigrate_completion kubectl-hcmigrate; echo "${COMPREPLY[*]}"; }\n'
        "complete kubectl-hcmigrate ver\n"
        "complete kubectl-hcmigrate mi\n"
        'complete kubectl-hcmigrate completion ""\n'
        "complete kubectl-hcmigrate --kubec\n"
    )
    lines = run(["bash", "-c", probe], env=env).stdout.splitlines()
    assert lines == ["version verify", "migrate", "bash zsh fish", "--kubeconfig"]


@pytest.mark.slow
@pytest.mark.parametrize("shell", ["zsh", "fish"])
@pytest.mark.parametrize("name", NAMES)
def test_completion_scripts_call_back_the_executable(
    dist: Path, zipapp_env: dict[str, str], shell: str, name: str
) -> None:
    script = run([dist / name, "completion", shell], env=zipapp_env).stdout
    assert f"_{name.replace('-', '_').upper()}_COMPLETE=complete_{shell}" in script
    assert name in script
