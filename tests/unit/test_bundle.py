from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kubectl_hcmigrate.core import bundle, bundle_dir, kinds
from kubectl_hcmigrate.core.layout import Manifest
from kubectl_hcmigrate.core.report import PreflightError
from tests.unit import hc_fixtures as fx

META = fx.manifest().with_files({})
SECRET_FILE = "clusters/secret-cesar-pull-secret.yaml"
EXPECTED_FILES = {
    "kustomization.yaml",
    "clusters/kustomization.yaml",
    "clusters/hostedcluster-cesar.yaml",
    "clusters/nodepool-cesar-fakeName.yaml",
    "clusters/nodepool-cesar-workers-b.yaml",
    "clusters/secret-cesar-pull-secret.yaml",
    "clusters/secret-cesar-etcd-encryption-key.yaml",
    "clusters/configmap-corp-proxy-ca.yaml",
    "clusters-cesar/kustomization.yaml",
    "clusters-cesar/hostedcontrolplane-cesar.yaml",
    "clusters-cesar/cluster-fakeInfraID.yaml",
    "clusters-cesar/awscluster-cesar.yaml",
    "clusters-cesar/awsmachinetemplate-cesar-fakename-1a2b3c4d.yaml",
    "clusters-cesar/awsmachine-cesar-fakename-1a2b3c4d-x7k2p.yaml",
    "clusters-cesar/machinedeployment-cesar-fakename.yaml",
    "clusters-cesar/machineset-cesar-fakename-6c9d8.yaml",
    "clusters-cesar/machine-cesar-fakename-6c9d8-x7k2p.yaml",
    "clusters-cesar/secret-root-ca.yaml",
    "clusters-cesar/secret-kas-server-crt.yaml",
}


def objects_by_namespace() -> dict[str, list[dict]]:
    hc_ns = [
        fx.hostedcluster(),
        *fx.nodepools(),
        fx.secret("cesar-pull-secret"),
        fx.secret("cesar-etcd-encryption-key"),
        fx.configmap("corp-proxy-ca"),
    ]
    return {fx.NS: hc_ns, fx.HCP_NS: fx.hcp_objects()}


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def written(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "backup"
    old = os.umask(0)  # the modes must not depend on the caller's umask
    try:
        bundle.write_bundle(root, objects_by_namespace(), META)
    finally:
        os.umask(old)
    yield root


def test_writes_one_file_per_object_and_the_manifest(written: Path) -> None:
    assert files_under(written) == EXPECTED_FILES | {"manifest.json"}
    m = Manifest.from_json((written / "manifest.json").read_bytes())
    assert set(m.files) == EXPECTED_FILES
    assert m.snapshot == META.snapshot and m.hostedcluster == META.hostedcluster


def test_modes_are_private(written: Path) -> None:
    modes = {p.relative_to(written).as_posix(): stat.S_IMODE(os.stat(p).st_mode)
             for p in [written, *written.rglob("*")]}  # fmt: skip
    assert modes.pop(".") == 0o700
    assert modes.pop("clusters") == 0o700
    assert modes.pop("clusters-cesar") == 0o700
    assert set(modes.values()) == {0o600}, modes


def test_kustomizations(written: Path) -> None:
    top = yaml.safe_load((written / "kustomization.yaml").read_text())
    assert top == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["clusters", "clusters-cesar"],
    }
    for folder in ("clusters", "clusters-cesar"):
        res = yaml.safe_load((written / folder / "kustomization.yaml").read_text())["resources"]
        expected = sorted(
            f.split("/")[1]
            for f in EXPECTED_FILES
            if f.startswith(f"{folder}/") and not f.endswith("/kustomization.yaml")
        )
        assert res == expected


def test_objects_are_written_clean(written: Path) -> None:
    hc = yaml.safe_load((written / "clusters/hostedcluster-cesar.yaml").read_text())
    assert "status" not in hc and "pausedUntil" not in hc["spec"]
    assert set(hc["metadata"]) == {"name", "namespace", "annotations"}
    hcp = yaml.safe_load((written / "clusters-cesar/hostedcontrolplane-cesar.yaml").read_text())
    assert "pausedUntil" not in hcp["spec"]  # HyperShift copies the HC's pause onto it
    assert set(hcp["metadata"]) == {"name", "namespace"}


