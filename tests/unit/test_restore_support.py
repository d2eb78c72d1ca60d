"""The small pure helpers restore leans on: durations, what may be shown of a presigned URL,
and how a status condition reads in progress lines and timeout messages."""

from __future__ import annotations

import pytest

from kubectl_hcmigrate.core.redact import safe_url, scrub
from kubectl_hcmigrate.core.units import format_duration, parse_duration
from kubectl_hcmigrate.core.wait import condition_state

SIGNED = (
    "https://bkt.s3.us-east-1.amazonaws.com:443/clusters/example/20260101T000000Z/etcd-snapshot.db"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=21600&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcd"
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("45s", 45), ("30m", 1800), ("6h", 21600), ("2d", 172800), ("1h30m", 5400), (" 7D ", 604800),
     ("-1h", -3600), ("0", 0)],
)  # fmt: skip
def test_durations_parse(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "6x", "6h foo", "1.5h", "6hh", "--6h"])
def test_nonsense_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "text"), [(21600, "6h"), (5400, "1h30m"), (691200, "8d"), (59, "59s"), (0, "0s")])
def test_durations_format_back(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_presigned_url_shows_only_scheme_host_and_path() -> None:
    assert safe_url(SIGNED) == (
        "https://bkt.s3.us-east-1.amazonaws.com:443/clusters/example/20260101T000000Z/etcd-snapshot.db"
    )
    assert safe_url("https://user:pw@host/p#frag") == "https://host/p"


def test_scrub_cuts_every_query_out_of_a_server_message() -> None:
    message = (
        f'HostedCluster.hypershift.openshift.io "example" is invalid: spec.etcd...restoreSnapshotURL: '
        f'Invalid value: "array": restoreSnapshotURL is immutable; was ["{SIGNED}"], now [{SIGNED}]'
    )
    out = scrub(message)
    assert "X-Amz" not in out and "AKIAEXAMPLE" not in out and "0123abcd" not in out
    assert out.count("etcd-snapshot.db?<redacted>") == 2
    assert scrub("no url here") == "no url here"


def hcp(*conditions: dict[str, str]) -> dict:
    return {"status": {"conditions": list(conditions)}}


@pytest.mark.parametrize(
    ("obj", "state"),
    [
        (None, "object not found"),
        ({}, "not reported yet"),
        (hcp({"type": "Other", "status": "True"}), "not reported yet"),
        (hcp({"type": "EtcdSnapshotRestored", "status": "True", "reason": "AsExpected"}), "True"),
        (hcp({"type": "EtcdSnapshotRestored", "status": "False", "reason": "RestoreFailed", "message": "no body"}),
         "False (RestoreFailed: no body)"),
        (hcp({"type": "EtcdSnapshotRestored", "status": "Unknown"}), "Unknown"),
        (hcp({"type": "EtcdSnapshotRestored", "status": "False", "message": f"curl {SIGNED} failed"}),
         "False (curl https://bkt.s3.us-east-1.amazonaws.com:443/clusters/example/20260101T000000Z/"
         "etcd-snapshot.db?<redacted> failed)"),
    ],
    ids=["missing", "no-status", "other-type", "true", "false-with-reason", "unknown", "message-with-url"],
)  # fmt: skip
def test_condition_states_read_as_what_is_missing(obj: dict | None, state: str) -> None:
    assert condition_state(obj, "EtcdSnapshotRestored") == state
