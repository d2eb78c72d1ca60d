"""Every request has a timeout; reads are tried a bounded number of times, writes once unless
refused as too many; an interrupt is never retried; an apiserver that stops answering is a step
failure that names it."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ReadTimeoutError

from kubectl_hcmigrate.adapters.kube import READ_ATTEMPTS, ClusterUnreachable, Kube, KubeError
from kubectl_hcmigrate.core.options import KubeTarget
from kubectl_hcmigrate.core.report import Outcome, PreflightError, nothing_changed


class _Resp:
    data = b'{"kind": "Namespace"}'


class _Api:
    """Stands in for kubernetes.client.ApiClient.call_api, failing as told."""

    def __init__(self, failures: list[BaseException]) -> None:
        self.failures, self.calls = failures, []
        self.configuration = type("C", (), {"host": "https://127.0.0.1:6443"})()

    def call_api(self, path: str, method: str, **kw: Any) -> _Resp:
        self.calls.append((method, path, kw["_request_timeout"]))
        if self.failures:
            raise self.failures.pop(0)
        return _Resp()


def _kube(failures: list[BaseException], timeout: float = 7.0) -> tuple[Kube, _Api, list[float]]:
    kube = Kube.__new__(Kube)
    api, slept = _Api(failures), []
    kube.target, kube.role, kube.context = KubeTarget(request_timeout=timeout), "destination", "dst"
    kube.api, kube._groups, kube._crds, kube._sleep = api, {}, {}, slept.append  # type: ignore[assignment]
    return kube, api, slept


def _timeout() -> ReadTimeoutError:
    return ReadTimeoutError(None, "/api", "Read timed out.")  # type: ignore[arg-type]


def test_a_read_is_retried_then_answers() -> None:
    kube, api, slept = _kube([_timeout(), ApiException(status=503, reason="Unavailable")])
    assert kube.request("GET", "/api/v1/namespaces/x") == {"kind": "Namespace"}
    # The kubernetes client ignores a float timeout without a word; it honours a (connect, read) pair.
    assert [c[2] for c in api.calls] == [(7.0, 7.0)] * 3
    assert slept == [0.5, 1.0]


def test_a_read_that_never_answers_names_the_cluster_and_is_a_step_failure() -> None:
    kube, api, _ = _kube([_timeout()] * READ_ATTEMPTS)
    with pytest.raises(ClusterUnreachable) as err:
        kube.request("GET", "/api/v1/namespaces/x")
    assert len(api.calls) == READ_ATTEMPTS
    assert "destination cluster at https://127.0.0.1:6443 (context 'dst') did not answer within 7s" in str(err.value)
    assert err.value.outcome is Outcome.FAILED_NEEDS_ATTENTION


def test_the_same_failure_in_preflight_is_a_refusal() -> None:
    kube, _, _ = _kube([_timeout()] * READ_ATTEMPTS)
    with pytest.raises(PreflightError), nothing_changed():
        kube.request("GET", "/api/v1/namespaces/x")


def test_a_write_is_tried_once() -> None:
    kube, api, _ = _kube([_timeout()])
    with pytest.raises(ClusterUnreachable):
        kube.request("PATCH", "/apis/apps/v1/namespaces/x/deployments/y/scale", {})
    assert len(api.calls) == 1


def test_a_write_refused_as_too_many_is_tried_again_but_not_one_that_may_have_landed() -> None:
    kube, api, slept = _kube([ApiException(status=429, reason="TooManyRequests")])
    assert kube.request("POST", "/api/v1/namespaces", {}) == {"kind": "Namespace"}
    assert len(api.calls) == 2 and slept == [0.5]
    kube, api, _ = _kube([ApiException(status=503, reason="ServiceUnavailable")])
    with pytest.raises(KubeError):
        kube.request("POST", "/api/v1/namespaces", {})
    assert len(api.calls) == 1


def test_a_client_error_is_not_retried() -> None:
    kube, api, _ = _kube([ApiException(status=404, reason="NotFound")])
    assert kube.request_or_none("GET", "/api/v1/namespaces/x") is None
    assert len(api.calls) == 1
    kube, api, _ = _kube([ApiException(status=403, reason="Forbidden")])
    with pytest.raises(KubeError):
        kube.request("GET", "/api/v1/namespaces/x")
    assert len(api.calls) == 1


def test_an_interrupt_is_never_retried() -> None:
    def interrupted() -> ApiException:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            try:
                raise ApiException(status=0, reason="interrupted")
            except ApiException as e:
                return e

    kube, api, _ = _kube([interrupted(), _timeout()])
    with pytest.raises(KeyboardInterrupt):
        kube.request("GET", "/api/v1/namespaces/x")
    assert len(api.calls) == 1
    kube, api, _ = _kube([KeyboardInterrupt()])
    with pytest.raises(KeyboardInterrupt):
        kube.request("GET", "/api/v1/namespaces/x")
    assert len(api.calls) == 1


def test_an_answer_while_an_interrupt_is_handled_is_the_answer() -> None:
    # migrate asks the destination for the HC after an interrupt: its 404 is "not there", not the interrupt.
    kube, api, _ = _kube([ApiException(status=404, reason="Not Found")])
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        assert kube.request_or_none("GET", "/api/v1/namespaces/x") is None
    assert len(api.calls) == 1


def test_a_crd_is_read_once_a_run_even_when_it_is_not_there() -> None:
    # restore's preflight asked for the HostedCluster CRD four times, its 10 CRDs 17 times.
    kube, api, _ = _kube([ApiException(status=404, reason="NotFound")])
    for _ in range(3):
        assert kube.crd("nodepools.hypershift.openshift.io") is None
        assert kube.crd("hostedclusters.hypershift.openshift.io") == {"kind": "Namespace"}
    assert [path.rpartition("/")[2] for _, path, _ in api.calls] == [
        "nodepools.hypershift.openshift.io", "hostedclusters.hypershift.openshift.io"
    ]  # fmt: skip


def test_an_exec_connects_on_a_client_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client's `stream` swaps `request` on the client it is given while it connects: on the
    shared one, the lease's renewal thread's PUT went out as a websocket handshake meanwhile."""
    from kubernetes.client import ApiClient, Configuration

    from kubectl_hcmigrate.adapters import kube_exec

    shared, used = ApiClient(Configuration()), []

    def stream(method: Any, *args: Any, **kw: Any) -> Any:
        used.append(method.__self__.api_client)
        raise ApiException(status=404, reason="Not Found")

    monkeypatch.setattr("kubernetes.stream.stream", stream)
    with pytest.raises(kube_exec.ExecFailed):
        kube_exec.open_exec(shared, "ns", "etcd-0", "etcd", ["true"])
    assert used and used[0] is not shared and used[0].configuration is shared.configuration


