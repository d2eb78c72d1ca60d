"""Bad input ends in one line, never a traceback (issue 11, finding 8): a kubeconfig that is a
directory, not YAML or not a kubeconfig, and a malformed source-state record are refusals
(exit 3) that change nothing; with `-o json`, usage errors (exit 2) and refusals are JSON too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubectl_hcmigrate import cli
from kubectl_hcmigrate.cli_usage import wants_json
from kubectl_hcmigrate.core.options import KubeTarget
from kubectl_hcmigrate.core.report import EXIT_CODES, PreflightError
from kubectl_hcmigrate.core.source_state import SourceState

SECRET = "token-do-not-print"


def kubeconfigs(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "not-yaml").write_text(f"apiVersion: v1\nusers: [\n  - {{token: {SECRET}\n")
    (tmp_path / "a-string").write_text(f"{SECRET}\n")
    (tmp_path / "wrong-shape").write_text("clusters: 5\ncontexts: [{name: a, context: {cluster: x}}]\n")
    return {"directory": tmp_path, **{p: tmp_path / p for p in ("not-yaml", "a-string", "wrong-shape")}}


@pytest.mark.parametrize("case", ["directory", "not-yaml", "a-string", "wrong-shape"])
def test_an_unusable_kubeconfig_is_one_line_refusal(tmp_path: Path, case: str) -> None:
    from kubectl_hcmigrate.adapters.kube import Kube

    path = kubeconfigs(tmp_path)[case]
    with pytest.raises(PreflightError) as err:
        Kube(KubeTarget(kubeconfig=str(path), context=None), "source")
    message = str(err.value)
    assert "\n" not in message and SECRET not in message
    assert message.startswith("cannot load kubeconfig for the source cluster: ") and str(path) in message


@pytest.mark.parametrize(
    "record",
    [
        '{"v": 1, "hc_paused_until": null, "nodepools": {}, "replicas": {"kube-apiserver": 1e400}}',
        '{"v": 1, "hc_paused_until": 5, "nodepools": {}, "replicas": {}}',
        '{"v": 1, "hc_paused_until": null, "nodepools": {"a": 5}, "replicas": {}}',
        '{"v": 1, "hc_paused_until": null, "nodepools": {}, "replicas": {"kube-apiserver": -3}}',
        '{"v": 1, "hc_paused_until": null, "nodepools": {}, "replicas": {"kube-apiserver": "1"}}',
        '{"v": 1, "hc_paused_until": null, "nodepools": [], "replicas": {}}',
        '{"v": 1, "nodepools": {}, "replicas": {}}',
        "{bad",
    ],
    ids=["huge", "paused-int", "pool-int", "negative", "replicas-text", "pools-list", "missing", "not-json"],
)
def test_a_malformed_source_state_record_is_refused_before_use(record: str) -> None:
    """A value the apiserver would refuse must not get as far as the put-back."""
    with pytest.raises(PreflightError, match="malformed") as err:
        SourceState.from_json(record)
    assert "\n" not in str(err.value) and EXIT_CODES[err.value.outcome] == 3


def test_a_good_record_still_reads() -> None:
    state = SourceState("x", {"a": None, "b": "true"}, {"kube-apiserver": 2})
    assert SourceState.from_json(state.to_json()) == state


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["kubectl-hcmigrate", *args])
    monkeypatch.setenv("KUBECONFIG", "")
    with pytest.raises(SystemExit) as done:
        cli.run()
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


@pytest.mark.parametrize(
    "args",
    [
        ["-o", "json", "backup", "--bucket", "b", "--hc", "Bad"],
        ["backup", "-o", "json", "--bucket", "b", "--hc", "example", "--part-size-mib", "1"],
        ["--output=json", "migrate", "--bucket", "b", "--hc", "example", "--url-expiry", "3x"],
        ["-ojson", "list"],
        ["-o", "json", "no-such-verb"],
    ],
    ids=["bad-name", "out-of-range", "bad-duration", "missing-bucket", "unknown-verb"],
)
def test_a_usage_error_is_json_with_output_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2
    result = json.loads(out)
    assert result["outcome"] == "USAGE_ERROR" and result["error"] in err


def test_a_usage_error_without_json_prints_nothing_on_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(monkeypatch, capsys, "backup", "--bucket", "b", "--hc", "Bad")
    assert (code, out) == (2, "") and "is not a Kubernetes name" in err


def test_a_bad_kubeconfig_is_a_json_refusal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(
        monkeypatch, capsys, "--kubeconfig", str(tmp_path), "-o", "json", "backup", "--bucket", "b", "--hc", "example"
    )
    assert code == 3
    assert json.loads(out)["outcome"] == "REFUSED"
    assert err.count("\n") == 1 and err.startswith("error: cannot load kubeconfig") and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-o", "json"], True), (["list", "--output", "json"], True), (["--output=json"], True), (["-ojson"], True),
        (["-o", "text"], False), (["--hc", "json"], False), (["--", "-o", "json"], False), (["-o"], False),
    ],
)  # fmt: skip
def test_json_is_read_off_the_words(args: list[str], expected: bool) -> None:
    assert wants_json(args) is expected
