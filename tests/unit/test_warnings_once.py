"""Each warning is printed once, in the summary (issue 14): not as it happens and again in the
summary, nor once per stage and again for the whole migration. A run that fails says them once,
beside its error, as the summary that would have said them is not printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from kubectl_hcmigrate import commands
from kubectl_hcmigrate.core.options import OutputFormat
from kubectl_hcmigrate.core.pipeline import Plan, Step, run_verb, warn
from kubectl_hcmigrate.core.report import StepFailed
from kubectl_hcmigrate.render import describe
from kubectl_hcmigrate.verbs import preconditions
from tests.unit import output_samples as s

EARLY = "APIServer is a LoadBalancer without a hostname: its address changes on the destination"
LATE = "control-plane pods still terminating after 60s"


@dataclass
class Found:
    warnings: list[str] = field(default_factory=list)
    fail: bool = False


class Verb:
    def build_plan(self, found: Found) -> Plan:
        def snap() -> None:
            warn(LATE)
            if found.fail:
                raise StepFailed("etcdctl snapshot save failed")

        return Plan("backup").add(Step("etcd snapshot", snap))

    def result(self, found: Found, timings: dict[str, float]) -> dict[str, Any]:
        return {"outcome": "SUCCEEDED", "bucket": "my-bucket", "backup_id": s.BACKUP_ID, "warnings": found.warnings}


def body(fail: bool) -> Any:
    def run(reporter: Any) -> dict[str, Any]:
        verdict = preconditions.Verdict("hostnames", preconditions.WARNING, EARLY)
        found = Found(preconditions.settle([verdict], reporter, show=False), fail)
        return run_verb(Verb(), found, reporter)

    return run


@pytest.mark.parametrize("fail", [False, True])
def test_a_runs_warnings_are_printed_once(fail: bool, capsys: pytest.CaptureFixture[str]) -> None:
    code = commands.run(commands.Out(OutputFormat.text, "BackupResult"), body(fail))
    out, err = capsys.readouterr()
    assert code == (1 if fail else 0)
    for text in (EARLY, LATE):
        assert (out + err).count(text) == 1, out + err
    assert (EARLY in err) is fail  # a summary says them; a failure, beside its error


def test_a_migration_says_each_stages_warning_once() -> None:
    backup = {**s.BACKUP, "warnings": [LATE]}
    restore = {**s.RESTORE, "warnings": [EARLY]}
    text = describe({**s.MIGRATE, "warnings": [LATE, EARLY], "backup": backup, "restore": restore})
    assert text.count(LATE) == 1 and text.count(EARLY) == 1, text