@pytest.mark.parametrize(
    ("unanswered", "first_writes", "outcome", "code"),
    [
        (READ_ATTEMPTS, True, Outcome.FAILED_SOURCE_RESTORED, 4),  # a blip: back in time for the undo
        (READ_ATTEMPTS + 1, True, Outcome.FAILED_NEEDS_ATTENTION, 1),  # still gone: the undo fails too
        (READ_ATTEMPTS, False, Outcome.FAILED_NEEDS_ATTENTION, 1),  # nothing changed yet, but not a refusal
    ],
    ids=["back-for-the-undo", "gone-for-good", "before-any-change"],
)
def test_an_apiserver_that_stops_answering_mid_run_ends_with_the_true_exit_code(
    unanswered: int, first_writes: bool, outcome: Outcome, code: int
) -> None:
    """Through the adapter's own requests: a pause (undone by an unpause), then a read the
    apiserver does not answer. The outcome comes from what the run recorded, never a new query."""
    from kubectl_hcmigrate.core.pipeline import Plan, RunFailed, Step, changed, execute
    from kubectl_hcmigrate.core.report import EXIT_CODES
    from tests.fakes import NullReporter

    kube, api, _ = _kube([])
    path = "/apis/hypershift.openshift.io/v1beta1/namespaces/clusters/hostedclusters/example"

    def pause() -> None:
        if first_writes:
            changed("pause HostedCluster clusters/example")
            kube.request("PATCH", path, {"spec": {"pausedUntil": "true"}})
        api.failures = [_timeout()] * unanswered  # the apiserver stops answering from here

    plan = Plan("backup")
    plan.add(Step("pause", pause, undo=lambda: kube.request("PATCH", path, {"spec": {"pausedUntil": None}})))
    plan.add(Step("read objects", lambda: kube.request("GET", path)))
    with pytest.raises(RunFailed) as failed:
        execute(plan, NullReporter())
    assert (failed.value.outcome, EXIT_CODES[failed.value.outcome]) == (outcome, code)
    assert "destination cluster at https://127.0.0.1:6443 (context 'dst') did not answer" in failed.value.message
