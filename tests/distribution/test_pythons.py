"""The one zipapp on every CPython minor this machine has: >= 3.10 runs, older ones are told why."""

from __future__ import annotations

import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from kubectl_hcmigrate.__main__ import MIN_PYTHON
from tests.build_dist import BOTOCORE_SERVICES, ZIPAPP
from tests.distribution.tools import Python, cpythons, run

pytestmark = pytest.mark.slow

FOUND = cpythons()
SUPPORTED = [p for p in FOUND if p.minor >= MIN_PYTHON]
TOO_OLD = [p for p in FOUND if p.minor < MIN_PYTHON][-1:]

# Imports everything the zipapp ships, from the zipapp alone (the interpreter runs with -S, so no
# other site-packages can stand in), and uses the parts that have a compiled twin elsewhere.
CHECK = f"""
import importlib, os, pkgutil, sys
site = next(p for p in sys.path if p.startswith(os.environ["SHIV_ROOT"]))
for module in pkgutil.iter_modules([site]):
    if not module.name.startswith("_"):
        importlib.import_module(module.name)
import kubectl_hcmigrate
for module in pkgutil.walk_packages(kubectl_hcmigrate.__path__, "kubectl_hcmigrate."):
    importlib.import_module(module.name)
outside = [m.__name__ for m in list(sys.modules.values())
           if "site-packages" in (getattr(m, "__file__", None) or "")
           and not m.__file__.startswith(site)]
assert not outside, f"imported from outside the zipapp: {{outside}}"

import yaml
assert not yaml.__with_libyaml__
assert yaml.safe_load(yaml.safe_dump({{"a": [1, "b"]}})) == {{"a": [1, "b"]}}
import charset_normalizer.md
assert charset_normalizer.md.__file__.endswith(".py")
import boto3
session = boto3.session.Session(
    aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
for service in {BOTOCORE_SERVICES!r}:
    session.client(service)
import kubernetes.client
kubernetes.client.CoreV1Api(kubernetes.client.ApiClient())
print("ok", *sys.version_info[:2])
"""


def test_every_package_inside_declares_it_runs_on_the_floor(dist: Path) -> None:
    floor = "{}.{}".format(*MIN_PYTHON)
    with zipfile.ZipFile(dist / ZIPAPP) as zipapp:
        metadata = [
            HeaderParser().parsestr(zipapp.read(n).decode())
            for n in zipapp.namelist()
            if n.endswith(".dist-info/METADATA")
        ]
    assert len(metadata) > 20
    # pip refuses such a pin on a floor Python (`make venv` there fails) even when its code runs.
    excluded = [
        f"{m['Name']} {m['Version']} (Requires-Python {m['Requires-Python']})"
        for m in metadata
        if not SpecifierSet(m["Requires-Python"] or "").contains(floor)
    ]
    assert not excluded, f"pin versions in requirements.txt that admit Python {floor}: {excluded}"


def test_this_machine_has_a_supported_cpython() -> None:
    assert SUPPORTED, f"no CPython >= {MIN_PYTHON} found; looked at {FOUND}"


@pytest.mark.parametrize("python", SUPPORTED, ids=lambda p: "{}.{}".format(*p.minor))
def test_imports_everything_and_runs_help(dist: Path, zipapp_env: dict[str, str], python: Python) -> None:
    check_env = {**zipapp_env, "SHIV_INTERPRETER": "1"}
    done = run([python.executable, "-S", dist / ZIPAPP, "-c", CHECK], env=check_env)
    assert done.stdout.split() == ["ok", *map(str, python.minor)]
    help_text = run([python.executable, dist / ZIPAPP, "--help"], env=zipapp_env).stdout
    assert "Usage: kubectl hcmigrate" in help_text


@pytest.mark.skipif(not TOO_OLD, reason="no CPython older than the floor on this machine")
def test_an_older_python_is_refused_with_a_reason(dist: Path, zipapp_env: dict[str, str]) -> None:
    (python,) = TOO_OLD
    done = run([python.executable, dist / ZIPAPP, "--help"], env=zipapp_env, expect=2)
    assert f"hcmigrate needs Python >= {MIN_PYTHON[0]}.{MIN_PYTHON[1]}" in done.stderr
