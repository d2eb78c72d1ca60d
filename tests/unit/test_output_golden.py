"""The output format, held by golden files (issue 14): each verb's result as text (a short
summary: aligned keys, units, counts per kind, the next step last) and as JSON (a versioned
document checked against schema/hcmigrate-v1.schema.json). A change to the format shows here as
a diff; UPDATE_GOLDEN=1 rewrites the files once the new format is what is wanted."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from kubectl_hcmigrate import commands
from kubectl_hcmigrate.cli import app
from kubectl_hcmigrate.core.options import OutputFormat
from kubectl_hcmigrate.core.pipeline import LATE_INTERRUPT
from kubectl_hcmigrate.core.report import PreflightError
from tests.unit import output_samples as s

GOLDEN = Path(__file__).parent / "golden"
SCHEMA = json.loads((Path(__file__).parents[2] / "schema" / "hcmigrate-v1.schema.json").read_text())
STARTED = datetime(2026, 3, 1, 10, 15, 0, tzinfo=timezone.utc)
FINISHED = datetime(2026, 3, 1, 10, 16, 12, tzinfo=timezone.utc)
RESULTS = {
    "backup": ("BackupResult", s.BACKUP),
    "restore": ("RestoreResult", s.RESTORE),
    "restore-dry-run": ("RestoreResult", s.RESTORE_DRY_RUN),
    "teardown": ("TeardownResult", s.TEARDOWN),
    "migrate": ("MigrateResult", s.MIGRATE),
    "verify": ("VerifyResult", s.VERIFY),
    "handoff": ("HandoffResult", s.HANDOFF),
    "oidc": ("OidcResult", s.OIDC),
}
# Verbs whose text is a table with a row per backup or HC (their `show`), and JSON the document.
TABLES = {"prune": ("PruneResult", s.PRUNE), "backup-fleet": ("BackupFleetResult", s.FLEET)}
# Each verb's result function, and the sample that must carry every key it can return.
SOURCES = {
    "verbs/backup.py:result": s.BACKUP, "verbs/restore.py:result": s.RESTORE, "verbs/teardown.py:result": s.TEARDOWN,
    "verbs/migrate.py:migrate": s.MIGRATE, "verbs/verify.py:verify": s.VERIFY, "verbs/handoff.py:result": s.HANDOFF,
    "verbs/oidc.py:result": s.OIDC, "verbs/prune.py:prune": s.PRUNE, "fleet.py:back_up": s.FLEET,
}  # fmt: skip
# The documented schema, closed for the test only: a field a result carries and the schema does
# not name fails here (the published schema stays open: fields are added within v1).
CLOSED = {**SCHEMA, "unevaluatedProperties": False}


def valid(doc: dict[str, Any]) -> dict[str, Any]:
    jsonschema.validate(doc, CLOSED, cls=jsonschema.Draft202012Validator)
    return doc


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed: diff it, and UPDATE_GOLDEN=1 if the new format is meant"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kubectl_hcmigrate.render.now", lambda: FINISHED)


def run(kind: str, result: dict[str, Any], fmt: OutputFormat, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = commands.run(commands.Out(fmt, kind, STARTED), lambda reporter: result)
    return code, capsys.readouterr().out


@pytest.mark.parametrize("name", list(RESULTS))
def test_each_verbs_result_as_text_and_json(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    kind, result = RESULTS[name]
    code, text = run(kind, result, OutputFormat.text, capsys)
    assert code == 0
    golden(f"{name}.txt", text)
    assert len(text.splitlines()) <= (60 if name == "migrate" else 30), "a summary, not a listing"
    assert not any(c in text for c in ("{'", "['", "None")), "never a Python repr"
    _, as_json = run(kind, result, OutputFormat.json, capsys)
    doc = valid(json.loads(as_json))
    assert (doc["apiVersion"], doc["kind"], doc["startTime"], doc["completionTime"]) == (
        "hcmigrate.openshift.io/v1", kind, "2026-03-01T10:15:00Z", "2026-03-01T10:16:12Z",
    )  # fmt: skip
    golden(f"{name}.json", as_json)
    _, as_yaml = run(kind, result, OutputFormat.yaml, capsys)
    assert yaml.safe_load(as_yaml) == doc


def test_a_resumed_restore_at_2500_objects_reads_in_about_ten_lines(capsys: pytest.CaptureFixture[str]) -> None:
    _, text = run("RestoreResult", s.RESTORE, OutputFormat.text, capsys)
    kept = text[text.index("Kept:") :].splitlines()
    assert kept[:3] == ["Kept:                2500", "  Secret: 1500 (clusters-example/s-0000, clusters-example/s-0001, ...)",
                        "  ConfigMap: 1000 (clusters-example/c-0000, clusters-example/c-0001, ...)"]  # fmt: skip


def test_a_failure_is_a_document_of_the_verbs_kind(capsys: pytest.CaptureFixture[str]) -> None:
    def refused(reporter: Any) -> dict[str, Any]:
        raise PreflightError("HostedCluster clusters/example not found on context 'source'")

    code = commands.run(commands.Out(OutputFormat.json, "BackupResult", STARTED), refused)
    out, err = capsys.readouterr()
    doc = valid(json.loads(out))
    assert code == 3 and (doc["kind"], doc["outcome"]) == ("BackupResult", "REFUSED")
    assert err == "error: HostedCluster clusters/example not found on context 'source'\n"
    golden("refused.json", out)


def test_list_text_wide_and_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("kubectl_hcmigrate.adapters.s3store.Bucket", lambda target: None)
    monkeypatch.setattr(
        "kubectl_hcmigrate.verbs.list.list_backups", lambda opts, bucket: {"where": "s3://b/", "backups": s.LISTED}
    )
    for args, name in [([], "list.txt"), (["-o", "wide"], "list-wide.txt"), (["--no-headers"], "list-no-headers.txt")]:
        result = CliRunner().invoke(app, ["list", "--bucket", "b", *args])
        assert result.exit_code == 0, result.output
        golden(name, result.stdout)
    monkeypatch.setattr("kubectl_hcmigrate.commands.now", lambda: STARTED)
    result = CliRunner().invoke(app, ["-o", "json", "list", "--bucket", "b"])
    doc = valid(json.loads(result.stdout))
    assert doc["kind"] == "BackupList" and doc["items"] == s.LISTED
    golden("list.json", result.stdout)


def test_version_and_usage_errors_are_documents_too() -> None:
    from kubectl_hcmigrate import __version__

    text = CliRunner().invoke(app, ["version", "-o", "json"]).stdout
    version = valid(json.loads(text))
    assert version["kind"] == "Version" and version["version"] == __version__
    golden(
        "version.json", re.sub(r'"(startTime|completionTime)": "[^"]+"', r'"\1": "T"', text).replace(__version__, "V")
    )
    from kubectl_hcmigrate.cli_usage import invoke

    with pytest.raises(SystemExit) as exit_:
        invoke(app, "kubectl hcmigrate", "_X_COMPLETE", ["-o", "json", "backup", "--nope"])
    assert exit_.value.code == 2


def test_records_in_a_list_read_as_their_values_and_the_timeline_is_left_to_json() -> None:
    from kubectl_hcmigrate.render import describe

    step = {"step": "pause", "started": "2026-03-01T10:15:00.100Z", "finished": "2026-03-01T10:15:00.200Z"}
    text = describe({"outcome": "SUCCEEDED", "timeline": [step], "retries": [{"at": "upload", "why": "503"}]})
    assert text == "Outcome: SUCCEEDED\nRetries: 1\n  upload  503\n"


@pytest.mark.parametrize("name", list(TABLES))
def test_table_verbs_as_text_and_json(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    from kubectl_hcmigrate import fleet
    from kubectl_hcmigrate.verbs import prune

    kind, result = TABLES[name]
    table = (prune if name == "prune" else fleet).show
    code = commands.run(
        commands.Out(OutputFormat.text, kind, STARTED), lambda r: result, text=lambda r: table(r, as_json=False)
    )
    assert code == (0 if name == "prune" else 1)
    golden(f"{name}.txt", capsys.readouterr().out)
    commands.run(commands.Out(OutputFormat.json, kind, STARTED), lambda r: result)
    golden(f"{name}.json", json.dumps(valid(json.loads(capsys.readouterr().out)), indent=2) + "\n")


def _returned_keys(source: str) -> set[str]:
    """The top-level keys of the dicts `source`'s function returns (`**counted(x=...)`: x and
    objects_x; `**({...} if ... else {})`: the keys inside)."""
    path, function = source.split(":")
    tree = ast.parse((Path(commands.__file__).parent / path).read_text())
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    keys: set[str] = set()
    for ret in (n for n in ast.walk(fn) if isinstance(n, ast.Return) and isinstance(n.value, ast.Call)):
        if getattr(ret.value.func, "id", "") == "succeeded":  # core/report.succeeded(opts, **fields)
            keys |= {"outcome", "hostedcluster"}
            for kw in ret.value.keywords:
                if kw.arg:
                    keys.add(kw.arg)
                elif isinstance(kw.value, ast.IfExp) and isinstance(kw.value.body, ast.Dict):
                    keys |= {k.value for k in kw.value.body.keys if isinstance(k, ast.Constant)}
    for ret in (n for n in ast.walk(fn) if isinstance(n, ast.Return) and isinstance(n.value, ast.Dict)):
        for key, value in zip(ret.value.keys, ret.value.values, strict=True):
            if isinstance(key, ast.Constant):
                keys.add(key.value)
            elif isinstance(value, ast.Call) and getattr(value.func, "id", "") == "counted":
                keys |= {k for kw in value.keywords for k in (kw.arg or "", f"objects_{kw.arg}")}
            elif isinstance(value, ast.IfExp):
                keys |= {k.value for d in (value.body, value.orelse) if isinstance(d, ast.Dict)
                         for k in d.keys if isinstance(k, ast.Constant)}  # fmt: skip
    return keys


@pytest.mark.parametrize("source", list(SOURCES))
def test_the_samples_carry_every_field_their_verb_returns(source: str) -> None:
    """A field added to a result and not to its sample would go unseen by the goldens and the schema."""
    keys = _returned_keys(source)
    assert keys, f"no returned dict found in {source}"
    assert keys <= set(SOURCES[source]), (
        f"{source} returns {sorted(keys - set(SOURCES[source]))}: add them to output_samples.py"
    )


def test_a_restore_that_did_not_wait_is_valid_too(capsys: pytest.CaptureFixture[str]) -> None:
    """--no-wait (or a single member's restore) leaves etcd_members and the URL unset."""
    result = {**s.RESTORE, "etcd_members": None, "restore_url": None, "waited": []}
    _, out = run("RestoreResult", result, OutputFormat.json, capsys)
    assert valid(json.loads(out))["etcd_members"] is None


def _refused(reporter: Any) -> dict[str, Any]:
    raise PreflightError("the source cluster lacks HostedCluster clusters/example: check the name")


@pytest.mark.parametrize("body, code, outcome", [
    (lambda reporter: RESULTS["restore"][1], 0, RESULTS["restore"][1]["outcome"]),
    (_refused, 3, "REFUSED"),  # a failure's output was not held: the interrupt escaped as it printed
], ids=["result", "failure"])  # fmt: skip
def test_an_interrupt_while_the_result_is_printed_is_said_and_the_result_and_code_stand(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], body: Any, code: int, outcome: str
) -> None:
    """Ctrl-C (or a runbook's SIGTERM) as a finished restore prints, or a refusal: the whole
    document, its own exit code, a line saying the interrupt came late; and Ctrl-C works again
    afterwards."""
    printed = commands.show

    def interrupted(*args: Any, **kw: Any) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            os.kill(os.getpid(), signum)
        printed(*args, **kw)

    monkeypatch.setattr(commands, "show", interrupted)
    kind = RESULTS["restore"][0]
    assert commands.run(commands.Out(OutputFormat.json, kind, STARTED), body) == code
    out, err = capsys.readouterr()
    assert json.loads(out)["outcome"] == outcome
    assert err.count(LATE_INTERRUPT) == 1  # said once, for both
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
