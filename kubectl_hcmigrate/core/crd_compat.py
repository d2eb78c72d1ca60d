"""Whether a destination's HyperShift CRDs can hold what the source has: the API versions served,
and the fields their schemas know. An apiserver prunes a field its CRD's schema does not know, so
an HC created on a destination with older CRDs silently loses what the newer schema added."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Obj = Mapping[str, Any]


def served(crd: Obj) -> set[str]:
    return {v["name"] for v in crd.get("spec", {}).get("versions", []) if v.get("served")}


def _schema(crd: Obj, version: str) -> Obj:
    for v in crd.get("spec", {}).get("versions", []):
        if v.get("name") == version:
            return (v.get("schema") or {}).get("openAPIV3Schema") or {}
    return {}


def _open(node: Obj) -> bool:
    """A schema node that keeps whatever it is given: a map, or preserve-unknown-fields."""
    return bool(node.get("x-kubernetes-preserve-unknown-fields") or node.get("additionalProperties"))


def fields(crd: Obj, version: str) -> set[str]:
    """Every field path the version's schema knows (`spec.services[].servicePublishingStrategy`)."""
    out: set[str] = set()

    def walk(node: Obj, path: str) -> None:
        if node.get("type") == "array":
            walk(node.get("items") or {}, f"{path}[]")
        for key, child in (node.get("properties") or {}).items():
            out.add(f"{path}.{key}".lstrip("."))
            walk(child, f"{path}.{key}")

    walk(_schema(crd, version), "")
    return out


def _set_paths(value: Any, schema: Obj, path: str) -> Iterator[str]:
    """The paths `value` sets that `schema` does not know, stopping where the schema keeps anything."""
    if _open(schema):
        return
    if isinstance(value, list):
        for item in value:
            yield from _set_paths(item, schema.get("items") or {}, f"{path}[]")
    elif isinstance(value, dict):
        known = schema.get("properties") or {}
        for key, child in value.items():
            if key not in known:
                yield f"{path}.{key}".lstrip(".")
            else:
                yield from _set_paths(child, known[key], f"{path}.{key}")


def unknown_fields(obj: Obj, crd: Obj, version: str) -> list[str]:
    """Fields of `obj`'s spec that the CRD's schema for `version` would prune."""
    spec_schema = (_schema(crd, version).get("properties") or {}).get("spec") or {}
    return sorted(set(_set_paths(obj.get("spec") or {}, spec_schema, "spec")))


def older_than(dest: Obj, source: Obj) -> list[str]:
    """What the source CRD has that the destination's lacks: served versions, then spec fields of
    each version both serve (the destination's CRDs are older than the source's). Status is the
    controllers' to write again, so it is not compared."""
    missing = [f"version {v}" for v in sorted(served(source) - served(dest))]
    for version in sorted(served(source) & served(dest)):
        missing += sorted(f for f in fields(source, version) - fields(dest, version) if f.startswith("spec"))
    return missing


def shorten(items: list[str], n: int = 3) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")