def test_multiline_strings_are_literal_blocks(written: Path) -> None:
    text = (written / "clusters/configmap-corp-proxy-ca.yaml").read_text()
    assert "ca-bundle.crt: |\n    -----BEGIN CERTIFICATE-----\n" in text
    assert yaml.safe_load(text)["data"] == fx.configmap("x")["data"]


def test_render_is_deterministic_and_matches_disk(written: Path) -> None:
    files, m = bundle.render_bundle(objects_by_namespace(), META)
    again, _ = bundle.render_bundle(objects_by_namespace(), META)
    assert files == again
    assert list(files)[-1] == "manifest.json"
    assert {p: (written / p).read_bytes() for p in files} == files
    assert bundle.read_bundle(files).manifest == m == bundle.read_bundle(written).manifest


def test_tampered_byte_is_caught(written: Path) -> None:
    data = bytearray((written / SECRET_FILE).read_bytes())
    data[-2] ^= 0x01
    (written / SECRET_FILE).write_bytes(bytes(data))
    with pytest.raises(PreflightError, match=f"^bundle file {re.escape(SECRET_FILE)} does not match") as e:
        bundle.read_bundle(written)
    assert "\n" not in str(e.value) and "take a new backup" in str(e.value)


def test_missing_file_is_caught(written: Path) -> None:
    (written / "clusters-cesar/machine-cesar-fakename-6c9d8-x7k2p.yaml").unlink()
    with pytest.raises(PreflightError, match=r"machine-cesar-fakename-6c9d8-x7k2p\.yaml is listed"):
        bundle.read_bundle(written)


def test_extra_yaml_is_caught_other_files_are_not(written: Path) -> None:
    (written / "README.txt").write_text("notes")
    bundle.read_bundle(written)
    (written / "clusters/secret-injected.yml").write_text("kind: Secret")
    with pytest.raises(PreflightError, match=r"secret-injected\.yml is not listed"):
        bundle.read_bundle(written)


def test_missing_manifest_means_unfinished(written: Path) -> None:
    (written / "manifest.json").unlink()
    with pytest.raises(PreflightError, match=r"no manifest\.json: the backup did not finish"):
        bundle.read_bundle(written)
    with pytest.raises(PreflightError, match="does not exist"):
        bundle.read_bundle(written / "nope")


def test_in_memory_bundle_from_a_bucket() -> None:
    files, _ = bundle.render_bundle(objects_by_namespace(), META)
    files[SECRET_FILE] = files[SECRET_FILE].replace(b"ZmFrZQ==", b"ZmFrZR==")
    with pytest.raises(PreflightError, match=f"{re.escape(SECRET_FILE)} does not match"):
        bundle.read_bundle(files)


def test_manifest_is_the_commit_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real, calls = bundle_dir._write_private, []

    def failing(path: Path, data: bytes, durable: bool = False) -> None:
        calls.append(path)
        if len(calls) == 5:
            raise OSError("disk full")
        real(path, data, durable)

    monkeypatch.setattr(bundle_dir, "_write_private", failing)
    with pytest.raises(OSError, match="disk full"):
        bundle.write_bundle(tmp_path / "b", objects_by_namespace(), META)
    assert not (tmp_path / "b/manifest.json").exists()


def test_rewrite_needs_overwrite_and_drops_stale_files(written: Path) -> None:
    with pytest.raises(PreflightError, match="not an empty directory"):
        bundle.write_bundle(written, objects_by_namespace(), META)
    (written / SECRET_FILE).chmod(0o644)
    fewer = objects_by_namespace()
    fewer[fx.HCP_NS] = [o for o in fewer[fx.HCP_NS] if o["kind"] != "Machine"]
    bundle.write_bundle(written, fewer, META, overwrite=True)
    assert "clusters-cesar/machine-cesar-fakename-6c9d8-x7k2p.yaml" not in files_under(written)
    assert stat.S_IMODE(os.stat(written / SECRET_FILE).st_mode) == 0o600
    assert len(bundle.read_bundle(written).manifest.files) == len(EXPECTED_FILES) - 1


def test_render_refuses_misplaced_objects() -> None:
    wrong = objects_by_namespace()
    wrong[fx.NS].append(fx.secret("x", namespace="elsewhere"))
    with pytest.raises(ValueError, match="not in clusters"):
        bundle.render_bundle(wrong, META)
    with pytest.raises(ValueError, match="neither the HC nor the HCP namespace"):
        bundle.render_bundle({"default": []}, META)
    twice = {fx.NS: [fx.secret("x"), fx.secret("x")]}
    with pytest.raises(ValueError, match="two objects"):
        bundle.render_bundle(twice, META)


