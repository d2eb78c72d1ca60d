"""A signal between migrate's stages, outside any plan (whose own undo covers a signal inside it):
after the backup held the source and before the restore began, the source is put back as the
record says; after the restore, before the teardown began, the source stays held and the message
says to run migrate again. The e2e cuts cannot aim at these instants: here they are made to happen."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest

from kubectl_hcmigrate.core.marks import SOURCE_STATE
from kubectl_hcmigrate.core.pipeline import Plan, RunFailed
from kubectl_hcmigrate.core.report import Outcome
from kubectl_hcmigrate.core.source_state import Hold, SourceState
from kubectl_hcmigrate.verbs import migrate
from tests.fakes import NullReporter
from tests.unit.test_migrate_checks import HC_OBJ, clusters, opts

HELD = SourceState(None, {}, {"kube-apiserver": 1}, Hold("20260101T000000Z-1", "2026-01-01T00:00:00Z")).to_json()


def _interrupt(*_: Any) -> dict[str, Any]:
    raise KeyboardInterrupt


@pytest.fixture
def put_back(monkeypatch: pytest.MonkeyPatch) -> MagicMock:
    control = MagicMock()
    monkeypatch.setattr(migrate, "SourceControl", control)
    return control


def test_a_signal_after_the_backup_held_the_source_puts_it_back(
    monkeypatch: pytest.MonkeyPatch, put_back: MagicMock
) -> None:
    source, destination, bucket = clusters()
    held = {**HC_OBJ, "metadata": {**HC_OBJ["metadata"], "annotations": {SOURCE_STATE: HELD}}}
    source.get.side_effect = lambda rule, ns, name: held if rule.kind == "HostedCluster" else None
    monkeypatch.setattr(migrate.backup, "preflight", lambda *_: object())
    monkeypatch.setattr(migrate.backup, "build_plan", lambda _: Plan("backup"))
    monkeypatch.setattr(migrate.backup, "result", _interrupt)  # its plan ran: the signal lands just after
    with pytest.raises(RunFailed) as failed:
        migrate.migrate(opts(), source, destination, bucket, NullReporter())
    assert failed.value.outcome is Outcome.INTERRUPTED and not failed.value.undo_errors
    put_back.return_value.put_back.assert_called_once_with()
    assert not destination.create.called


def test_a_signal_after_the_restore_keeps_the_source_held_and_says_so(
    monkeypatch: pytest.MonkeyPatch, put_back: MagicMock
) -> None:
    source, destination, bucket = clusters()
    monkeypatch.setattr(migrate, "check_first", lambda *_: "20260101T000000Z-1")
    monkeypatch.setattr(migrate, "_restore", lambda *_: {"outcome": "SUCCEEDED"})
    monkeypatch.setattr(migrate.teardown, "preflight", _interrupt)
    with pytest.raises(RunFailed) as failed:
        migrate.migrate(opts(), source, destination, bucket, NullReporter())
    assert failed.value.outcome is Outcome.INTERRUPTED
    assert "run migrate again to finish the teardown" in failed.value.message
    assert not put_back.called
