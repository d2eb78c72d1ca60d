"""The package's layers, read from its imports: a crossing fails here, not in review.

core/      pure rules and data: imports only core/
etcd/      the snapshot through the kube port: core/ only
adapters/  the edge, the only importers of kubernetes, websocket, boto3, botocore: core/ only
verbs/     core/ and etcd/; a verb never imports another (migrate composes them; readback, collect are shared)
top level  (cli, commands, ui, __main__) wires: anything
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "kubectl_hcmigrate"
CLIENTS = ("kubernetes", "websocket", "boto3", "botocore", "urllib3")
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "etcd": {"core"},
    "adapters": {"core"},
    "verbs": {"core", "etcd"},
}
COMPOSER = "verbs/migrate.py"  # the one verb allowed to import other verbs
# verbs/ modules that are not verbs: reading a backup back, an HC's objects, what killed runs left,
# the destination checks restore and migrate share, the preconditions of a move (backup, restore, migrate),
# what a backup found and does with its data (backup and its fleet runs), and what a restore found
# and how it creates the objects (restore and its tests).
SHARED_BY_VERBS = {
    "readback",
    "collect",
    "leftovers",
    "restore_checks",
    "preconditions",
    "backup_found",
    "backup_data",
    "restore_found",
    "restore_apply",
}


def imports_of(path: Path) -> list[str]:
    """Every module a file imports, wherever the import sits (functions, TYPE_CHECKING)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "kubectl_hcmigrate":
                names += [f"kubectl_hcmigrate.{a.name}" for a in node.names]
            else:
                names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def crossings(package: Path) -> list[str]:
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        layer = rel.split("/")[0] if "/" in rel else ""
        for name in imports_of(path):
            top = name.split(".")[0]
            if top in CLIENTS and layer != "adapters":
                found.append(f"{rel} imports {name}: only adapters/ may")
            if top != "kubectl_hcmigrate" or layer == "" or layer not in ALLOWED:
                continue
            parts = name.split(".")
            target = parts[1] if len(parts) > 1 else ""
            if target not in ALLOWED and target not in {"", "__version__"}:
                found.append(f"{rel} imports {name}: {layer}/ may not import the top level")
            elif target in ALLOWED and target != layer and target not in ALLOWED[layer]:
                found.append(f"{rel} imports {name}: {layer}/ may not import {target}/")
            elif target == layer == "verbs" and rel != COMPOSER and len(parts) > 2 and parts[2] not in SHARED_BY_VERBS:
                found.append(f"{rel} imports {name}: a verb does not import another (migrate composes them)")
    return found


def test_no_import_crosses_a_layer() -> None:
    assert crossings(PACKAGE) == []


def test_a_deliberate_crossing_is_caught(tmp_path: Path) -> None:
    for layer in ("core", "verbs", "adapters"):
        (tmp_path / layer).mkdir()
    (tmp_path / "core" / "rules.py").write_text("from kubectl_hcmigrate.adapters.kube import Kube\n")
    (tmp_path / "verbs" / "backup.py").write_text("def f():\n    import boto3\n")
    (tmp_path / "verbs" / "restore.py").write_text("from kubectl_hcmigrate.verbs import backup\n")
    (tmp_path / "adapters" / "kube.py").write_text("import kubernetes\nfrom kubectl_hcmigrate import ui\n")
    assert crossings(tmp_path) == [
        "adapters/kube.py imports kubectl_hcmigrate.ui: adapters/ may not import the top level",
        "core/rules.py imports kubectl_hcmigrate.adapters.kube: core/ may not import adapters/",
        "core/rules.py imports kubectl_hcmigrate.adapters.kube.Kube: core/ may not import adapters/",
        "verbs/backup.py imports boto3: only adapters/ may",
        "verbs/restore.py imports kubectl_hcmigrate.verbs.backup: a verb does not import another (migrate composes them)",
    ]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_module_over_300_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 300