def test_load_objects_and_restore_sequence(written: Path) -> None:
    loaded = bundle.load_objects(bundle.read_bundle(written))
    assert {o.path for o in loaded} == {f for f in EXPECTED_FILES if "kustomization" not in f}
    hc = next(o for o in loaded if o.rule.kind == "HostedCluster")
    assert (hc.path, hc.obj["metadata"]["name"]) == ("clusters/hostedcluster-cesar.yaml", "cesar")
    scopes = {o.rule.kind: o.rule.scope for o in loaded if o.rule.kind != "Secret"}
    assert scopes["ConfigMap"] == "hc" and scopes["Machine"] == "hcp"

    def order(with_nodes: bool) -> list[str]:
        return [o.path.split("/")[1] for o in bundle.restore_sequence(loaded, with_nodes)]

    assert order(with_nodes=False) == [
        "configmap-corp-proxy-ca.yaml",
        "secret-cesar-etcd-encryption-key.yaml",
        "secret-cesar-pull-secret.yaml",
        "secret-kas-server-crt.yaml",
        "secret-root-ca.yaml",
        "hostedcontrolplane-cesar.yaml",
        "cluster-fakeInfraID.yaml",
        "hostedcluster-cesar.yaml",
    ]
    assert len(order(with_nodes=True)) == len(loaded) == 16


def test_without_nodes_the_nodepools_are_left_out_and_said_so(written: Path) -> None:
    # T14: a NodePool restored without its machine objects launches new workers beside the old ones.
    loaded = bundle.load_objects(bundle.read_bundle(written))
    labels, warnings = bundle.left_out(loaded, with_nodes=False)
    assert {label.split()[0] for label in labels} == {r.kind for r in kinds.RULES if r.nodes_only}
    assert len(labels) + len(bundle.restore_sequence(loaded, with_nodes=False)) == len(loaded)
    [warning] = warnings
    pools = "NodePool clusters/cesar-fakeName, NodePool clusters/cesar-workers-b"
    assert warning.startswith(f"not restored without --with-nodes: {pools} and the machine objects")
    assert "run restore again with --with-nodes to adopt them" in warning
    assert bundle.left_out(loaded, with_nodes=True) == ([], [])
    # A bundle without NodePools leaves nothing to say.
    no_pools = [o for o in loaded if o.rule.kind != "NodePool"]
    assert bundle.left_out(no_pools, with_nodes=False)[1] == []


def _with_file(text: bytes) -> dict[str, bytes]:
    """The rendered bundle with one file's content replaced, and a manifest that lists it as it is."""
    files, m = bundle.render_bundle(objects_by_namespace(), META)
    files["clusters/secret-cesar-pull-secret.yaml"] = text
    files = {p: b for p, b in files.items() if p != "manifest.json"}
    relisted = m.with_files({p: bundle.sha256_hex(b) for p, b in files.items()})
    files["manifest.json"] = relisted.to_json().encode()
    return files


def test_load_objects_rejects_unknown_kinds() -> None:
    files = _with_file(b"apiVersion: v1\nkind: Pod\nmetadata: {}\n")
    with pytest.raises(PreflightError, match=r"secret-cesar-pull-secret\.yaml does not hold"):
        bundle.load_objects(bundle.read_bundle(files))


def test_load_objects_refuses_a_file_that_holds_itself() -> None:
    files = _with_file(b"apiVersion: v1\nkind: Secret\nmetadata: &m {name: x, self: *m}\n")
    with pytest.raises(
        PreflightError, match=r"secret-cesar-pull-secret\.yaml does not hold.*holds itself through a YAML alias"
    ):
        bundle.load_objects(bundle.read_bundle(files))


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_kustomize_renders_it(written: Path) -> None:
    out = subprocess.run(["kubectl", "kustomize", str(written)], capture_output=True, text=True, check=True).stdout
    docs = list(yaml.safe_load_all(out))
    assert len(docs) == len(EXPECTED_FILES) - 3
    assert json.dumps(docs).count('"kind": "Secret"') == 4


def test_only_the_manifest_is_synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    monkeypatch.setattr(bundle_dir.os, "fsync", synced.append)
    bundle.write_bundle(tmp_path / "b", objects_by_namespace(), META)
    assert len(synced) == 1  # the bucket gets the files from memory; thousands of fsyncs cost seconds
