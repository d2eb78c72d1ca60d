"""No stale backups: what a backup records of each object, and the rule migrate applies before
carrying on with a backup the destination already runs."""

from __future__ import annotations

from kubectl_hcmigrate.core.staleness import changes_since, held_since, stale_reasons, versions_of

OLD, NEW, LATER = "20260501T100000Z-aaaa1111", "20260501T100000Z-bbbb2222", "20260502T090000Z-cccc3333"


def obj(kind: str, name: str, generation: int | None = None, rv: str = "7") -> dict:
    meta = {"name": name, "namespace": "clusters", "resourceVersion": rv}
    if generation is not None:
        meta["generation"] = generation
    return {"kind": kind, "metadata": meta}


def test_versions_are_generations_where_there_are_some_else_resource_versions() -> None:
    assert versions_of([obj("NodePool", "np1", generation=3, rv="99"), obj("ConfigMap", "ca", rv="12")]) == {
        "NodePool clusters/np1": "generation 3",
        "ConfigMap clusters/ca": "resourceVersion 12",
    }


def test_changes_since_names_changed_gone_and_new_objects() -> None:
    then = versions_of([obj("NodePool", "np1", 3), obj("ConfigMap", "ca", rv="12"), obj("Secret", "s", rv="5")])
    now = versions_of([obj("NodePool", "np1", 4), obj("ConfigMap", "ca", rv="12"), obj("NodePool", "np2", 1)])
    assert changes_since(then, now) == [
        "NodePool clusters/np1 changed (generation 3 -> 4)",
        "NodePool clusters/np2 is new",
        "Secret clusters/s is gone",
    ]
    assert changes_since(then, then) == []


def test_held_since_the_backup_or_before_it() -> None:
    assert held_since(OLD, OLD) and held_since(OLD, LATER)
    assert not held_since(LATER, OLD) and not held_since(None, OLD)
    # Two runs in the same second: the later hold does not cover the other backup.
    assert held_since(OLD, NEW) != held_since(NEW, OLD)


def test_a_backup_of_a_source_that_stayed_held_and_unchanged_is_current() -> None:
    versions = {"NodePool clusters/np1": "generation 3"}
    assert stale_reasons(OLD, OLD, versions, dict(versions)) == []


def test_a_resumed_or_changed_source_makes_the_backup_stale() -> None:
    then = {"NodePool clusters/np1": "generation 3", "ConfigMap clusters/ca": "resourceVersion 12"}
    now = {"NodePool clusters/np1": "generation 4", "ConfigMap clusters/ca": "resourceVersion 15"}
    reasons = stale_reasons(None, OLD, then, now)
    assert reasons[0].startswith("the source was not held for a migration since")
    assert "NodePool clusters/np1 changed (generation 3 -> 4)" in reasons
    assert "ConfigMap clusters/ca changed (resourceVersion 12 -> 15)" in reasons
    # Held, but by a later backup's hand-off: this older one missed what came between.
    assert stale_reasons(LATER, OLD, then, dict(then)) == [f"the source is held for a later backup ({LATER})"]


def test_a_manifest_from_before_versions_can_prove_only_the_hold() -> None:
    assert stale_reasons(OLD, OLD, {}, {"NodePool clusters/np1": "generation 9"}) == []
    assert len(stale_reasons(None, OLD, {}, {})) == 1
