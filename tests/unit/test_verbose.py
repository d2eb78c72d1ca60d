"""-v / --v=N: request-level detail and tracebacks for a bug report, with secrets redacted."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from kubectl_hcmigrate import commands, verbose
from kubectl_hcmigrate.cli import app
from kubectl_hcmigrate.core.options import OutputFormat
from kubectl_hcmigrate.core.report import PreflightError

SECRETS = ["Bearer abc.def.ghi", "aws_secret_access_key = wJalrXUtnFEMI", "token: s3cr3t",
           "https://b.s3.amazonaws.com/k?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA"]  # fmt: skip


@pytest.fixture(autouse=True)
def quiet_again() -> Iterator[None]:
    yield
    log = logging.getLogger(verbose.LOGGER)
    log.handlers.clear()
    log.setLevel(logging.NOTSET)


def test_redaction_leaves_no_secret() -> None:
    for text in SECRETS:
        shown = verbose.redact(f"failed: {text} (retry)")
        assert "<redacted>" in shown and not any(s in shown for s in ("abc.def", "wJalr", "s3cr3t", "deadbeef"))


@pytest.mark.parametrize("flag", [["-v"], ["--v", "6"], ["--v=2"]])
def test_v_turns_on_request_detail_and_tracebacks(flag: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(reporter: object) -> dict[str, object]:
        logging.getLogger("hcmigrate.kube").debug("source GET /apis/x (context source) token=s3cr3t")
        raise PreflightError("no such HostedCluster")

    seen: list[int] = []
    monkeypatch.setattr(
        commands, "backup", lambda *a, **k: seen.append(commands.run(commands.Out(OutputFormat.text, "B"), refused))
    )
    result = CliRunner().invoke(app, [*flag, "backup", "--hc", "example", "--bucket", "b"], env={"KUBECONFIG": "/x"})
    assert result.exit_code == 0 and seen == [3], result.output
    err = result.stderr
    assert "GET /apis/x (context source) token=<redacted>" in err and "s3cr3t" not in err
    assert "Traceback (most recent call last)" in err and "PreflightError: no such HostedCluster" in err


def test_without_v_no_detail(capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("hcmigrate.kube").debug("GET /x")
    verbose.trace(ValueError("boom"))
    assert capsys.readouterr().err == ""
