"""restore's wait ends on an `etcd-init` that crash-loops (HyperShift sets no condition for it, T11),
with its last log line shown safely."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_hcmigrate.core.ports import KubeError
from kubectl_hcmigrate.core.report import EXIT_CODES
from kubectl_hcmigrate.core.wait import Wanted, wait_for
from kubectl_hcmigrate.etcd.init_watch import EtcdInitCrashLooping, check_etcd_init, crash_looping
from kubectl_hcmigrate.verbs import restore
from tests.fakes import LinesReporter, PodKube
from tests.unit import hc_fixtures as fx

EXPIRED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message>'
    "<X-Amz-Expires>60</X-Amz-Expires><Expires>2026-01-01T00:01:00Z</Expires><RequestId>R1</RequestId></Error>\n"
)
SIGNATURE = (
    "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match"
    "</Message><AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId><CanonicalRequest>GET /b/k X-Amz-Credential="
    "AKIAEXAMPLE%2F20260101&amp;X-Amz-Signature=0123abcd</CanonicalRequest></Error>\n"
)
GARBAGE = "Error: snapshot file integrity check failed: sha256 mismatch\n"
HCP_NS = fx.HCP_NS


def etcd_pod(name: str = "etcd-0", *, restarts: int = 5, exit_code: int = 1, message: str = "") -> dict[str, Any]:
    """An etcd pod whose init container ran `restarts + 1` times, the last one ending with `exit_code`."""
    init = {"name": "etcd-init", "ready": False, "restartCount": restarts,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}} if exit_code else {"running": {}},
            "lastState": {"terminated": {"exitCode": exit_code, "reason": "Error", "message": message}}}  # fmt: skip
    return {"metadata": {"name": name}, "status": {"initContainerStatuses": [init]}}


@pytest.mark.parametrize(
    ("pod", "looping"),
    [
        ({"metadata": {"name": "etcd-0"}, "status": {}}, False),
        (etcd_pod(restarts=1), False),  # one failed fetch: the next try may get past it
        (etcd_pod(restarts=2), True),
        (etcd_pod(restarts=3, exit_code=0), False),  # restarted, but its last run succeeded
    ],
    ids=["no-status-yet", "failed-once", "failed-twice", "last-run-succeeded"],
)
def test_crash_looping_is_a_last_run_that_failed_after_two_restarts(pod: dict[str, Any], looping: bool) -> None:
    assert (crash_looping(pod) is not None) == looping


def failure(kube: PodKube) -> str:
    with pytest.raises(EtcdInitCrashLooping) as caught:
        check_etcd_init(kube, HCP_NS)
    assert EXIT_CODES[caught.value.outcome] == 1
    return str(caught.value)


def test_an_expired_url_is_named_with_the_previous_runs_last_line_and_what_to_do() -> None:
    kube = PodKube([etcd_pod("etcd-0", restarts=1), etcd_pod("etcd-1")], {("etcd-1", True): EXPIRED})
    message = failure(kube)
    assert message.startswith(f"etcd-init in pod {HCP_NS}/etcd-1 on context 'mgmt-2' is crash-looping (restarted 5")
    assert "last log line: <Code>AccessDenied</Code><Message>Request has expired</Message>. " in message
    assert "the snapshot URL expired before etcd-init fetched it" in message
    assert "run restore (or migrate) again, which presigns a fresh URL" in message
    assert "RequestId" not in message
    assert kube.log_reads == [("etcd-1", "etcd-init", True)]


def test_an_s3_error_shows_only_its_code_and_message() -> None:
    message = failure(PodKube([etcd_pod()], {("etcd-0", True): SIGNATURE}))
    assert "<Code>SignatureDoesNotMatch</Code><Message>The request signature" in message
    assert "S3 refused the snapshot URL" in message
    assert "AKIAEXAMPLE" not in message and "0123abcd" not in message


def test_a_snapshot_that_does_not_restore_points_at_verify_deep() -> None:
    message = failure(PodKube([etcd_pod()], {("etcd-0", True): "restoring\n" + GARBAGE + "\n"}))
    assert "last log line: Error: snapshot file integrity check failed: sha256 mismatch. " in message
    assert "check the backup with `verify --deep`" in message


def test_without_a_previous_log_the_current_one_then_the_termination_message_is_read() -> None:
    curl = "curl: (7) Failed to connect to https://s3.example.com/b/k?X-Amz-Signature=0123abcd port 443\n"
    message = failure(PodKube([etcd_pod()], {("etcd-0", False): curl}))
    assert "last log line: curl: (7) Failed to connect to https://s3.example.com/b/k?<redacted> port 443" in message
    message = failure(PodKube([etcd_pod(message=EXPIRED)], {}))
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in message


def test_pods_that_cannot_be_read_do_not_end_the_wait() -> None:
    class Unreadable(PodKube):
        def pods(self, namespace: str, selector: str = "") -> list[dict]:
            raise KubeError(503, "ServiceUnavailable", "try again")

    check_etcd_init(Unreadable([], {}), HCP_NS)


def test_the_wait_ends_at_the_first_poll_that_sees_the_crash_loop_not_at_its_timeout() -> None:
    """The HCP never gets its condition; the pod starts crash-looping after 40 s of a 30 min wait."""
    now = [0.0]
    kube = PodKube([], {("etcd-0", True): EXPIRED})

    class Cluster(PodKube):
        def get(self, rule: Any, namespace: str, name: str) -> dict[str, Any]:
            kube.items = [etcd_pod()] if now[0] >= 40 else [etcd_pod(restarts=0)]
            return {"status": {"conditions": []}}

    def sleep(seconds: float) -> None:
        now[0] += seconds

    wanted = [Wanted(restore.HCP, HCP_NS, "cesar", "EtcdSnapshotRestored")]
    with pytest.raises(EtcdInitCrashLooping, match="Request has expired"):
        wait_for(Cluster([], {}), wanted, 1800, LinesReporter(), watch=lambda: check_etcd_init(kube, HCP_NS),
                 clock=lambda: now[0], sleep=sleep)  # fmt: skip
    assert 40 <= now[0] <= 42
