"""The kustomize-ready bundle: one cleaned YAML file per object, a kustomization per
namespace folder, and manifest.json (written last) with every file's sha256.

The core works on a `{relpath: bytes}` mapping, so a bundle can be checked straight from
the bucket; the directory functions only wrap it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from kubectl_hcmigrate.core import kinds
from kubectl_hcmigrate.core.bundle_dir import YAML_SUFFIXES, as_files, write_files
from kubectl_hcmigrate.core.layout import MANIFEST, Manifest, check_relpath
from kubectl_hcmigrate.core.objects import Obj, clean, encryption_key_names, hcp_namespace_of, name_of, namespace_of
from kubectl_hcmigrate.core.report import PreflightError

NODEPOOL, HC, HC_SECRET = (kinds.rule_for(k, "hc") for k in ("NodePool", "HostedCluster", "Secret"))

KUSTOMIZATION = "kustomization.yaml"
_AGAIN = "fetch it again or take a new backup"


@dataclass(frozen=True)
class Bundle:
    manifest: Manifest
    files: Mapping[str, bytes]


class BundleObject(NamedTuple):
    path: str
    obj: Obj
    rule: kinds.KindRule

    @property
    def label(self) -> str:
        return f"{self.rule.kind} {namespace_of(self.obj)}/{name_of(self.obj)}"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _dumper() -> Any:
    import yaml

    # libyaml's emitter when the wheel has it, same output: 2,005 objects render in 0.22 s, not 1.51 s.
    class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
        pass

    def str_(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        # Certificates and CA bundles stay readable as literal blocks.
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, str_)
    return Dumper


def dump_yaml(obj: Any) -> bytes:
    import yaml

    return yaml.dump(obj, Dumper=_dumper(), sort_keys=False, default_flow_style=False).encode()


def _kustomization(resources: Iterable[str]) -> bytes:
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    return dump_yaml({**kustomization, "resources": sorted(resources)})


def _scope(folder: str, manifest: Manifest) -> kinds.Scope:
    hc = manifest.hostedcluster
    if folder == hc.namespace:
        return "hc"
    if folder == hcp_namespace_of(hc.namespace, hc.name):
        return "hcp"
    raise ValueError(f"{folder!r} is neither the HC nor the HCP namespace of {hc.name}")


def render_bundle(
    objects_by_namespace: Mapping[str, Iterable[Obj]], manifest_meta: Manifest
) -> tuple[dict[str, bytes], Manifest]:
    """Every bundle file as bytes, manifest.json last, and the manifest it holds."""
    files: dict[str, bytes] = {}
    for folder in sorted(objects_by_namespace):
        scope = _scope(folder, manifest_meta)
        names: list[str] = []
        for obj in objects_by_namespace[folder]:
            if not name_of(obj) or namespace_of(obj) != folder:
                raise ValueError(f"{obj.get('kind')} {name_of(obj)!r} is not in {folder}")
            rule = kinds.rule_for_object(obj, scope)
            relpath = check_relpath(f"{folder}/{rule.file_prefix}-{name_of(obj)}.yaml")
            if relpath in files:
                raise ValueError(f"two objects would be written to {relpath}")
            files[relpath] = dump_yaml(clean(obj, rule))
            names.append(relpath.rpartition("/")[2])
        files[f"{folder}/{KUSTOMIZATION}"] = _kustomization(names)
    files[KUSTOMIZATION] = _kustomization(objects_by_namespace)
    manifest = manifest_meta.with_files({p: sha256_hex(b) for p, b in files.items()})
    files[MANIFEST] = manifest.to_json().encode()
    return files, manifest


def write_bundle(
    root: str | os.PathLike[str],
    objects_by_namespace: Mapping[str, Iterable[Obj]],
    manifest_meta: Manifest,
    overwrite: bool = False,
) -> Manifest:
    """Render the bundle and write it under `root` (see `write_files`)."""
    files, manifest = render_bundle(objects_by_namespace, manifest_meta)
    write_files(root, files, overwrite)
    return manifest


def verify_files(files: Mapping[str, bytes]) -> Manifest:
    """Check a bundle against its manifest; raise on the first file that is off."""
    if MANIFEST not in files:
        raise PreflightError(
            "the bundle has no manifest.json: the backup did not finish (the manifest is "
            f"written last) or this is not a bundle; {_AGAIN}"
        )
    manifest = Manifest.from_json(files[MANIFEST])
    for relpath, expected in manifest.files.items():
        if relpath not in files:
            raise PreflightError(
                f"bundle file {relpath} is listed in manifest.json but missing: the bundle is incomplete; {_AGAIN}"
            )
        actual = sha256_hex(files[relpath])
        if actual != expected:
            raise PreflightError(
                f"bundle file {relpath} does not match manifest.json (sha256 {actual}, "
                f"expected {expected}): the bundle was changed or is incomplete; {_AGAIN}"
            )
    for relpath in sorted(files):
        if relpath.endswith(YAML_SUFFIXES) and relpath not in manifest.files:
            raise PreflightError(
                f"bundle file {relpath} is not listed in manifest.json: something was added "
                f"to the bundle; remove it or {_AGAIN}"
            )
    return manifest


def read_bundle(source: str | os.PathLike[str] | Mapping[str, bytes]) -> Bundle:
    """A verified bundle holding manifest.json and the files it lists, nothing else."""
    files = as_files(source)
    manifest = verify_files(files)
    wanted = [*manifest.files, MANIFEST]
    return Bundle(manifest, {p: files[p] for p in wanted})


def load_objects(bundle: Bundle) -> list[BundleObject]:
    """The bundle's objects (not its kustomizations) by file path, each with its kind's row."""
    import yaml

    from kubectl_hcmigrate.core.bundle_yaml import load_all

    out: list[BundleObject] = []
    for relpath in sorted(bundle.manifest.files):
        folder, _, base = relpath.rpartition("/")
        if base == KUSTOMIZATION or not relpath.endswith(YAML_SUFFIXES):
            continue
        try:
            scope = _scope(folder, bundle.manifest)
            docs = load_all(bundle.files[relpath])
            out.extend(BundleObject(relpath, d, kinds.rule_for_object(d, scope)) for d in docs)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError, yaml.YAMLError) as e:
            reason = (str(e).strip("'\"") or type(e).__name__).splitlines()[0]
            if isinstance(e, RecursionError):  # Python's own words name no YAML
                reason = "it holds itself through a YAML alias"
            raise PreflightError(
                f"bundle file {relpath} does not hold an object this tool restores ({reason}); {_AGAIN}"
            ) from None
    return out


def restore_sequence(objects: Iterable[BundleObject], with_nodes: bool) -> list[BundleObject]:
    """The objects in the order restore applies them; node kinds only `with_nodes`."""
    chosen = [o for o in objects if with_nodes or not o.rule.nodes_only]
    return sorted(chosen, key=lambda o: (o.rule.restore_phase, o.path))


def left_out(objects: Iterable[BundleObject], with_nodes: bool) -> tuple[list[str], list[str]]:
    """What restore does not apply (without `with_nodes`, the NodePools and their machine objects),
    and the warning that says what that leaves to the user."""
    out = [o for o in objects if o.rule.nodes_only and not with_nodes]
    labels, pools = [o.label for o in out], [o.label for o in out if o.rule == NODEPOOL]
    if not pools:
        return labels, []
    # T14: a NodePool without its machine objects gets new workers while the old ones run on, so
    # the pools are left out rather than restored into duplicate workers; the bundle keeps them.
    return labels, [
        f"not restored without --with-nodes: {', '.join(pools)} and the machine objects of their running "
        "workers, which stay unmanaged; run restore again with --with-nodes to adopt them, or create the "
        "NodePools from the bundle (new workers) and retire the old ones"
    ]


def check_bundle_objects(found: list[BundleObject], m: Manifest) -> None:
    """The bundle holds the HC, with managed etcd and the keys that decrypt the snapshot."""
    hcs = [o.obj for o in found if o.rule == HC and name_of(o.obj) == m.hostedcluster.name]
    if len(hcs) != 1:
        raise PreflightError(f"the bundle of backup {m.backup_id} holds no HostedCluster {m.hostedcluster.name}")
    if hcs[0].get("spec", {}).get("etcd", {}).get("managementType") != "Managed":
        raise PreflightError("the HostedCluster's etcd is not Managed: a snapshot URL restores managed etcd only")
    secrets = {name_of(o.obj) for o in found if o.rule == HC_SECRET}  # the HC's spec names them in its namespace
    for key in encryption_key_names(hcs[0]):
        if key not in secrets:
            raise PreflightError(f"the bundle lacks the etcd encryption key secret {key}: the snapshot is unreadable")
