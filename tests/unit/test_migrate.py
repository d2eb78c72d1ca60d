"""What a migrate reports when its restore stage fails: one control plane at a time decides it."""

from __future__ import annotations

import pytest

from kubectl_hcmigrate.core.report import EXIT_CODES, Outcome
from kubectl_hcmigrate.verbs.migrate import after_failed_restore, overall


@pytest.mark.parametrize(
    "cause,on_destination,undo_failed,expected,code",
    [
        # The destination has the HC: the source stays paused, whatever the cause.
        (Outcome.TIMED_OUT, True, False, Outcome.TIMED_OUT, 5),
        (Outcome.INTERRUPTED, True, False, Outcome.INTERRUPTED, 130),
        (Outcome.FAILED_NEEDS_ATTENTION, True, False, Outcome.FAILED_NEEDS_ATTENTION, 1),
        (Outcome.REFUSED, True, False, Outcome.FAILED_NEEDS_ATTENTION, 1),
        # It does not: the source was put back, which is what the code says.
        (Outcome.REFUSED, False, False, Outcome.FAILED_SOURCE_RESTORED, 4),
        (Outcome.FAILED_NEEDS_ATTENTION, False, False, Outcome.FAILED_SOURCE_RESTORED, 4),
        (Outcome.INTERRUPTED, False, False, Outcome.INTERRUPTED, 130),
        # Putting it back failed: only a person can say what state it is in.
        (Outcome.REFUSED, False, True, Outcome.FAILED_NEEDS_ATTENTION, 1),
        (Outcome.INTERRUPTED, False, True, Outcome.FAILED_NEEDS_ATTENTION, 1),
    ],
)
def test_the_outcome_of_a_failed_restore_stage(
    cause: Outcome, on_destination: bool, undo_failed: bool, expected: Outcome, code: int
) -> None:
    got = after_failed_restore(cause, hc_on_destination=on_destination, undo_failed=undo_failed)
    assert got is expected and EXIT_CODES[got] == code


class Source:
    """The source cluster as migrate reads it before carrying on (objects of one namespace)."""

    context = "source"

    def __init__(self, hc: dict, pools: list[dict], cms: list[dict], teardown_began: bool = False) -> None:
        from tests.unit import hc_fixtures as fx

        self.objs = {"HostedCluster": [hc], "NodePool": pools, "Secret": fx.hc_namespace_secrets(), "ConfigMap": cms}
        self.teardown_began = teardown_began

    def get(self, rule: object, ns: str, name: str) -> dict | None:
        return self.objs["HostedCluster"][0]

    def list_objects(self, rule: object, ns: str) -> list[dict]:
        return self.objs[rule.kind]  # type: ignore[attr-defined]

    def namespace(self, name: str) -> dict:
        from kubectl_hcmigrate.core.marks import SOURCE_UID

        return {"metadata": {"annotations": {SOURCE_UID: "u"} if self.teardown_began else {}}}


class Bucket:
    def __init__(self, manifest: object) -> None:
        self.manifest = manifest

    def get_bytes(self, key: str) -> bytes:
        return self.manifest.to_json().encode()  # type: ignore[attr-defined]


def _stale_case(held_by: str | None, *, scale: bool = False, teardown_began: bool = False) -> None:
    import dataclasses

    from kubectl_hcmigrate.core.marks import SOURCE_STATE
    from kubectl_hcmigrate.core.source_state import Hold, SourceState
    from kubectl_hcmigrate.core.staleness import versions_of
    from kubectl_hcmigrate.verbs.collect import hc_namespace_objects
    from kubectl_hcmigrate.verbs.migrate_checks import check_still_held
    from tests.unit import hc_fixtures as fx

    hc, pools, cms = fx.hostedcluster(), fx.nodepools(), fx.hc_namespace_configmaps()
    hold = Hold(held_by, "2024-05-01T10:03:00Z", "destination") if held_by else None
    hc["metadata"]["annotations"][SOURCE_STATE] = SourceState(None, held=hold).to_json()
    source = Source(hc, pools, cms, teardown_began)
    m = dataclasses.replace(fx.manifest(), versions=versions_of(hc_namespace_objects(source, hc)))  # type: ignore[arg-type]
    if scale:
        pools[0]["metadata"]["generation"] = 4
    dst = Source(hc, [], [])
    dst.context = "destination"  # type: ignore[misc]
    check_still_held(source, dst, Bucket(m), fx.NS, "cesar", fx.BACKUP_ID)  # type: ignore[arg-type]


def test_migrate_carries_on_with_a_backup_of_a_source_held_and_unchanged_since() -> None:
    from tests.unit.hc_fixtures import BACKUP_ID

    _stale_case(BACKUP_ID)
    _stale_case(None, scale=True, teardown_began=True)  # the teardown's guard passed before: let it finish


@pytest.mark.parametrize(("held_by", "scale", "says"), [
    (None, False, "the source was not held for a migration since"),
    ("20240501T100203Z", True, "changed (generation 3 -> 4)"),
    ("20240502T000000Z-aaaa1111", False, "held for a later backup"),
])  # fmt: skip
def test_migrate_refuses_a_backup_the_source_moved_on_from(held_by: str | None, scale: bool, says: str) -> None:
    from kubectl_hcmigrate.core.report import PreflightError

    with pytest.raises(PreflightError) as refused:
        _stale_case(held_by, scale=scale)
    assert says in str(refused.value) and "Nothing was changed" in str(refused.value)


def test_a_warning_of_any_stage_is_the_migrations() -> None:
    left_out = "not restored without --with-nodes: NodePool clusters/np1 ..."
    stages = {"backup": {"outcome": "SUCCEEDED"}, "restore": {"outcome": "SUCCEEDED_WITH_WARNINGS",
              "warnings": [left_out]}, "teardown": {"outcome": "SUCCEEDED", "warnings": []}}  # fmt: skip
    assert overall(stages) == ("SUCCEEDED_WITH_WARNINGS", [left_out])
    stages["restore"] = {"outcome": "SUCCEEDED", "warnings": []}
    assert overall(stages) == ("SUCCEEDED", [])


@pytest.mark.parametrize("access,says", [("Public", "handoff: delete the source's"), ("Private", "handoff: none")])
def test_the_dry_run_names_a_handoff_only_where_there_is_one(
    monkeypatch: pytest.MonkeyPatch, access: str, says: str
) -> None:
    from types import SimpleNamespace

    from kubectl_hcmigrate.verbs import migrate
    from tests.unit.hc_fixtures import hostedcluster

    hc = hostedcluster()
    hc["spec"]["platform"]["aws"]["endpointAccess"] = access
    route = {"type": "Route", "route": {"hostname": "api.example.hypershift.local"}}
    hc["spec"]["services"] = [{"service": "APIServer", "servicePublishingStrategy": route}]
    monkeypatch.setattr(migrate, "check_first", lambda *a, **k: None)
    monkeypatch.setattr(migrate.backup, "preflight", lambda *a, **k: None)
    monkeypatch.setattr(migrate, "run_verb", lambda *a, **k: {"changes": []})
    source = SimpleNamespace(context="src", get=lambda *a: hc)
    lines: list[str] = []
    opts = migrate.MigrateOptions(name="example", namespace="clusters", bucket=None)  # type: ignore[arg-type]
    result = migrate.plan(opts, source, SimpleNamespace(context="dst"), None, SimpleNamespace(line=lines.append))  # type: ignore[arg-type]
    assert next(c for c in result["changes"] if c.startswith("handoff")).startswith(says)
    assert any(line.startswith(f"would {says}") for line in lines)
